//! Issue 7's hardening over HTTP, against the real binary: internal errors reach clients as an
//! id the server's log holds with the cause (never SQL, paths or panics), JSON batches, CORS,
//! response compression and per-client rate limits.

mod support;

use std::process::Command;

use serde_json::{json, Value};
use support::services::{drop_redis_prefix, unique};
use support::{free_port, temp_dir, TestServer};

/// Text no error message may carry: SQL, source paths, panics.
const LEAKS: [&str; 5] = ["SELECT", "/src/", "panicked", "no such table", ".db"];

#[test]
fn an_internal_error_is_an_id_the_log_holds_with_its_cause() {
    let server = TestServer::start(&[]);
    let body = server.query("{ comments(limit: 1) { body } }", json!({}));
    assert!(body["data"]["comments"].is_array(), "{body}");
    // The table disappears under the running server: the statement fails for no fault of the
    // request's.
    let dropped = Command::new("sqlite3")
        .arg(server.dir.join("blog.db"))
        .arg("DROP TABLE comments;")
        .output()
        .expect("the sqlite3 shell (scripts/test.sh installs it)");
    assert!(dropped.status.success(), "{dropped:?}");

    let (status, _, body) = server.post_json(json!({"query": "{ comments(limit: 1) { body } }"}));
    assert_eq!(status, 200, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["message"], "internal error", "{body}");
    assert_eq!(
        error["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{body}"
    );
    let id = error["extensions"]["errorId"]
        .as_str()
        .unwrap_or_else(|| panic!("no errorId in {body}"));
    assert_eq!(id.len(), 16, "{id}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    let text = body.to_string();
    for leak in LEAKS {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("error id {id} not in the log:\n{log}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("no such table: comments"), "{line}");

    // Each occurrence gets its own id; the rest of the schema still answers.
    let (_, _, again) = server.post_json(json!({"query": "{ comments(limit: 1) { body } }"}));
    assert_ne!(again["errors"][0]["extensions"]["errorId"], id, "{again}");
    let body = server.query("{ user(id: 1) { id } }", json!({}));
    assert_eq!(body["data"]["user"]["id"], "1", "{body}");
}

#[test]
fn a_batch_is_answered_in_order_each_entry_on_its_own() {
    let server = TestServer::start(&[("FRAISEQL_MAX_BATCH", "3")]);
    let batch = json!([
        {"query": "{ user(id: 1) { id } }"},
        {"query": "{ user(id: 1) { id nope } }"},
        {"query": "query Q($id: ID!) { user(id: $id) { id } }", "variables": {"id": "2"}},
    ]);
    let (status, _, body) = server.post_json(batch);
    assert_eq!(status, 200, "{body}");
    let answers = body
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {body}"));
    assert_eq!(answers.len(), 3, "{body}");
    assert_eq!(answers[0]["data"]["user"]["id"], "1", "{body}");
    assert_eq!(
        support::error_codes(&answers[1]),
        ["GRAPHQL_VALIDATION_FAILED"],
        "{body}"
    );
    assert_eq!(answers[2]["data"]["user"]["id"], "2", "{body}");

    // A malformed entry fails alone.
    let (status, _, body) = server.post_json(json!([{"query": 1}, {"query": "{ __typename }"}]));
    assert_eq!(status, 200, "{body}");
    assert_eq!(support::error_codes(&body[0]), ["BAD_REQUEST"], "{body}");
    assert_eq!(body[1]["data"]["__typename"], "Query", "{body}");

    // Over the limit, or empty: one 400 for the whole body, nothing run.
    let four: Vec<Value> = (0..4).map(|_| json!({"query": "{ __typename }"})).collect();
    let (status, _, body) = server.post_json(Value::Array(four));
    assert_eq!(status, 400, "{body}");
    assert_eq!(support::error_codes(&body), ["BAD_REQUEST"], "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("4 requests, more than the limit of 3"),
        "{message}"
    );
    let (status, _, body) = server.post_json(json!([]));
    assert_eq!(status, 400, "{body}");
}

#[test]
fn batches_are_off_by_default() {
    let server = TestServer::start(&[]);
    let (status, _, body) = server.post_json(json!([{"query": "{ __typename }"}]));
    assert_eq!(status, 400, "{body}");
    assert_eq!(support::error_codes(&body), ["BAD_REQUEST"], "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("batches"), "{message}");
    assert!(message.contains("turned off"), "{message}");
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn cors_answers_listed_origins_only() {
    let server = TestServer::start(&[(
        "FRAISEQL_CORS_ORIGINS",
        "https://app.example.com,http://localhost:3000",
    )]);
    let client = server.client();
    let url = format!("{}/graphql", server.base);
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization, apollo-require-preflight",
            )
            .send()
            .expect("OPTIONS /graphql")
    };
    let allowed = preflight("https://app.example.com");
    assert!(allowed.status().is_success(), "{allowed:?}");
    let h = allowed.headers();
    assert_eq!(
        header(h, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert!(header(h, "access-control-allow-methods").is_some_and(|m| m.contains("POST")));
    let allowed_headers = header(h, "access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for name in ["content-type", "authorization", "apollo-require-preflight"] {
        assert!(allowed_headers.contains(name), "{allowed_headers}");
    }
    assert!(header(h, "access-control-max-age").is_some(), "{h:?}");

    let refused = preflight("https://evil.example");
    assert!(
        header(refused.headers(), "access-control-allow-origin").is_none(),
        "{refused:?}"
    );

    // The request itself: headers for a listed origin; served without them for another (the
    // browser withholds the answer; curl and the same-origin playground are unaffected).
    let post = |origin: &str| {
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("origin", origin)
            .body(json!({"query": "{ __typename }"}).to_string())
            .send()
            .expect("POST /graphql")
    };
    let r = post("http://localhost:3000");
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let r = post("https://evil.example");
    assert_eq!(r.status().as_u16(), 200);
    assert!(header(r.headers(), "access-control-allow-origin").is_none());

    // Unset: no CORS at all; OPTIONS is just another method.
    let plain = TestServer::start(&[]);
    let r = plain
        .client()
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", plain.base))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .expect("OPTIONS /graphql");
    assert!(
        header(r.headers(), "access-control-allow-origin").is_none(),
        "{r:?}"
    );
}

#[test]
fn responses_are_compressed_for_clients_that_accept_it() {
    use std::io::Read;

    let server = TestServer::start(&[]);
    let client = server.client();
    let url = format!("{}/graphql", server.base);
    let body = json!({"query": "{ users(limit: 50) { id name } }"}).to_string();
    let send = |encoding: Option<&str>, if_none_match: Option<&str>| {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        if let Some(tag) = if_none_match {
            request = request.header("if-none-match", tag);
        }
        request.send().expect("POST /graphql")
    };
    let plain = send(None, None);
    assert!(header(plain.headers(), "content-encoding").is_none());
    let plain_etag = header(plain.headers(), "etag").map(str::to_owned);
    let plain = plain.bytes().expect("body");

    let gz = send(Some("gzip"), None);
    assert_eq!(header(gz.headers(), "content-encoding"), Some("gzip"));
    let gz_etag = header(gz.headers(), "etag").map(str::to_owned);
    let compressed = gz.bytes().expect("body");
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut decoded)
        .expect("gzip");
    assert_eq!(decoded, plain.to_vec());
    assert!(compressed.len() < plain.len(), "{} bytes", compressed.len());

    // The same content: the same tag, weak where the bytes may be encoded; either form
    // gets its 304.
    let plain_etag = plain_etag.expect("users is cacheable: an ETag");
    assert_eq!(gz_etag, Some(format!("W/{plain_etag}")));
    let not_modified = send(Some("gzip"), Some(&format!("W/{plain_etag}")));
    assert_eq!(not_modified.status().as_u16(), 304);

    let off = TestServer::start(&[("FRAISEQL_COMPRESSION", "off")]);
    let r = off
        .client()
        .post(format!("{}/graphql", off.base))
        .header("content-type", "application/json")
        .header("accept-encoding", "gzip, br")
        .body(body.clone())
        .send()
        .expect("POST /graphql");
    assert!(header(r.headers(), "content-encoding").is_none(), "{r:?}");
    assert!(header(r.headers(), "etag").is_some_and(|t| t.starts_with('"')));
}

/// One request as client `token` (a bearer token), or as the peer address without one.
fn as_client(server: &TestServer, token: Option<&str>) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = server
        .client()
        .post(format!("{}/graphql", server.base))
        .header("content-type", "application/json")
        .body(json!({"query": "{ user(id: 1) { id } }"}).to_string());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let r = request.send().expect("POST /graphql");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.json().unwrap_or(Value::Null);
    (status, headers, body)
}

fn assert_limited((status, headers, body): (u16, reqwest::header::HeaderMap, Value)) {
    assert_eq!(status, 429, "{body}");
    let retry = header(&headers, "retry-after").and_then(|v| v.parse::<u64>().ok());
    assert!(retry.is_some_and(|s| s >= 1), "{headers:?}");
    assert_eq!(support::error_codes(&body), ["RATE_LIMITED"], "{body}");
}

fn assert_admitted((status, _, body): (u16, reqwest::header::HeaderMap, Value)) {
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], "1", "{body}");
}

// One request a minute with bursts of two: the third at once is over, however slowly the
// machine answers (a token comes back after 30 s).
const RATE: [(&str, &str); 2] = [
    ("FRAISEQL_RATE_LIMIT", "1/m"),
    ("FRAISEQL_RATE_LIMIT_BURST", "2"),
];

#[test]
fn each_client_has_its_own_budget_and_over_it_gets_429_before_any_sql() {
    let trace_dir = temp_dir("rate-trace");
    let trace = trace_dir.join("statements.trace");
    let trace_env = (
        "FRAISEQL_SQLITE_TRACE",
        trace.to_str().expect("utf-8 temp path"),
    );
    let server = TestServer::start(&[RATE[0], RATE[1], trace_env]);
    let traced = || std::fs::read(&trace).map(|b| b.len()).unwrap_or(0);
    assert_admitted(as_client(&server, None));
    assert_admitted(as_client(&server, None));
    let before = traced();
    assert_limited(as_client(&server, None));
    assert_eq!(traced(), before, "a refused request reached the database");
    // A token is a client of its own; each token has its own budget.
    assert_admitted(as_client(&server, Some("alice")));
    assert_admitted(as_client(&server, Some("alice")));
    assert_limited(as_client(&server, Some("alice")));
    assert_admitted(as_client(&server, Some("bob")));
    // Other paths are not limited; the refusals are counted by code.
    let (status, _, _) = server.get("/health/live", "*/*");
    assert_eq!(status, 200);
    let refused = server.series(r#"fraiseql_graphql_errors_total{code="RATE_LIMITED"}"#);
    assert_eq!(refused, 2.0);
    let _ = std::fs::remove_dir_all(&trace_dir);
}

#[test]
fn the_budget_is_shared_through_redis() {
    let prefix = unique("fraiseql-test-rate-");
    let prefix = format!("{prefix}:");
    let env = [
        RATE[0],
        RATE[1],
        ("REDIS_URL", "redis://127.0.0.1:6379"),
        ("FRAISEQL_CACHE_REDIS_PREFIX", prefix.as_str()),
    ];
    let a = TestServer::start(&env);
    let b = TestServer::start(&env);
    assert_admitted(as_client(&a, Some("carol")));
    assert_admitted(as_client(&b, Some("carol")));
    // Each instance alone would still admit one more: together the two were the burst.
    assert_limited(as_client(&a, Some("carol")));
    assert_limited(as_client(&b, Some("carol")));
    assert_admitted(as_client(&b, Some("dave")));
    drop_redis_prefix(6379, &prefix);
}

#[test]
fn a_dead_redis_falls_back_to_the_instance_budget() {
    let dead = format!("redis://127.0.0.1:{}", free_port());
    let server = TestServer::start(&[RATE[0], RATE[1], ("REDIS_URL", dead.as_str())]);
    assert_admitted(as_client(&server, Some("erin")));
    assert_admitted(as_client(&server, Some("erin")));
    assert_limited(as_client(&server, Some("erin")));
    let log = server.log();
    assert!(
        log.contains("rate limits fall back to this instance's own budget"),
        "{log}"
    );
}
