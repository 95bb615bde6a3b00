//! `/graphql` over HTTP against the real server binary: the introspection query GraphiQL sends,
//! GET and POST, the response media types, the status code of every request error, validation
//! and variable errors that run no SQL (counted by SQLite's own statement trace), and the plan
//! cache seen through `/metrics`.

mod support;

use serde_json::{json, Value};
use support::{temp_dir, TestServer};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

fn content_type(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// POST with explicit headers (the support helper sends only Content-Type).
fn post_with_accept(server: &TestServer, accept: &str, body: Value) -> (u16, String, Value) {
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/graphql", server.base))
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(body.to_string())
        .send()
        .expect("POST /graphql");
    let status = r.status().as_u16();
    let media = content_type(r.headers());
    let text = r.text().expect("response text");
    (
        status,
        media,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

#[test]
fn graphiql_introspection_query_describes_our_types() {
    let server = TestServer::start(&[]);
    let query = include_str!("fixtures/introspection.graphql");
    let (status, _, body) =
        server.post_json(json!({"query": query, "operationName": "IntrospectionQuery"}));
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    let types = schema["types"].as_array().expect("types");
    let find = |name: &str| {
        types
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no type {name} in introspection"))
    };
    let user = find("User");
    assert_eq!(user["kind"], "OBJECT");
    let fields: Vec<&str> = user["fields"]
        .as_array()
        .expect("User fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    for field in ["id", "name", "email", "posts"] {
        assert!(fields.contains(&field), "User lacks {field}: {fields:?}");
    }
    assert_eq!(find("PostStatus")["kind"], "ENUM");
    assert_eq!(find("PostWhere")["kind"], "INPUT_OBJECT");
    assert_eq!(find("String")["kind"], "SCALAR");
    // `users: [User!]!` arrives as NON_NULL -> LIST -> NON_NULL -> User through the TypeRef nesting.
    let users = find("Query")["fields"]
        .as_array()
        .expect("Query fields")
        .iter()
        .find(|f| f["name"] == "users")
        .expect("Query.users");
    let ty = &users["type"];
    assert_eq!(ty["kind"], "NON_NULL");
    assert_eq!(ty["ofType"]["kind"], "LIST");
    assert_eq!(ty["ofType"]["ofType"]["kind"], "NON_NULL");
    assert_eq!(ty["ofType"]["ofType"]["ofType"]["name"], "User");
}

#[test]
fn get_runs_a_query_and_post_answers_in_the_accepted_media_type() {
    let server = TestServer::start(&[]);
    let (status, headers, text) = server.get(
        "/graphql?query=query%20Q(%24id%3A%20ID!)%20%7B%20user(id%3A%20%24id)%20%7B%20id%20%7D%20%7D&variables=%7B%22id%22%3A%222%22%7D&operationName=Q",
        "application/json",
    );
    assert_eq!(status, 200, "{text}");
    assert!(content_type(&headers).starts_with("application/json"));
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(body, json!({"data": {"user": {"id": "2"}}}));

    let (status, media, body) = post_with_accept(
        &server,
        GRAPHQL_RESPONSE_JSON,
        json!({"query": "{ users(limit: 2) { id } }"}),
    );
    assert_eq!(status, 200);
    assert!(media.starts_with(GRAPHQL_RESPONSE_JSON), "{media}");
    assert_eq!(body["data"]["users"].as_array().map(Vec::len), Some(2));

    let (_, media, _) = post_with_accept(&server, "*/*", json!({"query": "{ __typename }"}));
    assert!(media.starts_with("application/json"), "{media}");
}

#[test]
fn mutation_over_get_is_405_with_allow_post() {
    let server = TestServer::start(&[]);
    let (status, headers, text) = server.get(
        "/graphql?query=mutation%20%7B%20createUser%20%7B%20id%20%7D%20%7D",
        "application/json",
    );
    assert_eq!(status, 405, "{text}");
    assert_eq!(
        headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(support::error_codes(&body), ["METHOD_NOT_ALLOWED"]);
}

#[test]
fn malformed_requests_are_400_bad_request() {
    let server = TestServer::start(&[]);
    let cases: &[(&str, &str)] = &[
        ("malformed JSON", "{\"query\": "),
        ("not an object", "[1, 2]"),
        ("missing query", "{\"variables\": {}}"),
        ("non-string query", "{\"query\": 42}"),
        (
            "variables not an object",
            "{\"query\": \"{ __typename }\", \"variables\": [1]}",
        ),
        (
            "variables a string",
            "{\"query\": \"{ __typename }\", \"variables\": \"x\"}",
        ),
        (
            "unknown operationName",
            "{\"query\": \"query A { __typename }\", \"operationName\": \"B\"}",
        ),
        (
            "extensions not an object",
            "{\"query\": \"{ __typename }\", \"extensions\": \"x\"}",
        ),
    ];
    for (case, raw) in cases {
        let (status, headers, body) = server.post_raw("application/json", raw);
        assert_eq!(status, 400, "{case}: {body}");
        assert!(
            content_type(&headers).contains("json"),
            "{case}: {headers:?}"
        );
        let codes = support::error_codes(&body);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| c == "BAD_REQUEST"),
            "{case}: {body}"
        );
        assert!(body.get("data").is_none(), "{case}: {body}");
    }
    // A syntax error is a request error like a validation error: 200 under legacy
    // application/json (the spec's SHOULD), with a BAD_REQUEST error and no data.
    let (status, _, body) = server.post_raw("application/json", "{\"query\": \"{ users { id \"}");
    assert_eq!(status, 200, "{body}");
    assert_eq!(support::error_codes(&body), ["BAD_REQUEST"], "{body}");
    assert!(body.get("data").is_none(), "{body}");
    // The same over GET.
    let (status, _, text) = server.get("/graphql?variables=%7B%7D", "application/json");
    assert_eq!(status, 400, "{text}");
    let (status, _, text) = server.get("/graphql?query=%7B", "application/json");
    assert_eq!(status, 200, "{text}");
}

#[test]
fn validation_and_variable_errors_run_no_sql() {
    let trace_dir = temp_dir("trace");
    let trace = trace_dir.join("statements.trace");
    let server = TestServer::start(&[(
        "FRAISEQL_SQLITE_TRACE",
        trace.to_str().expect("utf-8 temp path"),
    )]);
    let traced = || std::fs::read(&trace).map(|b| b.len()).unwrap_or(0);

    // The trace does see a query that runs (so an unchanged trace below means something).
    let before = traced();
    server.query("{ users(limit: 1) { id } }", json!({}));
    assert!(
        traced() > before,
        "a valid query left no statement in the trace"
    );

    let before = traced();
    let invalid = json!({"query": "{\n  users { id nope }\n}"});
    let (status, _, body) = server.post_json(invalid.clone());
    assert_eq!(status, 200, "application/json answers 200: {body}");
    assert_eq!(support::error_codes(&body), ["GRAPHQL_VALIDATION_FAILED"]);
    assert_eq!(
        body["errors"][0]["locations"],
        json!([{"line": 2, "column": 14}])
    );
    assert!(body.get("data").is_none(), "{body}");
    let (status, media, body) = post_with_accept(&server, GRAPHQL_RESPONSE_JSON, invalid);
    assert_eq!(status, 400, "graphql-response+json answers 400: {body}");
    assert!(media.starts_with(GRAPHQL_RESPONSE_JSON));

    let needs_id = "query Q($id: ID!) { user(id: $id) { id } }";
    let (status, _, body) = server.post_json(json!({"query": needs_id, "variables": {}}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(support::error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    let (status, _, body) = post_with_accept(
        &server,
        GRAPHQL_RESPONSE_JSON,
        json!({"query": needs_id, "variables": {"id": {"not": "an id"}}}),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(support::error_codes(&body), ["BAD_USER_INPUT"], "{body}");

    assert_eq!(traced(), before, "a rejected request reached the database");
    let _ = std::fs::remove_dir_all(&trace_dir);
}

#[test]
fn a_document_seen_before_is_not_parsed_again() {
    let server = TestServer::start(&[]);
    let query = "query Cached { posts(limit: 3) { id title author { name } } }";
    let first = server.query(query, json!({}));
    let parsed = server.metric("fraiseql_documents_parsed_total");
    let hits = server.metric("fraiseql_plan_cache_hits_total");
    let misses = server.metric("fraiseql_plan_cache_misses_total");

    let second = server.query(query, json!({}));
    assert_eq!(first, second);
    assert_eq!(server.metric("fraiseql_documents_parsed_total"), parsed);
    assert_eq!(server.metric("fraiseql_plan_cache_hits_total"), hits + 1.0);
    assert_eq!(server.metric("fraiseql_plan_cache_misses_total"), misses);

    // Another operationName over the same text is another cache entry.
    let (status, _, body) = server.post_json(json!({"query": query, "operationName": "Cached"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        server.metric("fraiseql_documents_parsed_total"),
        parsed + 1.0
    );

    let (_, _, metrics) = server.get("/metrics", "text/plain");
    assert!(
        metrics.contains("fraiseql_http_requests_total{operation=\"Cached\",status=\"200\"}"),
        "{metrics}"
    );
}

#[test]
fn browsers_get_the_playground_and_its_assets() {
    let server = TestServer::start(&[]);
    let (status, headers, page) = server.get("/graphql", "text/html,application/xhtml+xml");
    assert_eq!(status, 200);
    assert!(content_type(&headers).starts_with("text/html"));
    assert!(page.contains("/playground/"), "{page}");
    let (status, headers, _) = server.get("/playground/graphiql.min.js", "*/*");
    assert_eq!(status, 200);
    assert!(content_type(&headers).starts_with("text/javascript"));
    let (status, _, _) = server.get("/playground/..%2Fplayground.rs", "*/*");
    assert_eq!(status, 404);
}
