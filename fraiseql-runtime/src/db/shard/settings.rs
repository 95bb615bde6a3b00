//! Shard configuration: `DATABASE_URL_SHARDS` (the shards' URLs, comma-separated, in shard
//! order) and `FRAISEQL_SHARD_RANGES` (the `RANGE` strategy's key ranges, one per shard).

use crate::config::{split_urls, ConfigError};
use crate::db::{DatabaseUrl, DbError};

/// The shards' URLs.
pub const SHARDS_ENV: &str = "DATABASE_URL_SHARDS";
/// The `RANGE` key ranges.
pub const SHARD_RANGES_ENV: &str = "FRAISEQL_SHARD_RANGES";
/// Most shards: far more than one server's connections could reach anyway.
const MAX_SHARDS: usize = 1024;

/// Where the shards are and how `RANGE` keys map to them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardSettings {
    /// Shard `i` is `urls[i]` (labelled `shard-i`); empty: no shards, every table on the
    /// primary.
    pub urls: Vec<DatabaseUrl>,
    /// `ranges[i]`: the keys shard `i` holds under `RANGE`; empty when not configured.
    pub ranges: Vec<KeyRange>,
}

/// An inclusive range of shard keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRange {
    /// The first key.
    pub first: i64,
    /// The last key (`i64::MAX` for a range written open, `2000001-`).
    pub last: i64,
}

impl KeyRange {
    /// Whether `key` is in the range.
    pub fn contains(&self, key: i64) -> bool {
        (self.first..=self.last).contains(&key)
    }
}

/// Reads `DATABASE_URL_SHARDS` and `FRAISEQL_SHARD_RANGES`. Shards speak the primary's
/// dialect (one plan serves all of them). Ranges: `first-last` per shard, comma-separated, in
/// shard order, ascending and disjoint; the last may be open (`2000001-`).
pub fn shard_settings(
    lookup: &impl Fn(&str) -> Option<String>,
    primary: &DatabaseUrl,
) -> Result<ShardSettings, ConfigError> {
    let text = lookup(SHARDS_ENV).unwrap_or_default();
    let mut urls = Vec::new();
    for item in split_urls(&text) {
        let url = DatabaseUrl::parse(item).map_err(|e| ConfigError::DatabaseUrl {
            variable: SHARDS_ENV,
            value: item.to_string(),
            reason: match e {
                DbError::InvalidUrl(reason) => reason,
                other => other.to_string(),
            },
        })?;
        if url.dialect() != primary.dialect() {
            return Err(ConfigError::DatabaseUrl {
                variable: SHARDS_ENV,
                value: item.to_string(),
                reason: "every shard must be the same kind of database as the primary \
                         (DATABASE_URL)"
                    .into(),
            });
        }
        if urls.contains(&url) {
            return Err(ConfigError::DatabaseUrl {
                variable: SHARDS_ENV,
                value: item.to_string(),
                reason: "the same database is listed twice; each shard needs its own".into(),
            });
        }
        urls.push(url);
    }
    if urls.len() > MAX_SHARDS {
        return Err(ConfigError::Setting {
            variable: SHARDS_ENV,
            value: format!("{} URLs", urls.len()),
            expected: "at most 1024 shard URLs",
        });
    }
    let ranges = match lookup(SHARD_RANGES_ENV).filter(|v| !v.trim().is_empty()) {
        None => Vec::new(),
        Some(value) => {
            let ranges = parse_ranges(&value).map_err(|reason| ConfigError::ShardRanges {
                value: value.clone(),
                reason,
            })?;
            if ranges.len() != urls.len() {
                return Err(ConfigError::ShardRanges {
                    value,
                    reason: format!(
                        "{} range(s) for {} shard(s) in {SHARDS_ENV}; give one range per shard, in shard order",
                        ranges.len(),
                        urls.len()
                    ),
                });
            }
            ranges
        }
    };
    Ok(ShardSettings { urls, ranges })
}

/// `1-1000000,1000001-2000000,2000001-`.
fn parse_ranges(text: &str) -> Result<Vec<KeyRange>, String> {
    let mut ranges: Vec<KeyRange> = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            continue;
        }
        let Some((first, last)) = item.split_once('-') else {
            return Err(format!(
                "\"{item}\" is not a range like 1-1000000 (or 2000001- for no upper end)"
            ));
        };
        let number = |s: &str| {
            s.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    format!(
                        "\"{}\" in \"{item}\" is not a key (a whole number from 0)",
                        s.trim()
                    )
                })
        };
        let first = number(first)?;
        let last = if last.trim().is_empty() {
            i64::MAX
        } else {
            number(last)?
        };
        if last < first {
            return Err(format!("\"{item}\" ends before it starts"));
        }
        if let Some(previous) = ranges.last() {
            if previous.last == i64::MAX {
                return Err(format!("\"{item}\" follows a range with no upper end"));
            }
            if first <= previous.last {
                return Err(format!(
                    "\"{item}\" overlaps or precedes the range before it; list ranges in ascending order"
                ));
            }
        }
        ranges.push(KeyRange { first, last });
    }
    if ranges.is_empty() {
        return Err("no range given".into());
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<ShardSettings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let primary = DatabaseUrl::Postgres {
            url: "postgres://u@primary/app".into(),
        };
        shard_settings(&|k| map.get(k).cloned(), &primary)
    }

    #[test]
    fn no_shards_by_default() {
        assert_eq!(read(&[]).unwrap(), ShardSettings::default());
        assert_eq!(
            read(&[(SHARDS_ENV, " ")]).unwrap(),
            ShardSettings::default()
        );
    }

    #[test]
    fn database_url_shards_is_read_in_order() {
        let s = read(&[(
            SHARDS_ENV,
            "postgres://u@s0/app, postgres://u@s1/app,postgresql://u@h1,h2/app",
        )])
        .unwrap();
        let urls: Vec<String> = s
            .urls
            .iter()
            .map(|u| match u {
                DatabaseUrl::Postgres { url } => url.clone(),
                DatabaseUrl::Sqlite { path } => path.display().to_string(),
            })
            .collect();
        assert_eq!(
            urls,
            [
                "postgres://u@s0/app",
                "postgres://u@s1/app",
                "postgresql://u@h1,h2/app"
            ]
        );
        assert!(s.ranges.is_empty());
    }

    #[test]
    fn bad_shard_urls_are_refused() {
        let e = read(&[(SHARDS_ENV, "postgres://u@s0/app,mysql://s1")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("DATABASE_URL_SHARDS=\"mysql://s1\" is not a database URL"),
            "{e}"
        );
        let e = read(&[(SHARDS_ENV, "sqlite://s0.db")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the same kind of database as the primary"),
            "{e}"
        );
        let e = read(&[(SHARDS_ENV, "postgres://u@s0/app,postgres://u@s0/app")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("listed twice"), "{e}");
    }

    #[test]
    fn shard_ranges_are_read() {
        let shards = (
            SHARDS_ENV,
            "postgres://u@s0/a,postgres://u@s1/a,postgres://u@s2/a",
        );
        let s = read(&[
            shards,
            (SHARD_RANGES_ENV, "1-1000000, 1000001-2000000, 2000001-"),
        ])
        .unwrap();
        assert_eq!(
            s.ranges,
            [
                KeyRange {
                    first: 1,
                    last: 1_000_000
                },
                KeyRange {
                    first: 1_000_001,
                    last: 2_000_000
                },
                KeyRange {
                    first: 2_000_001,
                    last: i64::MAX
                },
            ]
        );
        // Gaps are allowed: keys in them have no shard.
        assert!(read(&[shards, (SHARD_RANGES_ENV, "0-9,20-29,40-49")]).is_ok());
    }

    #[test]
    fn bad_shard_ranges_are_refused() {
        let shards = (SHARDS_ENV, "postgres://u@s0/a,postgres://u@s1/a");
        let error = |ranges: &str| {
            read(&[shards, (SHARD_RANGES_ENV, ranges)])
                .unwrap_err()
                .to_string()
        };
        let e = error("1-100");
        assert!(
            e.starts_with(
                "FRAISEQL_SHARD_RANGES=\"1-100\" is not usable: 1 range(s) for 2 shard(s)"
            ),
            "{e}"
        );
        assert!(error("1-100,50-200").contains("overlaps or precedes"));
        assert!(error("1-,200-300").contains("follows a range with no upper end"));
        assert!(error("100-1,200-300").contains("ends before it starts"));
        assert!(error("a-b,1-2").contains("\"a\" in \"a-b\" is not a key"));
        assert!(error("5,6").contains("\"5\" is not a range like 1-1000000"));
        let e = read(&[(SHARD_RANGES_ENV, "1-100")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 range(s) for 0 shard(s)"), "{e}");
    }
}
