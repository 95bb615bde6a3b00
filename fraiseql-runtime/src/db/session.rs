//! [`Session`]: one pooled connection held for the statements of one request.
//!
//! Two failures are handled here, for every dialect, rather than by each caller:
//! - A connection that broke (a server restart, a terminated backend, a failover) is replaced
//!   and a READ run again, once, on the new connection: [`Session::load`] outside a
//!   transaction, and [`Session::begin`] (nothing has run yet). Never a statement inside a
//!   transaction, nor [`Session::execute`]: a write may have been applied before the
//!   connection broke.
//! - A write that reached a read-only server (the primary failed over behind the URL) recycles
//!   the pool and keeps this connection from going back to it; running the mutation again is
//!   the caller's decision ([`DbError::is_read_only`]).

use std::time::Instant;

use super::{postgres, sqlite, Bind, Database, DbError};
use crate::model::Dialect;
use crate::row::{RowLoader, RowSet};

/// A pooled connection held for the statements of one request; dropping it returns the
/// connection to the pool.
pub struct Session {
    inner: SessionInner,
    /// The database it came from, to replace a broken connection and recycle the pool.
    database: Database,
}

// One session exists per request and is never stored in bulk, so the size difference costs
// nothing worth a heap allocation per request.
#[allow(clippy::large_enum_variant)]
pub(super) enum SessionInner {
    Sqlite(sqlite::SqliteSession),
    Postgres(postgres::PgSession),
}

impl Session {
    pub(super) fn new(inner: SessionInner, database: Database) -> Session {
        Session { inner, database }
    }

    /// Runs one statement with its bound parameters and loads typed rows. Outside a
    /// transaction, a connection that turns out broken is replaced and the statement run again
    /// once (a read: running it twice changes nothing).
    pub async fn load(
        &mut self,
        rows: &'static dyn RowLoader,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Box<dyn RowSet>, DbError> {
        // Asked before the statement: its failure may leave the transaction state unknown.
        let outside_transaction = !self.transaction_open();
        let started = Instant::now();
        let result = self.load_once(rows, sql, binds).await;
        self.database
            .record_statement(started.elapsed(), sql, binds);
        match result {
            Err(error) if error.is_connection_lost() && outside_transaction => {
                tracing::warn!(%error, "a pooled connection broke; running the read again on a new one");
                self.replace_connection().await?;
                let again = self.load_once(rows, sql, binds).await;
                self.observe(again)
            }
            other => self.observe(other),
        }
    }

    async fn load_once(
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
        let result = match &mut self.inner {
            SessionInner::Sqlite(session) => session.execute_batch(sql).await,
            SessionInner::Postgres(session) => session.execute_batch(sql).await,
        };
        self.observe(result)
    }

    /// Runs one statement with bound parameters; returns the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, binds: &[Bind]) -> Result<usize, DbError> {
        let started = Instant::now();
        let result = match &mut self.inner {
            SessionInner::Sqlite(session) => session.execute(sql, binds).await,
            SessionInner::Postgres(session) => session.execute(sql, binds).await,
        };
        self.database
            .record_statement(started.elapsed(), sql, binds);
        self.observe(result)
    }

    /// Closes the connection when the session ends instead of returning it to the pool: a
    /// statement on it was abandoned midway (its server stopped answering), so its state is
    /// not worth trusting. SQLite: nothing to do (a file does not stop answering).
    pub(crate) fn discard(&mut self) {
        if let SessionInner::Postgres(session) = &mut self.inner {
            session.discard();
        }
    }

    /// Whether a transaction is open on the connection (or its state is unknown after a
    /// failure, which counts as open: nothing is retried then).
    pub fn transaction_open(&mut self) -> bool {
        match &mut self.inner {
            SessionInner::Sqlite(session) => session.transaction_open(),
            SessionInner::Postgres(session) => session.transaction_open(),
        }
    }

    /// Drops the broken connection (never back into the pool), closes the pool's idle ones
    /// (see `Database::close_idle`) and takes a new one, within the acquire timeout.
    async fn replace_connection(&mut self) -> Result<(), DbError> {
        self.database.close_idle();
        let timeout = self.database.acquire_timeout;
        match &mut self.inner {
            SessionInner::Postgres(session) => session.reconnect(timeout).await,
            SessionInner::Sqlite(_) => {
                self.inner = self.database.connection(timeout).await?;
                Ok(())
            }
        }
    }

    /// Acts on what a failure says about the connection: a read-only server means the pool
    /// points at a standby now, so it is recycled and this connection never reused.
    fn observe<T>(&mut self, result: Result<T, DbError>) -> Result<T, DbError> {
        if let Err(error) = &result {
            if error.is_read_only() {
                tracing::warn!(%error, "a write reached a read-only server; recycling the pool");
                self.database.recycle();
                if let SessionInner::Postgres(session) = &mut self.inner {
                    session.discard();
                }
            }
        }
        result
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
        let started = Instant::now();
        let result = match &mut self.inner {
            SessionInner::Sqlite(session) => session.text_values(sql, binds).await,
            SessionInner::Postgres(session) => session.text_values(sql, binds).await,
        };
        self.database
            .record_statement(started.elapsed(), sql, binds);
        self.observe(result)
    }

    /// Starts a transaction (SQLite: `BEGIN IMMEDIATE`, taking the write lock up front). A
    /// session dropped before [`Session::commit`] or [`Session::rollback`] (a cancelled
    /// request) is discarded by its pool, so the open transaction dies with the connection.
    ///
    /// A broken connection found here is replaced and `BEGIN` sent again, once: nothing of the
    /// transaction has run yet.
    pub async fn begin(&mut self) -> Result<(), DbError> {
        match self.begin_once().await {
            Err(error) if error.is_connection_lost() => {
                tracing::warn!(%error, "a pooled connection broke; beginning on a new one");
                self.replace_connection().await?;
                self.begin_once().await
            }
            other => other,
        }
    }

    async fn begin_once(&mut self) -> Result<(), DbError> {
        match &mut self.inner {
            SessionInner::Sqlite(session) => session.begin().await,
            SessionInner::Postgres(session) => session.begin().await,
        }
    }

    /// Commits the transaction [`Session::begin`] started.
    pub async fn commit(&mut self) -> Result<(), DbError> {
        let result = match &mut self.inner {
            SessionInner::Sqlite(session) => session.commit().await,
            SessionInner::Postgres(session) => session.commit().await,
        };
        self.observe(result)
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
