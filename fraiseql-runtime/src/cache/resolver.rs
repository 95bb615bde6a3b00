//! A custom query resolver's own result, cached by its arguments:
//! `#[fraiseql::query(cache(ttl = 3600))]`. The rows the function returned are kept in
//! process (typed, cloned out on a hit) for at most `ttl` seconds, whatever the document
//! selects under them (relations below are still loaded per request), and invalidated like any
//! entry that reads the rows' whole table: a mutation of that table, here or (over NATS)
//! anywhere, makes them unusable. It uses the process's result cache (`serve` starts one);
//! without one, or with `FRAISEQL_CACHE=off`, the function simply runs.
//!
//! The key is the arguments and the caller's verified claims (all but the per-token `exp`,
//! `iat`, `nbf` and `jti`), so a resolver that scopes its SQL by `ctx.claims()` never hands
//! one tenant's rows to another. A resolver whose answer depends on a request header must not
//! use it: headers are not part of the key.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::entry::now_ms;
use super::tags::Tag;
use super::ResultCache;
use crate::auth::Claims;
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
    pub async fn rows<R, F>(
        &self,
        args: &Arguments,
        claims: Option<&Claims>,
        run: F,
    ) -> Result<Resolved, ResolverError>
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
        let key = key(args, claims);
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

/// The entry's key: the arguments, then who the caller is. serde_json's maps are ordered by
/// key (no `preserve_order`), so equal arguments give equal bytes.
fn key(args: &Arguments, claims: Option<&Claims>) -> Vec<u8> {
    let mut key = serde_json::to_vec(args).unwrap_or_default();
    key.push(0);
    if let Some(claims) = claims {
        key.extend(claims.caller_key());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: serde_json::Value) -> Claims {
        match value {
            serde_json::Value::Object(map) => Claims::new(map),
            _ => Claims::default(),
        }
    }

    #[test]
    fn callers_with_different_claims_never_share_an_entry() {
        let args = Arguments::default();
        let a = claims(json!({"sub": "u1", "tenant": "a", "exp": 1}));
        let b = claims(json!({"sub": "u1", "tenant": "b", "exp": 1}));
        assert_ne!(key(&args, Some(&a)), key(&args, Some(&b)));
        assert_ne!(key(&args, Some(&a)), key(&args, None));
    }

    #[test]
    fn a_fresh_token_of_the_same_caller_shares_the_entry() {
        let args = Arguments::default();
        let first = claims(json!({"tenant": "a", "exp": 1, "iat": 0, "jti": "x"}));
        let second = claims(json!({"tenant": "a", "exp": 9, "iat": 8, "jti": "y"}));
        assert_eq!(key(&args, Some(&first)), key(&args, Some(&second)));
    }
}
