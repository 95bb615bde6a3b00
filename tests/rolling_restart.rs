//! Three instances behind HAProxy (`scripts/haproxy.sh`, health checks on `/health/ready`, no
//! retries, no redispatch) under a steady load: SIGTERM to one, then a rolling restart of all
//! three, and not one client request may fail. It works because readiness turns 503 at once on
//! SIGTERM while the instance keeps serving for its drain, longer than HAProxy needs to take it
//! out (3 failed checks); responses meanwhile close their connections, and the requests in
//! flight when accepting stops are finished before the process exits.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{free_port, temp_dir, TestServer};

/// HAProxy's check interval: an instance is out after 3 failures, in after 2 successes.
const CHECK_INTER_MS: u64 = 300;
/// Longer than HAProxy needs to take a draining instance out (3 × 300 ms) with a margin for a
/// busy machine.
const DRAIN_S: &str = "3";

struct Haproxy {
    port: u16,
}

impl Haproxy {
    fn start(backends: &[u16]) -> Haproxy {
        let port = free_port();
        let mut args = vec!["start".to_string(), port.to_string()];
        args.extend(backends.iter().map(u16::to_string));
        let out = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/haproxy.sh"))
            .args(&args)
            .env("HAPROXY_CHECK_INTER", format!("{CHECK_INTER_MS}ms"))
            .output()
            .expect("run scripts/haproxy.sh");
        assert!(
            out.status.success(),
            "haproxy.sh start failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Haproxy { port }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/haproxy.sh"))
            .args(["stop", &self.port.to_string()])
            .output();
    }
}

/// Clients sending queries through the balancer until stopped; every failure is recorded.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(url: String, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let threads = (0..clients)
            .map(|_| {
                let (stop, ok, failures, url) =
                    (stop.clone(), ok.clone(), failures.clone(), url.clone());
                std::thread::spawn(move || {
                    let client = reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(20))
                        .build()
                        .expect("client");
                    while !stop.load(Ordering::Relaxed) {
                        let result = client
                            .post(&url)
                            .json(&json!({"query": "{ users(limit: 5) { id name } }"}))
                            .send();
                        match result {
                            Ok(r) if r.status().is_success() => {
                                let body = r.text().unwrap_or_default();
                                if body.contains("\"errors\"") {
                                    failures.lock().unwrap().push(body);
                                } else {
                                    ok.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Ok(r) => failures.lock().unwrap().push(format!(
                                "{} {}",
                                r.status(),
                                r.text().unwrap_or_default()
                            )),
                            Err(e) => failures.lock().unwrap().push(e.to_string()),
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            ok,
            failures,
            threads,
        }
    }

    fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
        let failures = self.failures.lock().unwrap().clone();
        (self.ok.load(Ordering::Relaxed), failures)
    }

    fn ok_so_far(&self) -> usize {
        self.ok.load(Ordering::Relaxed)
    }
}

fn instance(port: u16, db: &str) -> TestServer {
    TestServer::start_on(
        port,
        &[
            ("DATABASE_URL", db),
            ("FRAISEQL_DRAIN_S", DRAIN_S),
            ("FRAISEQL_SHUTDOWN_TIMEOUT_S", "10"),
        ],
    )
}

fn stop(mut server: TestServer) {
    server.signal("TERM");
    let status = server
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|| {
            panic!(
                "instance still running 30 s after SIGTERM:\n{}",
                server.log()
            )
        });
    assert!(status.success(), "exit status {status}:\n{}", server.log());
}

/// Waits until HAProxy would count `port` up again: ready, then two more check intervals.
fn wait_ready(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let (status, _, _) = server.get("/health/ready", "application/json");
        if status == 200 {
            std::thread::sleep(Duration::from_millis(3 * CHECK_INTER_MS + 200));
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("instance not ready within 60 s:\n{}", server.log());
}

#[test]
fn sigterm_and_a_rolling_restart_behind_haproxy_lose_no_request() {
    let dir = temp_dir("rolling");
    let db = format!("sqlite://{}", dir.join("blog.db").display());
    let ports = [free_port(), free_port(), free_port()];
    // The first instance creates, migrates and seeds the file; the others find it ready.
    let mut servers: Vec<Option<TestServer>> = Vec::new();
    for port in ports {
        let server = instance(port, &db);
        wait_ready(&server);
        servers.push(Some(server));
    }
    let balancer = Haproxy::start(&ports);
    let url = format!("http://127.0.0.1:{}/graphql", balancer.port);
    let load = Load::start(url, 4);
    std::thread::sleep(Duration::from_secs(1));
    assert!(load.ok_so_far() > 0, "no request got through the balancer");

    // One instance leaves under load.
    let first = servers[0].take().expect("instance 1");
    stop(first);
    let after_one = load.ok_so_far();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        load.ok_so_far() > after_one,
        "the other two stopped answering"
    );

    // A rolling restart of all three (the stopped one first).
    for (i, port) in ports.iter().enumerate() {
        if let Some(server) = servers[i].take() {
            stop(server);
        }
        let fresh = instance(*port, &db);
        wait_ready(&fresh);
        servers[i] = Some(fresh);
    }
    std::thread::sleep(Duration::from_secs(1));
    let (ok, failures) = load.finish();
    assert!(ok > 100, "too little load to mean anything: {ok} requests");
    assert!(
        failures.is_empty(),
        "{} of {} requests failed, e.g.:\n{}",
        failures.len(),
        ok + failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    drop(balancer);
    let _ = std::fs::remove_dir_all(dir);
}
