//! Configuration from the environment. Invalid configuration is refused at start with a message
//! that names the variable, the value and what would be accepted.

use std::net::SocketAddr;
use std::time::Duration;

use crate::db::{DatabaseUrl, PoolSettings};

/// Default database: the embedded SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://fraiseql.db";
/// Default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default log filter.
pub const DEFAULT_LOG: &str = "info";

/// The server's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL` (or its alias `DATABASE_URL_PRIMARY`, which wins when both are set).
    pub database_url: DatabaseUrl,
    /// `FRAISEQL_BIND`.
    pub bind: SocketAddr,
    /// Pool settings.
    pub pool: PoolSettings,
    /// The result cache (`REDIS_URL`, `NATS_URL`, `FRAISEQL_REGION`, `FRAISEQL_CACHE_*`).
    pub cache: crate::cache::CacheSettings,
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `DATABASE_URL` is not a URL we understand.
    #[error("{variable}={value:?} is not a database URL this server understands ({reason}); use sqlite://path/to/file.db or postgres://user@host:5432/dbname")]
    DatabaseUrl {
        /// Which variable held it.
        variable: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `FRAISEQL_BIND` is not a socket address.
    #[error("FRAISEQL_BIND={0:?} is not an address like 127.0.0.1:8080")]
    Bind(String),
    /// A pool or statement setting (`FRAISEQL_POOL_*`, `FRAISEQL_STATEMENT_*`, …) is not a
    /// value it can take.
    #[error("{variable}={value:?} is not {expected}")]
    Setting {
        /// The variable.
        variable: &'static str,
        /// The value given.
        value: String,
        /// What would be accepted.
        expected: &'static str,
    },
    /// `FRAISEQL_POOL_MIN` is above `FRAISEQL_POOL_MAX`.
    #[error("FRAISEQL_POOL_MIN={min} is more than FRAISEQL_POOL_MAX={max}; a pool cannot keep more connections open than it may have")]
    PoolMinAboveMax {
        /// `FRAISEQL_POOL_MIN`.
        min: usize,
        /// `FRAISEQL_POOL_MAX`.
        max: usize,
    },
    /// A result cache setting is not a value it can take.
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheConfigError),
    /// `RUST_LOG` is not a tracing filter.
    #[error("RUST_LOG={value:?} is not a log filter ({reason}); use a level such as info, or directives such as warn,fraiseql_runtime=debug")]
    LogFilter {
        /// The value given.
        value: String,
        /// What the filter parser said.
        reason: String,
    },
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let database_url = database_url(&lookup)?;
        let bind_text = lookup("FRAISEQL_BIND").unwrap_or_else(|| DEFAULT_BIND.to_string());
        let bind = bind_text
            .trim()
            .parse()
            .map_err(|_| ConfigError::Bind(bind_text.clone()))?;
        Ok(Config {
            database_url,
            bind,
            pool: pool_settings(&lookup)?,
            cache: crate::cache::cache_settings(&lookup)?,
        })
    }
}

/// Most connections a pool may be configured with (r2d2 counts in `u32`; far beyond what a
/// database server accepts anyway).
const MAX_CONNECTIONS: u64 = 10_000;
/// Longest acquire timeout: an hour (a request waiting longer has long been abandoned).
const MAX_ACQUIRE_MS: u64 = 3_600_000;
/// Longest idle timeout or lifetime: 30 days.
const MAX_POOL_SECONDS: u64 = 30 * 24 * 3600;
/// PostgreSQL's own limit for its millisecond timeouts (an `int`).
const MAX_PG_TIMEOUT_MS: u64 = i32::MAX as u64;

/// The pool and connection settings (every command that connects reads them):
/// `FRAISEQL_POOL_MIN`, `FRAISEQL_POOL_MAX`, `FRAISEQL_POOL_ACQUIRE_TIMEOUT_MS`,
/// `FRAISEQL_POOL_IDLE_TIMEOUT_S`, `FRAISEQL_POOL_MAX_LIFETIME_S`, `FRAISEQL_STATEMENT_CACHE`,
/// `FRAISEQL_STATEMENT_TIMEOUT_MS`, `FRAISEQL_IDLE_IN_TRANSACTION_TIMEOUT_MS`. An unset or
/// empty variable takes its default (see [`PoolSettings::default`]).
pub fn pool_settings(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<PoolSettings, ConfigError> {
    let defaults = PoolSettings::default();
    let whole = |variable: &'static str, min: u64, max: u64, expected: &'static str| {
        let Some(value) = lookup(variable).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        match value.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ConfigError::Setting {
                variable,
                value,
                expected,
            }),
        }
    };
    // Counts fit usize: they are bounded by MAX_CONNECTIONS.
    let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    // 0 turns a limit off.
    let limit = |n: u64, unit: fn(u64) -> Duration| (n > 0).then(|| unit(n));

    let min_idle = whole(
        "FRAISEQL_POOL_MIN",
        0,
        MAX_CONNECTIONS,
        "a whole number of connections from 0 to 10000",
    )?
    .map_or(defaults.min_idle, count);
    let max_size = whole(
        "FRAISEQL_POOL_MAX",
        1,
        MAX_CONNECTIONS,
        "a whole number of connections from 1 to 10000",
    )?
    .map_or(defaults.max_size, count);
    if min_idle > max_size {
        return Err(ConfigError::PoolMinAboveMax {
            min: min_idle,
            max: max_size,
        });
    }
    let acquire_timeout = whole(
        "FRAISEQL_POOL_ACQUIRE_TIMEOUT_MS",
        1,
        MAX_ACQUIRE_MS,
        "a whole number of milliseconds from 1 to 3600000",
    )?
    .map_or(defaults.acquire_timeout, Duration::from_millis);
    let idle_timeout = whole(
        "FRAISEQL_POOL_IDLE_TIMEOUT_S",
        0,
        MAX_POOL_SECONDS,
        "a whole number of seconds up to 2592000 (30 days), or 0 for never",
    )?
    .map_or(defaults.idle_timeout, |n| limit(n, Duration::from_secs));
    let max_lifetime = whole(
        "FRAISEQL_POOL_MAX_LIFETIME_S",
        0,
        MAX_POOL_SECONDS,
        "a whole number of seconds up to 2592000 (30 days), or 0 for never",
    )?
    .map_or(defaults.max_lifetime, |n| limit(n, Duration::from_secs));
    let statement_timeout = whole(
        "FRAISEQL_STATEMENT_TIMEOUT_MS",
        0,
        MAX_PG_TIMEOUT_MS,
        "a whole number of milliseconds up to 2147483647, or 0 for none",
    )?
    .map_or(defaults.statement_timeout, |n| {
        limit(n, Duration::from_millis)
    });
    let idle_in_transaction_timeout = whole(
        "FRAISEQL_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        0,
        MAX_PG_TIMEOUT_MS,
        "a whole number of milliseconds up to 2147483647, or 0 for none",
    )?
    .map_or(defaults.idle_in_transaction_timeout, |n| {
        limit(n, Duration::from_millis)
    });
    let statement_cache = match lookup("FRAISEQL_STATEMENT_CACHE") {
        Some(value) if !value.trim().is_empty() => {
            match value.trim().to_ascii_lowercase().as_str() {
                "on" => true,
                "off" => false,
                _ => {
                    return Err(ConfigError::Setting {
                        variable: "FRAISEQL_STATEMENT_CACHE",
                        value,
                        expected: "on or off (off behind PgBouncer in transaction mode)",
                    })
                }
            }
        }
        _ => defaults.statement_cache,
    };
    Ok(PoolSettings {
        min_idle,
        max_size,
        acquire_timeout,
        idle_timeout,
        max_lifetime,
        statement_cache,
        statement_timeout,
        idle_in_transaction_timeout,
    })
}

/// The database URL alone (commands that need no listener, such as `migrate`, read only this).
pub fn database_url(lookup: &impl Fn(&str) -> Option<String>) -> Result<DatabaseUrl, ConfigError> {
    let (variable, value) = match (lookup("DATABASE_URL_PRIMARY"), lookup("DATABASE_URL")) {
        (Some(primary), _) if !primary.trim().is_empty() => ("DATABASE_URL_PRIMARY", primary),
        (_, Some(url)) if !url.trim().is_empty() => ("DATABASE_URL", url),
        _ => ("DATABASE_URL", DEFAULT_DATABASE_URL.to_string()),
    };
    DatabaseUrl::parse(value.trim()).map_err(|e| ConfigError::DatabaseUrl {
        variable,
        value: value.clone(),
        reason: match e {
            crate::db::DbError::InvalidUrl(reason) => reason,
            other => other.to_string(),
        },
    })
}

/// The log filter from `RUST_LOG` (default `info`); a filter that does not parse is refused
/// rather than silently replaced, so a typo cannot hide the logs someone asked for.
pub fn log_filter(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<tracing_subscriber::EnvFilter, ConfigError> {
    let value = lookup("RUST_LOG")
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_LOG.to_string());
    tracing_subscriber::EnvFilter::builder()
        .parse(value.trim())
        .map_err(|e| ConfigError::LogFilter {
            value: value.clone(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_embedded_sqlite_file_on_localhost_8080() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert!(matches!(c.database_url, DatabaseUrl::Sqlite { .. }));
    }

    #[test]
    fn primary_alias_wins() {
        let c = config(&[
            ("DATABASE_URL", "sqlite://a.db"),
            ("DATABASE_URL_PRIMARY", "postgres://u@h/db"),
        ])
        .unwrap();
        assert!(matches!(c.database_url, DatabaseUrl::Postgres { .. }));
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let e = config(&[("FRAISEQL_BIND", "abc")]).unwrap_err().to_string();
        assert_eq!(
            e,
            "FRAISEQL_BIND=\"abc\" is not an address like 127.0.0.1:8080"
        );
        let e = config(&[("DATABASE_URL", "mysql://x")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("DATABASE_URL=\"mysql://x\" is not a database URL"),
            "{e}"
        );
    }

    #[test]
    fn pool_defaults() {
        assert_eq!(config(&[]).unwrap().pool, PoolSettings::default());
        let blank = config(&[("FRAISEQL_POOL_MAX", " "), ("FRAISEQL_STATEMENT_CACHE", "")]);
        assert_eq!(blank.unwrap().pool, PoolSettings::default());
    }

    #[test]
    fn pool_min_is_read() {
        assert_eq!(
            config(&[("FRAISEQL_POOL_MIN", "3")]).unwrap().pool.min_idle,
            3
        );
        assert_eq!(
            config(&[("FRAISEQL_POOL_MIN", "0")]).unwrap().pool.min_idle,
            0
        );
        let e = config(&[("FRAISEQL_POOL_MIN", "-1")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "FRAISEQL_POOL_MIN=\"-1\" is not a whole number of connections from 0 to 10000"
        );
        let e = config(&[("FRAISEQL_POOL_MIN", "20"), ("FRAISEQL_POOL_MAX", "4")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("FRAISEQL_POOL_MIN=20 is more than FRAISEQL_POOL_MAX=4"),
            "{e}"
        );
    }

    #[test]
    fn pool_max_is_read() {
        assert_eq!(
            config(&[("FRAISEQL_POOL_MAX", " 2 ")])
                .unwrap()
                .pool
                .max_size,
            2
        );
        let e = config(&[("FRAISEQL_POOL_MAX", "0")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "FRAISEQL_POOL_MAX=\"0\" is not a whole number of connections from 1 to 10000"
        );
        assert!(config(&[("FRAISEQL_POOL_MAX", "lots")]).is_err());
    }

    #[test]
    fn pool_acquire_timeout_is_read() {
        let c = config(&[("FRAISEQL_POOL_ACQUIRE_TIMEOUT_MS", "250")]).unwrap();
        assert_eq!(c.pool.acquire_timeout, Duration::from_millis(250));
        let e = config(&[("FRAISEQL_POOL_ACQUIRE_TIMEOUT_MS", "0")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "FRAISEQL_POOL_ACQUIRE_TIMEOUT_MS=\"0\" is not a whole number of milliseconds from 1 to 3600000"
        );
    }

    #[test]
    fn pool_idle_timeout_is_read() {
        let c = config(&[("FRAISEQL_POOL_IDLE_TIMEOUT_S", "30")]).unwrap();
        assert_eq!(c.pool.idle_timeout, Some(Duration::from_secs(30)));
        let c = config(&[("FRAISEQL_POOL_IDLE_TIMEOUT_S", "0")]).unwrap();
        assert_eq!(c.pool.idle_timeout, None);
        let e = config(&[("FRAISEQL_POOL_IDLE_TIMEOUT_S", "1.5")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("FRAISEQL_POOL_IDLE_TIMEOUT_S=\"1.5\" is not a whole number of seconds"),
            "{e}"
        );
    }

    #[test]
    fn pool_max_lifetime_is_read() {
        let c = config(&[("FRAISEQL_POOL_MAX_LIFETIME_S", "3600")]).unwrap();
        assert_eq!(c.pool.max_lifetime, Some(Duration::from_secs(3600)));
        let c = config(&[("FRAISEQL_POOL_MAX_LIFETIME_S", "0")]).unwrap();
        assert_eq!(c.pool.max_lifetime, None);
        let e = config(&[("FRAISEQL_POOL_MAX_LIFETIME_S", "forever")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "FRAISEQL_POOL_MAX_LIFETIME_S=\"forever\" is not a whole number of seconds"
            ),
            "{e}"
        );
    }

    #[test]
    fn statement_cache_is_read() {
        assert!(
            !config(&[("FRAISEQL_STATEMENT_CACHE", "off")])
                .unwrap()
                .pool
                .statement_cache
        );
        assert!(
            config(&[("FRAISEQL_STATEMENT_CACHE", "ON")])
                .unwrap()
                .pool
                .statement_cache
        );
        let e = config(&[("FRAISEQL_STATEMENT_CACHE", "no")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "FRAISEQL_STATEMENT_CACHE=\"no\" is not on or off (off behind PgBouncer in transaction mode)"
        );
    }

    #[test]
    fn statement_timeout_is_read() {
        let c = config(&[("FRAISEQL_STATEMENT_TIMEOUT_MS", "1500")]).unwrap();
        assert_eq!(c.pool.statement_timeout, Some(Duration::from_millis(1500)));
        let c = config(&[("FRAISEQL_STATEMENT_TIMEOUT_MS", "0")]).unwrap();
        assert_eq!(c.pool.statement_timeout, None);
        let e = config(&[("FRAISEQL_STATEMENT_TIMEOUT_MS", "2147483648")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("FRAISEQL_STATEMENT_TIMEOUT_MS=\"2147483648\" is not a whole number of milliseconds"),
            "{e}"
        );
    }

    #[test]
    fn idle_in_transaction_timeout_is_read() {
        let c = config(&[("FRAISEQL_IDLE_IN_TRANSACTION_TIMEOUT_MS", "60000")]).unwrap();
        assert_eq!(
            c.pool.idle_in_transaction_timeout,
            Some(Duration::from_secs(60))
        );
        let e = config(&[("FRAISEQL_IDLE_IN_TRANSACTION_TIMEOUT_MS", "1m")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("FRAISEQL_IDLE_IN_TRANSACTION_TIMEOUT_MS=\"1m\" is not a whole number"),
            "{e}"
        );
    }

    #[test]
    fn tls_options_of_a_postgres_url_are_checked_at_start() {
        let e = config(&[("DATABASE_URL", "postgres://u:pw@h/db?sslmode=maybe")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("sslmode=\"maybe\" is not one of"), "{e}");
        assert!(config(&[("DATABASE_URL", "postgres://h/db?sslmode=require")]).is_ok());
    }

    #[test]
    fn log_filters_parse_or_are_refused() {
        let lookup = |value: &'static str| move |k: &str| (k == "RUST_LOG").then(|| value.into());
        assert!(log_filter(&|_: &str| None).is_ok());
        assert!(log_filter(&lookup("warn,fraiseql_runtime=debug")).is_ok());
        let e = log_filter(&lookup("info,fraiseql=loud"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("RUST_LOG=\"info,fraiseql=loud\" is not a log filter ("),
            "{e}"
        );
    }
}
