//! The server's HTTP API, black-box: every test starts the real `fraiseql-blog` binary on a SQLite
//! file of its own (created, migrated and seeded at start) and talks HTTP to it. Covered: the
//! introspection query GraphiQL sends, GET and POST requests with content negotiation, the status
//! codes and error bodies of the GraphQL-over-HTTP specification (400, 405, 415, and 200 versus
//! 400 for validation errors depending on `Accept`), the plan cache as seen in `/metrics`, the
//! seeded data through nested per-parent limits, and the health, metrics and playground endpoints.
//!
//! `fixtures/introspection.graphql` is byte for byte what graphql-js 16's `getIntrospectionQuery()`
//! returns with its default options, taken from the graphql-js bundled in the vendored
//! `graphiql.min.js` (GraphiQL 3.8.3 sends exactly this text, with operationName
//! `IntrospectionQuery`).

mod support;

#[allow(dead_code)]
mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}

use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use support::TestServer;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// POSTs `body` (as JSON) to /graphql with an `Accept` header; status, headers, JSON body.
fn post_accepting(server: &TestServer, accept: &str, body: &Value) -> (u16, HeaderMap, Value) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/graphql", server.base))
        .header("content-type", JSON)
        .header("accept", accept)
        .body(body.to_string())
        .send()
        .expect("POST /graphql");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().expect("response body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {text}"));
    (status, headers, body)
}

/// `GET /graphql` with these query-string parameters (URL-encoded here); status, headers, JSON.
fn get_graphql(
    server: &TestServer,
    params: &[(&str, &str)],
    accept: &str,
) -> (u16, HeaderMap, Value) {
    let url = reqwest::Url::parse_with_params("http://localhost/graphql", params).expect("url");
    let path = format!("/graphql?{}", url.query().unwrap_or(""));
    let (status, headers, text) = server.get(&path, accept);
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("GET {path}: the body is not JSON ({e}): {text}"));
    (status, headers, body)
}

/// POSTs `body` to /graphql and returns the response text as is (HTTP 200 asserted).
fn post_text(server: &TestServer, body: &Value) -> String {
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/graphql", server.base))
        .header("content-type", JSON)
        .body(body.to_string())
        .send()
        .expect("POST /graphql");
    assert_eq!(response.status().as_u16(), 200);
    response.text().expect("response body")
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The body is `{"errors": [...]}` — no `data` key — and the first error has a non-empty
/// message and `extensions.code == code`.
fn assert_errors_only(body: &Value, code: &str, case: &str) {
    assert!(
        body.get("data").is_none(),
        "{case}: no data expected: {body}"
    );
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{case}: no errors array: {body}"));
    assert!(!errors.is_empty(), "{case}: empty errors: {body}");
    let message = errors[0]["message"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "{case}: no message: {body}");
    assert_eq!(errors[0]["extensions"]["code"], code, "{case}: {body}");
}

/// The introspection type object named `name`.
fn introspected_type<'a>(types: &'a [Value], name: &str) -> &'a Value {
    types
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("type {name} is not in the introspection result"))
}

/// A `TypeRef` written the SDL way: `[User!]!`.
fn type_ref(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&t["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&t["ofType"])),
        _ => t["name"].as_str().unwrap_or("?").to_string(),
    }
}

#[test]
fn graphiql_introspection_query_describes_the_schema() {
    let server = TestServer::start(&[]);
    let query = include_str!("fixtures/introspection.graphql");
    let body = json!({"query": query, "operationName": "IntrospectionQuery"});
    let (status, headers, body) =
        post_accepting(&server, "application/json, multipart/mixed", &body);
    assert_eq!(status, 200, "{body}");
    assert!(content_type(&headers).starts_with(JSON), "{headers:?}");
    assert!(body.get("errors").is_none(), "{body}");

    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    assert_eq!(schema["mutationType"]["name"], "Mutation");
    assert_eq!(schema["subscriptionType"], Value::Null);

    let types = schema["types"].as_array().expect("types");
    for (name, kind) in [
        ("Query", "OBJECT"),
        ("User", "OBJECT"),
        ("Post", "OBJECT"),
        ("Comment", "OBJECT"),
        ("UserWhere", "INPUT_OBJECT"),
        ("CreatePostInput", "INPUT_OBJECT"),
        ("PostOrderBy", "INPUT_OBJECT"),
        ("PostStatus", "ENUM"),
        ("DateTime", "SCALAR"),
        ("JSON", "SCALAR"),
    ] {
        assert_eq!(introspected_type(types, name)["kind"], kind, "{name}");
    }

    let user = introspected_type(types, "User");
    assert_eq!(
        user["description"],
        "A person who writes posts and comments."
    );
    let user_fields: Vec<&str> = user["fields"]
        .as_array()
        .expect("User.fields")
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        user_fields,
        [
            "id",
            "name",
            "email",
            "bio",
            "createdAt",
            "posts",
            "comments",
            "_cursor"
        ]
    );

    let query_type = introspected_type(types, "Query");
    let users = query_type["fields"]
        .as_array()
        .expect("Query.fields")
        .iter()
        .find(|f| f["name"] == "users")
        .expect("Query.users");
    assert_eq!(type_ref(&users["type"]), "[User!]!");
    let args: Vec<(String, String)> = users["args"]
        .as_array()
        .expect("users.args")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                type_ref(&a["type"]),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("limit", "Int"),
        ("offset", "Int"),
        ("after", "String"),
        ("where", "UserWhere"),
        ("orderBy", "[UserOrderBy!]"),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), t.to_string()))
    .collect();
    assert_eq!(args, expected);

    // Input fields carry their default values as GraphQL text.
    let direction = introspected_type(types, "PostOrderBy")["inputFields"]
        .as_array()
        .expect("PostOrderBy.inputFields")
        .iter()
        .find(|f| f["name"] == "direction")
        .expect("PostOrderBy.direction")
        .clone();
    assert_eq!(direction["defaultValue"], "ASC");
    let statuses: Vec<&str> = introspected_type(types, "PostStatus")["enumValues"]
        .as_array()
        .expect("enumValues")
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["DRAFT", "PUBLISHED", "ARCHIVED"]);

    let directives = schema["directives"].as_array().expect("directives");
    let directive = |name: &str| {
        directives
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("directive @{name} missing: {directives:?}"))
    };
    assert_eq!(
        directive("include")["locations"],
        json!(["FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"])
    );
    directive("skip");
    let cache = directive("cache");
    assert_eq!(cache["locations"], json!(["FIELD"]));
    assert_eq!(type_ref(&cache["args"][0]["type"]), "Int!");
}

#[test]
fn get_runs_a_query_with_url_encoded_variables_and_operation_name() {
    let server = TestServer::start(&[]);
    let params = [
        (
            "query",
            "query Other { users(limit: 1) { id } }\n\
             query ById($id: ID!) { user(id: $id) { id name } }",
        ),
        ("variables", r#"{"id": "7"}"#),
        ("operationName", "ById"),
    ];
    let (status, headers, body) = get_graphql(&server, &params, JSON);
    assert_eq!(status, 200, "{body}");
    assert!(content_type(&headers).starts_with(JSON), "{headers:?}");
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["user"]["id"], "7");
    assert!(
        body["data"]["user"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{body}"
    );
    assert!(
        body["data"].get("users").is_none(),
        "only ById runs: {body}"
    );

    // The modern media type is answered in kind.
    let (status, headers, modern) = get_graphql(&server, &params, GRAPHQL_RESPONSE_JSON);
    assert_eq!(status, 200, "{modern}");
    assert!(
        content_type(&headers).starts_with(GRAPHQL_RESPONSE_JSON),
        "{headers:?}"
    );
    assert_eq!(modern, body);

    // The same over POST with that Accept header.
    let post = json!({"query": params[0].1, "variables": {"id": "7"}, "operationName": "ById"});
    let (status, headers, posted) = post_accepting(&server, GRAPHQL_RESPONSE_JSON, &post);
    assert_eq!(status, 200, "{posted}");
    assert!(
        content_type(&headers).starts_with(GRAPHQL_RESPONSE_JSON),
        "{headers:?}"
    );
    assert_eq!(posted, body);
}

#[test]
fn mutation_over_get_is_405_with_allow_post() {
    let server = TestServer::start(&[]);
    for accept in [JSON, GRAPHQL_RESPONSE_JSON] {
        let (status, headers, body) = get_graphql(&server, &[("query", "mutation { x }")], accept);
        assert_eq!(status, 405, "{accept}: {body}");
        assert_eq!(
            headers.get("allow").map(|v| v.to_str().unwrap()),
            Some("POST"),
            "{accept}"
        );
        assert_errors_only(&body, "METHOD_NOT_ALLOWED", accept);
    }
    // Selected by operationName from a document that also has a query.
    let (status, _, body) = get_graphql(
        &server,
        &[
            (
                "query",
                "query Q { users(limit: 1) { id } } mutation M { x }",
            ),
            ("operationName", "M"),
        ],
        JSON,
    );
    assert_eq!(status, 405, "{body}");
    assert!(body.get("data").is_none(), "{body}");
}

#[test]
fn methods_other_than_get_and_post_are_405() {
    let server = TestServer::start(&[]);
    let response = reqwest::blocking::Client::new()
        .put(format!("{}/graphql", server.base))
        .header("content-type", JSON)
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .expect("PUT /graphql");
    assert_eq!(response.status().as_u16(), 405);
    let allow = response
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(allow.as_deref(), Some("GET, POST"));
}

#[test]
fn malformed_requests_are_400_bad_request() {
    let server = TestServer::start(&[]);
    let posts: &[(&str, &str)] = &[
        ("malformed JSON", r#"{"query": "{ __typename }""#),
        ("a JSON array", r#"[{"query": "{ __typename }"}]"#),
        ("a JSON string", r#""{ __typename }""#),
        ("no query", r#"{"variables": {}}"#),
        ("a null query", r#"{"query": null}"#),
        ("query not a string", r#"{"query": 1}"#),
        (
            "variables not an object",
            r#"{"query": "{ __typename }", "variables": [1]}"#,
        ),
        (
            "variables a string",
            r#"{"query": "{ __typename }", "variables": "{}"}"#,
        ),
        (
            "operationName not a string",
            r#"{"query": "{ __typename }", "operationName": 3}"#,
        ),
        (
            "unknown operationName",
            r#"{"query": "query A { __typename }", "operationName": "B"}"#,
        ),
        (
            "operationName on an anonymous operation",
            r#"{"query": "{ __typename }", "operationName": "A"}"#,
        ),
        (
            "several operations, no operationName",
            r#"{"query": "query A { __typename } query B { __typename }"}"#,
        ),
        (
            "a document without operations",
            r#"{"query": "fragment F on User { id }"}"#,
        ),
    ];
    for accept in [JSON, GRAPHQL_RESPONSE_JSON] {
        for (case, raw) in posts {
            let response = reqwest::blocking::Client::new()
                .post(format!("{}/graphql", server.base))
                .header("content-type", JSON)
                .header("accept", accept)
                .body(raw.to_string())
                .send()
                .expect("POST /graphql");
            let status = response.status().as_u16();
            let media = content_type(response.headers()).to_string();
            let text = response.text().unwrap_or_default();
            assert_eq!(status, 400, "{case} ({accept}): {text}");
            assert!(
                media.starts_with(accept),
                "{case} ({accept}): content-type {media}"
            );
            let body: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{case}: body is not JSON ({e}): {text}"));
            assert_errors_only(&body, "BAD_REQUEST", case);
        }
    }

    // A syntax error is a request error like a validation error: 400 under
    // graphql-response+json, 200 under legacy application/json (the spec's SHOULDs).
    for (case, raw) in [
        ("a syntax error", r#"{"query": "{ users(limit: 1) { id "}"#),
        ("an empty document", r#"{"query": ""}"#),
    ] {
        for (accept, expected) in [(JSON, 200), (GRAPHQL_RESPONSE_JSON, 400)] {
            let response = reqwest::blocking::Client::new()
                .post(format!("{}/graphql", server.base))
                .header("content-type", JSON)
                .header("accept", accept)
                .body(raw.to_string())
                .send()
                .expect("POST /graphql");
            let status = response.status().as_u16();
            let text = response.text().unwrap_or_default();
            assert_eq!(status, expected, "{case} ({accept}): {text}");
            let body: Value = serde_json::from_str(&text).expect("JSON body");
            assert_errors_only(&body, "BAD_REQUEST", case);
        }
    }

    // A syntax error points at where it is.
    let (_, _, body) = server.post_raw(JSON, r#"{"query": "{\n  users(limit: 1) { id ) }\n}"}"#);
    let location = &body["errors"][0]["locations"][0];
    assert_eq!(location["line"], 2, "{body}");
    assert!(location["column"].as_u64().is_some(), "{body}");

    let gets: &[(&str, Vec<(&str, &str)>)] = &[
        (
            "GET with variables that are not JSON",
            vec![("query", "{ __typename }"), ("variables", "{nope")],
        ),
        (
            "GET with variables that are a JSON array",
            vec![("query", "{ __typename }"), ("variables", "[1]")],
        ),
        ("GET without a query", vec![("variables", "{}")]),
        ("GET with nothing", vec![]),
    ];
    for (case, params) in gets {
        let (status, _, body) = get_graphql(&server, params, JSON);
        assert_eq!(status, 400, "{case}: {body}");
        assert_errors_only(&body, "BAD_REQUEST", case);
    }
    let (status, _, body) = get_graphql(&server, &[("query", "{ users(")], JSON);
    assert_eq!(status, 200, "GET with a syntax error: {body}");
    assert_errors_only(&body, "BAD_REQUEST", "GET with a syntax error");
}

#[test]
fn other_content_types_are_415() {
    let server = TestServer::start(&[]);
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/graphql",
        "",
    ] {
        let (status, _, body) = server.post_raw(content_type, r#"{"query": "{ __typename }"}"#);
        assert_eq!(status, 415, "content-type {content_type:?}: {body}");
        assert!(body.get("data").is_none(), "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("application/json")),
            "{body}"
        );
    }
    // Parameters on the media type are fine.
    let (status, _, body) = server.post_raw(
        "Application/JSON; charset=utf-8",
        r#"{"query": "{ __typename }"}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"data": {"__typename": "Query"}}));
}

#[test]
fn validation_errors_have_locations_and_status_by_media_type() {
    let server = TestServer::start(&[]);
    let request = json!({"query": "query {\n  users(limit: 1) {\n    id\n    nope\n  }\n}"});

    let (status, headers, legacy) = post_accepting(&server, JSON, &request);
    assert_eq!(status, 200, "{legacy}");
    assert!(content_type(&headers).starts_with(JSON));
    assert_errors_only(&legacy, "GRAPHQL_VALIDATION_FAILED", "legacy");
    let error = &legacy["errors"][0];
    assert!(
        error["message"].as_str().unwrap().contains("nope"),
        "{legacy}"
    );
    assert_eq!(
        error["locations"],
        json!([{"line": 4, "column": 5}]),
        "{legacy}"
    );

    let (status, headers, modern) = post_accepting(&server, GRAPHQL_RESPONSE_JSON, &request);
    assert_eq!(status, 400, "{modern}");
    assert!(content_type(&headers).starts_with(GRAPHQL_RESPONSE_JSON));
    assert_eq!(modern, legacy);

    // Over GET too.
    let (status, _, body) = get_graphql(
        &server,
        &[("query", "{ users { nope } }")],
        GRAPHQL_RESPONSE_JSON,
    );
    assert_eq!(status, 400, "{body}");
    assert_errors_only(&body, "GRAPHQL_VALIDATION_FAILED", "GET");
}

#[test]
fn variable_coercion_failures_are_bad_user_input_without_data() {
    let server = TestServer::start(&[]);
    let cases = [
        (
            "a missing non-null variable",
            "query ($id: ID!) { user(id: $id) { name } }",
            json!({}),
        ),
        (
            "a null non-null variable",
            "query ($id: ID!) { user(id: $id) { name } }",
            json!({"id": null}),
        ),
        (
            "a string for an Int",
            "query ($n: Int) { users(limit: $n) { id } }",
            json!({"n": "ten"}),
        ),
        (
            "a float for an Int",
            "query ($n: Int) { users(limit: $n) { id } }",
            json!({"n": 1.5}),
        ),
        (
            "an unknown enum value",
            "query ($s: PostStatus) { posts(limit: 1, where: {status: {eq: $s}}) { id } }",
            json!({"s": "GONE"}),
        ),
    ];
    for (case, query, variables) in cases {
        let request = json!({"query": query, "variables": variables});
        let (status, _, legacy) = post_accepting(&server, JSON, &request);
        assert_eq!(status, 200, "{case}: {legacy}");
        assert_errors_only(&legacy, "BAD_USER_INPUT", case);
        let (status, _, modern) = post_accepting(&server, GRAPHQL_RESPONSE_JSON, &request);
        assert_eq!(status, 400, "{case}: {modern}");
        assert_errors_only(&modern, "BAD_USER_INPUT", case);
    }
    // The same documents with good variables run.
    let body = server.query(
        "query ($n: Int) { users(limit: $n) { id } }",
        json!({"n": 2}),
    );
    assert_eq!(body, json!({"data": {"users": [{"id": "1"}, {"id": "2"}]}}));
}

/// An ID argument value the planner rejects is named in the message with the argument, as the
/// DateTime message names its value ("\"yesterday\" is not an RFC 3339 date-time …") and the
/// `limit` message its argument ("`limit` must be a non-negative integer").
#[test]
fn a_bad_id_value_is_named_with_its_argument() {
    let server = TestServer::start(&[]);
    for (query, needles) in [
        (r#"{ user(id: "abc") { id } }"#, &["`id`", "abc"][..]),
        (
            r#"{ users(where: {id: {eq: "abc"}}) { id } }"#,
            &["abc"][..],
        ),
    ] {
        let (status, _, body) = post_accepting(&server, JSON, &json!({"query": query}));
        assert_eq!(status, 200, "{body}");
        assert_errors_only(&body, "BAD_USER_INPUT", query);
        let message = body["errors"][0]["message"].as_str().unwrap();
        for needle in needles {
            assert!(
                message.contains(needle),
                "{query}: the message should contain {needle}: {message:?}"
            );
        }
    }
}

#[test]
fn the_plan_cache_parses_each_document_and_operation_once() {
    let server = TestServer::start(&[]);
    let counts = || {
        (
            server.metric("fraiseql_documents_parsed_total"),
            server.metric("fraiseql_plan_cache_hits_total"),
            server.metric("fraiseql_plan_cache_misses_total"),
        )
    };
    assert_eq!(counts(), (0.0, 0.0, 0.0));
    let document =
        "query A($n: Int) { users(limit: $n) { id } }\nquery B { posts(limit: 1) { id } }";

    let first =
        server.post_json(json!({"query": document, "variables": {"n": 1}, "operationName": "A"}));
    assert_eq!(first.0, 200, "{}", first.2);
    assert_eq!(first.2, json!({"data": {"users": [{"id": "1"}]}}));
    assert_eq!(counts(), (1.0, 0.0, 1.0), "after the first request");

    let again =
        server.post_json(json!({"query": document, "variables": {"n": 1}, "operationName": "A"}));
    assert_eq!(again.2, first.2);
    assert_eq!(counts(), (1.0, 1.0, 1.0), "the same request again");

    // Other variables: the prepared operation is reused, the result is not.
    let other =
        server.post_json(json!({"query": document, "variables": {"n": 2}, "operationName": "A"}));
    assert_eq!(
        other.2,
        json!({"data": {"users": [{"id": "1"}, {"id": "2"}]}})
    );
    assert_eq!(counts(), (1.0, 2.0, 1.0), "other variables");

    // GET shares the cache with POST.
    let (status, _, body) = get_graphql(
        &server,
        &[
            ("query", document),
            ("variables", r#"{"n": 3}"#),
            ("operationName", "A"),
        ],
        JSON,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["users"].as_array().map(Vec::len),
        Some(3),
        "{body}"
    );
    assert_eq!(counts(), (1.0, 3.0, 1.0), "the same operation over GET");

    // Another operation of the same document is another entry.
    let b = server.post_json(json!({"query": document, "operationName": "B"}));
    assert_eq!(b.2, json!({"data": {"posts": [{"id": "1"}]}}));
    assert_eq!(counts(), (2.0, 3.0, 2.0), "operationName B");

    // Another document text (even only whitespace apart) is another entry.
    let spaced = format!("{document} ");
    let c = server.post_json(json!({"query": spaced, "variables": {"n": 1}, "operationName": "A"}));
    assert_eq!(c.2, first.2);
    assert_eq!(counts(), (3.0, 3.0, 3.0), "another document");
}

#[test]
fn users_come_back_in_key_order() {
    let server = TestServer::start(&[]);
    let body = server.query("{ users(limit: 50) { id name } }", json!({}));
    assert!(body.get("errors").is_none(), "{body}");
    let users = body["data"]["users"].as_array().expect("users");
    let ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=50).map(|i| i.to_string()).collect();
    assert_eq!(ids, expected);
    for user in users {
        assert!(
            user["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{user}"
        );
        assert_eq!(
            user.as_object().map(|o| o.len()),
            Some(2),
            "only id and name: {user}"
        );
    }
}

/// The seed spreads foreign keys round-robin (`db/seed/mod.rs`, `reference`): post i belongs to
/// user ((i - 1) % 1000) + 1, so each of the 1,000 users has 10 of the 10,000 posts (user u:
/// posts u, u + 1000, …), and the 30,000 comments are spread evenly over the posts, 3 each. So
/// the per-parent limits 5 and 3 are reached exactly for every parent.
#[test]
fn nested_lists_apply_their_limits_per_parent() {
    let server = TestServer::start(&[]);
    let body = server.query(
        "{ users(limit: 50) { id posts(limit: 5) { id title comments(limit: 3) { id body } } } }",
        json!({}),
    );
    assert!(body.get("errors").is_none(), "{body}");
    let users = body["data"]["users"].as_array().expect("users");
    assert_eq!(users.len(), 50);
    let mut comment_ids = std::collections::HashSet::new();
    for (u, user) in (1u64..).zip(users) {
        assert_eq!(user["id"], u.to_string());
        let posts = user["posts"].as_array().expect("posts");
        let post_ids: Vec<&str> = posts.iter().map(|p| p["id"].as_str().unwrap()).collect();
        let expected: Vec<String> = (0..5).map(|k| (u + 1000 * k).to_string()).collect();
        assert_eq!(post_ids, expected, "user {u}'s first 5 posts in key order");
        for post in posts {
            let comments = post["comments"].as_array().expect("comments");
            assert_eq!(comments.len(), 3, "post {}: {comments:?}", post["id"]);
            let ids: Vec<u64> = comments
                .iter()
                .map(|c| c["id"].as_str().unwrap().parse().unwrap())
                .collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "key order: {ids:?}");
            for id in ids {
                assert!(comment_ids.insert(id), "comment {id} under two posts");
            }
        }
    }
    assert_eq!(comment_ids.len(), 50 * 5 * 3);

    // Every comment listed under a post belongs to that post.
    let post = server.query(
        "{ post(id: 1001) { comments(limit: 3) { post { id } } } }",
        json!({}),
    );
    assert_eq!(
        post["data"]["post"]["comments"],
        json!([{"post": {"id": "1001"}}, {"post": {"id": "1001"}}, {"post": {"id": "1001"}}])
    );
}

#[test]
fn aliases_fragments_include_and_typename_over_http() {
    let server = TestServer::start(&[]);
    let query = "query Q($withEmail: Boolean!) {
        __typename
        first: user(id: 1) { __typename ...Who email @include(if: $withEmail) }
        second: user(id: 2) { ... on User { who: name } }
        missing: user(id: 999999) { id }
        few: users(limit: 2) { ...Who }
    }
    fragment Who on User { id name }";

    // Response keys follow the selection order (serde_json's map here sorts them, so the order
    // is checked on the raw text).
    let raw = post_text(
        &server,
        &json!({"query": query, "variables": {"withEmail": true}}),
    );
    let with: Value = serde_json::from_str(&raw).expect("JSON");
    assert!(with.get("errors").is_none(), "{with}");
    let data = &with["data"];
    let first_name = data["first"]["name"].as_str().expect("first.name");
    let email = data["first"]["email"].as_str().expect("first.email");
    assert!(email.contains('@'), "{with}");
    let first = format!(
        r#""first":{{"__typename":"User","id":"1","name":{},"email":{}}}"#,
        json!(first_name),
        json!(email)
    );
    assert!(raw.contains(&first), "expected {first} in {raw}");
    assert!(
        raw.starts_with(r#"{"data":{"__typename":"Query","first":"#),
        "{raw}"
    );
    assert!(data["second"]["who"].as_str().is_some(), "{with}");
    assert_eq!(data["missing"], Value::Null);
    assert_eq!(data["few"][1]["id"], "2");
    assert_eq!(data["few"][0]["name"], first_name);

    let without = server.query(query, json!({"withEmail": false}));
    assert!(without["data"]["first"].get("email").is_none(), "{without}");
    assert_eq!(without["data"]["first"]["name"], first_name);
}

#[test]
fn health_endpoints_answer() {
    let server = TestServer::start(&[]);
    let (status, _, live) = server.get("/health/live", JSON);
    assert_eq!(status, 200, "{live}");
    let live: Value = serde_json::from_str(&live).expect("JSON");
    assert_eq!(live["status"], "live");

    let (status, _, ready) = server.get("/health/ready", JSON);
    assert_eq!(status, 200, "{ready}");
    let ready: Value = serde_json::from_str(&ready).expect("JSON");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["schema"], schema::SCHEMA.hash);
    assert_eq!(schema::SCHEMA.hash.len(), 64, "a sha256 hex");
}

#[test]
fn metrics_are_prometheus_text() {
    let server = TestServer::start(&[]);
    server.query("{ __typename }", json!({}));
    server.post_raw(JSON, "{");
    let (status, _, _) =
        server.post_json(json!({"query": "query Named { __typename }", "operationName": "Named"}));
    assert_eq!(status, 200);
    let (status, headers, text) = server.get("/metrics", "text/plain");
    assert_eq!(status, 200);
    assert!(
        content_type(&headers).starts_with("text/plain; version=0.0.4"),
        "{headers:?}"
    );
    for name in [
        "fraiseql_documents_parsed_total",
        "fraiseql_plan_cache_hits_total",
        "fraiseql_plan_cache_misses_total",
        "fraiseql_http_requests_total",
    ] {
        assert!(text.contains(&format!("# HELP {name} ")), "{name}:\n{text}");
        assert!(
            text.contains(&format!("# TYPE {name} counter")),
            "{name}:\n{text}"
        );
    }
    for line in [
        "fraiseql_http_requests_total{operation=\"anonymous\",status=\"200\"} 1",
        "fraiseql_http_requests_total{operation=\"anonymous\",status=\"400\"} 1",
        "fraiseql_http_requests_total{operation=\"Named\",status=\"200\"} 1",
        "fraiseql_http_request_duration_seconds_count{operation=\"Named\"} 1",
        "fraiseql_graphql_errors_total{code=\"BAD_REQUEST\"} 1",
        // The scrape itself is not a GraphQL request.
        "fraiseql_http_requests_in_flight 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}:\n{text}");
    }
    assert!(
        text.contains("# TYPE fraiseql_http_request_duration_seconds histogram"),
        "{text}"
    );
    // Every sample line is `name{labels} value`.
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (name, value) = line.rsplit_once(' ').expect("a sample");
        assert!(name.starts_with("fraiseql_"), "{line}");
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
}

#[test]
fn browsers_get_the_playground_and_its_assets() {
    let server = TestServer::start(&[]);
    let browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let (status, headers, page) = server.get("/graphql", browser_accept);
    assert_eq!(status, 200);
    assert!(
        content_type(&headers).starts_with("text/html"),
        "{headers:?}"
    );
    assert!(
        page.contains("<title>FraiseQL playground</title>"),
        "{page}"
    );
    assert!(
        page.contains(r#"<script src="/playground/graphiql.min.js"></script>"#),
        "{page}"
    );

    let assets = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fraiseql-runtime/assets/playground"
    );
    for (file, media) in [
        ("graphiql.min.js", "text/javascript"),
        ("graphiql.min.css", "text/css"),
        ("playground.js", "text/javascript"),
    ] {
        let (status, headers, served) = server.get(&format!("/playground/{file}"), "*/*");
        assert_eq!(status, 200, "{file}");
        assert!(
            content_type(&headers).starts_with(media),
            "{file}: {headers:?}"
        );
        let on_disk = std::fs::read_to_string(format!("{assets}/{file}")).expect("asset file");
        assert!(
            served == on_disk,
            "{file}: the served bytes differ from the vendored file"
        );
    }
    let (status, _, _) = server.get("/playground/nope.js", "*/*");
    assert_eq!(status, 404);
    let (status, _, _) = server.get("/playground/..%2FCargo.toml", "*/*");
    assert_eq!(status, 404);

    // A browser asking with a query gets the result, not the page.
    let (status, headers, text) = server.get("/graphql?query=%7B__typename%7D", browser_accept);
    assert_eq!(status, 200, "{text}");
    assert!(content_type(&headers).starts_with(JSON), "{headers:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"data": {"__typename": "Query"}})
    );
}
