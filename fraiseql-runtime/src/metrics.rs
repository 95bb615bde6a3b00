//! Prometheus metrics served at `/metrics`. One registry per server (not the global default),
//! so tests running several servers in one process never share counters.

use prometheus::{
    Encoder, GaugeVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::db::{PoolStatus, ReplicaStatus};

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    /// Documents parsed and validated (plan-cache misses that got as far as parsing).
    pub documents_parsed: IntCounter,
    /// Requests answered from the plan cache.
    pub plan_cache_hits: IntCounter,
    /// Requests that had to parse, validate and plan.
    pub plan_cache_misses: IntCounter,
    /// Requests of the GraphQL endpoint: by operation and status, latency, in flight, errors.
    pub requests: crate::request_metrics::RequestMetrics,
    /// Per database pool (label `pool`: `primary`, `replica-0`, …), set at each scrape.
    pool: PoolGauges,
    /// Per read replica (label `replica`), set at each scrape.
    replica: ReplicaGauges,
    /// The result cache's.
    pub cache: CacheMetrics,
}

struct ReplicaGauges {
    lag_seconds: GaugeVec,
    healthy: IntGaugeVec,
}

/// The result cache's metrics (label `tier`: `l1` in-process, `l2` Redis; `backend`: `redis`,
/// `nats`).
pub struct CacheMetrics {
    /// Root-field lookups answered by a tier (fresh or stale).
    pub hits: IntCounterVec,
    /// Root-field lookups a tier could not answer.
    pub misses: IntCounterVec,
    /// hits / (hits + misses) per tier, set at each scrape.
    pub hit_ratio: GaugeVec,
    /// Bytes held per tier, set at each scrape (L2: Redis's `used_memory`).
    pub bytes: IntGaugeVec,
    /// Entries pushed out by a tier's size bound (L2: Redis's `evicted_keys`).
    pub evictions: IntCounterVec,
    /// Invalidations published on NATS.
    pub invalidations_sent: IntCounter,
    /// Invalidations received from other instances and applied.
    pub invalidations_received: IntCounter,
    /// Failed calls to a backend.
    pub errors: IntCounterVec,
}

impl CacheMetrics {
    /// The hit ratio gauges from the counters.
    pub fn set_hit_ratios(&self) {
        for tier in ["l1", "l2"] {
            let hits = self.hits.with_label_values(&[tier]).get() as f64;
            let misses = self.misses.with_label_values(&[tier]).get() as f64;
            let ratio = if hits + misses > 0.0 {
                hits / (hits + misses)
            } else {
                0.0
            };
            self.hit_ratio.with_label_values(&[tier]).set(ratio);
        }
    }
}

struct PoolGauges {
    size: IntGaugeVec,
    idle: IntGaugeVec,
    in_use: IntGaugeVec,
    waiting: IntGaugeVec,
    max: IntGaugeVec,
    utilisation: GaugeVec,
}

/// A metric could not be registered (a programming error: duplicate names).
#[derive(Debug, thiserror::Error)]
#[error("cannot register metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Result<Metrics, MetricsError> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| -> Result<IntCounter, MetricsError> {
            let c = IntCounter::new(name, help)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let documents_parsed = counter(
            "fraiseql_documents_parsed_total",
            "GraphQL documents parsed and validated (a document seen before is not parsed again)",
        )?;
        let plan_cache_hits = counter(
            "fraiseql_plan_cache_hits_total",
            "Requests whose document and plan came from the plan cache",
        )?;
        let plan_cache_misses = counter(
            "fraiseql_plan_cache_misses_total",
            "Requests whose document had to be parsed, validated and planned",
        )?;
        let requests = crate::request_metrics::RequestMetrics::register(&registry)?;
        let gauge = |name: &str, help: &str| -> Result<IntGaugeVec, MetricsError> {
            let g = IntGaugeVec::new(Opts::new(name, help), &["pool"])?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let utilisation = GaugeVec::new(
            Opts::new(
                "fraiseql_db_pool_utilisation",
                "Database sessions in use as a share of the most allowed (0 to 1)",
            ),
            &["pool"],
        )?;
        registry.register(Box::new(utilisation.clone()))?;
        let pool = PoolGauges {
            size: gauge(
                "fraiseql_db_pool_size",
                "Database connections open, busy or idle (PostgreSQL keeps idle ones per worker)",
            )?,
            idle: gauge(
                "fraiseql_db_pool_idle",
                "Database connections open and not in use",
            )?,
            in_use: gauge(
                "fraiseql_db_pool_in_use",
                "Database sessions taken and not yet returned",
            )?,
            waiting: gauge(
                "fraiseql_db_pool_waiting",
                "Requests waiting for a database session",
            )?,
            max: gauge(
                "fraiseql_db_pool_max",
                "Most database sessions in use at once",
            )?,
            utilisation,
        };
        let lag_seconds = GaugeVec::new(
            Opts::new(
                "fraiseql_replica_lag_seconds",
                "Replication lag of a read replica at its last probe (0 when it had replayed all \
                 the primary had written; NaN before its first answer)",
            ),
            &["replica"],
        )?;
        registry.register(Box::new(lag_seconds.clone()))?;
        let healthy = IntGaugeVec::new(
            Opts::new(
                "fraiseql_replica_healthy",
                "1 when a read replica answered its last probe as a standby (and no read failed \
                 on it since), else 0",
            ),
            &["replica"],
        )?;
        registry.register(Box::new(healthy.clone()))?;
        let replica = ReplicaGauges {
            lag_seconds,
            healthy,
        };
        let counters =
            |name: &str, help: &str, label: &str| -> Result<IntCounterVec, MetricsError> {
                let c = IntCounterVec::new(Opts::new(name, help), &[label])?;
                registry.register(Box::new(c.clone()))?;
                Ok(c)
            };
        let hit_ratio = GaugeVec::new(
            Opts::new(
                "fraiseql_cache_hit_ratio",
                "Result cache hits / (hits + misses) per tier since start (0 before any lookup)",
            ),
            &["tier"],
        )?;
        registry.register(Box::new(hit_ratio.clone()))?;
        let bytes = IntGaugeVec::new(
            Opts::new(
                "fraiseql_cache_bytes",
                "Bytes held per result cache tier (l1: this process's entries; l2: the Redis server's used_memory)",
            ),
            &["tier"],
        )?;
        registry.register(Box::new(bytes.clone()))?;
        let cache = CacheMetrics {
            hits: counters(
                "fraiseql_cache_hits_total",
                "Root-field lookups answered by a result cache tier",
                "tier",
            )?,
            misses: counters(
                "fraiseql_cache_misses_total",
                "Root-field lookups a result cache tier could not answer",
                "tier",
            )?,
            hit_ratio,
            bytes,
            evictions: counters(
                "fraiseql_cache_evictions_total",
                "Result cache entries pushed out by a tier's size bound (l2: the Redis server's evicted_keys)",
                "tier",
            )?,
            invalidations_sent: counter(
                "fraiseql_cache_invalidations_sent_total",
                "Cache invalidations this instance published on NATS",
            )?,
            invalidations_received: counter(
                "fraiseql_cache_invalidations_received_total",
                "Cache invalidations received from other instances over NATS and applied",
            )?,
            errors: counters(
                "fraiseql_cache_errors_total",
                "Failed result cache backend calls (timeouts, refused connections, disconnects)",
                "backend",
            )?,
        };
        // Every series exists from the start, so rates and alerts see zeros, not gaps.
        for tier in ["l1", "l2"] {
            cache.hits.with_label_values(&[tier]);
            cache.misses.with_label_values(&[tier]);
            cache.hit_ratio.with_label_values(&[tier]);
            cache.bytes.with_label_values(&[tier]);
            cache.evictions.with_label_values(&[tier]);
        }
        for backend in ["redis", "nats"] {
            cache.errors.with_label_values(&[backend]);
        }
        Ok(Metrics {
            cache,
            pool,
            replica,
            registry,
            documents_parsed,
            plan_cache_hits,
            plan_cache_misses,
            requests,
        })
    }

    /// The text exposition format, with the pool gauges set from `pools` (label, status) and
    /// the replica gauges from `replicas` now (a gauge read at scrape time costs the request
    /// path nothing).
    pub fn render<S: AsRef<str>>(
        &self,
        pools: &[(S, PoolStatus)],
        replicas: &[ReplicaStatus],
    ) -> Vec<u8> {
        let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        for replica in replicas {
            let labels = [replica.label.as_str()];
            self.replica
                .lag_seconds
                .with_label_values(&labels)
                .set(replica.lag.map_or(f64::NAN, |lag| lag.as_secs_f64()));
            self.replica
                .healthy
                .with_label_values(&labels)
                .set(i64::from(replica.healthy));
        }
        for (name, status) in pools {
            let labels = [name.as_ref()];
            let gauges = &self.pool;
            gauges
                .size
                .with_label_values(&labels)
                .set(as_i64(status.open));
            gauges
                .idle
                .with_label_values(&labels)
                .set(as_i64(status.idle));
            gauges
                .in_use
                .with_label_values(&labels)
                .set(as_i64(status.in_use));
            gauges
                .waiting
                .with_label_values(&labels)
                .set(as_i64(status.waiting));
            gauges
                .max
                .with_label_values(&labels)
                .set(as_i64(status.max_size));
            gauges
                .utilisation
                .with_label_values(&labels)
                .set(status.utilisation());
        }
        let mut out = Vec::new();
        // Encoding gathered families into a Vec cannot fail for valid metric names.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}
