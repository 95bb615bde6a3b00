//! A custom query resolver's own result, cached by its arguments:
//! `#[fraiseql::query(cache(ttl = 3600))]`. The rows the function returned are kept in
//! process (typed, cloned out on a hit) for at most `ttl` seconds, whatever the document
//! selects under them (relations below are still loaded per request), and invalidated like any
//! entry that reads the rows' whole table: a mutation of that table, here or (over NATS)
//! anywhere, makes them unusable. It uses the process's result cache (`serve` starts one);
//! without one, or with `FRAISEQL_CACHE=off`, the function simply runs.
//!
//! The key is the arguments alone: a resolver whose answer depends on the caller (a header)
//! must not use it.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::entry::now_ms;
use super::tags::Tag;
use super::ResultCache;
use crate::resolver::{resolved, Arguments, Resolved, ResolverError};
use crate::row::TableRow;

/// Argument sets one resolver keeps results for (least recently used go first).
const MAX_ENTRIES: u64 = 10_000;

/// The cache of one resolver function; generated code declares it as a `static`.
pub struct ResolverCache {
    ttl_seconds: u32,
    entries: OnceLock<moka::sync::Cache<Vec<u8>, Arc<Kept>>>,
}

struct Kept {
    rows: Box<dyn Any + Send + Sync>,
    created_ms: u64,
    versions: Vec<u64>,
}

impl ResolverCache {
    /// A cache keeping results for `ttl_seconds`.
    pub const fn new(ttl_seconds: u32) -> ResolverCache {
        ResolverCache {
            ttl_seconds,
            entries: OnceLock::new(),
        }
    }

    fn entries(&self) -> &moka::sync::Cache<Vec<u8>, Arc<Kept>> {
        self.entries.get_or_init(|| {
            moka::sync::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(Duration::from_secs(u64::from(self.ttl_seconds)))
                .build()
        })
    }

    /// The rows for `args`: kept ones when still valid, else `run`'s (kept for next time).
    pub async fn rows<R, F>(&self, args: &Arguments, run: F) -> Result<Resolved, ResolverError>
    where
        R: TableRow + Clone,
        F: Future<Output = Result<Vec<R>, ResolverError>>,
    {
        let cache = ResultCache::current().filter(|c| c.enabled());
        let Some((cache, table)) = cache.and_then(|c| {
            let (index, _) = c.model.type_named(R::TYPE_NAME)?;
            Some((c, index))
        }) else {
            return run.await.map(resolved);
        };
        let tags = [Tag::All, Tag::Table(table)];
        // serde_json's maps are ordered by key, so equal arguments give equal bytes.
        let key = serde_json::to_vec(args).unwrap_or_default();
        let versions = cache.versions.read(&tags);
        let ttl_ms = u64::from(self.ttl_seconds) * 1000;
        let metrics = &cache.metrics.cache;
        if let Some(kept) = self.entries().get(&key) {
            let limit = ttl_ms.min(
                cache
                    .cut_ms(super::Tier::L1, kept.created_ms)
                    .unwrap_or(u64::MAX),
            );
            let fresh = now_ms() < kept.created_ms.saturating_add(limit);
            if kept.versions == versions && fresh {
                if let Some(rows) = kept.rows.downcast_ref::<Vec<R>>() {
                    metrics.hits.with_label_values(&["l1"]).inc();
                    return Ok(resolved(rows.clone()));
                }
            }
        }
        metrics.misses.with_label_values(&["l1"]).inc();
        let rows = run.await?;
        // As for every entry: a write that committed while the function ran keeps it out.
        if cache.versions.unchanged(&tags, &versions) {
            self.entries().insert(
                key,
                Arc::new(Kept {
                    rows: Box::new(rows.clone()),
                    created_ms: now_ms(),
                    versions,
                }),
            );
        }
        Ok(resolved(rows))
    }
}
