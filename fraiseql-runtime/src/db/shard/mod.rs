//! Shards: rows of `@shard(key:)` types spread over N databases by their shard key; types
//! without `@shard` (reference tables) stay on the primary.
//!
//! [`ShardMap`] is the pure mapping key -> shard ([`ShardMap::shard_of`]), usable without a
//! connection (`explain`, `shard-of`); [`ShardRouter`] adds one [`Database`] per shard, each
//! with its own pool. Which statements go where is the planner's `Placement` per statement,
//! acted on by `db/route.rs` ([`super::RequestSessions`]) and `exec/load.rs`.
//!
//! The mapping is part of the data's layout, so it is fixed and documented (README, "Shards"):
//! - `HASH`: `jump(splitmix64(key as u64), N)`: the splitmix64 finalizer (Steele, Lea and
//!   Flood) spreads consecutive keys, then Lamping and Veach's jump consistent hash picks one of
//!   N shards (growing N to N+1 moves only 1/(N+1) of the keys). Never Rust's `Hash` (its
//!   seed is random per process).
//! - `RANGE`: `FRAISEQL_SHARD_RANGES`, one inclusive key range per shard in shard order.

mod hash;
mod ids;
mod settings;

use std::sync::Arc;

pub use hash::hash_shard;
pub use ids::next_id;
pub use settings::{shard_settings, KeyRange, ShardSettings, SHARDS_ENV, SHARD_RANGES_ENV};

use super::{Database, DbError, PoolSettings};
use crate::model::{SchemaModel, ShardStrategy, TypeModel};

/// Why a key has no shard.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// A `RANGE` key outside every configured range.
    #[error("no shard holds key {key}: it is outside every range of FRAISEQL_SHARD_RANGES")]
    OutsideRanges {
        /// The key.
        key: i64,
    },
    /// A `RANGE` type while no ranges are configured (`serve` refuses to start so).
    #[error("a type is sharded by RANGE but FRAISEQL_SHARD_RANGES is not set")]
    NoRanges,
}

/// Key -> shard, for a number of shards and the configured ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardMap {
    count: usize,
    /// One per shard, in shard order; empty when no `RANGE` ranges are configured.
    ranges: Vec<KeyRange>,
}

impl ShardMap {
    /// The map of `settings` (`None` without shards).
    pub fn new(settings: &ShardSettings) -> Option<ShardMap> {
        (!settings.urls.is_empty()).then(|| ShardMap {
            count: settings.urls.len(),
            ranges: settings.ranges.clone(),
        })
    }

    /// Number of shards.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The shard holding key `key` of type `ty` (which must have `@shard`; an unsharded type
    /// has no shard: `None`).
    pub fn shard_of(&self, ty: &TypeModel, key: i64) -> Option<Result<usize, ShardError>> {
        Some(self.shard_for(ty.shard?.strategy, key))
    }

    /// The shard holding `key` under `strategy`.
    pub fn shard_for(&self, strategy: ShardStrategy, key: i64) -> Result<usize, ShardError> {
        match strategy {
            ShardStrategy::Hash => Ok(hash_shard(key, self.count)),
            ShardStrategy::Range if self.ranges.is_empty() => Err(ShardError::NoRanges),
            ShardStrategy::Range => self
                .ranges
                .iter()
                .position(|r| r.contains(key))
                .ok_or(ShardError::OutsideRanges { key }),
        }
    }

    /// The first `RANGE` type of `model` when no ranges are configured: the server cannot
    /// place its rows.
    pub fn missing_ranges(&self, model: &SchemaModel) -> Option<&'static str> {
        if !self.ranges.is_empty() {
            return None;
        }
        model
            .types
            .iter()
            .find(|t| matches!(t.shard, Some(s) if s.strategy == ShardStrategy::Range))
            .map(|t| t.name)
    }
}

/// The shards: one [`Database`] (its own pool) per shard, and the key mapping.
pub struct ShardRouter {
    map: ShardMap,
    shards: Vec<Database>,
    labels: Vec<String>,
}

impl ShardRouter {
    /// Opens a pool per shard (connections are made when first needed).
    pub async fn connect(
        settings: &ShardSettings,
        pool: &PoolSettings,
    ) -> Result<Option<Arc<ShardRouter>>, DbError> {
        let Some(map) = ShardMap::new(settings) else {
            return Ok(None);
        };
        let mut shards = Vec::with_capacity(settings.urls.len());
        for url in &settings.urls {
            shards.push(Database::connect(url, pool).await?);
        }
        let labels = (0..shards.len()).map(|i| format!("shard-{i}")).collect();
        Ok(Some(Arc::new(ShardRouter {
            map,
            shards,
            labels,
        })))
    }

    /// The key mapping.
    pub fn map(&self) -> &ShardMap {
        &self.map
    }

    /// Number of shards.
    pub fn count(&self) -> usize {
        self.shards.len()
    }

    /// Shard `index`'s database.
    pub fn database(&self, index: usize) -> Option<&Database> {
        self.shards.get(index)
    }

    /// Every shard's database with its label (`shard-0`, …), in shard order.
    pub fn databases(&self) -> impl Iterator<Item = (&str, &Database)> {
        self.labels
            .iter()
            .map(String::as_str)
            .zip(self.shards.iter())
    }
}

/// Which tables a database holds: with shards, the primary holds the reference tables (types
/// without `@shard`) and each shard the sharded types' tables; without shards the primary holds
/// every table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds {
    /// Every table (no shards configured).
    Every,
    /// The reference tables (the primary of shards).
    Reference,
    /// The sharded types' tables (a shard).
    Sharded,
}

impl Holds {
    /// What `database` holds as a primary: every table, or the reference tables when it has
    /// shards.
    pub fn primary(database: &Database) -> Holds {
        if database.shard_router().is_some() {
            Holds::Reference
        } else {
            Holds::Every
        }
    }

    /// Whether the database holds `ty`'s table.
    pub fn table(self, ty: &TypeModel) -> bool {
        match self {
            Holds::Every => true,
            Holds::Reference => ty.shard.is_none(),
            Holds::Sharded => ty.shard.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(count: usize, ranges: Vec<KeyRange>) -> ShardSettings {
        ShardSettings {
            urls: (0..count)
                .map(|i| crate::db::DatabaseUrl::Postgres {
                    url: format!("postgres://h/s{i}"),
                })
                .collect(),
            ranges,
        }
    }

    #[test]
    fn no_urls_no_map() {
        assert!(ShardMap::new(&settings(0, vec![])).is_none());
        assert_eq!(
            ShardMap::new(&settings(3, vec![])).map(|m| m.count()),
            Some(3)
        );
    }

    #[test]
    fn ranges_place_keys_in_shard_order() {
        let ranges = vec![
            KeyRange {
                first: 1,
                last: 1_000_000,
            },
            KeyRange {
                first: 1_000_001,
                last: 2_000_000,
            },
            KeyRange {
                first: 2_000_001,
                last: i64::MAX,
            },
        ];
        let map = ShardMap::new(&settings(3, ranges)).expect("three shards");
        let range = |key| map.shard_for(ShardStrategy::Range, key);
        assert_eq!(range(1), Ok(0));
        assert_eq!(range(1_000_000), Ok(0));
        assert_eq!(range(1_000_001), Ok(1));
        assert_eq!(range(2_000_001), Ok(2));
        assert_eq!(range(i64::MAX), Ok(2));
        assert_eq!(range(0), Err(ShardError::OutsideRanges { key: 0 }));
        let hashed = ShardMap::new(&settings(3, vec![])).expect("three shards");
        assert_eq!(
            hashed.shard_for(ShardStrategy::Range, 5),
            Err(ShardError::NoRanges)
        );
        assert_eq!(
            hashed.shard_for(ShardStrategy::Hash, 5),
            Ok(hash_shard(5, 3))
        );
    }
}
