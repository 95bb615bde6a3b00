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
//!
//! Timeouts and upkeep, chosen over deadpool's own timeouts (which need a runtime named up
//! front, and would not cover the semaphore):
//! - acquire: one `tokio::time::timeout` over the semaphore, the checkout and any connect;
//! - idle and lifetime: a task per runtime pool ([`upkeep`]) closes idle connections not
//!   checked out for `idle_timeout` (keeping `min_idle`) or older than `max_lifetime`, and
//!   opens connections up to `min_idle`; a checkout also refuses one past its lifetime or
//!   opened before the last [`PgPool::recycle`] (a deadpool `pre_recycle` hook), so a
//!   connection busy at those moments is closed when it comes back instead of reused.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use deadpool::managed::WeakPool;
use diesel_async::pooled_connection::deadpool::{Hook, HookError, Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{
    AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
    TransactionManager,
};
use futures_util::FutureExt;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::pg_connect::PgConnector;
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
    connector: PgConnector,
    settings: PoolSettings,
    /// One permit per session in use, across all runtimes.
    sessions: Arc<Semaphore>,
    /// Few entries (one per runtime), so a scan under a short lock beats anything cleverer.
    pools: Mutex<Vec<RuntimePool>>,
    /// Connections opened before `epoch` + this many nanoseconds are not reused
    /// ([`PgPool::recycle`]); 0: never recycled.
    recycled_after: Arc<AtomicU64>,
    epoch: Instant,
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
    let settings = PoolSettings {
        max_size,
        min_idle: settings.min_idle.min(max_size),
        ..settings.clone()
    };
    Ok(PgPool {
        shared: Arc::new(Shared {
            url: url.to_string(),
            connector: PgConnector::new(url, &settings)?,
            settings,
            sessions: Arc::new(Semaphore::new(max_size)),
            pools: Mutex::new(Vec::new()),
            recycled_after: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        }),
    })
}

impl PgPool {
    /// A connection, waiting at most `timeout` for one to be free (or to be opened).
    pub(crate) async fn get(&self, timeout: Duration) -> Result<PgSession, DbError> {
        let pool = self.pool_of_this_runtime()?;
        if let Some(session) = self.get_idle_now(&pool) {
            return Ok(session);
        }
        let sessions = Arc::clone(&self.shared.sessions);
        let attempt = async move {
            let permit = sessions
                .acquire_owned()
                .await
                .map_err(|_| DbError::Other("the PostgreSQL pool was closed".into()))?;
            let conn = checkout(&pool, timeout).await?;
            Ok(PgSession {
                conn: Some(conn),
                pool,
                statement_cache: self.shared.settings.statement_cache,
                discard: false,
                _permit: permit,
            })
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .map_err(|_| DbError::PoolTimeout(timeout))?
    }

    /// The common case without a timer: a session is free under the process-wide limit and
    /// this runtime's pool has an idle connection, so the checkout completes without waiting
    /// (`Fast` recycling does no I/O, and nothing else runs on this runtime's thread meanwhile).
    /// `None` sends the caller the long way, with the acquire timeout.
    fn get_idle_now(&self, pool: &Pool<AsyncPgConnection>) -> Option<PgSession> {
        if pool.status().available == 0 {
            return None;
        }
        let permit = Arc::clone(&self.shared.sessions).try_acquire_owned().ok()?;
        // A connection refused by the `pre_recycle` hook makes deadpool try the next idle one
        // or open a new one: that would wait, so it is left to the long way.
        let conn = pool.get().now_or_never()?.ok()?;
        Some(PgSession {
            conn: Some(conn),
            pool: pool.clone(),
            statement_cache: self.shared.settings.statement_cache,
            discard: false,
            _permit: permit,
        })
    }

    /// Closes every idle connection of every runtime now; connections in use are closed when
    /// their sessions end (the `pre_recycle` hook refuses them).
    pub(crate) fn recycle(&self) {
        let now = self.shared.epoch.elapsed().as_nanos();
        self.shared
            .recycled_after
            .store(u64::try_from(now).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.close_idle();
    }

    /// Closes every idle connection of every runtime now; connections in use stay (their
    /// sessions find out for themselves whether they still work).
    pub(crate) fn close_idle(&self) {
        let pools = self.lock_pools();
        for entry in pools.iter() {
            entry.pool.retain(|_, _| false);
        }
    }

    fn lock_pools(&self) -> std::sync::MutexGuard<'_, Vec<RuntimePool>> {
        self.shared
            .pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn pool_of_this_runtime(&self) -> Result<Pool<AsyncPgConnection>, DbError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            DbError::Other("a PostgreSQL session must be taken inside a tokio runtime".into())
        })?;
        let id = handle.id();
        let mut pools = self.lock_pools();
        if let Some(entry) = pools.iter().find(|p| p.runtime == id) {
            return Ok(entry.pool.clone());
        }
        // A new runtime: forget the pools of runtimes that are gone (their connections died
        // with them), then start this one's.
        use oneshot::error::TryRecvError;
        pools.retain_mut(|p| !matches!(p.alive.try_recv(), Err(TryRecvError::Closed)));
        let pool = self.new_pool()?;
        let (sender, alive) = oneshot::channel::<()>();
        handle.spawn(upkeep(pool.weak(), self.shared.settings.clone(), sender));
        pools.push(RuntimePool {
            runtime: id,
            pool: pool.clone(),
            alive,
        });
        Ok(pool)
    }

    fn new_pool(&self) -> Result<Pool<AsyncPgConnection>, DbError> {
        let mut config = ManagerConfig::default();
        // `Verified` would add a `SELECT 1` round trip to every checkout; a closed socket is
        // still noticed (`is_broken`) and the connection replaced, and a statement that finds
        // the connection broken is run again on a new one (`Session::load`).
        config.recycling_method = RecyclingMethod::Fast;
        let connector = self.shared.connector.clone();
        config.custom_setup = Box::new(move |_url| {
            let connector = connector.clone();
            async move { connector.establish().await }.boxed()
        });
        let manager = Manager::new_with_config(self.shared.url.clone(), config);
        let max_lifetime = self.shared.settings.max_lifetime;
        let recycled_after = Arc::clone(&self.shared.recycled_after);
        let epoch = self.shared.epoch;
        Pool::builder(manager)
            .max_size(self.shared.settings.max_size)
            .pre_recycle(Hook::sync_fn(move |_, metrics| {
                if max_lifetime.is_some_and(|limit| metrics.age() >= limit) {
                    return Err(HookError::message("past FRAISEQL_POOL_MAX_LIFETIME_S"));
                }
                if opened_before_recycle(metrics.created, epoch, &recycled_after) {
                    return Err(HookError::message("opened before the pool was recycled"));
                }
                Ok(())
            }))
            .build()
            .map_err(|e| DbError::Connect(format!("PostgreSQL pool: {e}")))
    }

    /// Sessions in use and connections open and idle, over all runtimes.
    pub(crate) fn status(&self) -> PoolStatus {
        let pools = self.lock_pools();
        let max_size = self.shared.settings.max_size;
        let (open, idle) = pools.iter().fold((0, 0), |(open, idle), p| {
            let status = p.pool.status();
            (open + status.size, idle + status.available)
        });
        PoolStatus {
            max_size,
            in_use: max_size - self.shared.sessions.available_permits(),
            open,
            idle,
            waiting: 0,
        }
    }
}

fn opened_before_recycle(created: Instant, epoch: Instant, recycled_after: &AtomicU64) -> bool {
    let cutoff = recycled_after.load(Ordering::Relaxed);
    if cutoff == 0 {
        return false;
    }
    let opened = created.saturating_duration_since(epoch).as_nanos();
    opened <= u128::from(cutoff)
}

/// A connection from `pool`, mapping deadpool's errors to ours.
async fn checkout(
    pool: &Pool<AsyncPgConnection>,
    timeout: Duration,
) -> Result<Object<AsyncPgConnection>, DbError> {
    match pool.get().await {
        Ok(conn) => Ok(conn),
        Err(PoolError::Timeout(_)) => Err(DbError::PoolTimeout(timeout)),
        Err(e) => Err(DbError::Connect(e.to_string())),
    }
}

/// The upkeep of one runtime's pool, on that runtime, until the runtime shuts down (then
/// `_alive` is dropped, which tells [`PgPool::pool_of_this_runtime`] the pool is gone) or the
/// pool is dropped with its database.
async fn upkeep(pool: WeakPool<Manager>, settings: PoolSettings, _alive: oneshot::Sender<()>) {
    let period = upkeep_period(&settings);
    loop {
        // First sleep: the session that created this pool is opening a connection already.
        tokio::time::sleep(period).await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        // Idle connections, oldest use first: the ones kept for `min_idle` are the most
        // recently used.
        let mut kept = 0;
        pool.retain(|_, metrics| {
            let expired = settings
                .max_lifetime
                .is_some_and(|limit| metrics.age() >= limit);
            let idle_too_long = settings
                .idle_timeout
                .is_some_and(|limit| metrics.last_used() >= limit);
            let keep = !expired && (!idle_too_long || kept < settings.min_idle);
            kept += usize::from(keep);
            keep
        });
        // Top up to `min_idle`: hold the new connections together so each get opens one.
        let missing = settings.min_idle.saturating_sub(pool.status().size);
        let mut opened = Vec::with_capacity(missing);
        for _ in 0..missing {
            match tokio::time::timeout(settings.acquire_timeout, pool.get()).await {
                Ok(Ok(conn)) => opened.push(conn),
                // The database is down: sessions will say so; try again next period.
                _ => break,
            }
        }
        drop(opened);
    }
}

/// How often [`upkeep`] looks: often enough that a connection outlives its limits by at most
/// a quarter of the shortest one; never busier than every 250 ms nor lazier than 30 s.
fn upkeep_period(settings: &PoolSettings) -> Duration {
    [settings.idle_timeout, settings.max_lifetime]
        .into_iter()
        .flatten()
        .map(|limit| limit / 4)
        .min()
        .unwrap_or(Duration::from_secs(30))
        .clamp(Duration::from_millis(250), Duration::from_secs(30))
}

/// A pooled PostgreSQL connection, and its share of the process-wide session limit.
pub(crate) struct PgSession {
    /// `None` only between dropping a broken connection and getting its replacement.
    conn: Option<Object<AsyncPgConnection>>,
    /// This runtime's pool, for a replacement connection.
    pool: Pool<AsyncPgConnection>,
    /// Whether statements may stay prepared ([`PoolSettings::statement_cache`]).
    statement_cache: bool,
    /// Whether the connection must be closed rather than returned to the pool.
    discard: bool,
    _permit: OwnedSemaphorePermit,
}

impl Drop for PgSession {
    fn drop(&mut self) {
        if self.discard {
            if let Some(conn) = self.conn.take() {
                // Detached from the pool: closed here, never handed out again.
                drop(Object::take(conn));
            }
        }
    }
}

impl PgSession {
    fn conn(&mut self) -> Result<&mut AsyncPgConnection, DbError> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| DbError::Connect("the connection was lost and not replaced".into()))
    }

    /// Closes this connection when the session ends instead of returning it to the pool.
    pub(crate) fn discard(&mut self) {
        self.discard = true;
    }

    /// Drops the current connection (closed, never returned) and takes another from this
    /// runtime's pool, keeping the session's place under the process-wide limit.
    pub(crate) async fn reconnect(&mut self, timeout: Duration) -> Result<(), DbError> {
        if let Some(conn) = self.conn.take() {
            drop(Object::take(conn));
        }
        self.discard = false;
        let fresh = tokio::time::timeout(timeout, checkout(&self.pool, timeout))
            .await
            .map_err(|_| DbError::PoolTimeout(timeout))??;
        self.conn = Some(fresh);
        Ok(())
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

    /// Runs one statement of the extended protocol. With the statement cache off (behind
    /// PgBouncer in transaction mode) and no transaction open, it is wrapped in one: an
    /// uncached statement is still prepared under a name (Parse + Sync), then bound and run
    /// (Bind + Execute + Sync), and between the two syncs the pooler may hand the client
    /// another server connection, one that never saw the Parse. Inside a transaction the
    /// pooler keeps the server connection.
    async fn pinned<T>(
        &mut self,
        work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        if self.statement_cache || self.transaction_open() {
            return work(self.conn()?).await;
        }
        let conn = self.conn()?;
        AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN").await?;
        match work(conn).await {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(conn).await?;
                Ok(value)
            }
            Err(error) => {
                // The statement's error is the one worth reporting; a failed rollback leaves
                // the connection broken, and the pool discards broken connections.
                let _ = AnsiTransactionManager::rollback_transaction(conn).await;
                Err(error)
            }
        }
    }

    pub(crate) async fn load(
        &mut self,
        rows: &'static dyn RowLoader,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Box<dyn RowSet>, DbError> {
        let cache = self.statement_cache;
        self.pinned(async |conn| {
            let query = PlannedQuery::new(sql, binds)?;
            let query = if cache { query } else { query.uncached() };
            Ok(rows.load_postgres(conn, query).await?)
        })
        .await
    }

    /// `BEGIN` through diesel's transaction manager, so a connection dropped mid-transaction
    /// is discarded by the pool instead of reused.
    pub(crate) async fn begin(&mut self) -> Result<(), DbError> {
        Ok(AnsiTransactionManager::begin_transaction_sql(self.conn()?, "BEGIN").await?)
    }

    pub(crate) async fn commit(&mut self) -> Result<(), DbError> {
        Ok(AnsiTransactionManager::commit_transaction(self.conn()?).await?)
    }

    pub(crate) async fn rollback(&mut self) -> Result<(), DbError> {
        Ok(AnsiTransactionManager::rollback_transaction(self.conn()?).await?)
    }

    pub(crate) async fn execute_batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.conn()?.batch_execute(sql).await?)
    }

    pub(crate) async fn execute(&mut self, sql: &str, binds: &[Bind]) -> Result<usize, DbError> {
        self.pinned(async |conn| {
            let query = PlannedQuery::new(sql, binds)?.uncached();
            Ok(query.execute(conn).await?)
        })
        .await
    }

    pub(crate) async fn text_values(
        &mut self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Vec<String>, DbError> {
        self.pinned(async |conn| {
            let query = PlannedQuery::new(sql, binds)?.uncached();
            let rows: Vec<TextValue> = query.load(conn).await?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        })
        .await
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
        let conn = self.conn()?;
        conn.batch_execute("BEGIN").await?;
        let result: Result<Vec<PgPlanLine>, _> = match PlannedQuery::new(&sql, binds) {
            Ok(query) => query.uncached().load(conn).await,
            Err(e) => Err(e),
        };
        conn.batch_execute("ROLLBACK").await?;
        Ok(result?.into_iter().map(|r| r.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upkeep_runs_at_a_quarter_of_the_shortest_limit_within_bounds() {
        let with = |idle: Option<u64>, life: Option<u64>| PoolSettings {
            idle_timeout: idle.map(Duration::from_secs),
            max_lifetime: life.map(Duration::from_secs),
            ..PoolSettings::default()
        };
        assert_eq!(
            upkeep_period(&with(Some(8), Some(600))),
            Duration::from_secs(2)
        );
        assert_eq!(upkeep_period(&with(None, None)), Duration::from_secs(30));
        assert_eq!(
            upkeep_period(&with(Some(0), None)),
            Duration::from_millis(250)
        );
    }

    #[test]
    fn only_connections_opened_before_a_recycle_are_refused() {
        let epoch = Instant::now();
        let cutoff = AtomicU64::new(0);
        assert!(!opened_before_recycle(epoch, epoch, &cutoff));
        std::thread::sleep(Duration::from_millis(2));
        let before = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        cutoff.store(
            u64::try_from(epoch.elapsed().as_nanos()).unwrap(),
            Ordering::Relaxed,
        );
        std::thread::sleep(Duration::from_millis(2));
        assert!(opened_before_recycle(before, epoch, &cutoff));
        assert!(!opened_before_recycle(Instant::now(), epoch, &cutoff));
    }
}
