//! Prometheus metrics served at `/metrics`. One registry per server (not the global default),
//! so tests running several servers in one process never share counters.

use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::db::PoolStatus;

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    /// Documents parsed and validated (plan-cache misses that got as far as parsing).
    pub documents_parsed: IntCounter,
    /// Requests answered from the plan cache.
    pub plan_cache_hits: IntCounter,
    /// Requests that had to parse, validate and plan.
    pub plan_cache_misses: IntCounter,
    /// HTTP responses of the GraphQL endpoint by status code.
    pub http_requests: IntCounterVec,
    /// Database sessions in use, open connections and the session limit, set at each scrape.
    pool_in_use: IntGauge,
    pool_open: IntGauge,
    pool_max: IntGauge,
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
        let http_requests = IntCounterVec::new(
            Opts::new(
                "fraiseql_http_requests_total",
                "GraphQL HTTP responses by status code",
            ),
            &["status"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        let gauge = |name: &str, help: &str| -> Result<IntGauge, MetricsError> {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let pool_in_use = gauge(
            "fraiseql_db_pool_in_use",
            "Database sessions taken and not yet returned",
        )?;
        let pool_open = gauge(
            "fraiseql_db_pool_open",
            "Database connections open, busy or idle (PostgreSQL keeps idle ones per worker)",
        )?;
        let pool_max = gauge(
            "fraiseql_db_pool_max",
            "Most database sessions in use at once",
        )?;
        Ok(Metrics {
            pool_in_use,
            pool_open,
            pool_max,
            registry,
            documents_parsed,
            plan_cache_hits,
            plan_cache_misses,
            http_requests,
        })
    }

    /// The text exposition format, with the pool gauges set from `pool` now (a gauge read at
    /// scrape time costs the request path nothing).
    pub fn render(&self, pool: PoolStatus) -> Vec<u8> {
        let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.pool_in_use.set(as_i64(pool.in_use));
        self.pool_open.set(as_i64(pool.open));
        self.pool_max.set(as_i64(pool.max_size));
        let mut out = Vec::new();
        // Encoding gathered families into a Vec cannot fail for valid metric names.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}
