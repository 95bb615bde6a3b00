//! The pool as a client sees it, against the real server binary on a PostgreSQL database of
//! the test's own (on the shared server: holding its connections with a table lock harms no
//! one else): an exhausted pool answers 503 with `Retry-After` within the acquire timeout and
//! recovers, the gauges show it per pool, backends terminated between requests go unnoticed,
//! and a statement past `FRAISEQL_STATEMENT_TIMEOUT_MS` is a clean GraphQL error.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::pg::{BlogDb, TableLock};
use support::TestServer;

/// The value of `name{pool="primary"}` in the Prometheus text.
fn primary_gauge(text: &str, name: &str) -> f64 {
    let prefix = format!("{name}{{pool=\"primary\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in /metrics:\n{text}"))
}

const USERS: &str = "{ users(limit: 1) { id } }";

#[test]
fn an_exhausted_pool_answers_503_with_retry_after_and_recovers() {
    let db = BlogDb::create("exhausted");
    let url = db.url();
    let server = TestServer::start(&[
        ("DATABASE_URL", &url),
        ("FRAISEQL_POOL_MAX", "2"),
        ("FRAISEQL_POOL_ACQUIRE_TIMEOUT_MS", "500"),
        // Identical cached queries would share one flight (and one connection); this test
        // needs each request on its own connection.
        ("FRAISEQL_CACHE", "off"),
    ]);
    let (_, _, metrics) = server.get("/metrics", "text/plain");
    assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_max"), 2.0);
    assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_in_use"), 0.0);
    assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_waiting"), 0.0);
    assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_utilisation"), 0.0);
    assert!(primary_gauge(&metrics, "fraiseql_db_pool_size") >= 1.0);
    assert!(primary_gauge(&metrics, "fraiseql_db_pool_idle") >= 1.0);

    let lock = TableLock::take(&db, "users");
    std::thread::scope(|scope| {
        // Two requests that hold both connections, waiting on the lock.
        let blocked: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| server.post_json(json!({ "query": USERS }))))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, _, metrics) = server.get("/metrics", "text/plain");
            if primary_gauge(&metrics, "fraiseql_db_pool_in_use") == 2.0 {
                assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_utilisation"), 1.0);
                break;
            }
            assert!(Instant::now() < deadline, "both sessions never got taken");
            std::thread::sleep(Duration::from_millis(20));
        }

        // A third waits out the acquire timeout (and is counted as waiting meanwhile).
        let started = Instant::now();
        let third = scope.spawn(|| server.post_json(json!({ "query": USERS })));
        let mut saw_waiting = false;
        while !third.is_finished() {
            let (_, _, metrics) = server.get("/metrics", "text/plain");
            saw_waiting |= primary_gauge(&metrics, "fraiseql_db_pool_waiting") == 1.0;
            std::thread::sleep(Duration::from_millis(10));
        }
        let (status, headers, body) = third.join().expect("third request");
        let waited = started.elapsed();
        assert_eq!(status, 503, "{body}");
        assert_eq!(
            headers.get("retry-after").map(|v| v.to_str().unwrap_or("")),
            Some("1")
        );
        assert_eq!(body["data"], Value::Null, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "{body}"
        );
        assert!(
            waited >= Duration::from_millis(450) && waited < Duration::from_secs(3),
            "answered after {waited:?}, the acquire timeout is 500 ms"
        );
        assert!(
            saw_waiting,
            "fraiseql_db_pool_waiting showed the third request"
        );

        // Released: the two blocked requests finish, and new ones are served again.
        lock.release();
        for request in blocked {
            let (status, _, body) = request.join().expect("blocked request");
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["data"]["users"].as_array().map(Vec::len), Some(1));
        }
    });
    let body = server.query(USERS, json!({}));
    assert!(body.get("errors").is_none(), "{body}");
    let (_, _, metrics) = server.get("/metrics", "text/plain");
    assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_in_use"), 0.0);
}

#[test]
fn backends_terminated_between_requests_go_unnoticed() {
    let db = BlogDb::create("terminated");
    let url = db.url();
    let server = TestServer::start(&[("DATABASE_URL", &url)]);
    let nested = "{ users(limit: 3) { id posts(limit: 2) { id } } }";
    let expected = server.query(nested, json!({}));
    assert!(expected.get("errors").is_none(), "{expected}");
    let mut killed = 0;
    // Several rounds, so each HTTP worker's connections die under it at least once.
    for _ in 0..4 {
        killed += db.terminate_backends();
        for _ in 0..3 {
            assert_eq!(server.query(nested, json!({})), expected);
        }
    }
    assert!(
        killed >= 4,
        "the server's connections were terminated ({killed})"
    );
}

#[test]
fn a_statement_past_the_timeout_is_a_clean_error_and_the_server_recovers() {
    let db = BlogDb::create("statement_timeout");
    let url = db.url();
    let server = TestServer::start(&[
        ("DATABASE_URL", &url),
        ("FRAISEQL_POOL_MAX", "1"),
        ("FRAISEQL_STATEMENT_TIMEOUT_MS", "300"),
    ]);
    let lock = TableLock::take(&db, "users");
    let started = Instant::now();
    let (status, _, body) = server.post_json(json!({ "query": USERS }));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "TIMEOUT", "{body}");
    let text = body.to_string();
    for leak in ["SELECT", "users AS", "canceling", "statement_timeout"] {
        assert!(!text.contains(leak), "{leak:?} leaked: {text}");
    }
    lock.release();
    let body = server.query(USERS, json!({}));
    assert!(body.get("errors").is_none(), "{body}");
}
