//! The result cache's settings from the environment (`REDIS_URL`, `NATS_URL`,
//! `FRAISEQL_REGION`, `FRAISEQL_CACHE_*`). A value that cannot be used stops the server at start
//! (exit status 2) with a message naming the variable, the value and what is accepted, as
//! `config.rs` does for the other settings.

use std::time::Duration;

/// Default bytes the in-process tier (L1) may hold.
pub const DEFAULT_L1_BYTES: u64 = 64 * 1024 * 1024;
/// Default largest root-field part kept (bigger ones are served, never cached).
pub const DEFAULT_MAX_ENTRY_BYTES: u64 = 1024 * 1024;
/// Default Redis key prefix.
pub const DEFAULT_REDIS_PREFIX: &str = "fraiseql:";
/// Default NATS subject invalidations travel on.
pub const DEFAULT_NATS_SUBJECT: &str = "fraiseql.cache.invalidate";
/// Default region name.
pub const DEFAULT_REGION: &str = "default";

/// How the result cache runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheSettings {
    /// `FRAISEQL_CACHE`: `off` turns the result cache off (HTTP cache headers stay).
    pub enabled: bool,
    /// `FRAISEQL_CACHE_L1_BYTES`: bytes the in-process tier may hold (0: no L1).
    pub l1_bytes: u64,
    /// `FRAISEQL_CACHE_MAX_ENTRY_BYTES`: largest root-field part kept.
    pub max_entry_bytes: u64,
    /// `REDIS_URL`: the region's Redis (L2); none: L1 alone.
    pub redis_url: Option<String>,
    /// `FRAISEQL_CACHE_REDIS_PREFIX`: prefix of every key the cache writes in Redis.
    pub redis_prefix: String,
    /// `FRAISEQL_CACHE_REDIS_TIMEOUT_MS`: longest wait for one Redis round trip.
    pub redis_timeout: Duration,
    /// `FRAISEQL_CACHE_REDIS_RETRY_MS`: how often a Redis found down is tried again.
    pub redis_retry: Duration,
    /// `NATS_URL`: where invalidations are published and received; none: this instance's
    /// own writes only.
    pub nats_url: Option<String>,
    /// `FRAISEQL_CACHE_NATS_SUBJECT`: the subject invalidations travel on.
    pub nats_subject: String,
    /// `FRAISEQL_CACHE_NATS_DOWN_TTL_S`: the most an entry may be served for while
    /// invalidations may have been missed (NATS down, or entries older than its return).
    pub nats_down_ttl: Duration,
    /// `FRAISEQL_REGION`: this instance's region (each region has its own Redis).
    pub region: String,
    /// `FRAISEQL_CACHE_STALE_S`: how long past its ttl an entry may still be served while one
    /// request refreshes it (0: never).
    pub stale: Duration,
    /// `FRAISEQL_CACHE_TTL_JITTER_PCT`: entries live up to this share shorter than their ttl,
    /// so entries cached together do not expire together.
    pub jitter_pct: u8,
}

impl Default for CacheSettings {
    fn default() -> CacheSettings {
        CacheSettings {
            enabled: true,
            l1_bytes: DEFAULT_L1_BYTES,
            max_entry_bytes: DEFAULT_MAX_ENTRY_BYTES,
            redis_url: None,
            redis_prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            redis_timeout: Duration::from_millis(250),
            redis_retry: Duration::from_millis(1000),
            nats_url: None,
            nats_subject: DEFAULT_NATS_SUBJECT.to_owned(),
            nats_down_ttl: Duration::from_secs(5),
            region: DEFAULT_REGION.to_owned(),
            stale: Duration::from_secs(30),
            jitter_pct: 10,
        }
    }
}

/// A cache setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{variable}={value:?} is not {expected}")]
pub struct CacheConfigError {
    /// The variable.
    pub variable: &'static str,
    /// The value given.
    pub value: String,
    /// What would be accepted (and, for URLs, what was wrong).
    pub expected: String,
}

/// Reads the cache settings through `lookup`; an unset or blank variable takes its default.
pub fn cache_settings(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<CacheSettings, CacheConfigError> {
    let defaults = CacheSettings::default();
    let get = |variable: &str| lookup(variable).filter(|v| !v.trim().is_empty());
    let bad = |variable: &'static str, value: &str, expected: &str| CacheConfigError {
        variable,
        value: value.to_owned(),
        expected: expected.to_owned(),
    };
    let whole = |variable: &'static str, min: u64, max: u64, expected: &str| {
        let Some(value) = get(variable) else {
            return Ok(None);
        };
        match value.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(bad(variable, &value, expected)),
        }
    };

    let enabled = match get("FRAISEQL_CACHE") {
        None => defaults.enabled,
        Some(value) => match value.trim().to_ascii_lowercase().as_str() {
            "on" => true,
            "off" => false,
            _ => return Err(bad("FRAISEQL_CACHE", &value, "on or off")),
        },
    };
    let l1_bytes = whole(
        "FRAISEQL_CACHE_L1_BYTES",
        0,
        1 << 40,
        "a whole number of bytes up to 1099511627776 (0: no in-process tier)",
    )?
    .unwrap_or(defaults.l1_bytes);
    let max_entry_bytes = whole(
        "FRAISEQL_CACHE_MAX_ENTRY_BYTES",
        1,
        512 * 1024 * 1024,
        "a whole number of bytes from 1 to 536870912",
    )?
    .unwrap_or(defaults.max_entry_bytes);
    let redis_url = match get("REDIS_URL") {
        None => None,
        Some(value) => Some(redis_url(&value).map_err(|reason| {
            bad(
                "REDIS_URL",
                &value,
                &format!("a Redis URL such as redis://127.0.0.1:6379/0 ({reason})"),
            )
        })?),
    };
    let redis_prefix = match get("FRAISEQL_CACHE_REDIS_PREFIX") {
        None => defaults.redis_prefix,
        Some(value) if value.len() <= 64 && !value.chars().any(char::is_whitespace) => value,
        Some(value) => {
            return Err(bad(
                "FRAISEQL_CACHE_REDIS_PREFIX",
                &value,
                "a key prefix of at most 64 characters without spaces, e.g. fraiseql:",
            ))
        }
    };
    let redis_timeout = whole(
        "FRAISEQL_CACHE_REDIS_TIMEOUT_MS",
        1,
        60_000,
        "a whole number of milliseconds from 1 to 60000",
    )?
    .map_or(defaults.redis_timeout, Duration::from_millis);
    let redis_retry = whole(
        "FRAISEQL_CACHE_REDIS_RETRY_MS",
        10,
        600_000,
        "a whole number of milliseconds from 10 to 600000",
    )?
    .map_or(defaults.redis_retry, Duration::from_millis);
    let nats_url = match get("NATS_URL") {
        None => None,
        Some(value) => Some(nats_url(&value).map_err(|reason| {
            bad(
                "NATS_URL",
                &value,
                &format!("a NATS URL such as nats://127.0.0.1:4222 ({reason})"),
            )
        })?),
    };
    let nats_subject = match get("FRAISEQL_CACHE_NATS_SUBJECT") {
        None => defaults.nats_subject,
        Some(value) if is_subject(value.trim()) => value.trim().to_owned(),
        Some(value) => {
            return Err(bad(
                "FRAISEQL_CACHE_NATS_SUBJECT",
                &value,
                "a NATS subject without wildcards, e.g. fraiseql.cache.invalidate",
            ))
        }
    };
    let nats_down_ttl = whole(
        "FRAISEQL_CACHE_NATS_DOWN_TTL_S",
        0,
        86_400,
        "a whole number of seconds up to 86400",
    )?
    .map_or(defaults.nats_down_ttl, Duration::from_secs);
    let region = match get("FRAISEQL_REGION") {
        None => defaults.region,
        Some(value) if is_region(value.trim()) => value.trim().to_owned(),
        Some(value) => {
            return Err(bad(
                "FRAISEQL_REGION",
                &value,
                "a region name of 1 to 64 letters, digits, '-' or '_', e.g. eu-west-1",
            ))
        }
    };
    let stale = whole(
        "FRAISEQL_CACHE_STALE_S",
        0,
        86_400,
        "a whole number of seconds up to 86400 (0: never serve stale)",
    )?
    .map_or(defaults.stale, Duration::from_secs);
    let jitter_pct = whole(
        "FRAISEQL_CACHE_TTL_JITTER_PCT",
        0,
        50,
        "a whole percentage from 0 to 50",
    )?
    // Bounded by 50 above.
    .map_or(defaults.jitter_pct, |n| u8::try_from(n).unwrap_or(50));
    Ok(CacheSettings {
        enabled,
        l1_bytes,
        max_entry_bytes,
        redis_url,
        redis_prefix,
        redis_timeout,
        redis_retry,
        nats_url,
        nats_subject,
        nats_down_ttl,
        region,
        stale,
        jitter_pct,
    })
}

/// A Redis URL the client accepts (`redis://`, or `unix://` / `redis+unix://`); TLS is not
/// built in.
fn redis_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    let scheme = value.split_once("://").map(|(s, _)| s).unwrap_or("");
    match scheme {
        "redis" | "unix" | "redis+unix" => {}
        "rediss" => return Err("TLS (rediss://) is not supported".into()),
        _ => return Err("the scheme must be redis://".into()),
    }
    redis::Client::open(value).map_err(|e| e.to_string())?;
    Ok(value.to_owned())
}

/// One NATS server URL or several, comma-separated (`nats://host:port` or `host:port`).
fn nats_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    for server in value.split(',') {
        server
            .trim()
            .parse::<async_nats::ServerAddr>()
            .map_err(|e| e.to_string())?;
    }
    Ok(value.to_owned())
}

fn is_subject(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 200
        && value.split('.').all(|token| {
            !token.is_empty()
                && token
                    .chars()
                    .all(|c| c.is_ascii_graphic() && c != '*' && c != '>')
        })
}

fn is_region(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<CacheSettings, CacheConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        cache_settings(&|k: &str| map.get(k).cloned())
    }

    fn error(vars: &[(&str, &str)]) -> String {
        settings(vars).unwrap_err().to_string()
    }

    #[test]
    fn defaults() {
        assert_eq!(settings(&[]).unwrap(), CacheSettings::default());
        assert_eq!(
            settings(&[("REDIS_URL", " "), ("NATS_URL", "")]).unwrap(),
            CacheSettings::default()
        );
    }

    #[test]
    fn switch_is_read() {
        assert!(!settings(&[("FRAISEQL_CACHE", "OFF")]).unwrap().enabled);
        assert!(settings(&[("FRAISEQL_CACHE", "on")]).unwrap().enabled);
        assert_eq!(
            error(&[("FRAISEQL_CACHE", "no")]),
            "FRAISEQL_CACHE=\"no\" is not on or off"
        );
    }

    #[test]
    fn l1_bytes_is_read() {
        let s = settings(&[("FRAISEQL_CACHE_L1_BYTES", "1048576")]).unwrap();
        assert_eq!(s.l1_bytes, 1_048_576);
        assert_eq!(
            settings(&[("FRAISEQL_CACHE_L1_BYTES", "0")])
                .unwrap()
                .l1_bytes,
            0
        );
        assert!(error(&[("FRAISEQL_CACHE_L1_BYTES", "64M")])
            .starts_with("FRAISEQL_CACHE_L1_BYTES=\"64M\" is not a whole number of bytes"));
    }

    #[test]
    fn max_entry_bytes_is_read() {
        let s = settings(&[("FRAISEQL_CACHE_MAX_ENTRY_BYTES", "4096")]).unwrap();
        assert_eq!(s.max_entry_bytes, 4096);
        assert!(error(&[("FRAISEQL_CACHE_MAX_ENTRY_BYTES", "0")])
            .starts_with("FRAISEQL_CACHE_MAX_ENTRY_BYTES=\"0\" is not a whole number"));
    }

    #[test]
    fn redis_url_is_read() {
        let s = settings(&[("REDIS_URL", "redis://127.0.0.1:6379/3")]).unwrap();
        assert_eq!(s.redis_url.as_deref(), Some("redis://127.0.0.1:6379/3"));
        let e = error(&[("REDIS_URL", "http://127.0.0.1:6379")]);
        assert!(
            e.starts_with("REDIS_URL=\"http://127.0.0.1:6379\" is not a Redis URL such as"),
            "{e}"
        );
        assert!(error(&[("REDIS_URL", "rediss://h:6380")]).contains("TLS"));
    }

    #[test]
    fn redis_prefix_is_read() {
        let s = settings(&[("FRAISEQL_CACHE_REDIS_PREFIX", "eu:")]).unwrap();
        assert_eq!(s.redis_prefix, "eu:");
        assert!(error(&[("FRAISEQL_CACHE_REDIS_PREFIX", "a b")])
            .starts_with("FRAISEQL_CACHE_REDIS_PREFIX=\"a b\" is not a key prefix"));
    }

    #[test]
    fn redis_timeout_is_read() {
        let s = settings(&[("FRAISEQL_CACHE_REDIS_TIMEOUT_MS", "50")]).unwrap();
        assert_eq!(s.redis_timeout, Duration::from_millis(50));
        assert!(error(&[("FRAISEQL_CACHE_REDIS_TIMEOUT_MS", "0")])
            .starts_with("FRAISEQL_CACHE_REDIS_TIMEOUT_MS=\"0\" is not a whole number"));
    }

    #[test]
    fn redis_retry_is_read() {
        let s = settings(&[("FRAISEQL_CACHE_REDIS_RETRY_MS", "200")]).unwrap();
        assert_eq!(s.redis_retry, Duration::from_millis(200));
        assert!(error(&[("FRAISEQL_CACHE_REDIS_RETRY_MS", "5")])
            .starts_with("FRAISEQL_CACHE_REDIS_RETRY_MS=\"5\" is not a whole number"));
    }

    #[test]
    fn nats_url_is_read() {
        let s = settings(&[("NATS_URL", "nats://127.0.0.1:4222")]).unwrap();
        assert_eq!(s.nats_url.as_deref(), Some("nats://127.0.0.1:4222"));
        let e = error(&[("NATS_URL", "http://x:4222")]);
        assert!(
            e.starts_with("NATS_URL=\"http://x:4222\" is not a NATS URL"),
            "{e}"
        );
    }

    #[test]
    fn nats_subject_is_read() {
        let s = settings(&[("FRAISEQL_CACHE_NATS_SUBJECT", "app.cache")]).unwrap();
        assert_eq!(s.nats_subject, "app.cache");
        assert!(error(&[("FRAISEQL_CACHE_NATS_SUBJECT", "app.*")])
            .starts_with("FRAISEQL_CACHE_NATS_SUBJECT=\"app.*\" is not a NATS subject"));
    }

    #[test]
    fn nats_down_ttl_is_read() {
        let s = settings(&[("FRAISEQL_CACHE_NATS_DOWN_TTL_S", "2")]).unwrap();
        assert_eq!(s.nats_down_ttl, Duration::from_secs(2));
        assert!(error(&[("FRAISEQL_CACHE_NATS_DOWN_TTL_S", "-1")])
            .starts_with("FRAISEQL_CACHE_NATS_DOWN_TTL_S=\"-1\" is not a whole number"));
    }

    #[test]
    fn region_is_read() {
        assert_eq!(
            settings(&[("FRAISEQL_REGION", "eu-west-1")])
                .unwrap()
                .region,
            "eu-west-1"
        );
        assert!(error(&[("FRAISEQL_REGION", "eu west")])
            .starts_with("FRAISEQL_REGION=\"eu west\" is not a region name"));
    }

    #[test]
    fn stale_is_read() {
        let s = settings(&[("FRAISEQL_CACHE_STALE_S", "0")]).unwrap();
        assert_eq!(s.stale, Duration::ZERO);
        assert!(error(&[("FRAISEQL_CACHE_STALE_S", "1h")])
            .starts_with("FRAISEQL_CACHE_STALE_S=\"1h\" is not a whole number"));
    }

    #[test]
    fn jitter_is_read() {
        assert_eq!(
            settings(&[("FRAISEQL_CACHE_TTL_JITTER_PCT", "0")])
                .unwrap()
                .jitter_pct,
            0
        );
        assert_eq!(
            error(&[("FRAISEQL_CACHE_TTL_JITTER_PCT", "80")]),
            "FRAISEQL_CACHE_TTL_JITTER_PCT=\"80\" is not a whole percentage from 0 to 50"
        );
    }
}
