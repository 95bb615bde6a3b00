//! What operators see: every metric the README documents is exported and moves under a
//! scripted sequence of requests, and a deliberately slow statement is logged with its pool,
//! duration, operation and SQL (bound values only when asked for).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use support::pg::{BlogDb, TableLock};
use support::TestServer;

/// The metric names in README's `/metrics` table (`fraiseql_db_pool_size{pool}`, `_idle`, …
/// expands to `fraiseql_db_pool_idle`, …). Replica and cache series appear only when those
/// are configured; their own tests check them.
fn documented_metrics() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut names = BTreeSet::new();
    for line in readme.lines().filter(|l| l.starts_with("| `fraiseql_")) {
        let first_cell = line.split('|').nth(1).unwrap_or_default();
        let mut prefix = String::new();
        for part in first_cell.split('`').skip(1).step_by(2) {
            let bare = part.split('{').next().unwrap_or_default();
            let name = if let Some(suffix) = bare.strip_prefix('_') {
                format!("{prefix}_{suffix}")
            } else {
                prefix = bare.rsplit_once('_').map_or(bare, |(p, _)| p).to_string();
                bare.to_string()
            };
            names.insert(name);
        }
    }
    names.retain(|n| !n.starts_with("fraiseql_replica_") && !n.starts_with("fraiseql_cache_"));
    names
}

/// Sum of every sample of `name` (any labels), histograms by their `_count`.
fn total(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            let series = l.split([' ', '{']).next().unwrap_or_default();
            series == name || series == format!("{name}_count")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn every_documented_metric_is_exported_and_moves() {
    let server = TestServer::start(&[]);
    let documented = documented_metrics();
    assert!(
        documented.len() >= 12,
        "README table not found: {documented:?}"
    );
    let (_, _, before) = server.get("/metrics", "text/plain");

    // A scripted sequence: nested reads, one repeated, a write, a failed write, a bad document.
    let nested =
        "query Nested { users(limit: 5) { id posts(limit: 2) { id comments(limit: 1) { id } } } }";
    for _ in 0..5 {
        let (status, _, body) =
            server.post_json(json!({"query": nested, "operationName": "Nested"}));
        assert_eq!(status, 200, "{body}");
    }
    server.query(
        "mutation { createUser(input: {name: \"Metric\", email: \"metric@example.com\"}) { id } }",
        json!({}),
    );
    server.query(
        "mutation { createUser(input: {name: \"Again\", email: \"metric@example.com\"}) { id } }",
        json!({}),
    );
    server.query("{ nope }", json!({}));
    let (_, _, after) = server.get("/metrics", "text/plain");
    // (A labelled series appears once it has a sample.)
    for name in &documented {
        assert!(
            after.contains(&format!("# TYPE {name} ")),
            "{name} is not exported:\n{after}"
        );
    }

    let moved = |name: &str, by_at_least: f64| {
        let (b, a) = (total(&before, name), total(&after, name));
        assert!(
            a - b >= by_at_least,
            "{name}: {b} -> {a}, want +{by_at_least}\n{after}"
        );
    };
    moved("fraiseql_http_requests_total", 8.0);
    moved("fraiseql_http_request_duration_seconds", 8.0);
    moved("fraiseql_graphql_errors_total", 2.0);
    moved("fraiseql_documents_parsed_total", 4.0);
    moved("fraiseql_plan_cache_hits_total", 4.0);
    moved("fraiseql_plan_cache_misses_total", 4.0);
    moved("fraiseql_sql_statements_per_request", 7.0);
    moved("fraiseql_sql_duration_seconds", 15.0);
    // Three statements per nested request, whatever the number of rows.
    let sum = |text: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with("fraiseql_sql_statements_per_request_sum"))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0.0)
    };
    assert!(sum(&after) - sum(&before) >= 15.0, "{after}");
    assert!(
        after.contains("fraiseql_http_requests_total{operation=\"Nested\",status=\"200\"} 5"),
        "{after}"
    );
    assert!(
        after.contains("fraiseql_graphql_errors_total{code=\"CONFLICT\"} 1"),
        "{after}"
    );
    assert!(
        after.contains("fraiseql_graphql_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"} 1"),
        "{after}"
    );
    assert!(
        after.contains("fraiseql_db_pool_max{pool=\"primary\"}"),
        "{after}"
    );
}

/// An INSERT made to wait on a table lock (held from psql) is a slow statement.
fn slow_write(params: &str) -> String {
    let db = BlogDb::create(&format!("slow_log_{params}"));
    let server = TestServer::start(&[
        ("DATABASE_URL", &db.url()),
        ("FRAISEQL_SLOW_QUERY_MS", "200"),
        ("FRAISEQL_SLOW_QUERY_PARAMS", params),
        ("RUST_LOG", "warn"),
    ]);
    // Fast statements are not logged.
    server.query("{ users(limit: 3) { id } }", json!({}));
    let lock = TableLock::take(&db, "users");
    let client = server.client();
    let url = format!("{}/graphql", server.base);
    let writer = std::thread::spawn(move || {
        client
            .post(url)
            .json(&json!({
                "query": "mutation Slow { createUser(input: {name: \"Slowpoke\", email: \"slowpoke@example.com\"}) { id } }",
                "operationName": "Slow"
            }))
            .send()
            .map(|r| r.status().as_u16())
    });
    std::thread::sleep(Duration::from_millis(600));
    lock.release();
    assert_eq!(writer.join().expect("thread").expect("response"), 200);
    server.log()
}

#[test]
fn a_slow_statement_is_logged_with_its_operation_pool_and_sql() {
    let log = slow_write("off");
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("slow statement"))
        .collect();
    assert_eq!(lines.len(), 1, "want exactly the INSERT:\n{log}");
    let line = lines[0];
    for part in [
        "operation=\"Slow\"",
        "pool=primary",
        "duration_ms=",
        "INSERT INTO \\\"users\\\"",
    ] {
        assert!(line.contains(part), "{part} missing: {line}");
    }
    assert!(
        !line.contains("slowpoke@example.com"),
        "bound values logged without being asked: {line}"
    );

    let log = slow_write("on");
    let line = log
        .lines()
        .find(|l| l.contains("slow statement"))
        .unwrap_or_else(|| panic!("no slow statement logged:\n{log}"));
    assert!(
        line.contains("slowpoke@example.com"),
        "FRAISEQL_SLOW_QUERY_PARAMS=on: {line}"
    );
}
