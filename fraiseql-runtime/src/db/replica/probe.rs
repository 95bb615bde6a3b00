//! The health probe: every `FRAISEQL_REPLICA_PROBE_MS`, the primary's WAL position, then each
//! replica's (concurrently, each within [`PROBE_TIMEOUT`]).
//!
//! Lag, as routing compares it with `@replica(maxLag:)`: how old the newest data a replica may
//! be missing is, bounded from above so it never flatters a replica.
//! - 0 when the replica has replayed at least the position the primary had written when this
//!   probe began (so an idle primary never makes its replicas look lagged, however long ago
//!   its last write was);
//! - otherwise the smaller of two upper bounds: the time since the replica was last seen caught
//!   up that way, and the age of the last transaction it replayed
//!   (`now() - pg_last_xact_replay_timestamp()` on the replica, exact while writes keep coming).
//!
//! Measured at the probe: between probes, a replica may fall further behind by up to one
//! interval before routing notices.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use super::{lock, Database, DbError, Lsn, Replica, ReplicaSet, WeakSet};

/// How long one probe of one server may take before it counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The primary's written WAL position. (The write position, not the insert position: both
/// it and a replica's replay position end at a record's end, so a caught-up replica equals it.)
const PRIMARY_SQL: &str = "SELECT pg_current_wal_lsn()::text AS value";

/// Whether the server is a standby, what it replayed, and how old (ms) the last transaction it
/// replayed is; NULLs read as empty text.
const REPLICA_SQL: &str = "SELECT concat_ws(' ', pg_is_in_recovery()::text, \
     coalesce(pg_last_wal_replay_lsn()::text, '-'), \
     coalesce(floor(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint::text, '-')) AS value";

/// Probes until the set is dropped.
pub(super) async fn run(set: WeakSet, primary: Database, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick completes at once; the caller has just probed.
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(set) = set.upgrade() else {
            return;
        };
        probe_all(&set, &primary).await;
    }
}

/// One round: the primary's position, then every replica.
pub(super) async fn probe_all(set: &ReplicaSet, primary: &Database) {
    let began = Instant::now();
    let primary_lsn = match tokio::time::timeout(PROBE_TIMEOUT, value(primary, PRIMARY_SQL)).await {
        Ok(Ok(text)) => Lsn::parse(&text).ok(),
        Ok(Err(error)) => {
            tracing::debug!(%error, "replica probe: no WAL position from the primary");
            None
        }
        Err(_) => None,
    };
    join_all(
        set.replicas
            .iter()
            .map(|replica| probe_one(replica, primary_lsn, began)),
    )
    .await;
}

async fn probe_one(replica: &Replica, primary: Option<Lsn>, began: Instant) {
    let answer = tokio::time::timeout(PROBE_TIMEOUT, value(&replica.database, REPLICA_SQL)).await;
    let observed = match answer {
        Ok(Ok(text)) => Observation::parse(&text),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {PROBE_TIMEOUT:?}")),
    };
    let health = &replica.health;
    let observation = match observed {
        Ok(o) if o.in_recovery => o,
        Ok(_) => {
            down(replica, "the server is not a standby (promoted?)");
            return;
        }
        Err(reason) => {
            down(replica, &reason);
            return;
        }
    };
    let lag = {
        let mut caught_up_at = lock(&health.caught_up_at);
        let caught_up = matches!((primary, observation.replayed), (Some(p), Some(r)) if r >= p);
        if caught_up {
            *caught_up_at = Some(began);
        }
        lag(
            caught_up,
            observation.replay_age,
            caught_up_at.map(|at| at.elapsed()),
        )
    };
    health.lag_us.store(
        lag.map_or(u64::MAX, |l| {
            u64::try_from(l.as_micros()).unwrap_or(u64::MAX - 1)
        }),
        Ordering::Relaxed,
    );
    health
        .replayed
        .store(observation.replayed.map_or(0, |l| l.0), Ordering::Relaxed);
    if !health.healthy.swap(true, Ordering::Relaxed) {
        tracing::info!(replica = %replica.label, lag_ms = lag.map(|l| l.as_millis() as u64), "replica answers its probe as a standby; in rotation");
    }
}

fn down(replica: &Replica, reason: &str) {
    if replica.health.take_down() {
        tracing::warn!(replica = %replica.label, reason, "replica failed its probe; out of rotation");
    } else {
        tracing::debug!(replica = %replica.label, reason, "replica still failing its probe");
    }
}

/// The lag as the module docs define it; `None` when nothing bounds it.
fn lag(
    caught_up: bool,
    replay_age: Option<Duration>,
    since_caught_up: Option<Duration>,
) -> Option<Duration> {
    if caught_up {
        return Some(Duration::ZERO);
    }
    [replay_age, since_caught_up].into_iter().flatten().min()
}

/// What a replica said.
#[derive(Debug, PartialEq, Eq)]
struct Observation {
    in_recovery: bool,
    replayed: Option<Lsn>,
    replay_age: Option<Duration>,
}

impl Observation {
    /// Reads `REPLICA_SQL`'s answer, e.g. `true 0/3000148 1520`.
    fn parse(text: &str) -> Result<Observation, String> {
        let mut parts = text.split_whitespace();
        let bad = || format!("unexpected probe answer {text:?}");
        let in_recovery = match parts.next() {
            Some("true") => true,
            Some("false") => false,
            _ => return Err(bad()),
        };
        let replayed = match parts.next() {
            Some("-") | None => None,
            Some(lsn) => Some(Lsn::parse(lsn).map_err(|_| bad())?),
        };
        let replay_age = match parts.next() {
            Some("-") | None => None,
            // A negative age is clock skew between the two servers: count it as none.
            Some(ms) => Some(Duration::from_millis(
                ms.parse::<i64>().map_err(|_| bad())?.max(0).unsigned_abs(),
            )),
        };
        Ok(Observation {
            in_recovery,
            replayed,
            replay_age,
        })
    }
}

/// The one text value `sql` returns, on a session of `database`. A connection found broken
/// (the server restarted since the last probe) closes the idle ones and is tried once more.
async fn value(database: &Database, sql: &str) -> Result<String, DbError> {
    match value_once(database, sql).await {
        Err(error) if error.is_connection_lost() => {
            database.close_idle();
            value_once(database, sql).await
        }
        other => other,
    }
}

async fn value_once(database: &Database, sql: &str) -> Result<String, DbError> {
    let mut session = database.session_within(PROBE_TIMEOUT).await?;
    let values = session.text_values(sql, &[]).await?;
    values
        .into_iter()
        .next()
        .ok_or_else(|| DbError::Other("the probe returned no row".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_answers_parse() {
        assert_eq!(
            Observation::parse("true 0/3000148 1520"),
            Ok(Observation {
                in_recovery: true,
                replayed: Some(Lsn(0x300_0148)),
                replay_age: Some(Duration::from_millis(1520)),
            })
        );
        assert_eq!(
            Observation::parse("false - -"),
            Ok(Observation {
                in_recovery: false,
                replayed: None,
                replay_age: None,
            })
        );
        assert_eq!(
            Observation::parse("true 0/1 -20").unwrap().replay_age,
            Some(Duration::ZERO)
        );
        assert!(Observation::parse("yes 0/1 1").is_err());
        assert!(Observation::parse("").is_err());
    }

    #[test]
    fn a_caught_up_replica_has_no_lag_however_old_its_last_replay() {
        let hour = Duration::from_secs(3600);
        assert_eq!(lag(true, Some(hour), Some(hour)), Some(Duration::ZERO));
    }

    #[test]
    fn a_replica_behind_takes_the_tighter_bound() {
        let ms = Duration::from_millis;
        // Idle for an hour, then one write not yet replayed at the probe: the time since it was
        // last caught up bounds the lag, not the age of its last replayed transaction.
        assert_eq!(
            lag(false, Some(ms(3_600_000)), Some(ms(1000))),
            Some(ms(1000))
        );
        // Writes keep coming and the replica replays them a little late.
        assert_eq!(lag(false, Some(ms(30)), Some(ms(90_000))), Some(ms(30)));
        assert_eq!(lag(false, None, Some(ms(5))), Some(ms(5)));
        assert_eq!(lag(false, None, None), None);
    }
}
