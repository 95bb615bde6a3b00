//! The result cache against the real binary, real Redis and real NATS (README "Caching"):
//! HTTP caching and policies, PRIVATE data, two regions, single flight, Redis and NATS
//! faults, and the cache's metrics. Servers run on SQLite files of the test's own, changed
//! behind the servers' backs with the `sqlite3` client where a test must tell a cached
//! answer from a fresh one.
//!
//! The tests run one at a time (a process-wide lock): several of them start four servers or
//! fire hundreds of requests, and the 2-core machines they run on must not make one test's
//! timing depend on another's load. Fault tests start their own redis-server / nats-server on
//! ports 56300-56399 and kill only those.

mod support;

#[path = "result_cache/faults.rs"]
mod faults;
#[path = "result_cache/http.rs"]
mod http;
#[path = "result_cache/metrics.rs"]
mod metrics;
#[path = "result_cache/regions.rs"]
mod regions;
#[path = "result_cache/single_flight.rs"]
mod single_flight;
#[path = "result_cache/stale.rs"]
mod stale;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Value};
use support::TestServer;

/// One cache test at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A SQLite file several servers share (the first server creates and seeds it).
struct SharedDb {
    dir: PathBuf,
}

impl SharedDb {
    fn new(tag: &str) -> SharedDb {
        SharedDb {
            dir: support::temp_dir(tag),
        }
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.dir.join("blog.db").display())
    }

    /// Runs SQL with the sqlite3 client: a change no server hears about.
    fn sql(&self, sql: &str) {
        let out = Command::new("sqlite3")
            .args(["-cmd", ".timeout 5000"])
            .arg(self.dir.join("blog.db"))
            .arg(sql)
            .output()
            .expect("run sqlite3 (apt-get install sqlite3)");
        assert!(
            out.status.success(),
            "sqlite3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for SharedDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `user(id:) { name }` as the server answers it.
fn user_name(server: &TestServer, id: i64) -> String {
    let body = server.query(
        "query U($id: ID!) { user(id: $id) { name } }",
        json!({"id": id.to_string()}),
    );
    body["data"]["user"]["name"]
        .as_str()
        .unwrap_or_else(|| panic!("no name in {body}"))
        .to_owned()
}

/// Renames a user through a server's mutation.
fn rename(server: &TestServer, id: i64, name: &str) {
    let body = server.query(
        "mutation R($id: ID!, $name: String!) { updateUser(id: $id, input: {name: $name}) { name } }",
        json!({"id": id.to_string(), "name": name}),
    );
    assert_eq!(body["data"]["updateUser"]["name"], json!(name), "{body}");
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Whether a `/health/ready` body has the cache backends in these states.
fn backends(ready: &Value, redis: &str, nats: &str) -> bool {
    ready["cache"]["redis"] == json!(redis) && ready["cache"]["nats"] == json!(nats)
}
