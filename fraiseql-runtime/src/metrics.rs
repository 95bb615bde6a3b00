//! Prometheus metrics served at `/metrics`. One registry per server (not the global default),
//! so tests running several servers in one process never share counters.

use prometheus::{Encoder, IntCounter, IntCounterVec, Opts, Registry, TextEncoder};

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
        Ok(Metrics {
            registry,
            documents_parsed,
            plan_cache_hits,
            plan_cache_misses,
            http_requests,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Encoding gathered families into a Vec cannot fail for valid metric names.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}
