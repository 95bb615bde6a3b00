//! Configuration from the environment. Invalid configuration is refused at start with a message
//! that names the variable, the value and what would be accepted.

use std::net::SocketAddr;

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
            pool: PoolSettings::default(),
        })
    }
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
