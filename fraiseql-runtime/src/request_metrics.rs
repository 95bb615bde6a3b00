//! Request metrics of the GraphQL endpoint: responses by operation and status, latency by
//! operation, requests in flight, and GraphQL errors by `extensions.code`.
//!
//! Operation names come from clients, so the label set is bounded: the first
//! [`MAX_OPERATION_NAMES`] distinct valid names are kept, later ones count as `other`;
//! requests without a name are `anonymous`.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

use crate::db::stats::RequestStatements;

/// Distinct operation names kept as label values.
pub const MAX_OPERATION_NAMES: usize = 100;

/// The `operation` label of requests without an operation name.
const ANONYMOUS: &str = "anonymous";

/// Latency buckets in seconds: 1 ms to 10 s (the alert threshold, 500 ms, is one of them).
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Statements-per-request buckets.
const STATEMENT_BUCKETS: &[f64] = &[0.0, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 1000.0];

/// The metrics of requests.
pub struct RequestMetrics {
    /// `fraiseql_http_requests_total{operation,status}`.
    requests: IntCounterVec,
    /// `fraiseql_http_request_duration_seconds{operation}`.
    duration: HistogramVec,
    /// `fraiseql_http_requests_in_flight`.
    in_flight: IntGauge,
    /// `fraiseql_graphql_errors_total{code}`.
    errors: IntCounterVec,
    /// `fraiseql_sql_statements_per_request`.
    statements: Histogram,
    /// `fraiseql_sql_duration_seconds{route}`.
    sql_duration: HistogramVec,
    names: Mutex<HashSet<String>>,
    /// The series almost every request lands in, looked up once: `with_label_values` hashes
    /// the labels and takes a lock on every call.
    common: CommonSeries,
}

/// Pre-resolved children of the labelled metrics for the most frequent labels.
struct CommonSeries {
    anonymous_ok: prometheus::IntCounter,
    anonymous_duration: Histogram,
    sql_primary: Histogram,
}

/// Decrements the in-flight gauge when the request ends, however it ends.
pub struct InFlight(IntGauge);

impl InFlight {
    /// Requests in flight now, this one included.
    pub fn count(&self) -> i64 {
        self.0.get()
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl RequestMetrics {
    /// Registers the metrics in `registry`.
    pub fn register(registry: &Registry) -> Result<RequestMetrics, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "fraiseql_http_requests_total",
                "GraphQL HTTP responses by operation name and status code",
            ),
            &["operation", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "fraiseql_http_request_duration_seconds",
                "Time from receiving a GraphQL request to its response, by operation name",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["operation"],
        )?;
        let in_flight = IntGauge::new(
            "fraiseql_http_requests_in_flight",
            "GraphQL requests being answered now",
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "fraiseql_graphql_errors_total",
                "GraphQL errors in responses, by extensions.code",
            ),
            &["code"],
        )?;
        let statements = Histogram::with_opts(
            HistogramOpts::new(
                "fraiseql_sql_statements_per_request",
                "SQL statements one GraphQL request ran (one per root and relation field per level; hundreds mean something is wrong)",
            )
            .buckets(STATEMENT_BUCKETS.to_vec()),
        )?;
        let sql_duration = HistogramVec::new(
            HistogramOpts::new(
                "fraiseql_sql_duration_seconds",
                "Time of each SQL statement, by route (primary, replica, shard)",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )?;
        registry.register(Box::new(statements.clone()))?;
        registry.register(Box::new(sql_duration.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        let common = CommonSeries {
            anonymous_ok: requests.with_label_values(&[ANONYMOUS, "200"]),
            anonymous_duration: duration.with_label_values(&[ANONYMOUS]),
            sql_primary: sql_duration.with_label_values(&["primary"]),
        };
        Ok(RequestMetrics {
            requests,
            duration,
            in_flight,
            errors,
            statements,
            sql_duration,
            names: Mutex::new(HashSet::new()),
            common,
        })
    }

    /// A request started; the guard ends it.
    pub fn started(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// A response went out.
    pub fn finished(&self, operation: Option<&str>, status: &str, elapsed: Duration) {
        if operation.is_none() && status == "200" {
            self.common.anonymous_ok.inc();
            self.common
                .anonymous_duration
                .observe(elapsed.as_secs_f64());
            return;
        }
        let operation = self.label(operation);
        self.requests
            .with_label_values(&[operation.as_ref(), status])
            .inc();
        self.duration
            .with_label_values(&[operation.as_ref()])
            .observe(elapsed.as_secs_f64());
    }

    /// The SQL statements of one request.
    pub fn statements(&self, request: &RequestStatements) {
        self.statements.observe(request.timings.len() as f64);
        for (pool, elapsed) in &request.timings {
            // `replica-0` → `replica`: a bounded label set whatever the number of servers.
            let route = pool.split('-').next().unwrap_or("primary");
            if route == "primary" {
                self.common.sql_primary.observe(elapsed.as_secs_f64());
                continue;
            }
            self.sql_duration
                .with_label_values(&[route])
                .observe(elapsed.as_secs_f64());
        }
    }

    /// Counts the `extensions.code` of each error in a response body that has errors (read
    /// only then: bodies without errors cost one prefix comparison).
    pub fn count_errors(&self, body: &[u8]) {
        if !body.starts_with(b"{\"errors\"") {
            return;
        }
        #[derive(serde::Deserialize)]
        struct Body {
            errors: Vec<Error>,
        }
        #[derive(serde::Deserialize)]
        struct Error {
            #[serde(default)]
            extensions: Option<Extensions>,
        }
        #[derive(serde::Deserialize)]
        struct Extensions {
            code: Option<String>,
        }
        let Ok(parsed) = serde_json::from_slice::<Body>(body) else {
            return;
        };
        for error in parsed.errors {
            let code = error
                .extensions
                .and_then(|e| e.code)
                .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
                .unwrap_or_else(|| "NONE".to_string());
            self.errors.with_label_values(&[code.as_str()]).inc();
        }
    }

    fn label<'a>(&self, operation: Option<&'a str>) -> std::borrow::Cow<'a, str> {
        let Some(name) = operation else {
            return ANONYMOUS.into();
        };
        if !is_graphql_name(name) {
            return "other".into();
        }
        let mut names = self
            .names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if names.contains(name) {
            return name.into();
        }
        if names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_owned());
            return name.into();
        }
        "other".into()
    }
}

/// `[_A-Za-z][_0-9A-Za-z]*`, at most 128 characters.
fn is_graphql_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= 128
        && bytes
            .next()
            .is_some_and(|b| b == b'_' || b.is_ascii_alphabetic())
        && bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        let m = RequestMetrics::register(&Registry::new()).unwrap();
        assert_eq!(m.label(None), "anonymous");
        assert_eq!(m.label(Some("has space")), "other");
        for i in 0..MAX_OPERATION_NAMES {
            assert_eq!(m.label(Some(&format!("Op{i}"))), format!("Op{i}"));
        }
        assert_eq!(m.label(Some("OneTooMany")), "other");
        assert_eq!(m.label(Some("Op7")), "Op7");
    }

    #[test]
    fn error_codes_are_counted() {
        let m = RequestMetrics::register(&Registry::new()).unwrap();
        m.count_errors(br#"{"errors":[{"message":"a","extensions":{"code":"CONFLICT"}},{"message":"b"}],"data":null}"#);
        m.count_errors(br#"{"data":{}}"#);
        assert_eq!(m.errors.with_label_values(&["CONFLICT"]).get(), 1);
        assert_eq!(m.errors.with_label_values(&["NONE"]).get(), 1);
    }
}
