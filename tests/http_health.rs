//! Health endpoints against the real server binary: liveness never depends on the database,
//! readiness does. The PostgreSQL case runs on a private cluster (`scripts/pg-instance.sh`) that
//! the test stops under the running server, after several concurrent clients have queried it
//! through the pool from every HTTP worker.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use support::{free_port, run_cli, temp_dir, TestServer};

#[test]
fn live_and_ready_on_sqlite() {
    let server = TestServer::start(&[]);
    let (status, _, text) = server.get("/health/live", "application/json");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("JSON"),
        json!({"status": "live"})
    );
    let (status, _, text) = server.get("/health/ready", "application/json");
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(body["status"], "ready");
    let hash = body["schema"].as_str().expect("schema hash");
    assert_eq!(hash.len(), 64, "a sha256 in hex: {hash}");

    // The pool gauges are read at scrape time.
    assert!(server.metric("fraiseql_db_pool_max") >= 1.0);
    assert!(
        server.metric("fraiseql_db_pool_size") >= 1.0,
        "ready pinged"
    );
    assert_eq!(server.metric("fraiseql_db_pool_in_use"), 0.0);
}

/// A private PostgreSQL cluster, stopped and removed on drop.
struct PgCluster {
    port: u16,
    dir: std::path::PathBuf,
}

impl PgCluster {
    fn start() -> PgCluster {
        let dir = temp_dir("pg");
        // The server runs as the `postgres` OS user, which must be able to reach its data dir.
        let _ = Command::new("chmod").arg("755").arg(&dir).status();
        let cluster = PgCluster {
            port: free_port(),
            dir,
        };
        cluster.script("start");
        cluster
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn script(&self, action: &str) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-instance.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(action)
            .arg(self.port.to_string())
            .arg(self.dir.join("data"))
            .output()
            .expect("run scripts/pg-instance.sh");
        assert!(
            out.status.success(),
            "pg-instance.sh {action} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-instance.sh");
        let _ = Command::new("bash")
            .arg(script)
            .arg("stop")
            .arg(self.port.to_string())
            .arg(self.dir.join("data"))
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn postgres_serves_from_every_worker_and_ready_turns_503_when_it_stops() {
    let cluster = PgCluster::start();
    let url = cluster.url();
    let envs = [("DATABASE_URL", url.as_str())];
    for command in ["migrate", "seed"] {
        let out = run_cli(&[command], &envs);
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let server = TestServer::start(&envs);

    // Enough concurrent clients that both actix workers take requests and take pooled
    // sessions at the same time.
    let answers: Vec<Vec<Value>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let server = &server;
                scope.spawn(move || {
                    let mut answers = Vec::new();
                    for _ in 0..10 {
                        answers.push(server.query(
                            "query One($id: ID!) { user(id: $id) { id posts(limit: 2) { id } } }",
                            json!({"id": (i + 1).to_string()}),
                        ));
                    }
                    answers
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    });
    for (i, client) in answers.iter().enumerate() {
        assert_eq!(client.len(), 10);
        for answer in client {
            assert!(answer.get("errors").is_none(), "{answer}");
            assert_eq!(answer["data"]["user"]["id"], (i + 1).to_string());
            assert_eq!(
                answer["data"]["user"]["posts"].as_array().map(Vec::len),
                Some(2)
            );
        }
    }
    assert!(
        server.metric("fraiseql_db_pool_size") >= 2.0,
        "concurrent requests held several connections"
    );
    let (status, _, text) = server.get("/health/ready", "application/json");
    assert_eq!(status, 200, "{text}");

    cluster.script("stop");
    let (status, headers, text) = server.get("/health/ready", "application/json");
    assert_eq!(status, 503, "{text}");
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(body["database"], "down", "{body}");
    assert!(!text.contains("127.0.0.1"), "no connection details: {text}");
    let (status, _, _) = server.get("/health/live", "application/json");
    assert_eq!(status, 200, "liveness does not depend on the database");
}
