//! Request limits and overload protection against the real binary: every limit and every
//! hostile document is refused with a `LIMIT_EXCEEDED` GraphQL error before any SQL runs
//! (counted by SQLite's own statement trace), and the server answers a normal query after each;
//! a body over the limit is a 413 with a GraphQL error body; beyond the in-flight cap requests
//! get a fast 503 with `Retry-After` while admitted ones finish; a request past the timeout
//! gets a 503; a bad limit setting exits 2.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{run_cli, temp_dir, TestServer, WriteLock};

/// A normal query still answers.
fn answers(server: &TestServer) {
    let (status, _, body) = server.post_json(json!({"query": "{ user(id: 1) { id } }"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], "1", "{body}");
}

const MUTATION: &str =
    "mutation { createUser(input: {name: \"Held\", email: \"held@example.com\"}) { name } }";

#[test]
fn each_limit_and_hostile_document_is_refused_before_any_sql() {
    let trace_dir = temp_dir("limits-trace");
    let trace = trace_dir.join("statements.trace");
    let server = TestServer::start(&[
        (
            "FRAISEQL_SQLITE_TRACE",
            trace.to_str().expect("utf-8 temp path"),
        ),
        ("FRAISEQL_MAX_DEPTH", "5"),
    ]);
    let traced = || std::fs::read(&trace).map(|b| b.len()).unwrap_or(0);
    let before = traced();
    answers(&server);
    assert!(
        traced() > before,
        "a valid query left no statement in the trace"
    );

    let nested = format!("{}{}", "{ users ".repeat(10_000), "}".repeat(10_000));
    let aliased: String = (0..1_000)
        .map(|i| format!("u{i}: user(id: {i}) {{ id }} "))
        .collect();
    let aliases_31: String = (0..31).map(|i| format!("a{i}: id ")).collect();
    let mut fan_out = String::from("{ users { ...F0 } }");
    for i in 0..20 {
        fan_out.push_str(&format!(
            " fragment F{i} on User {{ ...F{n} ...F{n} }}",
            n = i + 1
        ));
    }
    fan_out.push_str(" fragment F20 on User { id }");
    let cases: Vec<(&str, String, &str)> = vec![
        ("10,000 nested braces", nested, "nests deeper"),
        (
            "a fragment cycle",
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_string(),
            "fragment cycle",
        ),
        (
            "1,000 aliased lookups",
            format!("{{ {aliased} }}"),
            "more than",
        ),
        (
            "10,000 __typename",
            format!("{{ {} }}", "__typename ".repeat(10_000)),
            "more than 15000 tokens",
        ),
        (
            "depth 6 over a limit of 5",
            "{ users { posts { author { posts { author { id } } } } } }".to_string(),
            "deeper than the limit of 5",
        ),
        (
            "31 aliases",
            format!("{{ users(limit: 1) {{ {aliases_31} }} }}"),
            "more than 30 aliases",
        ),
        (
            "21 root fields",
            format!("{{ {} }}", "__typename ".repeat(21)),
            "more than 20 root fields",
        ),
        (
            "limit: 1001 over a page size of 1000",
            "{ users { posts(limit: 1001) { id } } }".to_string(),
            "limit: 1001 is more than the largest page of 1000 rows",
        ),
        (
            "fragments spread 2^20 times",
            fan_out,
            "once its fragments are expanded",
        ),
    ];
    for (what, query, message) in cases {
        let before = traced();
        let started = Instant::now();
        let (status, _, body) = server.post_json(json!({ "query": query }));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: took {:?}",
            started.elapsed()
        );
        assert_eq!(status, 200, "{what}: {body}");
        assert_eq!(
            support::error_codes(&body),
            ["LIMIT_EXCEEDED"],
            "{what}: {body}"
        );
        let text = body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(text.contains(message), "{what}: {text}");
        assert!(body.get("data").is_none(), "{what}: {body}");
        assert_eq!(traced(), before, "{what} reached the database");
        answers(&server);
    }

    // A variable's value is checked per request, the plan cached or not.
    let by_variable = "query Q($n: Int) { users(limit: $n) { id } }";
    let (status, _, body) = server.post_json(json!({"query": by_variable, "variables": {"n": 2}}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["users"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    let before = traced();
    let (status, _, body) =
        server.post_json(json!({"query": by_variable, "variables": {"n": 5000}}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(support::error_codes(&body), ["LIMIT_EXCEEDED"], "{body}");
    assert_eq!(traced(), before, "limit: $n = 5000 reached the database");
    answers(&server);
    let _ = std::fs::remove_dir_all(&trace_dir);
}

#[test]
fn an_operation_over_the_estimated_cost_is_refused_before_any_sql() {
    let trace_dir = temp_dir("cost-trace");
    let trace = trace_dir.join("statements.trace");
    let server = TestServer::start(&[
        (
            "FRAISEQL_SQLITE_TRACE",
            trace.to_str().expect("utf-8 temp path"),
        ),
        ("FRAISEQL_MAX_COST", "100"),
    ]);
    let traced = || std::fs::read(&trace).map(|b| b.len()).unwrap_or(0);
    let refused = |request: Value, estimate: u64| {
        let before = traced();
        let (status, _, body) = server.post_json(request);
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            support::error_codes(&body),
            ["COST_LIMIT_EXCEEDED"],
            "{body}"
        );
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["cost"], estimate, "{body}");
        assert_eq!(error["extensions"]["maxCost"], 100, "{body}");
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(traced(), before, "{body}: reached the database");
    };
    // 10 users and 10 posts for each: 110 rows.
    refused(
        json!({"query": "{ users(limit: 10) { id posts(limit: 10) { id } } }"}),
        110,
    );
    // No limit: the page size (1000) counts.
    refused(json!({"query": "{ users { id } }"}), 1000);
    // A cheap document passes: 5 + 25 rows.
    let body = server.query(
        "{ users(limit: 5) { id posts(limit: 5) { id } } }",
        json!({}),
    );
    assert!(body.get("errors").is_none(), "{body}");
    // A variable limit is filled in per request, the plan cached or not.
    let by_variable = "query Q($n: Int) { users(limit: $n) { id posts(limit: 10) { id } } }";
    let body = server.query(by_variable, json!({"n": 9}));
    assert!(body.get("errors").is_none(), "{body}");
    refused(json!({"query": by_variable, "variables": {"n": 10}}), 110);
    answers(&server);
    let _ = std::fs::remove_dir_all(&trace_dir);
}

#[test]
fn a_body_over_the_limit_is_413_with_a_graphql_error() {
    let server = TestServer::start(&[("FRAISEQL_MAX_BODY_BYTES", "4096")]);
    let big = json!({"query": format!("{{ user(id: 1) {{ id }} }} # {}", "x".repeat(5000))});
    let (status, headers, body) = server.post_json(big);
    assert_eq!(status, 413, "{body}");
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")),
        "{headers:?}"
    );
    assert_eq!(support::error_codes(&body), ["LIMIT_EXCEEDED"], "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("limit of 4096 bytes")),
        "{body}"
    );
    answers(&server);

    // The default is 1 MiB.
    let server = TestServer::start(&[]);
    let big = json!({"query": format!("{{ __typename }} # {}", "x".repeat(1024 * 1024))});
    let (status, _, body) = server.post_json(big);
    assert_eq!(status, 413, "{body}");
    assert_eq!(support::error_codes(&body), ["LIMIT_EXCEEDED"], "{body}");
    answers(&server);
}

#[test]
fn beyond_the_in_flight_cap_requests_are_shed_at_once() {
    let server = TestServer::start(&[("FRAISEQL_MAX_IN_FLIGHT", "2")]);
    let lock = WriteLock::take(&server.dir.join("blog.db"));
    // Two mutations wait for the write lock: the cap is reached.
    let held: Vec<_> = (0..2)
        .map(|i| {
            let query = format!(
                "mutation {{ createUser(input: {{name: \"Held\", email: \"held{i}@example.com\"}}) {{ name }} }}"
            );
            let client = server.client();
            let url = format!("{}/graphql", server.base);
            std::thread::spawn(move || {
                let r = client
                    .post(url)
                    .json(&json!({ "query": query }))
                    .send()
                    .expect("the admitted request gets an answer");
                (
                    r.status().as_u16(),
                    r.json::<Value>().unwrap_or(Value::Null),
                )
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..5 {
        let started = Instant::now();
        let (status, headers, body) = server.post_json(json!({"query": "{ user(id: 1) { id } }"}));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "shedding waited {:?}",
            started.elapsed()
        );
        assert_eq!(status, 503, "{body}");
        assert_eq!(
            headers.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("1")
        );
        assert_eq!(support::error_codes(&body), ["OVERLOADED"], "{body}");
    }
    lock.release();
    for request in held {
        let (status, body) = request.join().expect("request thread");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["createUser"]["name"], "Held", "{body}");
    }
    answers(&server);
}

#[test]
fn a_request_past_the_timeout_is_503() {
    let server = TestServer::start(&[("FRAISEQL_REQUEST_TIMEOUT_MS", "500")]);
    let lock = WriteLock::take(&server.dir.join("blog.db"));
    let started = Instant::now();
    let (status, headers, body) = server.post_json(json!({ "query": MUTATION }));
    let took = started.elapsed();
    lock.release();
    assert_eq!(status, 503, "{body}");
    assert!(
        took >= Duration::from_millis(450),
        "answered after {took:?}"
    );
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    assert!(headers.get("retry-after").is_some(), "{headers:?}");
    assert_eq!(support::error_codes(&body), ["TIMEOUT"], "{body}");
    answers(&server);
}

#[test]
fn a_list_without_limit_returns_at_most_the_page_size() {
    let everything = TestServer::start(&[]);
    let all = everything.query("{ users(limit: 1000) { id } }", json!({}));
    let total = all["data"]["users"].as_array().map_or(0, Vec::len);
    assert!(total > 50, "the seed has {total} users: {all}");
    drop(everything);

    // 50: the largest literal limit of the trusted documents in schema/operations/ (which are
    // planned at startup, so a smaller page size stops serve with exit 2).
    let server = TestServer::start(&[("FRAISEQL_MAX_PAGE_SIZE", "50")]);
    let count = |body: &Value| body["data"]["users"].as_array().map(Vec::len);
    assert_eq!(
        count(&server.query("{ users { id } }", json!({}))),
        Some(50)
    );
    let by_variable = "query Q($n: Int) { users(limit: $n) { id } }";
    let body = server.query(by_variable, json!({"n": null}));
    assert_eq!(count(&body), Some(50), "{body}");
    let body = server.query(by_variable, json!({"n": 1}));
    assert_eq!(count(&body), Some(1), "{body}");
    let (_, _, body) = server.post_json(json!({"query": "{ users(limit: 51) { id } }"}));
    assert_eq!(support::error_codes(&body), ["LIMIT_EXCEEDED"], "{body}");
}

#[test]
fn production_turns_introspection_and_suggestions_off() {
    let server = TestServer::start(&[("FRAISEQL_ENV", "production")]);
    let (status, _, body) = server.post_json(json!({"query": "{ __schema { types { name } } }"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(support::error_codes(&body), ["LIMIT_EXCEEDED"], "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let (_, _, body) = server.post_json(json!({"query": "{ user(id: 1) }"}));
    assert_eq!(
        support::error_codes(&body),
        ["GRAPHQL_VALIDATION_FAILED"],
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(!message.contains("Did you mean"), "{message}");
    let (_, _, body) = server.post_json(json!({"query": "{ __typename }"}));
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    answers(&server);

    // Outside production introspection answers.
    let server = TestServer::start(&[]);
    let (_, _, body) = server.post_json(json!({"query": "{ __type(name: \"User\") { name } }"}));
    assert_eq!(body["data"]["__type"]["name"], "User", "{body}");
}

#[test]
fn a_bad_limit_setting_exits_2() {
    for (variable, value) in [
        ("FRAISEQL_MAX_DEPTH", "0"),
        ("FRAISEQL_MAX_IN_FLIGHT", "lots"),
        ("FRAISEQL_REQUEST_TIMEOUT_MS", "-5"),
        ("FRAISEQL_ENV", "staging"),
        ("FRAISEQL_MAX_COST", "0"),
    ] {
        let out = run_cli(&["serve"], &[(variable, value)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{variable}={value}: {stderr}");
        assert!(stderr.contains(variable), "{stderr}");
    }
}
