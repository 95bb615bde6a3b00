//! Must show 5 (ETag / 304 on GET; Cache-Control for PUBLIC, PRIVATE, capped and uncacheable
//! responses; a document mixing a cached and an uncacheable root field) and 2 (PRIVATE data is
//! never served to another caller; an anonymous PRIVATE response is no-store).

use serde_json::json;

use super::support::{run_cli, TestServer};
use super::{header, serial, SharedDb};

const USER: &str = "{ user(id: 1) { id name } }";

fn get_path(query: &str) -> String {
    let q: String = url_encode(query);
    format!("/graphql?query={q}")
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn etag_and_304_round_trip_on_get() {
    let _serial = serial();
    let server = TestServer::start(&[]);
    let path = get_path(USER);
    let (status, headers, body) = server.get_with(&path, &[("accept", "application/json")]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "cache-control"), "public, max-age=3600");
    assert_eq!(header(&headers, "vary"), "Accept, FraiseQL-Consistency");
    let etag = header(&headers, "etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.len() > 2,
        "strong ETag: {etag:?}"
    );

    let (status, headers, body) = server.get_with(&path, &[("if-none-match", &etag)]);
    assert_eq!(status, 304);
    assert_eq!(body, "", "a 304 has no body");
    assert_eq!(header(&headers, "etag"), etag);
    assert!(header(&headers, "cache-control").starts_with("public, max-age="));

    let (status, _, body) = server.get_with(&path, &[("if-none-match", "\"something-else\"")]);
    assert_eq!(status, 200);
    assert!(body.contains("\"user\""), "{body}");

    // The same over POST: ETag on the response, 304 when the client has it.
    let (status, headers, _) = server.post_with(USER, json!({}), &[]);
    assert_eq!(status, 200);
    let post_etag = header(&headers, "etag").to_owned();
    assert_eq!(post_etag, etag, "the same body has the same ETag");
    let (status, _, _) = server.post_with(USER, json!({}), &[("if-none-match", &post_etag)]);
    assert_eq!(status, 304);
}

#[test]
fn cache_control_follows_each_policy() {
    let _serial = serial();
    let server = TestServer::start(&[]);
    let control = |query: &str, headers: &[(&str, &str)]| {
        let (status, h, body) = server.post_with(query, json!({}), headers);
        assert_eq!(status, 200, "{body}");
        (
            header(&h, "cache-control").to_owned(),
            header(&h, "vary").to_owned(),
            h.contains_key("etag"),
            body,
        )
    };
    // PUBLIC: the schema's ttl.
    let (cc, vary, etag, _) = control("{ post(id: 1) { id title } }", &[]);
    assert_eq!(cc, "public, max-age=600");
    assert_eq!(vary, "Accept, FraiseQL-Consistency");
    assert!(etag);
    // The lowest ttl of what the response touches.
    let (cc, _, _, _) = control("{ post(id: 1) { id } user(id: 1) { id } }", &[]);
    assert_eq!(cc, "public, max-age=600");
    // A request asking for less gets less.
    let (cc, _, _, body) = control("{ user(id: 1) @cache(ttl: 60) { id } }", &[]);
    assert_eq!(cc, "public, max-age=60");
    assert!(body.get("extensions").is_none(), "not capped: {body}");
    // Capped: asked for more than the schema allows; extensions say so.
    let (cc, _, _, body) = control("{ user(id: 1) @cache(ttl: 7200) { id } }", &[]);
    assert_eq!(cc, "public, max-age=3600");
    assert_eq!(
        body["extensions"]["cache"]["capped"][0],
        json!({"path": ["user"], "requested": {"ttl": 7200, "scope": null},
               "granted": {"ttl": 3600, "scope": "PUBLIC"}}),
        "{body}"
    );
    // A request never turns PRIVATE into PUBLIC.
    let (cc, vary, _, body) = control(
        "{ user(id: 1) @cache(ttl: 60, scope: PUBLIC) { email } }",
        &[("authorization", "Bearer alice")],
    );
    assert_eq!(cc, "private, max-age=60");
    assert_eq!(vary, "Accept, FraiseQL-Consistency, Authorization");
    assert_eq!(
        body["extensions"]["cache"]["capped"][0]["granted"],
        json!({"ttl": 60, "scope": "PRIVATE"}),
        "{body}"
    );
    // PRIVATE (User.email) for a caller: private, the lowest ttl (email's 300).
    let (cc, vary, etag, _) = control(
        "{ user(id: 1) { name email } }",
        &[("authorization", "Bearer alice")],
    );
    assert_eq!(cc, "private, max-age=300");
    assert_eq!(vary, "Accept, FraiseQL-Consistency, Authorization");
    assert!(etag);
    // PRIVATE for an anonymous caller: never stored anywhere.
    let (cc, _, etag, _) = control("{ user(id: 1) { email } }", &[]);
    assert_eq!(cc, "no-store");
    assert!(!etag);
    // Uncacheable: a field without a policy; a request asking for caching there is capped.
    let (cc, _, _, _) = control("{ comments(limit: 2) { id } }", &[]);
    assert_eq!(cc, "no-store");
    let (cc, _, _, body) = control("{ comments(limit: 2) @cache(ttl: 30) { id } }", &[]);
    assert_eq!(cc, "no-store");
    assert_eq!(
        body["extensions"]["cache"]["capped"][0]["granted"],
        json!(null),
        "{body}"
    );
    // A relation without a policy makes its root field uncacheable.
    let (cc, _, _, _) = control("{ user(id: 1) { posts(limit: 1) { id } } }", &[]);
    assert_eq!(cc, "no-store");
    // Errors and mutations are never cached.
    let (cc, _, _, _) = control("{ user(id: \"not-a-key\") { id } }", &[]);
    assert_eq!(cc, "no-store");
    let (cc, _, _, _) = control(
        "mutation { updateUser(id: 2, input: {bio: \"b\"}) { id } }",
        &[],
    );
    assert_eq!(cc, "no-store");
}

#[test]
fn a_document_mixes_cached_and_fresh_root_fields() {
    let _serial = serial();
    let db = SharedDb::new("mixed");
    let server = TestServer::start(&[("DATABASE_URL", &db.url())]);
    let query = "{ user(id: 1) { name } comments(limit: 1) { id body } }";
    let first = server.query(query, json!({}));
    // Both change behind the server's back: the cached root field keeps its old value, the
    // uncacheable one is read again.
    db.sql("UPDATE users SET name = 'Changed Name' WHERE id = 1; UPDATE comments SET body = 'changed body' WHERE id = 1;");
    let (status, headers, second) = server.post_with(query, json!({}), &[]);
    assert_eq!(status, 200);
    assert_eq!(
        second["data"]["user"], first["data"]["user"],
        "user came from the cache"
    );
    assert_ne!(second["data"]["user"]["name"], json!("Changed Name"));
    assert_eq!(second["data"]["comments"][0]["body"], json!("changed body"));
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert!(server.series("fraiseql_cache_hits_total{tier=\"l1\"}") >= 1.0);
}

#[test]
fn private_data_is_never_served_to_another_caller() {
    let _serial = serial();
    let db = SharedDb::new("private");
    let server = TestServer::start(&[("DATABASE_URL", &db.url())]);
    let query = "{ user(id: 4) { email } }";
    let email = |caller: Option<&str>| {
        let auth;
        let headers: Vec<(&str, &str)> = match caller {
            Some(token) => {
                auth = format!("Bearer {token}");
                vec![("authorization", auth.as_str())]
            }
            None => Vec::new(),
        };
        let (status, h, body) = server.post_with(query, json!({}), &headers);
        assert_eq!(status, 200, "{body}");
        (
            body["data"]["user"]["email"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            header(&h, "cache-control").to_owned(),
        )
    };
    let (alice_first, cc) = email(Some("alice"));
    assert_eq!(cc, "private, max-age=300");
    db.sql("UPDATE users SET email = 'changed@example.com' WHERE id = 4;");
    // Bob asks the same document: not Alice's entry, the database's current value.
    let (bob, _) = email(Some("bob"));
    assert_eq!(bob, "changed@example.com");
    // Alice's own entry still answers her.
    let (alice_again, _) = email(Some("alice"));
    assert_eq!(alice_again, alice_first);
    // Anonymous: no-store, and never kept in the cache either.
    let (anonymous, cc) = email(None);
    assert_eq!(
        (anonymous.as_str(), cc.as_str()),
        ("changed@example.com", "no-store")
    );
    db.sql("UPDATE users SET email = 'again@example.com' WHERE id = 4;");
    let (anonymous, _) = email(None);
    assert_eq!(anonymous, "again@example.com");
    // A read-your-writes token bypasses the cache.
    let auth = "Bearer alice";
    let (_, _, body) = server.post_with(
        query,
        json!({}),
        &[("authorization", auth), ("fraiseql-consistency", "token-1")],
    );
    assert_eq!(body["data"]["user"]["email"], json!("again@example.com"));
}

#[test]
fn bad_cache_settings_stop_serve_with_exit_status_2() {
    let _serial = serial();
    for (variable, value) in [
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("NATS_URL", "http://127.0.0.1:4222"),
        ("FRAISEQL_REGION", "eu west"),
        ("FRAISEQL_CACHE_L1_BYTES", "lots"),
        ("FRAISEQL_CACHE_REDIS_TIMEOUT_MS", "0"),
        ("FRAISEQL_CACHE_NATS_DOWN_TTL_S", "-1"),
        ("FRAISEQL_CACHE_STALE_S", "x"),
        ("FRAISEQL_CACHE_TTL_JITTER_PCT", "90"),
    ] {
        let dir = super::support::temp_dir("badcache");
        let url = format!("sqlite://{}", dir.join("b.db").display());
        let out = run_cli(&["serve"], &[("DATABASE_URL", &url), (variable, value)]);
        assert_eq!(out.status.code(), Some(2), "{variable}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{variable}=\"{value}\" is not")),
            "{variable}: {stderr}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
