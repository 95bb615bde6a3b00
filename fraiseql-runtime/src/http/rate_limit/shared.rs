//! The budget shared by every instance through Redis (the cache's `REDIS_URL`): the same GCRA as
//! `gcra.rs`, run atomically in a Lua script with Redis's own clock, so instances agree without
//! agreeing on time. Each client is one key (`<prefix>rate:<client>`) that expires once its
//! budget is whole again.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::gcra::{ClientKey, Gcra};

/// Returns 0 to admit (having moved the TAT on), else the microseconds to wait.
const SCRIPT: &str = r#"
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next = tat + interval
local admit_at = next - tolerance
if admit_at > now then return admit_at - now end
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.ceil((next - now) / 1000) + 1)
return 0
"#;

/// The Redis side of the limiter.
pub(crate) struct Shared {
    connection: ConnectionManager,
    script: redis::Script,
    prefix: String,
    gcra: Gcra,
    timeout: Duration,
}

impl Shared {
    /// A limiter on `url`; connects on first use (a Redis down at start is a fallback, not a
    /// failure to start). Must be called within a tokio runtime that outlives the server.
    pub fn new(
        url: &str,
        prefix: &str,
        gcra: Gcra,
        timeout: Duration,
    ) -> redis::RedisResult<Shared> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(0);
        Ok(Shared {
            connection: ConnectionManager::new_lazy_with_config(client, config)?,
            script: redis::Script::new(SCRIPT),
            prefix: format!("{prefix}rate:"),
            gcra,
            timeout,
        })
    }

    /// `Ok(Ok(()))` to admit, `Ok(Err(µs to wait))` to refuse, `Err` when Redis did not answer.
    pub async fn check(&self, client: &ClientKey) -> Result<Result<(), u64>, SharedError> {
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(format!("{}{}", self.prefix, hex::encode(client)))
            .arg(self.gcra.interval)
            .arg(self.gcra.tolerance);
        let mut connection = self.connection.clone();
        let wait: u64 =
            tokio::time::timeout(self.timeout, invocation.invoke_async(&mut connection))
                .await
                .map_err(|_| SharedError::Timeout(self.timeout))??;
        Ok(if wait == 0 { Ok(()) } else { Err(wait) })
    }
}

/// Redis did not decide.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SharedError {
    /// It answered with an error, or could not be reached.
    #[error("Redis failed: {0}")]
    Redis(#[from] redis::RedisError),
    /// It did not answer in time.
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
}
