//! Automatic persisted queries (APQ): document texts by SHA-256, registered by clients.
//!
//! Kept in process (moka, bounded in bytes) and, with `REDIS_URL`, in Redis under
//! `<FRAISEQL_CACHE_REDIS_PREFIX>apq:<hash>`, so a hash registered on one instance is served by
//! every instance of the region. Redis is a help, never a requirement: each round trip has the
//! cache's timeout, and after a failure Redis is skipped for `FRAISEQL_CACHE_REDIS_RETRY_MS`, so
//! with Redis down APQ goes on in process (each instance learning the texts its clients send).
//! A text is only stored after it validated (see `graphql::GraphqlService::respond`), and it is
//! stored under its own hash, so a lookup can only ever return the text that hashes to the key.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Bytes of text the in-process tier may hold; least recently used texts go first.
const LOCAL_BYTES: u64 = 16 * 1024 * 1024;
/// How long Redis keeps a registered text after it was last registered; a client whose text
/// expired simply registers it again (one `PersistedQueryNotFound` round trip).
const REDIS_TTL_SECONDS: u64 = 24 * 3600;

/// The registered texts.
pub struct ApqStore {
    local: moka::sync::Cache<String, Arc<str>>,
    redis: Option<ApqRedis>,
}

impl ApqStore {
    /// A store in process, sharing through `redis` when given.
    pub fn new(redis: Option<ApqRedis>) -> ApqStore {
        ApqStore {
            local: moka::sync::Cache::builder()
                .max_capacity(LOCAL_BYTES)
                // Texts are at most the body limit (1 GiB), so this never saturates.
                .weigher(|hash: &String, text: &Arc<str>| {
                    u32::try_from(hash.len() + text.len()).unwrap_or(u32::MAX)
                })
                .build(),
            redis,
        }
    }

    /// The text registered under `hash` (lowercase hex): in process, else in Redis (then kept
    /// in process too).
    pub async fn get(&self, hash: &str) -> Option<Arc<str>> {
        if let Some(text) = self.local.get(hash) {
            return Some(text);
        }
        let text: Arc<str> = self.redis.as_ref()?.get(hash).await?.into();
        // Redis is shared, so check what came back rather than trust it: a text only ever
        // answers for its own hash.
        if super::sha256_hex(&text) != hash {
            tracing::warn!(%hash, "a persisted query in Redis does not match its hash; ignored");
            return None;
        }
        self.local.insert(hash.to_owned(), text.clone());
        Some(text)
    }

    /// Registers `text` under `hash` (which the caller checked is its SHA-256).
    pub async fn put(&self, hash: &str, text: &str) {
        self.local.insert(hash.to_owned(), Arc::from(text));
        if let Some(redis) = &self.redis {
            redis.set(hash, text).await;
        }
    }
}

/// The Redis tier: one lazily connected client, skipped for a while after each failure.
pub struct ApqRedis {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
    retry: Duration,
    /// While set and in the future, Redis is not tried.
    down_until: Mutex<Option<Instant>>,
}

impl ApqRedis {
    /// A client for `url` (nothing is sent until the first request needs it). Must run inside
    /// the tokio runtime that lives as long as the server.
    pub fn connect(
        url: &str,
        prefix: &str,
        timeout: Duration,
        retry: Duration,
    ) -> Result<ApqRedis, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(retry);
        Ok(ApqRedis {
            connection: ConnectionManager::new_lazy_with_config(client, config)?,
            prefix: format!("{prefix}apq:"),
            timeout,
            retry,
            down_until: Mutex::new(None),
        })
    }

    fn key(&self, hash: &str) -> String {
        format!("{}{hash}", self.prefix)
    }

    async fn get(&self, hash: &str) -> Option<String> {
        let mut connection = self.connection.clone();
        let mut get = redis::cmd("GET");
        get.arg(self.key(hash));
        self.call(get.query_async::<Option<String>>(&mut connection))
            .await
            .flatten()
    }

    async fn set(&self, hash: &str, text: &str) {
        let mut connection = self.connection.clone();
        let mut set = redis::cmd("SET");
        set.arg(self.key(hash))
            .arg(text)
            .arg("EX")
            .arg(REDIS_TTL_SECONDS);
        self.call(set.query_async::<()>(&mut connection)).await;
    }

    /// One round trip under the timeout; `None` when Redis is skipped or failed.
    async fn call<T>(
        &self,
        round_trip: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        if self.skipped() {
            return None;
        }
        let error = match tokio::time::timeout(self.timeout, round_trip).await {
            Ok(Ok(value)) => return Some(value),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {:?}", self.timeout),
        };
        tracing::warn!(
            %error,
            retry_in = ?self.retry,
            "Redis (persisted queries) failed; persisted queries are kept in process until it answers"
        );
        if let Ok(mut down) = self.down_until.lock() {
            *down = Some(Instant::now() + self.retry);
        }
        None
    }

    fn skipped(&self) -> bool {
        // A poisoned lock only means a panic elsewhere while holding it; the value is still
        // an instant, so read it anyway.
        let down = match self.down_until.lock() {
            Ok(down) => *down,
            Err(poisoned) => *poisoned.into_inner(),
        };
        down.is_some_and(|until| Instant::now() < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn texts_are_kept_in_process_without_redis() {
        let store = ApqStore::new(None);
        let hash = crate::persisted::sha256_hex("{ a }");
        assert!(store.get(&hash).await.is_none());
        store.put(&hash, "{ a }").await;
        assert_eq!(store.get(&hash).await.as_deref(), Some("{ a }"));
    }

    #[tokio::test]
    async fn a_dead_redis_is_skipped_after_one_failure() {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let redis = ApqRedis::connect(
            "redis://127.0.0.1:1",
            "t:",
            Duration::from_millis(200),
            Duration::from_secs(60),
        )
        .expect("client");
        let store = ApqStore::new(Some(redis));
        let hash = crate::persisted::sha256_hex("{ b }");
        store.put(&hash, "{ b }").await;
        assert!(store.redis.as_ref().is_some_and(ApqRedis::skipped));
        assert_eq!(store.get(&hash).await.as_deref(), Some("{ b }"));
    }
}
