//! Prometheus metrics served at `/metrics`. One registry per server (not the global default),
//! so tests running several servers in one process never share counters.

use prometheus::{Encoder, GaugeVec, IntCounter, IntGaugeVec, Opts, Registry, TextEncoder};

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
}

struct ReplicaGauges {
    lag_seconds: GaugeVec,
    healthy: IntGaugeVec,
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
        Ok(Metrics {
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
