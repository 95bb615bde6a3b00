//! Databases: connection pools (SQLite through diesel + r2d2, PostgreSQL through diesel-async),
//! sessions that run planned statements and load typed rows, and the schema-level commands
//! (`migrate`, `check`, `seed`).
//!
//! OWNER: db helper. The signatures below are the contract the planner/executor and the HTTP
//! layer code against; bodies are filled in by the db work.

mod bind;

use std::path::PathBuf;
use std::time::Duration;

pub use bind::Bind;

use crate::model::Dialect;
use crate::row::{RowLoader, RowSet};

/// Where the database is, from `DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path` (or `sqlite:path`): an embedded file, created when missing.
    Sqlite {
        /// The file.
        path: PathBuf,
    },
    /// `postgres://…` or `postgresql://…`.
    Postgres {
        /// The URL as given.
        url: String,
    },
}

/// Pool settings (environment variables come with the database-scaling work).
#[derive(Clone, Debug)]
pub struct PoolSettings {
    /// Most connections.
    pub max_size: usize,
    /// How long a request waits for a connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_size: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A database failure, with context; [`DbError::public_message`] is what a client may see.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL could not be understood.
    #[error("invalid DATABASE_URL: {0}")]
    InvalidUrl(String),
    /// Could not connect.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// No connection became free within the acquire timeout.
    #[error("no database connection free within {0:?}")]
    PoolTimeout(Duration),
    /// A statement failed.
    #[error("statement failed: {message}")]
    Query {
        /// The database's message (server logs only: it may quote SQL).
        message: String,
    },
    /// Anything else (a blocking task that failed to join, …).
    #[error("database error: {0}")]
    Other(String),
}

impl DbError {
    /// A message safe to show a client: never SQL, never a path.
    pub fn public_message(&self) -> &'static str {
        match self {
            DbError::PoolTimeout(_) => "the database is busy; retry shortly",
            DbError::Connect(_) => "the database is unavailable",
            _ => "internal database error",
        }
    }
}

/// One configured database and its pool. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    dialect: Dialect,
}

impl Database {
    /// Opens the pool (for SQLite: creates the file when missing).
    pub async fn connect(url: &DatabaseUrl, settings: &PoolSettings) -> Result<Database, DbError> {
        let _ = (url, settings);
        Err(DbError::Other("database layer not built yet".into()))
    }

    /// The SQL dialect of this database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Takes a connection from the pool for the statements of one request.
    pub async fn session(&self) -> Result<Session, DbError> {
        Err(DbError::Other("database layer not built yet".into()))
    }

    /// Whether the database answers (`SELECT 1`) within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), DbError> {
        let _ = timeout;
        Err(DbError::Other("database layer not built yet".into()))
    }
}

/// A pooled connection held for the statements of one request.
pub struct Session {
    _private: (),
}

impl Session {
    /// Runs one statement with its bound parameters and loads typed rows.
    pub async fn load(
        &mut self,
        rows: &'static dyn RowLoader,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Box<dyn RowSet>, DbError> {
        let _ = (rows, sql, binds);
        Err(DbError::Other("database layer not built yet".into()))
    }
}
