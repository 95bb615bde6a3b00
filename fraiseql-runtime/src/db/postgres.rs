//! PostgreSQL: diesel-async `AsyncPgConnection`s in a deadpool pool.
//!
//! A tokio-postgres connection is two halves: the client the caller awaits, and a background
//! task that owns the socket. diesel-async spawns that task on whatever runtime opens the
//! connection, so a connection first opened by a short-lived runtime (a CLI command, a test,
//! one actix worker) would die with it while still sitting in the pool. Here every
//! connection is opened on one small runtime the process keeps for its whole life; the client
//! half then works from any runtime, since it only talks to the socket task over channels.

use std::sync::OnceLock;
use std::time::Duration;

use diesel::ConnectionResult;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio::runtime::Runtime;

use super::bind::postgres_query;
use super::text_rows::{PgPlanLine, TextValue};
use super::{Bind, DbError, PlannedQuery, PoolSettings};
use crate::row::{RowLoader, RowSet};

type Manager = AsyncDieselConnectionManager<AsyncPgConnection>;

/// The runtime that drives every PostgreSQL socket. One thread is plenty: it only moves bytes
/// between sockets and channels; decoding rows happens in the caller.
fn io_runtime() -> Result<&'static Runtime, DbError> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("fraiseql-pg-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| DbError::Other(format!("cannot start the PostgreSQL I/O runtime: {e}")))
}

/// Opens one connection on the I/O runtime (see the module docs).
fn establish(url: &str) -> BoxFuture<'_, ConnectionResult<AsyncPgConnection>> {
    let url = url.to_owned();
    async move {
        let runtime =
            io_runtime().map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
        runtime
            .spawn(async move { AsyncPgConnection::establish(&url).await })
            .await
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?
    }
    .boxed()
}

/// The pool of one PostgreSQL database.
#[derive(Clone)]
pub(crate) struct PgPool {
    pool: Pool<AsyncPgConnection>,
}

/// Builds the pool. Connections are opened on first use; [`super::Database::ping`] checks the
/// server answers.
pub(crate) fn connect(url: &str, settings: &PoolSettings) -> Result<PgPool, DbError> {
    io_runtime()?;
    let mut config = ManagerConfig::default();
    // `Verified` would add a `SELECT 1` round trip to every checkout; a closed socket is still
    // noticed (`is_broken`) and the connection replaced.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(establish);
    let manager = Manager::new_with_config(url, config);
    let pool = Pool::builder(manager)
        .max_size(settings.max_size.max(1))
        .build()
        .map_err(|e| DbError::Connect(format!("PostgreSQL pool: {e}")))?;
    Ok(PgPool { pool })
}

impl PgPool {
    /// A connection, waiting at most `timeout` for one to be free (or to be opened).
    pub(crate) async fn get(&self, timeout: Duration) -> Result<PgSession, DbError> {
        // The timeout is applied here rather than through deadpool's own timeouts, which need
        // a runtime named up front; `tokio::time` works on whichever runtime awaits this.
        match tokio::time::timeout(timeout, self.pool.get()).await {
            Err(_) | Ok(Err(PoolError::Timeout(_))) => Err(DbError::PoolTimeout(timeout)),
            Ok(Err(PoolError::Backend(e))) => Err(DbError::Connect(e.to_string())),
            Ok(Err(e)) => Err(DbError::Connect(e.to_string())),
            Ok(Ok(conn)) => Ok(PgSession { conn }),
        }
    }
}

/// A pooled PostgreSQL connection.
pub(crate) struct PgSession {
    conn: Object<AsyncPgConnection>,
}

impl PgSession {
    pub(crate) async fn load(
        &mut self,
        rows: &'static dyn RowLoader,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Box<dyn RowSet>, DbError> {
        Ok(rows
            .load_postgres(&mut self.conn, postgres_query(sql, binds))
            .await?)
    }

    pub(crate) async fn execute_batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.conn.batch_execute(sql).await?)
    }

    pub(crate) async fn execute(&mut self, sql: &str, binds: &[Bind]) -> Result<usize, DbError> {
        let query = PlannedQuery::new(sql, binds)?.uncached();
        Ok(query.execute(&mut *self.conn).await?)
    }

    pub(crate) async fn text_values(
        &mut self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Vec<String>, DbError> {
        let query = PlannedQuery::new(sql, binds)?.uncached();
        let rows: Vec<TextValue> = query.load(&mut *self.conn).await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub(crate) async fn explain(
        &mut self,
        sql: &str,
        binds: &[Bind],
        analyze: bool,
    ) -> Result<Vec<String>, DbError> {
        let sql = if analyze {
            format!("EXPLAIN ANALYZE {sql}")
        } else {
            format!("EXPLAIN {sql}")
        };
        self.execute_batch("BEGIN").await?;
        let result: Result<Vec<PgPlanLine>, _> =
            postgres_query(&sql, binds).load(&mut *self.conn).await;
        self.execute_batch("ROLLBACK").await?;
        Ok(result?.into_iter().map(|r| r.0).collect())
    }
}
