//! The result cache: root fields' parts of responses, kept per root field so one uncacheable
//! field does not spoil the others in a document.
//!
//! - `policy`: per document, what the schema allows each root field and what the operation
//!   asks (`@cache`); `request`: per request, the policy granted, the key, the tags and the
//!   HTTP caching of the response.
//! - Tiers: `l1` (in-process moka, bounded in bytes) and `redis` (the region's Redis, behind a
//!   timeout and a circuit breaker). `flight`: concurrent misses of one key run once.
//! - Invalidation: `tags` (versions checked on every read), `nats` (the bus between instances
//!   and regions).
//!
//! Lookups go L1 → (single flight) → L2 → database; parts with errors are never stored.

pub mod config;
mod entry;
mod flight;
mod key;
mod l1;
mod nats;
pub(crate) mod policy;
mod redis;
pub(crate) mod request;
mod resolver;
mod tags;

use std::sync::{Arc, Mutex, Weak};

use sha2::{Digest, Sha256};

pub use config::{cache_settings, CacheConfigError, CacheSettings};
pub(crate) use policy::DocumentCache;
pub use request::{CacheControl, HttpCaching, CONSISTENCY_HEADER};
pub use resolver::ResolverCache;

use crate::exec::{ExecOutcome, RootSource, Written};
use crate::metrics::Metrics;
use crate::model::SchemaModel;
use entry::{now_ms, Entry, Freshness};
use flight::{follow, Flights, Joined};
use l1::L1;
use nats::Bus;
use request::{Fill, RootState, Source};
use tags::{LocalVersions, Tag};

/// The server's result cache.
pub struct ResultCache {
    settings: CacheSettings,
    model: &'static SchemaModel,
    l1: Option<L1>,
    l2: Option<Arc<redis::L2>>,
    bus: Option<Bus>,
    versions: LocalVersions,
    flights: Arc<Flights>,
    metrics: Arc<Metrics>,
}

/// The cache could not start (a backend's client refused its settings).
#[derive(Debug, thiserror::Error)]
pub enum CacheStartError {
    /// The Redis client.
    #[error("cannot set up the Redis client for REDIS_URL: {0}")]
    Redis(String),
    /// The NATS client.
    #[error("cannot set up the NATS client for NATS_URL: {0}")]
    Nats(String),
}

/// A backend's state, for `/health/ready`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendStatus {
    /// Not configured.
    Off,
    /// Answering.
    Ok,
    /// Failing: requests go on without it.
    Down,
}

impl BackendStatus {
    /// `off`, `ok` or `down`.
    pub fn as_str(&self) -> &'static str {
        match self {
            BackendStatus::Off => "off",
            BackendStatus::Ok => "ok",
            BackendStatus::Down => "down",
        }
    }
}

/// The process's result cache (the last one started), for what generated code caches outside
/// a request's plan: resolvers' own results.
static CURRENT: Mutex<Weak<ResultCache>> = Mutex::new(Weak::new());

/// Which tier a cut applies to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tier {
    L1,
    L2,
}

impl ResultCache {
    /// Starts the cache: L1, and the Redis and NATS clients when configured (they connect in
    /// the background; a backend that is down at start only makes the cache degraded). Must run
    /// on a runtime that lives as long as the server.
    pub async fn start(
        settings: CacheSettings,
        model: &'static SchemaModel,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<ResultCache>, CacheStartError> {
        let on = settings.enabled;
        let l1 = (on && settings.l1_bytes > 0).then(|| {
            L1::new(
                settings.l1_bytes,
                metrics.cache.evictions.with_label_values(&["l1"]),
            )
        });
        let l2 = match (&settings.redis_url, on) {
            (Some(url), true) => Some(
                redis::L2::start(
                    url,
                    &settings.redis_prefix,
                    settings.redis_timeout,
                    settings.redis_retry,
                    metrics.cache.errors.with_label_values(&["redis"]),
                    metrics.cache.evictions.with_label_values(&["l2"]),
                )
                .map_err(|e| CacheStartError::Redis(e.to_string()))?,
            ),
            _ => None,
        };
        let origin = instance_id(&settings.region);
        let (bus, received) = match (&settings.nats_url, on) {
            (Some(url), true) => {
                let (bus, received) = Bus::start(
                    url,
                    &settings.nats_subject,
                    &origin,
                    metrics.cache.errors.with_label_values(&["nats"]),
                )
                .await
                .map_err(|e| CacheStartError::Nats(e.to_string()))?;
                (Some(bus), Some(received))
            }
            _ => (None, None),
        };
        if on && l2.is_some() && bus.is_none() {
            tracing::warn!(
                "REDIS_URL is set but NATS_URL is not: other instances cannot tell this one's L1 about their writes, so L1 entries are served for at most FRAISEQL_CACHE_NATS_DOWN_TTL_S"
            );
        }
        let cache = Arc::new(ResultCache {
            versions: LocalVersions::new(model.types.len()),
            settings,
            model,
            l1,
            l2,
            bus,
            flights: Arc::new(Flights::default()),
            metrics,
        });
        if let Some(received) = received {
            tokio::spawn(apply_received(Arc::downgrade(&cache), received));
        }
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Arc::downgrade(&cache);
        tracing::info!(
            region = %cache.settings.region,
            l1_bytes = cache.l1.as_ref().map_or(0, |_| cache.settings.l1_bytes),
            l2 = cache.l2.is_some(),
            nats = cache.bus.is_some(),
            instance = %origin,
            "result cache started"
        );
        Ok(cache)
    }

    /// The process's result cache, if one was started and is still alive.
    pub(crate) fn current() -> Option<Arc<ResultCache>> {
        CURRENT.lock().unwrap_or_else(|e| e.into_inner()).upgrade()
    }

    /// The region this instance belongs to.
    pub fn region(&self) -> &str {
        &self.settings.region
    }

    /// Redis's state.
    pub fn redis_status(&self) -> BackendStatus {
        match &self.l2 {
            None => BackendStatus::Off,
            Some(l2) if l2.healthy() => BackendStatus::Ok,
            Some(_) => BackendStatus::Down,
        }
    }

    /// NATS's state.
    pub fn nats_status(&self) -> BackendStatus {
        match &self.bus {
            None => BackendStatus::Off,
            Some(bus) if bus.link.connected() => BackendStatus::Ok,
            Some(_) => BackendStatus::Down,
        }
    }

    /// Sets the gauges read at scrape time (bytes per tier, hit ratios).
    pub fn observe(&self) {
        let m = &self.metrics.cache;
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        m.bytes
            .with_label_values(&["l1"])
            .set(as_i64(self.l1.as_ref().map_or(0, L1::bytes)));
        m.bytes
            .with_label_values(&["l2"])
            .set(as_i64(self.l2.as_ref().map_or(0, |l2| l2.bytes())));
        m.set_hit_ratios();
    }

    /// Whether results are looked up and stored (`FRAISEQL_CACHE`).
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// The most an entry made at `created_ms` may be served for, when invalidations may have
    /// been missed (NATS down or back only after the entry was made; or, for L1, a shared L2
    /// with no NATS at all).
    fn cut_ms(&self, tier: Tier, created_ms: u64) -> Option<u64> {
        let bound = u64::try_from(self.settings.nats_down_ttl.as_millis()).unwrap_or(u64::MAX);
        match &self.bus {
            Some(bus) => bus.link.may_have_missed(created_ms).then_some(bound),
            None => (tier == Tier::L1 && self.l2.is_some()).then_some(bound),
        }
    }

    /// Looks up every cacheable root field: L1, then (leading a flight) L2; fields another
    /// request is already running wait for its entry when this request leads none.
    pub(crate) async fn lookup(&self, roots: &mut [RootState]) {
        if !self.enabled() {
            return;
        }
        let hits = &self.metrics.cache.hits;
        let misses = &self.metrics.cache.misses;
        let now = now_ms();
        let mut followers = Vec::new();
        let mut to_fetch = Vec::new();
        for (index, root) in roots.iter_mut().enumerate() {
            if !root.cacheable {
                continue;
            }
            let local = self.versions.read(&root.tags);
            if let Some(l1) = &self.l1 {
                match l1.get(&root.key) {
                    Some(entry) if entry.versions == local => {
                        let cut_ms = self.cut_ms(Tier::L1, entry.created_ms);
                        match entry.freshness(now, cut_ms) {
                            Freshness::Fresh => {
                                hits.with_label_values(&["l1"]).inc();
                                root.source = Source::Cached { entry, cut_ms };
                                continue;
                            }
                            Freshness::Stale => match self.flights.try_lead(root.key) {
                                // Another request is refreshing it: serve it stale meanwhile.
                                None => {
                                    hits.with_label_values(&["l1"]).inc();
                                    root.source = Source::Cached { entry, cut_ms };
                                    continue;
                                }
                                // This request refreshes it.
                                Some(leader) => {
                                    misses.with_label_values(&["l1"]).inc();
                                    root.source = Source::Fill(Fill {
                                        leader: Some(leader),
                                        local,
                                        l2: None,
                                    });
                                    // Another instance may have refreshed it in L2 already.
                                    to_fetch.push(index);
                                    continue;
                                }
                            },
                            Freshness::Expired => {}
                        }
                    }
                    Some(_) => l1.remove(&root.key),
                    None => {}
                }
            }
            match self.flights.join(root.key) {
                Joined::Leader(leader) => {
                    if self.l1.is_some() {
                        misses.with_label_values(&["l1"]).inc();
                    }
                    root.source = Source::Fill(Fill {
                        leader: Some(leader),
                        local,
                        l2: None,
                    });
                    to_fetch.push(index);
                }
                Joined::Follower(receiver) => followers.push((index, receiver, local)),
            }
        }
        if !to_fetch.is_empty() {
            self.fetch_l2(roots, &to_fetch, now).await;
        }
        let leads = roots
            .iter()
            .any(|r| matches!(&r.source, Source::Fill(f) if f.leader.is_some()));
        for (index, receiver, local) in followers {
            let root = &mut roots[index];
            // Waiting while leading a flight could wait on a request that waits on this one.
            let entry = if leads { None } else { follow(receiver).await };
            match entry {
                Some(entry) => {
                    hits.with_label_values(&["l1"]).inc();
                    let cut_ms = self.cut_ms(Tier::L1, entry.created_ms);
                    root.source = Source::Cached { entry, cut_ms };
                }
                None => {
                    if self.l1.is_some() {
                        misses.with_label_values(&["l1"]).inc();
                    }
                    root.source = Source::Fill(Fill {
                        leader: None,
                        local,
                        l2: None,
                    });
                }
            }
        }
    }

    /// Reads the leaders' keys from L2 in one round trip.
    async fn fetch_l2(&self, roots: &mut [RootState], indexes: &[usize], now: u64) {
        let Some(l2) = &self.l2 else {
            return;
        };
        if !l2.healthy() {
            return;
        }
        let items: Vec<_> = indexes
            .iter()
            .map(|&i| (roots[i].key, self.tag_names(&roots[i].tags)))
            .collect();
        let fetched = match l2.fetch(&items).await {
            Ok(fetched) => fetched,
            Err(e) => {
                tracing::debug!(error = %e, "L2 lookup skipped");
                return;
            }
        };
        let hits = self.metrics.cache.hits.with_label_values(&["l2"]);
        let misses = self.metrics.cache.misses.with_label_values(&["l2"]);
        for (&index, fetched) in indexes.iter().zip(fetched) {
            let root = &mut roots[index];
            let Source::Fill(fill) = &mut root.source else {
                continue;
            };
            let usable = fetched.entry.filter(|e| {
                e.versions == fetched.versions
                    && e.freshness(now, self.cut_ms(Tier::L2, e.created_ms)) == Freshness::Fresh
            });
            let Some(found) = usable else {
                misses.inc();
                fill.l2 = Some(fetched.versions);
                continue;
            };
            hits.inc();
            // L1 checks its own versions: the ones read before this lookup.
            let entry = Arc::new(Entry {
                versions: fill.local.clone(),
                ..found
            });
            if let Some(l1) = &self.l1 {
                if self.versions.unchanged(&root.tags, &fill.local) {
                    l1.insert(root.key, entry.clone());
                }
            }
            if let Some(leader) = fill.leader.take() {
                leader.finish(Some(entry.clone()));
            }
            let cut_ms = self.cut_ms(Tier::L2, entry.created_ms);
            root.source = Source::Cached { entry, cut_ms };
        }
    }

    /// Stores the parts run for the cache and ends this request's flights.
    pub(crate) async fn store(&self, roots: &mut [RootState], outcome: &ExecOutcome) {
        let ttl_ms = |root: &RootState| {
            root.granted
                .policy
                .map_or(0, |p| u64::from(p.ttl_seconds) * 1000)
        };
        let stale_ms = u64::try_from(self.settings.stale.as_millis()).unwrap_or(u64::MAX);
        for (index, root) in roots.iter_mut().enumerate() {
            // Only parts run for the cache; a cached one keeps its source (its remaining ttl
            // sets the response's max-age).
            if !matches!(root.source, Source::Fill(_)) {
                continue;
            }
            let Source::Fill(fill) = std::mem::replace(&mut root.source, Source::Run) else {
                continue;
            };
            let part = outcome
                .parts
                .get(index)
                .and_then(Option::as_ref)
                .filter(|p| !p.has_errors);
            let Some(part) = part else {
                if let Some(leader) = fill.leader {
                    leader.finish(None);
                }
                continue;
            };
            let entry = Arc::new(Entry::new(
                part.json.clone(),
                &root.key,
                ttl_ms(root),
                stale_ms,
                self.settings.jitter_pct,
                fill.local.clone(),
            ));
            let storable = part.json.len() as u64 <= self.settings.max_entry_bytes;
            // The version check: a write that committed while the SQL ran makes this entry
            // unusable, so it is not stored (its followers still get it: they asked first).
            if storable && self.versions.unchanged(&root.tags, &fill.local) {
                if let Some(l1) = &self.l1 {
                    l1.insert(root.key, entry.clone());
                }
            }
            if let Some(leader) = fill.leader {
                leader.finish(Some(entry.clone()));
            }
            if let (true, Some(l2), Some(versions)) = (storable, &self.l2, fill.l2) {
                let shared = Entry {
                    json: entry.json.clone(),
                    versions,
                    ..*entry
                };
                if let Err(e) = l2
                    .store(&root.key, &self.tag_names(&root.tags), &shared)
                    .await
                {
                    tracing::debug!(error = %e, "L2 store skipped");
                }
            }
        }
    }

    /// Applies what a mutation wrote: the region's L2, then this instance's L1, then every
    /// other instance over NATS. L2 goes first: were L1's versions bumped first, a read in
    /// between would miss L1, find the old entry still valid in L2 and copy it into L1 under
    /// the new versions.
    pub async fn invalidate(&self, written: &[Written]) {
        if written.is_empty() || !self.enabled() {
            return;
        }
        let mut tags = Vec::new();
        for w in written {
            tags.push(Tag::Table(w.type_index));
            match w.key {
                Some(key) => tags.push(Tag::row(self.model.types[w.type_index].table, key)),
                None => tags.push(Tag::Keyed(w.type_index)),
            }
        }
        tags.sort_unstable();
        tags.dedup();
        let names = self.tag_names(&tags);
        let l2_applied = match &self.l2 {
            Some(l2) => match l2.invalidate(&names).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "L2 invalidation postponed until Redis answers");
                    false
                }
            },
            None => false,
        };
        self.versions.bump(&tags);
        if let Some(bus) = &self.bus {
            if bus.publish(&self.settings.region, l2_applied, names).await {
                self.metrics.cache.invalidations_sent.inc();
            }
        }
    }

    fn tag_names(&self, tags: &[Tag]) -> Vec<String> {
        tags.iter().map(|t| t.name(self.model)).collect()
    }

    /// The local tags named in a message (tables this schema does not have are skipped).
    fn tags_named(&self, names: &[String]) -> Vec<Tag> {
        let table = |name: &str| self.model.types.iter().position(|t| t.table == name);
        names
            .iter()
            .filter_map(|name| {
                if name == "all" {
                    return Some(Tag::All);
                }
                let (kind, rest) = name.split_once(':')?;
                match kind {
                    "t" => table(rest).map(Tag::Table),
                    "k" => table(rest).map(Tag::Keyed),
                    "r" => rest.parse().ok().map(Tag::Row),
                    _ => None,
                }
            })
            .collect()
    }
}

/// The sources the executor runs with, in plan order.
pub(crate) fn sources(roots: &[RootState]) -> Vec<RootSource<'_>> {
    roots
        .iter()
        .map(|root| match &root.source {
            Source::Run => RootSource::Run,
            Source::Cached { entry, .. } => RootSource::Cached(&entry.json),
            Source::Fill(_) => RootSource::Keep,
        })
        .collect()
}

/// Applies invalidations other instances publish, until the cache is dropped.
async fn apply_received(
    cache: Weak<ResultCache>,
    mut received: tokio::sync::mpsc::Receiver<nats::Message>,
) {
    while let Some(message) = received.recv().await {
        let Some(cache) = cache.upgrade() else {
            return;
        };
        let tags = cache.tags_named(&message.tags);
        // L2 before L1, as for this instance's own writes (see `invalidate`).
        let same_region = message.region == cache.settings.region;
        if let (Some(l2), false) = (&cache.l2, same_region && message.l2) {
            if let Err(e) = l2.invalidate(&message.tags).await {
                tracing::warn!(error = %e, "L2 invalidation from another instance postponed until Redis answers");
            }
        }
        cache.versions.bump(&tags);
        cache.metrics.cache.invalidations_received.inc();
    }
}

/// A name for this process in invalidation messages: region, host process and start time.
fn instance_id(region: &str) -> String {
    let seed = format!(
        "{region}:{}:{}:{:?}",
        std::process::id(),
        now_ms(),
        std::time::Instant::now()
    );
    let digest = Sha256::digest(seed.as_bytes());
    format!("{region}-{}", hex::encode(&digest[..6]))
}
