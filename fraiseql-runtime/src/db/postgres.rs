//! PostgreSQL: diesel-async `AsyncPgConnection`s in deadpool pools, one pool per tokio
//! runtime.
//!
//! A tokio-postgres connection is two halves: the client the caller awaits, and a background
//! task that owns the socket, spawned on the runtime that opens the connection. Used from
//! another runtime, every statement becomes a cross-thread hand-off (measured: 5-10x the
//! latency of a same-runtime statement from an actix-style current-thread runtime), and if
//! the opening runtime stops being polled, the statement waits forever. So each runtime (each
//! actix worker, a CLI command's, a test's) gets a pool of connections it drives itself,
//! created on its first session; a pool whose runtime has shut down is dropped.
//!
//! `PoolSettings::max_size` still bounds the whole process: a semaphore shared by the
//! per-runtime pools admits at most that many sessions at once, and waiting for it counts
//! toward the acquire timeout. (Idle connections are kept per runtime, so up to
//! runtimes × max_size may be open, at most max_size of them busy.)

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{
    AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
    TransactionManager,
};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::text_rows::{PgPlanLine, TextValue};
use super::{Bind, DbError, PlannedQuery, PoolSettings, PoolStatus};
use crate::row::{RowLoader, RowSet};

type Manager = AsyncDieselConnectionManager<AsyncPgConnection>;

/// The pools of one PostgreSQL database. Cheap to clone.
#[derive(Clone)]
pub(crate) struct PgPool {
    shared: Arc<Shared>,
}

struct Shared {
    url: String,
    max_size: usize,
    /// One permit per session in use, across all runtimes.
    sessions: Arc<Semaphore>,
    /// Few entries (one per runtime), so a scan under a short lock beats anything cleverer.
    pools: Mutex<Vec<RuntimePool>>,
}

struct RuntimePool {
    runtime: tokio::runtime::Id,
    pool: Pool<AsyncPgConnection>,
    /// Closed once the runtime has shut down (its task holding the sender was dropped).
    alive: oneshot::Receiver<()>,
}

/// Prepares the pools. Connections are opened on first use; [`super::Database::ping`] checks
/// the server answers.
pub(crate) fn connect(url: &str, settings: &PoolSettings) -> Result<PgPool, DbError> {
    let max_size = settings.max_size.max(1);
    Ok(PgPool {
        shared: Arc::new(Shared {
            url: url.to_string(),
            max_size,
            sessions: Arc::new(Semaphore::new(max_size)),
            pools: Mutex::new(Vec::new()),
        }),
    })
}

impl PgPool {
    /// A connection, waiting at most `timeout` for one to be free (or to be opened).
    pub(crate) async fn get(&self, timeout: Duration) -> Result<PgSession, DbError> {
        let pool = self.pool_of_this_runtime()?;
        let sessions = Arc::clone(&self.shared.sessions);
        let attempt = async move {
            let permit = sessions
                .acquire_owned()
                .await
                .map_err(|_| DbError::Other("the PostgreSQL pool was closed".into()))?;
            match pool.get().await {
                Ok(conn) => Ok(PgSession {
                    conn,
                    _permit: permit,
                }),
                Err(PoolError::Timeout(_)) => Err(DbError::PoolTimeout(timeout)),
                Err(e) => Err(DbError::Connect(e.to_string())),
            }
        };
        // `tokio::time` rather than deadpool's timeouts, which need a runtime named up front.
        tokio::time::timeout(timeout, attempt)
            .await
            .map_err(|_| DbError::PoolTimeout(timeout))?
    }

    fn pool_of_this_runtime(&self) -> Result<Pool<AsyncPgConnection>, DbError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            DbError::Other("a PostgreSQL session must be taken inside a tokio runtime".into())
        })?;
        let id = handle.id();
        let mut pools = self
            .shared
            .pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = pools.iter().find(|p| p.runtime == id) {
            return Ok(entry.pool.clone());
        }
        // A new runtime: forget the pools of runtimes that are gone (their connections died
        // with them), then start this one's.
        use oneshot::error::TryRecvError;
        pools.retain_mut(|p| !matches!(p.alive.try_recv(), Err(TryRecvError::Closed)));
        let (sender, alive) = oneshot::channel::<()>();
        handle.spawn(async move {
            let _held_until_the_runtime_shuts_down = sender;
            std::future::pending::<()>().await
        });
        let mut config = ManagerConfig::default();
        // `Verified` would add a `SELECT 1` round trip to every checkout; a closed socket is
        // still noticed (`is_broken`) and the connection replaced.
        config.recycling_method = RecyclingMethod::Fast;
        let manager = Manager::new_with_config(self.shared.url.clone(), config);
        let pool = Pool::builder(manager)
            .max_size(self.shared.max_size)
            .build()
            .map_err(|e| DbError::Connect(format!("PostgreSQL pool: {e}")))?;
        pools.push(RuntimePool {
            runtime: id,
            pool: pool.clone(),
            alive,
        });
        Ok(pool)
    }

    /// Sessions in use and connections open, over all runtimes.
    pub(crate) fn status(&self) -> PoolStatus {
        let pools = self
            .shared
            .pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        PoolStatus {
            max_size: self.shared.max_size,
            in_use: self.shared.max_size - self.shared.sessions.available_permits(),
            open: pools.iter().map(|p| p.pool.status().size).sum(),
        }
    }
}

/// A pooled PostgreSQL connection, and its share of the process-wide session limit.
pub(crate) struct PgSession {
    conn: Object<AsyncPgConnection>,
    _permit: OwnedSemaphorePermit,
}

impl PgSession {
    pub(crate) async fn load(
        &mut self,
        rows: &'static dyn RowLoader,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Box<dyn RowSet>, DbError> {
        Ok(rows
            .load_postgres(&mut self.conn, PlannedQuery::new(sql, binds)?)
            .await?)
    }

    /// `BEGIN` through diesel's transaction manager, so a connection dropped mid-transaction
    /// is discarded by the pool instead of reused.
    pub(crate) async fn begin(&mut self) -> Result<(), DbError> {
        Ok(AnsiTransactionManager::begin_transaction_sql(&mut *self.conn, "BEGIN").await?)
    }

    pub(crate) async fn commit(&mut self) -> Result<(), DbError> {
        Ok(AnsiTransactionManager::commit_transaction(&mut *self.conn).await?)
    }

    pub(crate) async fn rollback(&mut self) -> Result<(), DbError> {
        Ok(AnsiTransactionManager::rollback_transaction(&mut *self.conn).await?)
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
        let result: Result<Vec<PgPlanLine>, _> = match PlannedQuery::new(&sql, binds) {
            Ok(query) => query.uncached().load(&mut *self.conn).await,
            Err(e) => Err(e),
        };
        self.execute_batch("ROLLBACK").await?;
        Ok(result?.into_iter().map(|r| r.0).collect())
    }
}
