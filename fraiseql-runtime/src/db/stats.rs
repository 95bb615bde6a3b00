//! What the statements of one request cost, and the slow-statement log.
//!
//! Every statement a [`super::Session`] runs is timed. Inside [`observe_request`] (the HTTP
//! layer wraps each request in it) the timings are collected per request — a task-local, so
//! nothing is threaded through the executor — for the metrics: statements per request and
//! SQL time by pool. Independently, a statement slower than the database's slow-query
//! threshold (`FRAISEQL_SLOW_QUERY_MS`) is logged with its pool, duration, the request's
//! operation name and its SQL; bound values only when `FRAISEQL_SLOW_QUERY_PARAMS=on`.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::Bind;

/// The statements of one request.
#[derive(Debug, Default)]
pub struct RequestStatements {
    /// The operation name, for the slow-statement log.
    pub operation: Option<String>,
    /// Each statement's pool label and duration, in the order they ran.
    pub timings: Vec<(Arc<str>, Duration)>,
}

tokio::task_local! {
    static REQUEST: RefCell<RequestStatements>;
}

/// Runs `future` collecting its statements; returns its output and what they cost.
pub async fn observe_request<F: Future>(future: F) -> (F::Output, RequestStatements) {
    let cell = RefCell::new(RequestStatements::default());
    REQUEST
        .scope(cell, async move {
            let output = future.await;
            let statements = REQUEST.with(|cell| std::mem::take(&mut *cell.borrow_mut()));
            (output, statements)
        })
        .await
}

/// Names the request's operation (for the slow-statement log); a no-op outside a request.
pub fn set_operation(name: Option<&str>) {
    let _ = REQUEST.try_with(|cell| cell.borrow_mut().operation = name.map(str::to_owned));
}

/// When statements are slow enough to log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlowQueryLog {
    /// `FRAISEQL_SLOW_QUERY_MS`; `None`: no log.
    pub threshold: Option<Duration>,
    /// `FRAISEQL_SLOW_QUERY_PARAMS`: include bound values (they may hold personal data).
    pub with_params: bool,
}

/// Records one statement: into the request's timings, and into the log when slow.
pub(crate) fn record(
    pool: &Arc<str>,
    slow: SlowQueryLog,
    elapsed: Duration,
    sql: &str,
    binds: &[Bind],
) {
    let operation = REQUEST
        .try_with(|cell| {
            let mut request = cell.borrow_mut();
            request.timings.push((pool.clone(), elapsed));
            request.operation.clone()
        })
        .ok()
        .flatten();
    let Some(threshold) = slow.threshold else {
        return;
    };
    if elapsed < threshold {
        return;
    }
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    let operation = operation.as_deref().unwrap_or("anonymous");
    if slow.with_params {
        tracing::warn!(
            target: "fraiseql::slow_query",
            pool = %pool, operation, duration_ms, sql, params = ?binds,
            "slow statement"
        );
    } else {
        tracing::warn!(
            target: "fraiseql::slow_query",
            pool = %pool, operation, duration_ms, sql, params = binds.len(),
            "slow statement"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn statements_are_collected_per_request() {
        let pool: Arc<str> = Arc::from("primary");
        let ((), stats) = observe_request(async {
            set_operation(Some("Op"));
            record(
                &pool,
                SlowQueryLog::default(),
                Duration::from_millis(3),
                "SELECT 1",
                &[],
            );
            record(
                &pool,
                SlowQueryLog::default(),
                Duration::from_millis(4),
                "SELECT 2",
                &[],
            );
        })
        .await;
        assert_eq!(stats.operation.as_deref(), Some("Op"));
        assert_eq!(stats.timings.len(), 2);
        // Outside a request nothing is collected and nothing fails.
        record(
            &pool,
            SlowQueryLog::default(),
            Duration::ZERO,
            "SELECT 3",
            &[],
        );
    }
}
