//! Databases: connection pools (SQLite through diesel + r2d2, PostgreSQL through diesel-async),
//! sessions that run planned statements and load typed rows, and the schema-level commands
//! (`migrate`, `check`, `seed`).
//!
//! This file is the public face; each dialect's pool and session live in `sqlite.rs` and
//! `postgres.rs`, so the rest of the runtime never names a diesel connection type.

mod bind;
pub mod check;
mod introspect;
pub mod migrate;
pub mod planned;
mod postgres;
pub mod seed;
mod sqlite;
mod text_rows;
mod trace;

use std::path::PathBuf;
use std::time::Duration;

pub use bind::{Bind, NullType};

pub use check::SchemaDrift;
pub use planned::PlannedQuery;
pub use seed::SeedReport;
pub use trace::TRACE_ENV as SQLITE_TRACE_ENV;

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
    /// A write broke a constraint of the table.
    #[error("constraint violated ({kind:?}): {message}")]
    Constraint {
        /// Which kind of constraint.
        kind: ConstraintKind,
        /// The constraint's name, when the database reports it (PostgreSQL).
        constraint: Option<String>,
        /// The column, when the database reports it (PostgreSQL `NOT NULL`; SQLite's message).
        column: Option<String>,
        /// The database's message (server logs only).
        message: String,
    },
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

/// The kinds of constraint a write can break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintKind {
    /// A unique index or primary key.
    Unique,
    /// A foreign key (the referenced row is missing, or the row is still referenced).
    ForeignKey,
    /// `NOT NULL`.
    NotNull,
    /// `CHECK`.
    Check,
}

impl DbError {
    /// A message safe to show a client: never SQL, never a path.
    pub fn public_message(&self) -> &'static str {
        match self {
            DbError::PoolTimeout(_) => "the database is busy; retry shortly",
            DbError::Connect(_) => "the database is unavailable",
            DbError::Constraint { kind, .. } => match kind {
                ConstraintKind::Unique => "a row with the same unique value already exists",
                ConstraintKind::ForeignKey => {
                    "a referenced row does not exist, or the row is still referenced"
                }
                ConstraintKind::NotNull => "a required value is missing",
                ConstraintKind::Check => "a value breaks a check constraint of the table",
            },
            _ => "internal database error",
        }
    }

    /// The stable `extensions.code` clients see for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            DbError::PoolTimeout(_) | DbError::Connect(_) => "SERVICE_UNAVAILABLE",
            DbError::Constraint { kind, .. } => match kind {
                ConstraintKind::Unique => "CONFLICT",
                ConstraintKind::ForeignKey | ConstraintKind::NotNull | ConstraintKind::Check => {
                    "INVALID_INPUT"
                }
            },
            _ => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl DatabaseUrl {
    /// Reads `sqlite://path`, `sqlite:path`, `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<DatabaseUrl, DbError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres {
                url: url.to_string(),
            });
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(DbError::InvalidUrl(
                    "sqlite URL without a file path; write sqlite://<path> or sqlite:<path>".into(),
                ));
            }
            // Rejected rather than taken as part of the file name (or silently dropped).
            if path.contains('?') {
                return Err(DbError::InvalidUrl(
                    "sqlite URL options (after '?') are not supported; give just the file path"
                        .into(),
                ));
            }
            // Every pooled connection would open its own empty in-memory database.
            if path == ":memory:" {
                return Err(DbError::InvalidUrl(
                    "an in-memory SQLite database cannot be shared by a pool; give a file path"
                        .into(),
                ));
            }
            return Ok(DatabaseUrl::Sqlite {
                path: PathBuf::from(path),
            });
        }
        // Only the scheme is echoed: the rest may hold a password.
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        Err(DbError::InvalidUrl(format!(
            "unsupported URL scheme {scheme:?}; accepted: sqlite://<path>, sqlite:<path>, \
             postgres://… or postgresql://…"
        )))
    }

    /// The dialect this URL speaks.
    pub fn dialect(&self) -> Dialect {
        match self {
            DatabaseUrl::Sqlite { .. } => Dialect::Sqlite,
            DatabaseUrl::Postgres { .. } => Dialect::Postgres,
        }
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = DbError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        DatabaseUrl::parse(url)
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &error {
            // The connection itself is gone (server restart, network): the database is
            // unavailable rather than the statement wrong, so clients get a retryable answer.
            // The pool discards such a connection when the session ends.
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => DbError::Connect(error.to_string()),
            Error::DatabaseError(kind, info) => {
                let kind = match kind {
                    DatabaseErrorKind::UniqueViolation => ConstraintKind::Unique,
                    DatabaseErrorKind::ForeignKeyViolation => ConstraintKind::ForeignKey,
                    DatabaseErrorKind::NotNullViolation => ConstraintKind::NotNull,
                    DatabaseErrorKind::CheckViolation => ConstraintKind::Check,
                    _ => {
                        return DbError::Query {
                            message: error.to_string(),
                        }
                    }
                };
                DbError::Constraint {
                    kind,
                    constraint: info.constraint_name().map(str::to_owned),
                    column: info
                        .column_name()
                        .map(str::to_owned)
                        .or_else(|| sqlite_constraint_column(info.message())),
                    message: error.to_string(),
                }
            }
            _ => DbError::Query {
                message: error.to_string(),
            },
        }
    }
}

/// The column SQLite names in `UNIQUE constraint failed: users.email` or
/// `NOT NULL constraint failed: posts.title` (the first, for a multi-column index).
fn sqlite_constraint_column(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("constraint failed: ")?;
    let first = rest.split(',').next()?.trim();
    let (_, column) = first.split_once('.')?;
    Some(column.to_owned())
}

/// A snapshot of a pool, for metrics and health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStatus {
    /// Most sessions at once ([`PoolSettings::max_size`]).
    pub max_size: usize,
    /// Sessions taken and not yet dropped.
    pub in_use: usize,
    /// Connections open (busy or idle). On PostgreSQL each tokio runtime keeps its own idle
    /// connections, so this may exceed `max_size`; `in_use` never does.
    pub open: usize,
}

/// One configured database and its pool. Cheap to clone.
///
/// Sessions may be taken from any tokio runtime, several at once (actix workers each run
/// one): on PostgreSQL every runtime gets connections it drives itself, so a statement never
/// waits on another runtime and a runtime that ends takes only its own connections along (see
/// `postgres.rs`). `max_size` bounds the sessions in use across all of them.
#[derive(Clone)]
pub struct Database {
    dialect: Dialect,
    pool: Pool,
    acquire_timeout: Duration,
}

#[derive(Clone)]
enum Pool {
    Sqlite(sqlite::SqlitePool),
    Postgres(postgres::PgPool),
}

impl Database {
    /// Opens the pool (for SQLite: creates the file when missing).
    pub async fn connect(url: &DatabaseUrl, settings: &PoolSettings) -> Result<Database, DbError> {
        let pool = match url {
            DatabaseUrl::Sqlite { path } => Pool::Sqlite(sqlite::connect(path, settings).await?),
            DatabaseUrl::Postgres { url } => Pool::Postgres(postgres::connect(url, settings)?),
        };
        Ok(Database {
            dialect: url.dialect(),
            pool,
            acquire_timeout: settings.acquire_timeout,
        })
    }

    /// The SQL dialect of this database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Sessions in use and connections open.
    pub fn pool_status(&self) -> PoolStatus {
        match &self.pool {
            Pool::Sqlite(pool) => pool.status(),
            Pool::Postgres(pool) => pool.status(),
        }
    }

    /// Takes a connection from the pool for the statements of one request. Fails with
    /// [`DbError::PoolTimeout`] when none is free within the acquire timeout.
    pub async fn session(&self) -> Result<Session, DbError> {
        self.session_within(self.acquire_timeout).await
    }

    async fn session_within(&self, timeout: Duration) -> Result<Session, DbError> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => SessionInner::Sqlite(pool.get(timeout).await?),
            Pool::Postgres(pool) => SessionInner::Postgres(pool.get(timeout).await?),
        };
        Ok(Session { inner })
    }

    /// Whether the database answers (`SELECT 1`) within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), DbError> {
        let attempt = async {
            let mut session = self.session_within(timeout).await?;
            session.execute_batch("SELECT 1").await
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .map_err(|_| DbError::PoolTimeout(timeout))?
    }
}

/// A pooled connection held for the statements of one request; dropping it returns the
/// connection to the pool.
pub struct Session {
    inner: SessionInner,
}

// One session exists per request and is never stored in bulk, so the size difference costs
// nothing worth a heap allocation per request.
#[allow(clippy::large_enum_variant)]
enum SessionInner {
    Sqlite(sqlite::SqliteSession),
    Postgres(postgres::PgSession),
}

impl Session {
    /// Runs one statement with its bound parameters and loads typed rows.
    pub async fn load(
        &mut self,
        rows: &'static dyn RowLoader,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Box<dyn RowSet>, DbError> {
        match &mut self.inner {
            SessionInner::Sqlite(session) => session.load(rows, sql, binds).await,
            SessionInner::Postgres(session) => session.load(rows, sql, binds).await,
        }
    }

    /// Runs SQL without parameters or results (DDL, `SELECT 1`); several `;`-separated
    /// statements are allowed.
    pub async fn execute_batch(&mut self, sql: &str) -> Result<(), DbError> {
        match &mut self.inner {
            SessionInner::Sqlite(session) => session.execute_batch(sql).await,
            SessionInner::Postgres(session) => session.execute_batch(sql).await,
        }
    }

    /// Runs one statement with bound parameters; returns the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, binds: &[Bind]) -> Result<usize, DbError> {
        match &mut self.inner {
            SessionInner::Sqlite(session) => session.execute(sql, binds).await,
            SessionInner::Postgres(session) => session.execute(sql, binds).await,
        }
    }

    /// The database's plan for a statement, one line per row, run inside a transaction that
    /// is always rolled back (so `analyze` may execute it safely). PostgreSQL: `EXPLAIN` or
    /// `EXPLAIN ANALYZE`; SQLite: `EXPLAIN QUERY PLAN` (SQLite has no analyze; the flag is
    /// ignored there).
    pub async fn explain(
        &mut self,
        sql: &str,
        binds: &[Bind],
        analyze: bool,
    ) -> Result<Vec<String>, DbError> {
        match &mut self.inner {
            SessionInner::Sqlite(session) => session.explain(sql, binds).await,
            SessionInner::Postgres(session) => session.explain(sql, binds, analyze).await,
        }
    }

    /// The dialect of the connection.
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            SessionInner::Sqlite(_) => Dialect::Sqlite,
            SessionInner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Loads the text column `value` of every row (catalog queries of `migrate`, `check` and
    /// `seed`; the SQL aliases what it reads as `value`).
    pub(crate) async fn text_values(
        &mut self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Vec<String>, DbError> {
        match &mut self.inner {
            SessionInner::Sqlite(session) => session.text_values(sql, binds).await,
            SessionInner::Postgres(session) => session.text_values(sql, binds).await,
        }
    }

    /// Starts a transaction (SQLite: `BEGIN IMMEDIATE`, taking the write lock up front). A
    /// session dropped before [`Session::commit`] or [`Session::rollback`] (a cancelled
    /// request) is discarded by its pool, so the open transaction dies with the connection.
    pub async fn begin(&mut self) -> Result<(), DbError> {
        match &mut self.inner {
            SessionInner::Sqlite(session) => session.begin().await,
            SessionInner::Postgres(session) => session.begin().await,
        }
    }

    /// Commits the transaction [`Session::begin`] started.
    pub async fn commit(&mut self) -> Result<(), DbError> {
        match &mut self.inner {
            SessionInner::Sqlite(session) => session.commit().await,
            SessionInner::Postgres(session) => session.commit().await,
        }
    }

    /// Rolls back the transaction [`Session::begin`] started.
    pub async fn rollback(&mut self) -> Result<(), DbError> {
        match &mut self.inner {
            SessionInner::Sqlite(session) => session.rollback().await,
            SessionInner::Postgres(session) => session.rollback().await,
        }
    }

    /// Runs `work` between [`Session::begin`] and [`Session::commit`], or rolls back when it
    /// fails.
    pub(crate) async fn in_transaction<T>(
        &mut self,
        work: impl AsyncFnOnce(&mut Session) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.begin().await?;
        match work(self).await {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(error) => {
                // The work's error is the one worth reporting; a failed rollback only means
                // the connection is gone, and the pool discards broken connections.
                let _ = self.rollback().await;
                Err(error)
            }
        }
    }
}
