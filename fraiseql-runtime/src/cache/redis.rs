//! L2: the region's Redis, shared by the region's instances.
//!
//! Keys (all under `FRAISEQL_CACHE_REDIS_PREFIX`, default `fraiseql:`): `e:<hex key>` holds an
//! entry (expiring when it may no longer be served), `v:<tag>` a tag's version (`v:all`,
//! `v:t:<table>`, `v:k:<table>`, `v:r:<bucket>`; a bounded set, never expiring). A lookup
//! reads an entry and its tags' versions in one round trip; a store checks in one script that
//! the versions are still the ones read before the SQL ran, so a read that raced a write never
//! stores its result.
//!
//! Redis is never on the critical path for long: every round trip has a timeout, and after
//! [`FAILURES_TO_OPEN`] failures in a row the circuit opens and requests skip L2 altogether.
//! A background task then pings every `FRAISEQL_CACHE_REDIS_RETRY_MS`; when Redis answers, it
//! first applies the invalidations that could not be sent meanwhile (or, when too many were
//! missed, bumps `v:all`), and only then lets requests use L2 again.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus::IntCounter;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, Value};

use super::entry::Entry;
use super::key::Key;

/// Consecutive failures that open the circuit.
pub(crate) const FAILURES_TO_OPEN: u32 = 3;
/// Most invalidations remembered while Redis is unreachable; past it, everything is
/// invalidated on recovery.
const MAX_PENDING: usize = 10_000;
/// How often the bytes and evictions Redis reports are read.
const INFO_EVERY: Duration = Duration::from_secs(2);

/// Stores `ARGV[1]` at `KEYS[1]` for `ARGV[2]` ms, only if each version key `KEYS[i]` (i ≥ 2)
/// still holds `ARGV[i + 1]` (a missing key is version 0).
const STORE_SCRIPT: &str = r"
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i]) or '0'
  if v ~= ARGV[i + 1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// Why L2 did not answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum L2Error {
    /// The circuit is open: Redis was failing; requests do not wait for it.
    #[error("Redis is skipped while it is failing")]
    Open,
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// One looked-up key: its entry (if any) and its tags' current versions.
pub(crate) struct Fetched {
    pub entry: Option<Entry>,
    pub versions: Vec<u64>,
}

/// The region's Redis.
pub(crate) struct L2 {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
    retry: Duration,
    failures: AtomicU32,
    open: AtomicBool,
    pending: Mutex<Pending>,
    store: redis::Script,
    used_memory: AtomicU64,
    evicted_seen: AtomicU64,
    errors: IntCounter,
    evictions: IntCounter,
}

#[derive(Default)]
struct Pending {
    tags: BTreeSet<String>,
    overflow: bool,
}

impl L2 {
    /// Connects lazily (the first command connects) and starts the background task that
    /// probes a failing Redis and reads its memory figures. Must run inside a tokio runtime
    /// that lives as long as the server (the connection's task runs there).
    pub fn start(
        url: &str,
        prefix: &str,
        timeout: Duration,
        retry: Duration,
        errors: IntCounter,
        evictions: IntCounter,
    ) -> Result<Arc<L2>, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(retry);
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        let l2 = Arc::new(L2 {
            connection,
            prefix: prefix.to_owned(),
            timeout,
            retry,
            failures: AtomicU32::new(0),
            // Closed by the first successful probe, so no request waits on a Redis that was
            // never reached.
            open: AtomicBool::new(true),
            pending: Mutex::new(Pending::default()),
            store: redis::Script::new(STORE_SCRIPT),
            used_memory: AtomicU64::new(0),
            evicted_seen: AtomicU64::new(0),
            errors,
            evictions,
        });
        tokio::spawn(maintain(Arc::downgrade(&l2)));
        Ok(l2)
    }

    /// Whether requests use L2 now.
    pub fn healthy(&self) -> bool {
        !self.open.load(Ordering::Acquire)
    }

    /// Bytes Redis reports in use (`used_memory`), as last read.
    pub fn bytes(&self) -> u64 {
        self.used_memory.load(Ordering::Relaxed)
    }

    fn entry_key(&self, key: &Key) -> String {
        let mut out = String::with_capacity(self.prefix.len() + 66);
        out.push_str(&self.prefix);
        out.push_str("e:");
        out.push_str(&hex::encode(key));
        out
    }

    fn version_key(&self, tag: &str) -> String {
        format!("{}v:{tag}", self.prefix)
    }

    /// Runs one round trip under the timeout and the circuit breaker.
    async fn call<T>(
        &self,
        round_trip: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, L2Error> {
        if !self.healthy() {
            return Err(L2Error::Open);
        }
        let result = match tokio::time::timeout(self.timeout, round_trip).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(L2Error::Redis(e)),
            Err(_) => Err(L2Error::Timeout(self.timeout)),
        };
        match &result {
            Ok(_) => self.failures.store(0, Ordering::Release),
            Err(e) => self.failed(e),
        }
        result
    }

    fn failed(&self, error: &L2Error) {
        self.errors.inc();
        let failures = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if failures >= FAILURES_TO_OPEN && !self.open.swap(true, Ordering::AcqRel) {
            tracing::warn!(%error, "Redis (L2 cache) is failing; requests skip it until it answers again");
        } else {
            tracing::debug!(%error, "Redis (L2 cache) call failed");
        }
    }

    /// Looks up `items` (key, tag names) in one round trip.
    pub async fn fetch(&self, items: &[(Key, Vec<String>)]) -> Result<Vec<Fetched>, L2Error> {
        let mut pipe = redis::pipe();
        for (key, tags) in items {
            pipe.get(self.entry_key(key));
            let versions: Vec<String> = tags.iter().map(|t| self.version_key(t)).collect();
            pipe.mget(versions);
        }
        let mut connection = self.connection.clone();
        let values: Vec<Value> = self.call(pipe.query_async(&mut connection)).await?;
        let mut values = values.into_iter();
        let mut out = Vec::with_capacity(items.len());
        for (_, tags) in items {
            let entry = values
                .next()
                .and_then(|v| Option::<Vec<u8>>::from_redis_value(v).ok())
                .flatten()
                .and_then(|bytes| Entry::decode(&bytes));
            let versions = values
                .next()
                .and_then(|v| Vec::<Option<u64>>::from_redis_value(v).ok())
                .map(|vs| vs.into_iter().map(|v| v.unwrap_or(0)).collect())
                .filter(|vs: &Vec<u64>| vs.len() == tags.len());
            // A reply of the wrong shape reads as a miss under versions no entry can match.
            let versions = versions.unwrap_or_else(|| vec![u64::MAX; tags.len()]);
            out.push(Fetched { entry, versions });
        }
        Ok(out)
    }

    /// Stores `entry` (whose versions are the L2 versions read before its SQL ran) unless a
    /// tag changed since. Returns whether it was stored.
    pub async fn store(&self, key: &Key, tags: &[String], entry: &Entry) -> Result<bool, L2Error> {
        let mut invocation = self.store.prepare_invoke();
        invocation.key(self.entry_key(key));
        for tag in tags {
            invocation.key(self.version_key(tag));
        }
        invocation
            .arg(entry.encode())
            .arg(entry.keep_ms(super::entry::now_ms()));
        for version in &entry.versions {
            invocation.arg(version.to_string());
        }
        let mut connection = self.connection.clone();
        let stored: i64 = self.call(invocation.invoke_async(&mut connection)).await?;
        Ok(stored == 1)
    }

    /// Bumps the versions of `tags`. When Redis cannot be reached they are kept and applied
    /// before L2 is used again, and the circuit opens at once: entries these tags cover must
    /// not be read from L2 meanwhile.
    pub async fn invalidate(&self, tags: &[String]) -> Result<(), L2Error> {
        let result = self.bump(tags).await;
        if result.is_err() {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.tags.extend(tags.iter().cloned());
            if pending.tags.len() > MAX_PENDING {
                pending.tags.clear();
                pending.overflow = true;
            }
            // Under the lock, so a probe cannot close the circuit between the two.
            if !self.open.swap(true, Ordering::AcqRel) {
                tracing::warn!(
                    "an invalidation did not reach Redis; requests skip L2 until it is applied"
                );
            }
        }
        result
    }

    async fn bump(&self, tags: &[String]) -> Result<(), L2Error> {
        let mut pipe = redis::pipe();
        for tag in tags {
            pipe.incr(self.version_key(tag), 1).ignore();
        }
        let mut connection = self.connection.clone();
        self.call(pipe.query_async::<()>(&mut connection)).await
    }

    /// One probe while the circuit is open: ping, apply the invalidations missed meanwhile,
    /// then close the circuit.
    async fn probe(&self) {
        let mut connection = self.connection.clone();
        let ping = tokio::time::timeout(
            self.timeout,
            redis::cmd("PING").query_async::<()>(&mut connection),
        )
        .await;
        if !matches!(ping, Ok(Ok(()))) {
            return;
        }
        let (tags, overflow) = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            (
                std::mem::take(&mut pending.tags),
                std::mem::take(&mut pending.overflow),
            )
        };
        let mut missed: Vec<String> = tags.into_iter().collect();
        if overflow {
            missed = vec!["all".to_owned()];
        }
        if !missed.is_empty() {
            let mut pipe = redis::pipe();
            for tag in &missed {
                pipe.incr(self.version_key(tag), 1).ignore();
            }
            let applied =
                tokio::time::timeout(self.timeout, pipe.query_async::<()>(&mut connection)).await;
            if !matches!(applied, Ok(Ok(()))) {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                pending.tags.extend(missed);
                return;
            }
            tracing::info!(
                count = missed.len(),
                "applied invalidations missed while Redis was unreachable"
            );
        }
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if !pending.tags.is_empty() || pending.overflow {
            // More were missed meanwhile: the next probe applies them first.
            return;
        }
        self.failures.store(0, Ordering::Release);
        if self.open.swap(false, Ordering::AcqRel) {
            tracing::info!("Redis (L2 cache) answers; requests use it again");
        }
        drop(pending);
    }

    /// Reads `used_memory` and `evicted_keys`.
    async fn read_info(&self) {
        let mut connection = self.connection.clone();
        let mut pipe = redis::pipe();
        pipe.cmd("INFO").arg("memory").cmd("INFO").arg("stats");
        let Ok(Ok((memory, stats))) = tokio::time::timeout(
            self.timeout,
            pipe.query_async::<(String, String)>(&mut connection),
        )
        .await
        else {
            return;
        };
        if let Some(bytes) = info_field(&memory, "used_memory") {
            self.used_memory.store(bytes, Ordering::Relaxed);
        }
        if let Some(evicted) = info_field(&stats, "evicted_keys") {
            let seen = self.evicted_seen.swap(evicted, Ordering::AcqRel);
            // A restarted Redis counts from 0 again.
            if evicted > seen {
                self.evictions.inc_by(evicted - seen);
            }
        }
    }
}

fn info_field(info: &str, name: &str) -> Option<u64> {
    info.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

/// Probes a failing Redis and reads its figures, until the cache is dropped.
async fn maintain(l2: std::sync::Weak<L2>) {
    let mut since_info = INFO_EVERY;
    loop {
        let Some(l2) = l2.upgrade() else {
            return;
        };
        let retry = l2.retry;
        if !l2.healthy() {
            l2.probe().await;
        }
        if l2.healthy() && since_info >= INFO_EVERY {
            l2.read_info().await;
            since_info = Duration::ZERO;
        }
        drop(l2);
        let pause = retry.min(INFO_EVERY);
        tokio::time::sleep(pause).await;
        since_info += pause;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_are_read() {
        let info = "# Memory\r\nused_memory:1024\r\nused_memory_human:1K\r\n";
        assert_eq!(info_field(info, "used_memory"), Some(1024));
        assert_eq!(info_field(info, "evicted_keys"), None);
    }
}
