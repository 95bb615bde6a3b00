//! Configuration from the environment. Invalid configuration is refused at start with a message
//! that names the variable, the value and what would be accepted.

use std::net::SocketAddr;
use std::time::Duration;

use crate::db::replica::{DEFAULT_MAX_LAG, DEFAULT_PROBE_INTERVAL};
use crate::db::shard::{shard_settings, ShardSettings};
use crate::db::{DatabaseUrl, PoolSettings, ReadRouting, Reads, ReplicaSettings};
use crate::http::settings::{CorsOrigins, HttpSettings, RateLimit};

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
    /// Read replicas and read routing (`DATABASE_URL_REPLICA`, `FRAISEQL_READS`,
    /// `FRAISEQL_REPLICA_MAX_LAG_MS`, `FRAISEQL_REPLICA_PROBE_MS`).
    pub replicas: ReplicaSettings,
    /// The result cache (`REDIS_URL`, `NATS_URL`, `FRAISEQL_REGION`, `FRAISEQL_CACHE_*`).
    pub cache: crate::cache::CacheSettings,
    /// Request limits (`FRAISEQL_MAX_*`, see [`limits`]).
    pub limits: crate::graphql::Limits,
    /// Shards (`DATABASE_URL_SHARDS`, `FRAISEQL_SHARD_RANGES`).
    pub shards: ShardSettings,
    /// CORS and compression (`FRAISEQL_CORS_ORIGINS`, `FRAISEQL_COMPRESSION`).
    pub http: HttpSettings,
    /// `FRAISEQL_PERSISTED_ONLY`: only trusted documents (`schema/operations/`) run.
    pub persisted_only: bool,
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
    /// `DATABASE_URL_REPLICA` is set while the primary is SQLite.
    #[error("DATABASE_URL_REPLICA is set but the primary ({variable}) is SQLite; read replicas are PostgreSQL standbys of a PostgreSQL primary")]
    ReplicasNeedPostgres {
        /// The variable that named the primary.
        variable: &'static str,
    },
    /// A result cache setting is not a value it can take.
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheConfigError),
    /// `FRAISEQL_SHARD_RANGES` cannot be used.
    #[error("FRAISEQL_SHARD_RANGES={value:?} is not usable: {reason}")]
    ShardRanges {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The schema has a `RANGE`-sharded type, shards are configured, and no ranges are.
    #[error("{type_name} is sharded by RANGE but FRAISEQL_SHARD_RANGES is not set; give one key range per shard, e.g. 1-1000000,1000001-2000000,2000001-")]
    MissingShardRanges {
        /// The type.
        type_name: &'static str,
    },
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
        let replicas = replica_settings(&lookup, &database_url)?;
        let shards = shard_settings(&lookup, &database_url)?;
        Ok(Config {
            database_url,
            bind,
            pool: pool_settings(&lookup)?,
            replicas,
            cache: crate::cache::cache_settings(&lookup)?,
            limits: limits(&lookup)?,
            shards,
            http: http_settings(&lookup)?,
            persisted_only: persisted_only(&lookup)?,
        })
    }
}

/// `FRAISEQL_PERSISTED_ONLY`: `true`/`on`/`1` or `false`/`off`/`0` (default false).
pub fn persisted_only(lookup: &impl Fn(&str) -> Option<String>) -> Result<bool, ConfigError> {
    match lookup("FRAISEQL_PERSISTED_ONLY") {
        None => Ok(false),
        Some(value) => match value.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "off" | "0" => Ok(false),
            "true" | "on" | "1" => Ok(true),
            _ => Err(ConfigError::Setting {
                variable: "FRAISEQL_PERSISTED_ONLY",
                value,
                expected: "true or false",
            }),
        },
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
    let slow_threshold = whole(
        "FRAISEQL_SLOW_QUERY_MS",
        0,
        MAX_PG_TIMEOUT_MS,
        "a whole number of milliseconds up to 2147483647, or 0 for no slow-statement log",
    )?
    .and_then(|n| limit(n, Duration::from_millis));
    let slow_params = match lookup("FRAISEQL_SLOW_QUERY_PARAMS") {
        Some(value) if !value.trim().is_empty() => {
            match value.trim().to_ascii_lowercase().as_str() {
                "on" => true,
                "off" => false,
                _ => {
                    return Err(ConfigError::Setting {
                        variable: "FRAISEQL_SLOW_QUERY_PARAMS",
                        value,
                        expected: "on or off",
                    })
                }
            }
        }
        _ => false,
    };
    Ok(PoolSettings {
        slow_query: crate::db::stats::SlowQueryLog {
            threshold: slow_threshold,
            with_params: slow_params,
        },
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

/// Longest replica lag bound: a day (a replica further behind is better rebuilt than read).
const MAX_LAG_MS: u64 = 86_400_000;
/// Probe interval bounds: often enough to notice a failure within a minute, never so often that
/// probing becomes load.
const PROBE_MS: (u64, u64) = (10, 60_000);

/// A whole number within `min..=max` from `variable`; `None` when unset or blank.
fn whole(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    (min, max): (u64, u64),
    expected: &'static str,
) -> Result<Option<u64>, ConfigError> {
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
}

/// Request limits: `FRAISEQL_MAX_BODY_BYTES`, `FRAISEQL_MAX_TOKENS`, `FRAISEQL_MAX_DEPTH`,
/// `FRAISEQL_MAX_ALIASES`, `FRAISEQL_MAX_ROOT_FIELDS`, `FRAISEQL_MAX_PAGE_SIZE`, `FRAISEQL_MAX_COST`,
/// `FRAISEQL_MAX_BATCH`, `FRAISEQL_MAX_IN_FLIGHT`,
/// `FRAISEQL_REQUEST_TIMEOUT_MS`, and `FRAISEQL_ENV` (`production` turns introspection and
/// "did you mean" suggestions off); unset or blank takes the default
/// (see [`crate::graphql::Limits::default`]).
pub fn limits(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<crate::graphql::Limits, ConfigError> {
    let defaults = crate::graphql::Limits::default();
    let production = match lookup("FRAISEQL_ENV") {
        None => false,
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "development" => false,
            "production" => true,
            _ => {
                return Err(ConfigError::Setting {
                    variable: "FRAISEQL_ENV",
                    value: v,
                    expected: "development or production",
                })
            }
        },
    };
    let read = |variable, range, expected, default: usize| {
        whole(lookup, variable, range, expected)
            .map(|n| n.and_then(|n| usize::try_from(n).ok()).unwrap_or(default))
    };
    Ok(crate::graphql::Limits {
        max_body_bytes: read(
            "FRAISEQL_MAX_BODY_BYTES",
            (1024, 1 << 30),
            "a whole number of bytes from 1024 to 1073741824",
            defaults.max_body_bytes,
        )?,
        max_tokens: read(
            "FRAISEQL_MAX_TOKENS",
            (100, 10_000_000),
            "a whole number of tokens from 100 to 10000000",
            defaults.max_tokens,
        )?,
        max_depth: read(
            "FRAISEQL_MAX_DEPTH",
            (1, 1000),
            "a whole number of levels from 1 to 1000",
            defaults.max_depth,
        )?,
        max_aliases: read(
            "FRAISEQL_MAX_ALIASES",
            (0, 100_000),
            "a whole number of aliases from 0 to 100000",
            defaults.max_aliases,
        )?,
        max_root_fields: read(
            "FRAISEQL_MAX_ROOT_FIELDS",
            (1, 100_000),
            "a whole number of fields from 1 to 100000",
            defaults.max_root_fields,
        )?,
        max_page_size: whole(
            lookup,
            "FRAISEQL_MAX_PAGE_SIZE",
            (1, 1_000_000_000),
            "a whole number of rows from 1 to 1000000000",
        )?
        .unwrap_or(defaults.max_page_size),
        max_cost: whole(
            lookup,
            "FRAISEQL_MAX_COST",
            (1, 1_000_000_000_000),
            "a whole number of rows from 1 to 1000000000000",
        )?
        .unwrap_or(defaults.max_cost),
        max_batch: read(
            "FRAISEQL_MAX_BATCH",
            (0, 1000),
            "a whole number of requests from 0 (batches off) to 1000",
            defaults.max_batch,
        )?,
        introspection: !production,
        suggestions: !production,
        max_in_flight: read(
            "FRAISEQL_MAX_IN_FLIGHT",
            (1, 1_000_000),
            "a whole number of requests from 1 to 1000000",
            defaults.max_in_flight,
        )?,
        request_timeout: whole(
            lookup,
            "FRAISEQL_REQUEST_TIMEOUT_MS",
            (1, MAX_ACQUIRE_MS),
            "a whole number of milliseconds from 1 to 3600000",
        )?
        .map_or(defaults.request_timeout, std::time::Duration::from_millis),
    })
}

/// `FRAISEQL_CORS_ORIGINS` (unset or blank: no CORS; `*`; or origins separated by commas) and
/// `FRAISEQL_COMPRESSION` (`on`, the default, or `off`).
pub fn http_settings(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<HttpSettings, ConfigError> {
    let defaults = HttpSettings::default();
    let cors = match lookup("FRAISEQL_CORS_ORIGINS").filter(|v| !v.trim().is_empty()) {
        None => None,
        Some(value) if value.trim() == "*" => Some(CorsOrigins::Any),
        Some(value) => {
            let origins: Result<Vec<String>, _> = value
                .split(',')
                .filter(|o| !o.trim().is_empty())
                .map(crate::http::settings::origin)
                .collect();
            match origins {
                Ok(list) if !list.is_empty() => Some(CorsOrigins::List(list)),
                _ => {
                    return Err(ConfigError::Setting {
                        variable: "FRAISEQL_CORS_ORIGINS",
                        value,
                        expected: "* or origins separated by commas, like https://app.example.com,http://localhost:3000",
                    })
                }
            }
        }
    };
    let compression = match lookup("FRAISEQL_COMPRESSION") {
        None => defaults.compression,
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" => defaults.compression,
            "on" => true,
            "off" => false,
            _ => {
                return Err(ConfigError::Setting {
                    variable: "FRAISEQL_COMPRESSION",
                    value: v,
                    expected: "on or off",
                })
            }
        },
    };
    Ok(HttpSettings {
        cors,
        compression,
        rate_limit: rate_limit(lookup)?,
    })
}

/// `FRAISEQL_RATE_LIMIT` (`N`, `N/s`, `N/m` or `N/h` requests per client; unset: no limit) and
/// `FRAISEQL_RATE_LIMIT_BURST` (requests at once after an idle spell; default `N`).
fn rate_limit(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<RateLimit>, ConfigError> {
    let Some(value) = lookup("FRAISEQL_RATE_LIMIT").filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let bad = || ConfigError::Setting {
        variable: "FRAISEQL_RATE_LIMIT",
        value: value.clone(),
        expected: "requests per client like 100/s, 600/m or 10000/h (1-1000000 per period)",
    };
    let text = value.trim().to_ascii_lowercase();
    let (count, unit) = text.split_once('/').unwrap_or((text.as_str(), "s"));
    let period = match unit.trim() {
        "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        _ => return Err(bad()),
    };
    let requests = count
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(bad)?;
    let burst = whole(
        lookup,
        "FRAISEQL_RATE_LIMIT_BURST",
        (1, 1_000_000),
        "a whole number of requests from 1 to 1000000",
    )?
    .and_then(|n| u32::try_from(n).ok())
    .unwrap_or(requests);
    Ok(Some(RateLimit {
        requests,
        period,
        burst,
    }))
}

/// Where reads go (`FRAISEQL_READS`: `primary` or `replica`) and the lag bound of `@replica`
/// without `maxLag:` (`FRAISEQL_REPLICA_MAX_LAG_MS`). `explain` reads these too, so the routes
/// it prints are the ones `serve` would use.
pub fn read_routing(lookup: &impl Fn(&str) -> Option<String>) -> Result<ReadRouting, ConfigError> {
    let reads = match lookup("FRAISEQL_READS") {
        Some(value) if !value.trim().is_empty() => {
            match value.trim().to_ascii_lowercase().as_str() {
                "primary" => Reads::Primary,
                "replica" => Reads::Replica,
                _ => {
                    return Err(ConfigError::Setting {
                        variable: "FRAISEQL_READS",
                        value,
                        expected: "primary (only @replica fields read from replicas) or replica (every query field does, unless @primary)",
                    })
                }
            }
        }
        _ => Reads::Primary,
    };
    let default_max_lag = whole(
        lookup,
        "FRAISEQL_REPLICA_MAX_LAG_MS",
        (0, MAX_LAG_MS),
        "a whole number of milliseconds from 0 to 86400000",
    )?
    .map_or(DEFAULT_MAX_LAG, Duration::from_millis);
    Ok(ReadRouting {
        reads,
        default_max_lag,
    })
}

/// The read replicas (`DATABASE_URL_REPLICA`: PostgreSQL URLs separated by commas), read routing
/// and the probe interval (`FRAISEQL_REPLICA_PROBE_MS`). A comma inside one URL (a multi-host
/// URL) stays with it: only a comma followed by `<scheme>://` starts the next.
pub fn replica_settings(
    lookup: &impl Fn(&str) -> Option<String>,
    primary: &DatabaseUrl,
) -> Result<ReplicaSettings, ConfigError> {
    let routing = read_routing(lookup)?;
    let probe_interval = whole(
        lookup,
        "FRAISEQL_REPLICA_PROBE_MS",
        PROBE_MS,
        "a whole number of milliseconds from 10 to 60000",
    )?
    .map_or(DEFAULT_PROBE_INTERVAL, Duration::from_millis);
    let mut urls = Vec::new();
    let text = lookup("DATABASE_URL_REPLICA").unwrap_or_default();
    for item in split_urls(&text) {
        let url = DatabaseUrl::parse(item).map_err(|e| ConfigError::DatabaseUrl {
            variable: "DATABASE_URL_REPLICA",
            value: item.to_string(),
            reason: match e {
                crate::db::DbError::InvalidUrl(reason) => reason,
                other => other.to_string(),
            },
        })?;
        if !matches!(url, DatabaseUrl::Postgres { .. }) {
            return Err(ConfigError::DatabaseUrl {
                variable: "DATABASE_URL_REPLICA",
                value: item.to_string(),
                reason: "a replica must be a PostgreSQL standby (postgres://…)".into(),
            });
        }
        urls.push(url);
    }
    if !urls.is_empty() && !matches!(primary, DatabaseUrl::Postgres { .. }) {
        let variable = match lookup("DATABASE_URL_PRIMARY") {
            Some(v) if !v.trim().is_empty() => "DATABASE_URL_PRIMARY",
            _ => "DATABASE_URL",
        };
        return Err(ConfigError::ReplicasNeedPostgres { variable });
    }
    Ok(ReplicaSettings {
        urls,
        routing,
        probe_interval,
    })
}

/// The URLs of a comma-separated list, each trimmed; empty items are skipped.
pub(crate) fn split_urls(text: &str) -> Vec<&str> {
    // `scheme://` (or `sqlite:`): a host of a multi-host URL (`h2:5433/db`) is not one.
    let starts_url = |rest: &str| {
        let rest = rest.trim_start();
        let scheme_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "+.-".contains(c)))
            .unwrap_or(rest.len());
        rest.starts_with("sqlite:")
            || (scheme_len > 0
                && rest.as_bytes()[0].is_ascii_alphabetic()
                && rest[scheme_len..].starts_with("://"))
    };
    // After this comma: another URL, or an empty item.
    let ends_item = |rest: &str| {
        let rest = rest.trim_start();
        rest.is_empty() || rest.starts_with(',') || starts_url(rest)
    };
    let mut items = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices(',') {
        if ends_item(&text[i + 1..]) || !starts_url(&text[start..]) {
            items.push(text[start..i].trim());
            start = i + 1;
        }
    }
    items.push(text[start..].trim());
    items.retain(|item| !item.is_empty());
    items
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

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `FRAISEQL_LOG_FORMAT`: `text` (default) or `json`.
pub fn log_format(lookup: &impl Fn(&str) -> Option<String>) -> Result<LogFormat, ConfigError> {
    match lookup("FRAISEQL_LOG_FORMAT") {
        None => Ok(LogFormat::Text),
        Some(value) => match value.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(ConfigError::Setting {
                variable: "FRAISEQL_LOG_FORMAT",
                value,
                expected: "text or json",
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn slow_query_settings_are_read() {
        let c = config(&[
            ("FRAISEQL_SLOW_QUERY_MS", "250"),
            ("FRAISEQL_SLOW_QUERY_PARAMS", "on"),
        ])
        .unwrap();
        assert_eq!(
            c.pool.slow_query.threshold,
            Some(Duration::from_millis(250))
        );
        assert!(c.pool.slow_query.with_params);
        assert_eq!(config(&[]).unwrap().pool.slow_query.threshold, None);
        let e = config(&[("FRAISEQL_SLOW_QUERY_MS", "-1")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("FRAISEQL_SLOW_QUERY_MS=\"-1\""), "{e}");
        let e = config(&[("FRAISEQL_SLOW_QUERY_PARAMS", "yes")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("on or off"), "{e}");
    }

    #[test]
    fn persisted_only_is_read() {
        assert!(!config(&[]).unwrap().persisted_only);
        assert!(
            config(&[("FRAISEQL_PERSISTED_ONLY", "true")])
                .unwrap()
                .persisted_only
        );
        assert!(
            !config(&[("FRAISEQL_PERSISTED_ONLY", "off")])
                .unwrap()
                .persisted_only
        );
        let error = config(&[("FRAISEQL_PERSISTED_ONLY", "yes")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "FRAISEQL_PERSISTED_ONLY=\"yes\" is not true or false"
        );
    }

    #[test]
    fn limits_are_read() {
        assert_eq!(
            config(&[]).unwrap().limits,
            crate::graphql::Limits::default()
        );
        let c = config(&[
            ("FRAISEQL_MAX_BODY_BYTES", "4096"),
            ("FRAISEQL_MAX_TOKENS", "500"),
            ("FRAISEQL_MAX_DEPTH", "3"),
            ("FRAISEQL_MAX_ALIASES", "0"),
            ("FRAISEQL_MAX_ROOT_FIELDS", " 2 "),
            ("FRAISEQL_MAX_IN_FLIGHT", "8"),
            ("FRAISEQL_MAX_PAGE_SIZE", "50"),
            ("FRAISEQL_MAX_COST", "700"),
            ("FRAISEQL_MAX_BATCH", "10"),
            ("FRAISEQL_REQUEST_TIMEOUT_MS", "1500"),
        ])
        .unwrap();
        let l = c.limits;
        assert_eq!(
            (
                l.max_body_bytes,
                l.max_tokens,
                l.max_depth,
                l.max_aliases,
                l.max_root_fields
            ),
            (4096, 500, 3, 0, 2)
        );
        assert_eq!(l.max_in_flight, 8);
        assert_eq!(l.max_page_size, 50);
        assert_eq!(l.max_cost, 700);
        assert_eq!(l.max_batch, 10);
        assert!(l.introspection && l.suggestions);
        assert_eq!(l.request_timeout, std::time::Duration::from_millis(1500));
        let l = config(&[("FRAISEQL_ENV", "production")]).unwrap().limits;
        assert!(!l.introspection && !l.suggestions);
        let e = config(&[("FRAISEQL_ENV", "prod")]).unwrap_err().to_string();
        assert!(e.contains("FRAISEQL_ENV=\"prod\""), "{e}");
        for (variable, bad) in [
            ("FRAISEQL_MAX_BODY_BYTES", "10"),
            ("FRAISEQL_MAX_TOKENS", "many"),
            ("FRAISEQL_MAX_DEPTH", "0"),
            ("FRAISEQL_MAX_ALIASES", "-1"),
            ("FRAISEQL_MAX_ROOT_FIELDS", "1.5"),
            ("FRAISEQL_MAX_IN_FLIGHT", "0"),
            ("FRAISEQL_MAX_PAGE_SIZE", "0"),
            ("FRAISEQL_MAX_COST", "0"),
            ("FRAISEQL_MAX_BATCH", "1001"),
            ("FRAISEQL_REQUEST_TIMEOUT_MS", "soon"),
        ] {
            let e = config(&[(variable, bad)]).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("{variable}={bad:?} is not a whole number")),
                "{e}"
            );
        }
    }

    #[test]
    fn http_settings_are_read() {
        let h = config(&[]).unwrap().http;
        assert_eq!(h, HttpSettings::default());
        assert!(h.cors.is_none() && h.compression);
        let h = config(&[
            (
                "FRAISEQL_CORS_ORIGINS",
                "https://app.example.com, http://localhost:3000",
            ),
            ("FRAISEQL_COMPRESSION", "OFF"),
        ])
        .unwrap()
        .http;
        let list = ["https://app.example.com", "http://localhost:3000"].map(String::from);
        assert_eq!(h.cors, Some(CorsOrigins::List(list.to_vec())));
        assert!(!h.compression);
        let h = config(&[("FRAISEQL_CORS_ORIGINS", " * ")]).unwrap().http;
        assert_eq!(h.cors, Some(CorsOrigins::Any));
        assert_eq!(h.rate_limit, None);
        let h = config(&[("FRAISEQL_RATE_LIMIT", "100")]).unwrap().http;
        let per_second = RateLimit {
            requests: 100,
            period: Duration::from_secs(1),
            burst: 100,
        };
        assert_eq!(h.rate_limit, Some(per_second));
        let h = config(&[
            ("FRAISEQL_RATE_LIMIT", "600/M"),
            ("FRAISEQL_RATE_LIMIT_BURST", "20"),
        ])
        .unwrap()
        .http;
        let per_minute = RateLimit {
            requests: 600,
            period: Duration::from_secs(60),
            burst: 20,
        };
        assert_eq!(h.rate_limit, Some(per_minute));
        for (variable, bad) in [
            ("FRAISEQL_CORS_ORIGINS", "app.example.com"),
            ("FRAISEQL_CORS_ORIGINS", "https://a.example/path"),
            ("FRAISEQL_COMPRESSION", "gzip"),
            ("FRAISEQL_RATE_LIMIT", "0/s"),
            ("FRAISEQL_RATE_LIMIT", "10/day"),
        ] {
            let e = config(&[(variable, bad)]).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{variable}={bad:?} is not")), "{e}");
        }
    }

    #[test]
    fn log_format_is_read() {
        let read = |v: Option<&str>| log_format(&|_| v.map(str::to_owned));
        assert_eq!(read(None).unwrap(), LogFormat::Text);
        assert_eq!(read(Some("JSON")).unwrap(), LogFormat::Json);
        let e = read(Some("xml")).unwrap_err().to_string();
        assert!(
            e.contains("FRAISEQL_LOG_FORMAT=\"xml\" is not text or json"),
            "{e}"
        );
    }

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
    fn without_replicas_every_read_goes_to_the_primary() {
        let c = config(&[]).unwrap();
        assert_eq!(c.replicas, ReplicaSettings::default());
        assert!(c.replicas.urls.is_empty());
        assert_eq!(c.replicas.routing.reads, Reads::Primary);
        assert_eq!(
            c.replicas.routing.default_max_lag,
            Duration::from_millis(2000)
        );
        assert_eq!(c.replicas.probe_interval, Duration::from_millis(1000));
    }

    #[test]
    fn database_url_replica_is_read() {
        let pg = ("DATABASE_URL", "postgres://u@primary/db");
        let c = config(&[
            pg,
            (
                "DATABASE_URL_REPLICA",
                " postgres://u@r0/db , postgresql://u@r1:5433/db?sslmode=require,",
            ),
        ])
        .unwrap();
        assert_eq!(
            c.replicas.urls,
            vec![
                DatabaseUrl::Postgres {
                    url: "postgres://u@r0/db".into()
                },
                DatabaseUrl::Postgres {
                    url: "postgresql://u@r1:5433/db?sslmode=require".into()
                },
            ]
        );
        // A multi-host URL keeps its comma.
        let c = config(&[pg, ("DATABASE_URL_REPLICA", "postgres://u@h1,h2/db")]).unwrap();
        assert_eq!(c.replicas.urls.len(), 1);
        assert!(config(&[pg, ("DATABASE_URL_REPLICA", " ")])
            .unwrap()
            .replicas
            .urls
            .is_empty());
    }

    #[test]
    fn bad_replica_urls_are_refused() {
        let pg = ("DATABASE_URL", "postgres://u@primary/db");
        let e = config(&[
            pg,
            ("DATABASE_URL_REPLICA", "postgres://u@r0/db,mysql://r1"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("DATABASE_URL_REPLICA=\"mysql://r1\" is not a database URL"),
            "{e}"
        );
        let e = config(&[pg, ("DATABASE_URL_REPLICA", "sqlite://r.db")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("a replica must be a PostgreSQL standby"), "{e}");
        let e = config(&[("DATABASE_URL_REPLICA", "postgres://u@r0/db")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("DATABASE_URL_REPLICA is set but the primary (DATABASE_URL) is SQLite"),
            "{e}"
        );
    }

    #[test]
    fn fraiseql_reads_is_read() {
        let c = config(&[("FRAISEQL_READS", "Replica")]).unwrap();
        assert_eq!(c.replicas.routing.reads, Reads::Replica);
        let c = config(&[("FRAISEQL_READS", "primary")]).unwrap();
        assert_eq!(c.replicas.routing.reads, Reads::Primary);
        let e = config(&[("FRAISEQL_READS", "replicas")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("FRAISEQL_READS=\"replicas\" is not primary (only @replica fields"),
            "{e}"
        );
    }

    #[test]
    fn replica_max_lag_is_read() {
        let c = config(&[("FRAISEQL_REPLICA_MAX_LAG_MS", "250")]).unwrap();
        assert_eq!(
            c.replicas.routing.default_max_lag,
            Duration::from_millis(250)
        );
        let c = config(&[("FRAISEQL_REPLICA_MAX_LAG_MS", "0")]).unwrap();
        assert_eq!(c.replicas.routing.default_max_lag, Duration::ZERO);
        let e = config(&[("FRAISEQL_REPLICA_MAX_LAG_MS", "5s")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "FRAISEQL_REPLICA_MAX_LAG_MS=\"5s\" is not a whole number of milliseconds from 0 to 86400000"
        );
    }

    #[test]
    fn replica_probe_interval_is_read() {
        let c = config(&[("FRAISEQL_REPLICA_PROBE_MS", "100")]).unwrap();
        assert_eq!(c.replicas.probe_interval, Duration::from_millis(100));
        let e = config(&[("FRAISEQL_REPLICA_PROBE_MS", "0")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "FRAISEQL_REPLICA_PROBE_MS=\"0\" is not a whole number of milliseconds from 10 to 60000"
        );
    }

    #[test]
    fn shards_are_part_of_the_configuration() {
        let pg = ("DATABASE_URL", "postgres://u@primary/db");
        assert!(config(&[pg]).unwrap().shards.urls.is_empty());
        let c = config(&[
            pg,
            (
                "DATABASE_URL_SHARDS",
                "postgres://u@s0/db,postgres://u@s1/db",
            ),
            ("FRAISEQL_SHARD_RANGES", "1-100,101-"),
        ])
        .unwrap();
        assert_eq!(c.shards.urls.len(), 2);
        assert_eq!(c.shards.ranges.len(), 2);
        let e = config(&[pg, ("DATABASE_URL_SHARDS", "postgres://u@s0/db,mysql://s1")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("DATABASE_URL_SHARDS=\"mysql://s1\" is not a database URL"),
            "{e}"
        );
        let e = config(&[
            pg,
            ("DATABASE_URL_SHARDS", "postgres://u@s0/db"),
            ("FRAISEQL_SHARD_RANGES", "x"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("FRAISEQL_SHARD_RANGES=\"x\" is not usable"),
            "{e}"
        );
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
