//! Graceful shutdown of the real binary: on SIGTERM readiness turns 503 at once while requests
//! are still served (with `Connection: close`) for the drain period; then the server stops
//! accepting, finishes the request in flight and exits 0. SIGINT drains for at most a second.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{TestServer, WriteLock};

#[test]
fn sigterm_drains_then_finishes_in_flight_requests_and_exits_zero() {
    let mut server = TestServer::start(&[
        ("FRAISEQL_DRAIN_S", "1"),
        ("FRAISEQL_SHUTDOWN_TIMEOUT_S", "10"),
        ("RUST_LOG", "info"),
    ]);
    let lock = WriteLock::take(&server.dir.join("blog.db"));

    // A mutation that waits for the write lock: in flight across the whole shutdown.
    let client = server.client();
    let url = format!("{}/graphql", server.base);
    let in_flight = std::thread::spawn(move || {
        let response = client
            .post(url)
            .json(&json!({"query": "mutation { createUser(input: {name: \"Late\", email: \"late@example.com\"}) { name } }"}))
            .send()
            .expect("the in-flight request gets an answer");
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap_or(Value::Null))
    });
    std::thread::sleep(Duration::from_millis(300));

    let signalled = Instant::now();
    server.signal("TERM");
    // Readiness turns 503 at once; queries are still answered during the drain.
    let mut saw_draining = false;
    while signalled.elapsed() < Duration::from_millis(800) {
        let (status, _, body) = server.get("/health/ready", "application/json");
        if status == 503 {
            let body: Value = serde_json::from_str(&body).expect("JSON body");
            assert_eq!(body["status"], "draining", "{body}");
            saw_draining = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(saw_draining, "readiness did not turn 503 after SIGTERM");
    let (status, headers, body) = server.post_json(json!({"query": "{ user(id: 1) { id } }"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["id"], "1");
    assert_eq!(
        headers.get("connection").and_then(|v| v.to_str().ok()),
        Some("close"),
        "{headers:?}"
    );

    // After the drain: no new connections, while the mutation is still waiting.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        server.wait_exit(Duration::ZERO).is_none(),
        "exited with a request in flight"
    );
    let refused = reqwest::blocking::Client::new()
        .get(format!("{}/health/live", server.base))
        .timeout(Duration::from_secs(2))
        .send();
    assert!(
        refused.is_err(),
        "still accepting after the drain: {refused:?}"
    );

    lock.release();
    let (status, body) = in_flight.join().expect("request thread");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"data": {"createUser": {"name": "Late"}}}));
    let exit = server
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| {
            panic!(
                "still running after the shutdown timeout:\n{}",
                server.log()
            )
        });
    assert!(exit.success(), "exit status {exit}:\n{}", server.log());
}

#[test]
fn sigint_drains_for_at_most_a_second() {
    let mut server = TestServer::start(&[("FRAISEQL_DRAIN_S", "30")]);
    let signalled = Instant::now();
    server.signal("INT");
    let exit = server
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running 10 s after SIGINT:\n{}", server.log()));
    assert!(exit.success(), "exit status {exit}");
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "SIGINT waited out the 30 s drain"
    );
}
