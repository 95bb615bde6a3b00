//! Persisted operations against the real server binary: trusted documents
//! (`schema/operations/*.graphql`) by id and by hash over POST and GET, served without parsing
//! (`fraiseql_documents_parsed_total` stays put); `FRAISEQL_PERSISTED_ONLY=true` accepting them
//! and refusing any text with no SQL run (SQLite's own statement trace); Apollo's APQ protocol
//! (miss, hash mismatch, register, hit), shared between two servers through Redis, and going on
//! in process when Redis is down.

mod support;

use fraiseql_runtime::persisted::sha256_hex;
use serde_json::{json, Value};
use support::services::{drop_redis_prefix, redis_get, unique};
use support::{free_port, run_cli, temp_dir, TestServer};

const USERS_PAGE: &str = include_str!("../schema/operations/users_page.graphql");
const USER_WITH_POSTS: &str = include_str!("../schema/operations/user_with_posts.graphql");
const PARSED: &str = "fraiseql_documents_parsed_total";
const REDIS_PORT: u16 = 6379;

/// `GET /graphql` with these parameters (URL-encoded); status and JSON body.
fn get(server: &TestServer, params: &[(&str, String)]) -> (u16, Value) {
    let url =
        reqwest::Url::parse_with_params(&format!("{}/graphql", server.base), params).expect("url");
    let path = format!("/graphql?{}", url.query().unwrap_or(""));
    let (status, _, text) = server.get(&path, "application/json");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

fn apq(hash: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
}

/// The number of users `UsersPage` returns (its `limit: 50` over 1,000 seeded users).
fn users_page_rows(body: &Value) -> usize {
    body["data"]["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no users in {body}"))
        .len()
}

#[test]
fn trusted_documents_by_id_and_by_hash_over_post_and_get_are_not_parsed() {
    let server = TestServer::start(&[]);
    let parsed = server.metric(PARSED);

    let (status, _, body) = server.post_json(json!({"documentId": "UsersPage"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(users_page_rows(&body), 50, "{body}");

    let by_hash = format!("sha256:{}", sha256_hex(USERS_PAGE));
    let (status, _, body) = server.post_json(json!({"documentId": by_hash}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(users_page_rows(&body), 50, "{body}");

    // `id` is an alias of `documentId`; variables work as with a text.
    let (_, _, body) = server.post_json(json!({"id": "UserById", "variables": {"id": "2"}}));
    assert_eq!(body["data"]["user"]["id"], "2", "{body}");

    // Apollo's form resolves trusted documents by hash too, over POST and GET.
    let hash = sha256_hex(USER_WITH_POSTS);
    let (_, _, body) =
        server.post_json(json!({"extensions": apq(&hash), "variables": {"id": "1"}}));
    assert_eq!(body["data"]["user"]["id"], "1", "{body}");
    assert!(
        body["data"]["user"]["posts"][0]["comments"].is_array(),
        "{body}"
    );
    let (status, body) = get(
        &server,
        &[
            ("extensions", apq(&hash).to_string()),
            ("variables", json!({"id": "1"}).to_string()),
        ],
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["user"]["name"].is_string(), "{body}");
    let (status, body) = get(
        &server,
        &[
            ("documentId", "UserById".to_string()),
            ("variables", json!({"id": "3"}).to_string()),
        ],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], "3", "{body}");

    // Planned at startup: none of these requests parsed a document.
    assert_eq!(server.metric(PARSED), parsed);

    let (status, _, body) = server.post_json(json!({"documentId": "NoSuchOperation"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        support::error_codes(&body),
        ["PERSISTED_QUERY_NOT_FOUND"],
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"],
        "no trusted document has the id \"NoSuchOperation\""
    );
    let (status, _, body) =
        server.post_json(json!({"documentId": "UsersPage", "operationName": "Other"}));
    assert_eq!(status, 400, "{body}");
    assert_eq!(support::error_codes(&body), ["BAD_REQUEST"], "{body}");
    let (status, _, body) =
        server.post_json(json!({"documentId": "UsersPage", "query": "{ users { id } }"}));
    assert_eq!(status, 400, "{body}");
}

#[test]
fn persisted_only_accepts_a_trusted_document_by_id_and_rejects_ad_hoc_text_without_sql() {
    let trace_dir = temp_dir("persisted-trace");
    let trace = trace_dir.join("statements.trace");
    let server = TestServer::start(&[
        ("FRAISEQL_PERSISTED_ONLY", "true"),
        (
            "FRAISEQL_SQLITE_TRACE",
            trace.to_str().expect("utf-8 temp path"),
        ),
    ]);
    let traced = || std::fs::read(&trace).map(|b| b.len()).unwrap_or(0);

    let before = traced();
    let (status, _, body) = server.post_json(json!({"documentId": "UsersPage"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(users_page_rows(&body), 50, "{body}");
    assert!(traced() > before, "the trusted document ran no SQL");

    let text = "{ users(limit: 50) { id name } }";
    let registration = json!({"query": text, "extensions": apq(&sha256_hex(text))});
    let before = traced();
    for request in [json!({"query": text}), registration] {
        let (status, _, body) = server.post_json(request);
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            support::error_codes(&body),
            ["PERSISTED_QUERY_REQUIRED"],
            "{body}"
        );
        assert!(body.get("data").is_none(), "{body}");
    }
    // The same over GET, and as 400 for a client that accepts graphql-response+json.
    let (status, body) = get(&server, &[("query", text.to_string())]);
    assert_eq!(
        (status, support::error_codes(&body)),
        (200, vec!["PERSISTED_QUERY_REQUIRED".into()])
    );
    let (status, _, text_body) = server.get(
        &format!("/graphql?query={}", "%7B%20users%20%7B%20id%20%7D%20%7D"),
        "application/graphql-response+json",
    );
    assert_eq!(status, 400, "{text_body}");
    // Registration was refused: the hash is still unknown.
    let (_, _, body) = server.post_json(json!({"extensions": apq(&sha256_hex(text))}));
    assert_eq!(
        support::error_codes(&body),
        ["PERSISTED_QUERY_NOT_FOUND"],
        "{body}"
    );
    assert_eq!(traced(), before, "a refused document ran SQL");

    // A trusted document sent as its text with its hash is still the trusted document.
    let (_, _, body) =
        server.post_json(json!({"query": USERS_PAGE, "extensions": apq(&sha256_hex(USERS_PAGE))}));
    assert_eq!(users_page_rows(&body), 50, "{body}");
}

#[test]
fn apq_miss_then_register_then_hit_and_a_hash_mismatch_is_refused() {
    let server = TestServer::start(&[]);
    let text = "query Named { user(id: 1) { id name } }";
    let hash = sha256_hex(text);

    let (status, _, body) = server.post_json(json!({"extensions": apq(&hash)}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        support::error_codes(&body),
        ["PERSISTED_QUERY_NOT_FOUND"],
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");

    let wrong = sha256_hex("{ users { id } }");
    let (status, _, body) = server.post_json(json!({"query": text, "extensions": apq(&wrong)}));
    assert_eq!(status, 400, "{body}");
    assert_eq!(support::error_codes(&body), ["BAD_REQUEST"], "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "provided sha does not match query"
    );

    let (status, _, body) = server.post_json(json!({"query": text, "extensions": apq(&hash)}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], "1", "{body}");

    // The hit reuses the plan cached when the text was registered.
    let parsed = server.metric(PARSED);
    let (status, _, body) = server.post_json(json!({"extensions": apq(&hash)}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], "1", "{body}");
    let (status, body) = get(&server, &[("extensions", apq(&hash).to_string())]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], "1", "{body}");
    assert_eq!(server.metric(PARSED), parsed);

    // A text that does not validate is not registered.
    let invalid = "{ nope }";
    let (_, _, body) =
        server.post_json(json!({"query": invalid, "extensions": apq(&sha256_hex(invalid))}));
    assert_eq!(
        support::error_codes(&body),
        ["GRAPHQL_VALIDATION_FAILED"],
        "{body}"
    );
    let (_, _, body) = server.post_json(json!({"extensions": apq(&sha256_hex(invalid))}));
    assert_eq!(
        support::error_codes(&body),
        ["PERSISTED_QUERY_NOT_FOUND"],
        "{body}"
    );
}

#[test]
fn a_hash_registered_on_one_server_is_served_by_another_through_redis() {
    let prefix = format!("{}:", unique("apq"));
    let redis = format!("redis://127.0.0.1:{REDIS_PORT}");
    let envs = [
        ("REDIS_URL", redis.as_str()),
        ("FRAISEQL_CACHE_REDIS_PREFIX", prefix.as_str()),
    ];
    let first = TestServer::start(&envs);
    let second = TestServer::start(&envs);
    let text = "query Shared { users(limit: 2) { id } }";
    let hash = sha256_hex(text);

    let (_, _, body) = first.post_json(json!({"query": text, "extensions": apq(&hash)}));
    assert_eq!(body["data"]["users"][1]["id"], "2", "{body}");
    assert_eq!(
        redis_get(REDIS_PORT, &format!("{prefix}apq:{hash}")).as_deref(),
        Some(text)
    );
    let (status, _, body) = second.post_json(json!({"extensions": apq(&hash)}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["users"][1]["id"], "2", "{body}");
    drop_redis_prefix(REDIS_PORT, &prefix);
}

#[test]
fn with_redis_down_apq_goes_on_in_process() {
    // Nothing listens on a port just found free: every connection is refused.
    let dead = format!("redis://127.0.0.1:{}", free_port());
    let server = TestServer::start(&[("REDIS_URL", dead.as_str())]);
    let text = "query Degraded { user(id: 2) { id } }";
    let hash = sha256_hex(text);
    let started = std::time::Instant::now();
    let (status, _, body) = server.post_json(json!({"query": text, "extensions": apq(&hash)}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], "2", "{body}");
    let (status, _, body) = server.post_json(json!({"extensions": apq(&hash)}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], "2", "{body}");
    // Redis was tried and given up on, not waited for.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        server
            .log()
            .contains("Redis (persisted queries) failed; persisted queries are kept in process"),
        "{}",
        server.log()
    );
}

#[test]
fn a_trusted_document_over_a_configured_limit_stops_the_server_at_start() {
    let dir = temp_dir("persisted-limit");
    let url = format!("sqlite://{}", dir.join("blog.db").display());
    let bind = format!("127.0.0.1:{}", free_port());
    let output = run_cli(
        &["serve"],
        &[
            ("DATABASE_URL", url.as_str()),
            ("FRAISEQL_BIND", bind.as_str()),
            ("FRAISEQL_MAX_DEPTH", "3"),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "trusted operation UserWithPosts (schema/operations/user_with_posts.graphql:2:1) \
             cannot be served: the operation nests fields deeper than the limit of 3"
        ),
        "{stderr}"
    );
}
