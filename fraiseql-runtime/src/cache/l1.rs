//! L1: the in-process tier, a moka cache bounded in bytes (each entry weighs its JSON plus a
//! small overhead). Entries leave when they may no longer be served (past their stale bound),
//! when the byte bound evicts them (least recently used first), or when a lookup finds their
//! versions out of date.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::notification::RemovalCause;
use moka::sync::Cache;
use moka::Expiry;
use prometheus::IntCounter;

use super::entry::{now_ms, Entry};
use super::key::Key;

/// The in-process tier.
pub(crate) struct L1 {
    entries: Cache<Key, Arc<Entry>>,
}

/// Each entry lives until it may no longer be served.
struct UntilStale;

impl Expiry<Key, Arc<Entry>> for UntilStale {
    fn expire_after_create(
        &self,
        _key: &Key,
        entry: &Arc<Entry>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(Duration::from_millis(entry.keep_ms(now_ms())))
    }

    fn expire_after_update(
        &self,
        key: &Key,
        entry: &Arc<Entry>,
        updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        self.expire_after_create(key, entry, updated_at)
    }
}

impl L1 {
    /// A tier holding at most `bytes`; `evictions` counts entries pushed out by the bound.
    pub fn new(bytes: u64, evictions: IntCounter) -> L1 {
        let entries = Cache::builder()
            .max_capacity(bytes)
            .weigher(|_key: &Key, entry: &Arc<Entry>| entry.weight())
            .expire_after(UntilStale)
            .eviction_listener(move |_key, _entry, cause| {
                if cause == RemovalCause::Size {
                    evictions.inc();
                }
            })
            .build();
        L1 { entries }
    }

    pub fn get(&self, key: &Key) -> Option<Arc<Entry>> {
        self.entries.get(key)
    }

    pub fn insert(&self, key: Key, entry: Arc<Entry>) {
        self.entries.insert(key, entry);
    }

    pub fn remove(&self, key: &Key) {
        self.entries.invalidate(key);
    }

    /// Bytes held now (pending evictions applied first, so the figure is current).
    pub fn bytes(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }
}
