//! Databases: connection pools (SQLite through diesel + r2d2, PostgreSQL through diesel-async),
//! sessions that run planned statements and load typed rows, and the schema-level commands
//! (`migrate`, `check`, `seed`).
//!
//! This file is the public face (URL, settings, [`Database`]); [`Session`] is in `session.rs`,
//! failures in `error.rs`, and each dialect's pool and session in `sqlite.rs` and
//! `postgres.rs` (`pg_connect.rs` opens one PostgreSQL connection: TLS, session settings), so
//! the rest of the runtime never names a diesel connection type. Read replicas (their pools,
//! probe and choice) are in `replica/`, and which server each statement of a request runs on
//! in `route.rs`.

mod bind;
pub mod check;
mod error;
mod introspect;
pub mod migrate;
mod pg_connect;
pub mod planned;
mod postgres;
pub mod replica;
mod route;
pub mod seed;
mod session;
pub mod shard;
mod sqlite;
pub mod stats;
mod text_rows;
mod trace;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use bind::{Bind, NullType};

pub use check::SchemaDrift;
pub use error::{ConstraintKind, DbError};
pub use planned::PlannedQuery;
pub use replica::{
    Lsn, ReadRouting, Reads, ReplicaSet, ReplicaSettings, ReplicaStatus, CONSISTENCY_HEADER,
};
pub use route::{RequestSessions, Target};
pub use seed::SeedReport;
pub use session::Session;
pub use trace::TRACE_ENV as SQLITE_TRACE_ENV;

use crate::model::Dialect;
use session::SessionInner;

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

/// Pool and connection settings (`FRAISEQL_POOL_*`, `FRAISEQL_STATEMENT_*`,
/// `FRAISEQL_IDLE_IN_TRANSACTION_TIMEOUT_MS`; see `config.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// Idle connections each pool keeps open (PostgreSQL keeps one pool per worker runtime,
    /// so this applies to each of them).
    pub min_idle: usize,
    /// Most sessions in use at once, across the process.
    pub max_size: usize,
    /// How long a request waits for a connection before failing ([`DbError::PoolTimeout`]).
    pub acquire_timeout: Duration,
    /// An idle connection not checked out for this long is closed (down to `min_idle`);
    /// `None`: never.
    pub idle_timeout: Option<Duration>,
    /// A connection this old is closed when it is next idle; `None`: never.
    pub max_lifetime: Option<Duration>,
    /// Whether connections keep planned statements prepared. Off behind a pooler that does not
    /// keep a client on one server connection (PgBouncer in transaction mode).
    pub statement_cache: bool,
    /// PostgreSQL `statement_timeout`, set on every new connection; `None`: not set.
    pub statement_timeout: Option<Duration>,
    /// PostgreSQL `idle_in_transaction_session_timeout`, set on every new connection;
    /// `None`: not set.
    pub idle_in_transaction_timeout: Option<Duration>,
    /// Statements slower than this are logged (`FRAISEQL_SLOW_QUERY_MS`).
    pub slow_query: stats::SlowQueryLog,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            min_idle: 1,
            max_size: 16,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            statement_cache: true,
            statement_timeout: None,
            idle_in_transaction_timeout: None,
            slow_query: stats::SlowQueryLog::default(),
        }
    }
}

impl DatabaseUrl {
    /// Reads `sqlite://path`, `sqlite:path`, `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<DatabaseUrl, DbError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Checked now (options, sslmode) so a bad URL is a configuration error at start.
            pg_connect::PgUrl::parse(url)?;
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
    /// Connections open and not in use.
    pub idle: usize,
    /// Requests waiting for a session.
    pub waiting: usize,
}

impl PoolStatus {
    /// Sessions in use as a share of the most allowed, 0.0 to 1.0.
    pub fn utilisation(&self) -> f64 {
        if self.max_size == 0 {
            return 0.0;
        }
        self.in_use as f64 / self.max_size as f64
    }
}

/// The metrics label of the primary's pool (replicas are `replica-0`, `replica-1`, …).
pub const PRIMARY_POOL: &str = "primary";

/// One configured database and its pool, and its read replicas when configured. Cheap to
/// clone.
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
    /// Requests inside [`Database::session`] that have no session yet.
    waiting: Arc<AtomicUsize>,
    /// The primary's replicas (`DATABASE_URL_REPLICA`); each has a `Database` of its own.
    replicas: Option<Arc<ReplicaSet>>,
    /// The pool's metrics label ([`PRIMARY_POOL`], `replica-0`, …), also in slow-query logs.
    label: Arc<str>,
    /// When a statement is slow enough to log.
    slow_query: stats::SlowQueryLog,
    /// The shards (`DATABASE_URL_SHARDS`) that hold the `@shard` types' rows; each has a
    /// `Database` of its own.
    shards: Option<Arc<shard::ShardRouter>>,
}

#[derive(Clone)]
enum Pool {
    Sqlite(sqlite::SqlitePool),
    Postgres(postgres::PgPool),
}

/// Counts a request as waiting for a session while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
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
            waiting: Arc::new(AtomicUsize::new(0)),
            replicas: None,
            label: Arc::from(PRIMARY_POOL),
            slow_query: settings.slow_query,
            shards: None,
        })
    }

    /// This database as the primary of `settings`' shards (a pool each, with `pool`'s
    /// settings, connecting when first used). No shard URLs: this database unchanged.
    pub async fn with_shards(
        self,
        settings: &shard::ShardSettings,
        pool: &PoolSettings,
    ) -> Result<Database, DbError> {
        let shards = shard::ShardRouter::connect(settings, pool).await?;
        Ok(Database { shards, ..self })
    }

    /// The shards, when configured.
    pub fn shard_router(&self) -> Option<&shard::ShardRouter> {
        self.shards.as_deref()
    }

    /// The same database under another metrics label (replicas and shards name theirs).
    pub fn labelled(mut self, label: &str) -> Database {
        self.label = Arc::from(label);
        self
    }

    /// The pool's metrics label.
    pub fn label(&self) -> &Arc<str> {
        &self.label
    }

    /// Times a statement and records it (see [`stats`]).
    pub(crate) fn record_statement(&self, elapsed: Duration, sql: &str, binds: &[Bind]) {
        stats::record(&self.label, self.slow_query, elapsed, sql, binds);
    }

    /// This database with `settings.urls` as its read replicas (a pool each, with `pool`'s
    /// settings): probes them once now, then every `settings.probe_interval` on a task of the
    /// current runtime. Replicas that do not answer are only logged: reads go to the primary
    /// until they do. No URLs: this database unchanged.
    pub async fn with_replicas(
        self,
        settings: &ReplicaSettings,
        pool: &PoolSettings,
    ) -> Result<Database, DbError> {
        if settings.urls.is_empty() {
            return Ok(self);
        }
        if self.dialect != Dialect::Postgres {
            return Err(DbError::InvalidUrl(
                "read replicas need a PostgreSQL primary".into(),
            ));
        }
        let set = Arc::new(ReplicaSet::connect(settings, pool).await?);
        // The probe samples the primary through a handle without the set: the set must not
        // keep itself alive through its own task.
        set.start_probing(self.clone()).await;
        Ok(Database {
            replicas: Some(set),
            ..self
        })
    }

    /// The read replicas, when configured.
    pub fn replica_set(&self) -> Option<&ReplicaSet> {
        self.replicas.as_deref()
    }

    /// Every replica's health and lag (empty without replicas).
    pub fn replica_statuses(&self) -> Vec<ReplicaStatus> {
        self.replica_set()
            .map(ReplicaSet::statuses)
            .unwrap_or_default()
    }

    /// The SQL dialect of this database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Sessions in use, connections open and idle, requests waiting.
    pub fn pool_status(&self) -> PoolStatus {
        let mut status = match &self.pool {
            Pool::Sqlite(pool) => pool.status(),
            Pool::Postgres(pool) => pool.status(),
        };
        status.waiting = self.waiting.load(Ordering::Relaxed);
        status
    }

    /// Every pool by its metrics label: [`PRIMARY_POOL`], then `replica-0`, `replica-1`, …,
    /// then `shard-0`, `shard-1`, ….
    pub fn pool_statuses(&self) -> Vec<(String, PoolStatus)> {
        let mut pools = vec![(PRIMARY_POOL.to_string(), self.pool_status())];
        if let Some(set) = self.replica_set() {
            pools.extend(
                set.pools()
                    .map(|(label, db)| (label.to_string(), db.pool_status())),
            );
        }
        if let Some(router) = self.shard_router() {
            pools.extend(
                router
                    .databases()
                    .map(|(label, db)| (label.to_string(), db.pool_status())),
            );
        }
        pools
    }

    /// Closes every idle connection now, and every connection in use when its session ends,
    /// so the next sessions connect anew: after a failover behind the URL (a write saw
    /// [`DbError::ReadOnly`]) or a lost connection. SQLite: nothing to do (a file does not fail
    /// over).
    pub fn recycle(&self) {
        if let Pool::Postgres(pool) = &self.pool {
            pool.recycle();
        }
    }

    /// Closes the idle connections (not the ones in use): after one connection broke, the
    /// others idle beside it are most likely dead too (a restart, a failover, a pooler
    /// restart), and reconnecting a few healthy ones costs less than failing on each.
    fn close_idle(&self) {
        if let Pool::Postgres(pool) = &self.pool {
            pool.close_idle();
        }
    }

    /// Takes a connection from the pool for the statements of one request. Fails with
    /// [`DbError::PoolTimeout`] when none is free within the acquire timeout.
    pub async fn session(&self) -> Result<Session, DbError> {
        self.session_within(self.acquire_timeout).await
    }

    async fn session_within(&self, timeout: Duration) -> Result<Session, DbError> {
        let waiting = Waiting::new(&self.waiting);
        let inner = self.connection(timeout).await?;
        drop(waiting);
        Ok(Session::new(inner, self.clone()))
    }

    /// A pooled connection, waiting at most `timeout`.
    async fn connection(&self, timeout: Duration) -> Result<SessionInner, DbError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => SessionInner::Sqlite(pool.get(timeout).await?),
            Pool::Postgres(pool) => SessionInner::Postgres(pool.get(timeout).await?),
        })
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

#[cfg(test)]
impl Database {
    /// A PostgreSQL database whose pool never connected (it connects on first use).
    pub(crate) fn unconnected_for_tests() -> Database {
        let settings = PoolSettings::default();
        let pool = postgres::connect("postgres://nobody@127.0.0.1:1/none", &settings)
            .unwrap_or_else(|e| panic!("{e}"));
        Database {
            dialect: Dialect::Postgres,
            pool: Pool::Postgres(pool),
            acquire_timeout: settings.acquire_timeout,
            waiting: Arc::new(AtomicUsize::new(0)),
            replicas: None,
            label: Arc::from(PRIMARY_POOL),
            slow_query: settings.slow_query,
            shards: None,
        }
    }
}
