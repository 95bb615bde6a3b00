//! Read replicas: a [`ReplicaSet`] of PostgreSQL standbys, each with its own pool, its health
//! and lag as the last probe saw them (`probe.rs`), and the choice of a replica for one read.
//!
//! Which reads may go to a replica is the planner's `Route` per statement, resolved here with
//! `FRAISEQL_READS` ([`ReadRouting`]); which replica is [`ReplicaSet::choose`]: round robin
//! over the replicas that are healthy, within the read's lag bound and, when the client sent a
//! consistency token, past its WAL position. No eligible replica means the primary. A replica
//! that fails a read with a connection-class error is marked down at once (not only at the next
//! probe) and the read runs elsewhere (`db/route.rs`).

mod lsn;
mod probe;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

pub use lsn::{Lsn, LsnError, CONSISTENCY_HEADER};

use super::{Database, DatabaseUrl, DbError, PoolSettings};
use crate::model::Route;

/// Where reads that declare no route go (`FRAISEQL_READS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reads {
    /// To the primary; only `@replica` fields (and what they nest) go to replicas.
    #[default]
    Primary,
    /// To a replica, as if every query field said `@replica`; `@primary` pins a field back.
    Replica,
}

/// How a statement's route becomes a server: `FRAISEQL_READS` and the lag bound of
/// `@replica` without `maxLag:` (`FRAISEQL_REPLICA_MAX_LAG_MS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadRouting {
    /// Where undeclared reads go.
    pub reads: Reads,
    /// The lag bound of `@replica` without `maxLag:`, and of undeclared reads under
    /// `FRAISEQL_READS=replica`.
    pub default_max_lag: Duration,
}

/// Default `FRAISEQL_REPLICA_MAX_LAG_MS`: two probe intervals, so that a write caught in flight
/// at one probe does not take a replica out of rotation.
pub const DEFAULT_MAX_LAG: Duration = Duration::from_millis(2000);
/// Default `FRAISEQL_REPLICA_PROBE_MS`.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_millis(1000);

impl Default for ReadRouting {
    fn default() -> Self {
        ReadRouting {
            reads: Reads::Primary,
            default_max_lag: DEFAULT_MAX_LAG,
        }
    }
}

impl ReadRouting {
    /// The lag bound a statement with `route` accepts on a replica, or `None` when it must run
    /// on the primary.
    pub fn replica_bound(&self, route: Route) -> Option<Duration> {
        match route {
            Route::Primary => None,
            Route::Inherit => match self.reads {
                Reads::Primary => None,
                Reads::Replica => Some(self.default_max_lag),
            },
            Route::Replica { max_lag_ms } => {
                Some(max_lag_ms.map_or(self.default_max_lag, |ms| Duration::from_millis(ms.into())))
            }
        }
    }
}

/// The replica configuration (`DATABASE_URL_REPLICA`, `FRAISEQL_READS`,
/// `FRAISEQL_REPLICA_MAX_LAG_MS`, `FRAISEQL_REPLICA_PROBE_MS`; see `config.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaSettings {
    /// The replicas, in the order given (labelled `replica-0`, `replica-1`, …).
    pub urls: Vec<DatabaseUrl>,
    /// How routes map to servers.
    pub routing: ReadRouting,
    /// How often each replica is probed.
    pub probe_interval: Duration,
}

impl Default for ReplicaSettings {
    fn default() -> Self {
        ReplicaSettings {
            urls: Vec::new(),
            routing: ReadRouting::default(),
            probe_interval: DEFAULT_PROBE_INTERVAL,
        }
    }
}

/// One replica as `/metrics` and `/health/ready` report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// `replica-0`, `replica-1`, … (the position in `DATABASE_URL_REPLICA`).
    pub label: String,
    /// Whether it answered its last probe as a standby (and no read failed on it since).
    pub healthy: bool,
    /// Replication lag as of the last probe (see `probe.rs`); `None` before the first probe.
    pub lag: Option<Duration>,
    /// The WAL position it had replayed at the last probe.
    pub replayed: Option<Lsn>,
}

/// The replicas of one primary. Shared by every request (behind an `Arc` in [`Database`]).
pub struct ReplicaSet {
    replicas: Vec<Replica>,
    routing: ReadRouting,
    probe_interval: Duration,
    /// Round-robin position.
    next: AtomicUsize,
}

pub(crate) struct Replica {
    label: String,
    pub(crate) database: Database,
    health: Health,
}

/// What the last probe found, readable without a lock on the request path.
struct Health {
    healthy: AtomicBool,
    /// Microseconds; `u64::MAX`: unknown.
    lag_us: AtomicU64,
    /// The replayed position; 0: unknown.
    replayed: AtomicU64,
    /// When the replica last had everything the primary had written (probe only).
    caught_up_at: Mutex<Option<Instant>>,
    /// Woken when the replica leaves the rotation, so that reads waiting on it (a server that
    /// stopped answering without closing its sockets) give up and run elsewhere.
    left: tokio::sync::Notify,
}

impl Health {
    fn new() -> Health {
        Health {
            healthy: AtomicBool::new(false),
            lag_us: AtomicU64::new(u64::MAX),
            replayed: AtomicU64::new(0),
            caught_up_at: Mutex::new(None),
            left: tokio::sync::Notify::new(),
        }
    }

    /// Out of rotation; wakes the reads waiting on the replica. Whether it was in before.
    fn take_down(&self) -> bool {
        let was_healthy = self.healthy.swap(false, Ordering::Relaxed);
        self.left.notify_waiters();
        was_healthy
    }

    fn lag(&self) -> Option<Duration> {
        match self.lag_us.load(Ordering::Relaxed) {
            u64::MAX => None,
            us => Some(Duration::from_micros(us)),
        }
    }
}

impl ReplicaSet {
    /// Prepares a pool per replica (connections open on first use; the probe says whether
    /// each answers).
    pub(crate) async fn connect(
        settings: &ReplicaSettings,
        pool: &PoolSettings,
    ) -> Result<ReplicaSet, DbError> {
        let mut replicas = Vec::with_capacity(settings.urls.len());
        for (i, url) in settings.urls.iter().enumerate() {
            if !matches!(url, DatabaseUrl::Postgres { .. }) {
                return Err(DbError::InvalidUrl(format!(
                    "replica {i} is not a PostgreSQL URL; replicas are PostgreSQL standbys"
                )));
            }
            let label = format!("replica-{i}");
            replicas.push(Replica {
                database: Database::connect(url, pool).await?.labelled(&label),
                label,
                health: Health::new(),
            });
        }
        Ok(ReplicaSet {
            replicas,
            routing: settings.routing,
            probe_interval: settings.probe_interval,
            next: AtomicUsize::new(0),
        })
    }

    /// Probes every replica once now, then every `probe_interval` on a task of the current
    /// runtime, until the set is dropped. `primary` is sampled for its WAL position.
    pub(crate) async fn start_probing(self: &Arc<Self>, primary: Database) {
        probe::probe_all(self, &primary).await;
        for status in self.statuses().iter().filter(|s| !s.healthy) {
            tracing::warn!(replica = %status.label, "replica not answering as a standby; reads go elsewhere until it does");
        }
        tokio::spawn(probe::run(
            Arc::downgrade(self),
            primary,
            self.probe_interval,
        ));
    }

    /// How routes map to servers.
    pub fn routing(&self) -> ReadRouting {
        self.routing
    }

    pub(crate) fn get(&self, index: usize) -> Option<&Replica> {
        self.replicas.get(index)
    }

    /// A replica for a read that accepts `max_lag` and must see `token` (when given), skipping
    /// those in `skip`; round robin among the eligible ones. `None`: the primary.
    pub(crate) fn choose(
        &self,
        max_lag: Duration,
        token: Option<Lsn>,
        skip: &[usize],
    ) -> Option<usize> {
        let n = self.replicas.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| !skip.contains(&i) && self.eligible(i, max_lag, token))
    }

    /// Whether replica `index` may serve a read accepting `max_lag` that must see `token`.
    pub(crate) fn eligible(&self, index: usize, max_lag: Duration, token: Option<Lsn>) -> bool {
        let Some(replica) = self.replicas.get(index) else {
            return false;
        };
        let health = &replica.health;
        health.healthy.load(Ordering::Relaxed)
            && health.lag().is_some_and(|lag| lag <= max_lag)
            && token.is_none_or(|t| Lsn(health.replayed.load(Ordering::Relaxed)) >= t)
    }

    /// Takes replica `index` out of rotation until its next successful probe: a read on it
    /// failed with a connection-class error.
    pub(crate) fn mark_down(&self, index: usize, error: &DbError) {
        if let Some(replica) = self.replicas.get(index) {
            if replica.health.take_down() {
                tracing::warn!(replica = %replica.label, %error, "a read failed on the replica; out of rotation until it answers a probe");
            }
        }
    }

    /// `work` on replica `index` (taking a connection, a statement), given up with
    /// [`DbError::Connect`] if the replica leaves the rotation meanwhile: its probe found it
    /// not answering, so the read had better run elsewhere than wait for TCP to time out.
    pub(crate) async fn unless_it_leaves<T>(
        &self,
        index: usize,
        work: impl std::future::Future<Output = Result<T, DbError>>,
    ) -> Result<T, DbError> {
        let Some(replica) = self.replicas.get(index) else {
            return work.await;
        };
        let left = replica.health.left.notified();
        tokio::pin!(left);
        // Registered before the check, so a departure in between still wakes it.
        left.as_mut().enable();
        if !replica.health.healthy.load(Ordering::Relaxed) {
            return Err(DbError::Connect(format!(
                "{} left the rotation",
                replica.label
            )));
        }
        tokio::select! {
            result = work => result,
            () = left => Err(DbError::Connect(format!(
                "{} left the rotation during the read",
                replica.label
            ))),
        }
    }

    /// Every replica's health and lag.
    pub fn statuses(&self) -> Vec<ReplicaStatus> {
        self.replicas
            .iter()
            .map(|r| {
                let replayed = r.health.replayed.load(Ordering::Relaxed);
                ReplicaStatus {
                    label: r.label.clone(),
                    healthy: r.health.healthy.load(Ordering::Relaxed),
                    lag: r.health.lag(),
                    replayed: (replayed != 0).then_some(Lsn(replayed)),
                }
            })
            .collect()
    }

    /// Each replica's pool by its metrics label.
    pub(crate) fn pools(&self) -> impl Iterator<Item = (&str, &Database)> {
        self.replicas
            .iter()
            .map(|r| (r.label.as_str(), &r.database))
    }
}

/// The lock of a probe-only field; a poisoned one still holds a usable instant.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A weak handle the probe task holds, so dropping the last [`Database`] ends it.
type WeakSet = Weak<ReplicaSet>;

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: usize) -> ReplicaSet {
        let replicas = (0..n)
            .map(|i| Replica {
                label: format!("replica-{i}"),
                database: Database::unconnected_for_tests(),
                health: Health::new(),
            })
            .collect();
        ReplicaSet {
            replicas,
            routing: ReadRouting::default(),
            probe_interval: DEFAULT_PROBE_INTERVAL,
            next: AtomicUsize::new(0),
        }
    }

    fn observe(set: &ReplicaSet, i: usize, healthy: bool, lag_ms: u64, replayed: u64) {
        let h = &set.replicas[i].health;
        h.healthy.store(healthy, Ordering::Relaxed);
        h.lag_us.store(lag_ms * 1000, Ordering::Relaxed);
        h.replayed.store(replayed, Ordering::Relaxed);
    }

    #[test]
    fn routes_resolve_with_the_read_setting() {
        let mut routing = ReadRouting::default();
        let bound = Some(DEFAULT_MAX_LAG);
        assert_eq!(routing.replica_bound(Route::Inherit), None);
        assert_eq!(routing.replica_bound(Route::Primary), None);
        assert_eq!(
            routing.replica_bound(Route::Replica { max_lag_ms: None }),
            bound
        );
        assert_eq!(
            routing.replica_bound(Route::Replica {
                max_lag_ms: Some(50)
            }),
            Some(Duration::from_millis(50))
        );
        routing.reads = Reads::Replica;
        assert_eq!(routing.replica_bound(Route::Inherit), bound);
        assert_eq!(routing.replica_bound(Route::Primary), None);
    }

    #[test]
    fn reads_rotate_over_the_eligible_replicas() {
        let set = set(3);
        let second = Duration::from_secs(1);
        assert_eq!(set.choose(second, None, &[]), None, "nothing probed yet");
        observe(&set, 0, true, 0, 100);
        observe(&set, 1, true, 10, 100);
        observe(&set, 2, false, 0, 100);
        let picks: Vec<_> = (0..4).map(|_| set.choose(second, None, &[])).collect();
        assert!(
            picks.contains(&Some(0)) && picks.contains(&Some(1)),
            "{picks:?}"
        );
        assert!(!picks.contains(&Some(2)), "an unhealthy replica is skipped");
        assert_eq!(set.choose(Duration::from_millis(5), None, &[]), Some(0));
        assert_eq!(set.choose(Duration::from_millis(5), None, &[0]), None);
        assert_eq!(
            set.choose(second, Some(Lsn(101)), &[]),
            None,
            "not replayed"
        );
        assert!(set.choose(second, Some(Lsn(100)), &[]).is_some());
    }

    #[test]
    fn a_failed_read_takes_a_replica_out_until_the_next_probe() {
        let set = set(1);
        observe(&set, 0, true, 0, 1);
        assert_eq!(set.choose(Duration::ZERO, None, &[]), Some(0));
        set.mark_down(0, &DbError::Connect("refused".into()));
        assert_eq!(set.choose(Duration::ZERO, None, &[]), None);
        assert!(!set.statuses()[0].healthy);
    }
}
