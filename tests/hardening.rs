//! Issue 7's hardening over HTTP, against the real binary: internal errors reach clients as an
//! id the server's log holds with the cause (never SQL, paths or panics), JSON batches, CORS,
//! response compression and per-client rate limits.

mod support;

use std::process::Command;

use serde_json::{json, Value};
use support::TestServer;

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
