//! SQLite: a diesel `SqliteConnection` r2d2 pool. SQLite calls block, so every piece of work
//! moves the pooled connection into `spawn_blocking` and takes it back afterwards; the async
//! caller never blocks its runtime.

use std::path::Path;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{RunQueryDsl, SqliteConnection};

use super::text_rows::{SqlitePlanLine, TextValue};
use super::{trace, Bind, DbError, PlannedQuery, PoolSettings, PoolStatus};
use crate::row::{RowLoader, RowSet};

type Manager = ConnectionManager<SqliteConnection>;

/// Settings every connection gets: WAL lets readers run beside the one writer, a busy timeout
/// makes a writer wait for the lock instead of failing, and NORMAL sync is safe under WAL.
const CONNECTION_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;";

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(CONNECTION_PRAGMAS)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The pool of one SQLite file.
#[derive(Clone)]
pub(crate) struct SqlitePool {
    pool: Pool<Manager>,
    statement_cache: bool,
}

/// Opens the pool; SQLite creates the file when it is missing.
pub(crate) async fn connect(path: &Path, settings: &PoolSettings) -> Result<SqlitePool, DbError> {
    trace::install_from_env()?;
    let manager = Manager::new(path.to_string_lossy());
    let max_size = u32::try_from(settings.max_size.max(1)).unwrap_or(u32::MAX);
    let min_idle = u32::try_from(settings.min_idle)
        .unwrap_or(u32::MAX)
        .min(max_size);
    let builder = Pool::builder()
        .max_size(max_size)
        // r2d2 opens these up front (proving the file opens) and keeps them open.
        .min_idle(Some(min_idle))
        .idle_timeout(settings.idle_timeout)
        .max_lifetime(settings.max_lifetime)
        .connection_timeout(settings.acquire_timeout)
        // r2d2 would run `SELECT 1` on every checkout; a local file connection does not go
        // stale the way a network one does, and that statement doubled small requests' work.
        .test_on_check_out(false)
        .connection_customizer(Box::new(Pragmas));
    let pool = tokio::task::spawn_blocking(move || builder.build(manager))
        .await
        .map_err(|e| DbError::Other(format!("SQLite pool task failed: {e}")))?
        .map_err(|e| DbError::Connect(format!("SQLite file {}: {e}", path.display())))?;
    Ok(SqlitePool {
        pool,
        statement_cache: settings.statement_cache,
    })
}

impl SqlitePool {
    /// Sessions in use and connections open.
    pub(crate) fn status(&self) -> PoolStatus {
        let state = self.pool.state();
        PoolStatus {
            max_size: self.pool.max_size() as usize,
            in_use: (state.connections - state.idle_connections) as usize,
            open: state.connections as usize,
            idle: state.idle_connections as usize,
            waiting: 0,
        }
    }

    /// A connection, waiting at most `timeout` for one to be free.
    pub(crate) async fn get(&self, timeout: Duration) -> Result<SqliteSession, DbError> {
        let pool = self.pool.clone();
        let conn = tokio::task::spawn_blocking(move || pool.get_timeout(timeout))
            .await
            .map_err(|e| DbError::Other(format!("SQLite pool task failed: {e}")))?
            .map_err(|_| DbError::PoolTimeout(timeout))?;
        Ok(SqliteSession {
            conn: Some(conn),
            statement_cache: self.statement_cache,
        })
    }
}

/// A pooled SQLite connection. `None` only while a blocking task holds it, or after such a
/// task panicked (then the connection is gone and the session reports it).
pub(crate) struct SqliteSession {
    conn: Option<PooledConnection<Manager>>,
    /// Whether statements may stay prepared ([`PoolSettings::statement_cache`]).
    statement_cache: bool,
}

impl SqliteSession {
    /// Runs `work` on the connection on tokio's blocking pool.
    async fn blocking<T, F>(&mut self, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T, DbError> + Send + 'static,
    {
        let mut conn = self.conn.take().ok_or_else(|| {
            DbError::Other("the SQLite connection was lost by an earlier failed task".into())
        })?;
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = work(&mut conn);
            (conn, result)
        })
        .await
        .map_err(|e| DbError::Other(format!("SQLite task failed: {e}")))?;
        self.conn = Some(conn);
        result
    }

    pub(crate) async fn load(
        &mut self,
        rows: &'static dyn RowLoader,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Box<dyn RowSet>, DbError> {
        // The blocking task must own what it binds.
        let (sql, binds, cache) = (sql.to_owned(), binds.to_vec(), self.statement_cache);
        self.blocking(move |conn| {
            let query = PlannedQuery::for_sqlite(&sql, &binds)?;
            let query = if cache { query } else { query.uncached() };
            Ok(rows.load_sqlite(conn, query)?)
        })
        .await
    }

    /// Whether diesel's transaction manager has a transaction open (or lost track of it).
    pub(crate) fn transaction_open(&mut self) -> bool {
        let Some(conn) = self.conn.as_deref_mut() else {
            return false;
        };
        !matches!(
            AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth(),
            Ok(None)
        )
    }

    /// `BEGIN IMMEDIATE` (the write lock up front: a deferred transaction that must upgrade to
    /// writing later fails with SQLITE_BUSY at once, without waiting out busy_timeout), through
    /// diesel's transaction manager, so a connection dropped mid-transaction is discarded by
    /// the pool instead of reused.
    pub(crate) async fn begin(&mut self) -> Result<(), DbError> {
        self.blocking(|conn| {
            Ok(AnsiTransactionManager::begin_transaction_sql(
                conn,
                "BEGIN IMMEDIATE",
            )?)
        })
        .await
    }

    pub(crate) async fn commit(&mut self) -> Result<(), DbError> {
        self.blocking(|conn| Ok(AnsiTransactionManager::commit_transaction(conn)?))
            .await
    }

    pub(crate) async fn rollback(&mut self) -> Result<(), DbError> {
        self.blocking(|conn| Ok(AnsiTransactionManager::rollback_transaction(conn)?))
            .await
    }

    pub(crate) async fn execute_batch(&mut self, sql: &str) -> Result<(), DbError> {
        let sql = sql.to_owned();
        self.blocking(move |conn| Ok(conn.batch_execute(&sql)?))
            .await
    }

    pub(crate) async fn execute(&mut self, sql: &str, binds: &[Bind]) -> Result<usize, DbError> {
        let (sql, binds) = (sql.to_owned(), binds.to_vec());
        self.blocking(move |conn| {
            Ok(PlannedQuery::for_sqlite(&sql, &binds)?
                .uncached()
                .execute(conn)?)
        })
        .await
    }

    pub(crate) async fn text_values(
        &mut self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Vec<String>, DbError> {
        let (sql, binds) = (sql.to_owned(), binds.to_vec());
        self.blocking(move |conn| {
            let query = PlannedQuery::for_sqlite(&sql, &binds)?.uncached();
            let rows: Vec<TextValue> = query.load(conn)?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        })
        .await
    }

    pub(crate) async fn explain(
        &mut self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Vec<String>, DbError> {
        let (sql, binds) = (format!("EXPLAIN QUERY PLAN {sql}"), binds.to_vec());
        self.blocking(move |conn| {
            conn.batch_execute("BEGIN")?;
            let result: Result<Vec<SqlitePlanLine>, _> = PlannedQuery::for_sqlite(&sql, &binds)
                .map(PlannedQuery::uncached)
                .and_then(|q| q.load(conn));
            conn.batch_execute("ROLLBACK")?;
            Ok(result?.into_iter().map(|r| r.0).collect())
        })
        .await
    }
}
