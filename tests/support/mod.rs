//! Test support: runs the real server binary on a free loopback port with its own SQLite file
//! (or whatever `DATABASE_URL` a test passes) and talks HTTP to it.

#![allow(dead_code)] // each test file uses a different part

pub mod pg;
pub mod services;

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Path of the server binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_fraiseql-blog");

/// A running server, killed on drop.
pub struct TestServer {
    child: Child,
    pub base: String,
    pub dir: PathBuf,
    client: reqwest::blocking::Client,
}

/// A fresh temporary folder for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("fraiseql-test-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl TestServer {
    /// Starts `serve` with a fresh SQLite file unless `envs` sets `DATABASE_URL`.
    pub fn start(envs: &[(&str, &str)]) -> TestServer {
        TestServer::start_on(free_port(), envs)
    }

    /// The same on a given loopback port.
    pub fn start_on(port: u16, envs: &[(&str, &str)]) -> TestServer {
        let dir = temp_dir("server");
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .env_remove("DATABASE_URL")
            .env_remove("DATABASE_URL_PRIMARY")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("blog.db").display()),
            )
            .env("FRAISEQL_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        // The log goes to a file: a pipe nobody reads would stall a chatty server.
        let log = std::fs::File::create(dir.join("server.log")).expect("server log file");
        cmd.stderr(Stdio::from(log));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn the server binary");
        let mut server = TestServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        };
        server.wait_live();
        server
    }

    fn wait_live(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let stderr =
                    std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
                panic!("server exited early ({status}):\n{stderr}");
            }
            if let Ok(r) = self.client.get(format!("{}/health/live", self.base)).send() {
                if r.status().is_success() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not become live within 60 s");
    }

    /// POSTs a JSON body to /graphql; returns status, headers and the JSON body.
    pub fn post_json(&self, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .expect("POST /graphql");
        split(r)
    }

    /// Runs a query over POST and returns the JSON body (asserting HTTP 200).
    pub fn query(&self, query: &str, variables: Value) -> Value {
        let (status, _, body) =
            self.post_json(serde_json::json!({"query": query, "variables": variables}));
        assert_eq!(status, 200, "{body}");
        body
    }

    /// POSTs raw bytes with a content type.
    pub fn post_raw(
        &self,
        content_type: &str,
        body: &str,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .expect("POST /graphql");
        split(r)
    }

    /// GETs a path (with query string) with an Accept header; returns status, headers, text.
    pub fn get(
        &self,
        path_and_query: &str,
        accept: &str,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let r = self
            .client
            .get(format!("{}{}", self.base, path_and_query))
            .header("accept", accept)
            .send()
            .expect("GET");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.text().unwrap_or_default())
    }

    /// POSTs a query with extra headers; returns status, headers and the JSON body.
    pub fn post_with(
        &self,
        query: &str,
        variables: Value,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .body(serde_json::json!({"query": query, "variables": variables}).to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        split(request.send().expect("POST /graphql"))
    }

    /// GETs a path with extra headers; returns status, headers and the body text.
    pub fn get_with(
        &self,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut request = self.client.get(format!("{}{}", self.base, path_and_query));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let r = request.send().expect("GET");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.text().unwrap_or_default())
    }

    /// The value of one Prometheus series, e.g. `fraiseql_cache_hits_total{tier="l1"}` (0 when
    /// absent).
    pub fn series(&self, series: &str) -> f64 {
        let (_, _, text) = self.get("/metrics", "text/plain");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// `/health/ready` as JSON.
    pub fn ready(&self) -> Value {
        let (_, _, text) = self.get("/health/ready", "application/json");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Waits (up to `within`) until `/health/ready` satisfies `test`.
    pub fn wait_ready(&self, within: Duration, test: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let ready = self.ready();
            if test(&ready) {
                return ready;
            }
            assert!(
                Instant::now() < deadline,
                "/health/ready never became what the test waits for: {ready}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// The value of one Prometheus metric line (first match of `name` with any labels).
    pub fn metric(&self, name: &str) -> f64 {
        let (_, _, text) = self.get("/metrics", "text/plain");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find(|l| l.split(['{', ' ']).next() == Some(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }
}

impl TestServer {
    /// Sends `signal` (e.g. `TERM`) to the server process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {signal} failed");
    }

    /// Waits up to `timeout` for the process to exit; its status, or `None` if still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// An HTTP client with the server's timeouts, for requests from other threads.
    pub fn client(&self) -> reqwest::blocking::Client {
        self.client.clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn split(r: reqwest::blocking::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

/// Holds SQLite's write lock from another process (the sqlite3 shell) until released, so a
/// mutation stays in flight as long as the test wants.
pub struct WriteLock(std::process::Child);

impl WriteLock {
    pub fn take(db: &std::path::Path) -> WriteLock {
        let mut child = Command::new("sqlite3")
            .arg(db)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the sqlite3 shell (scripts/test.sh installs it)");
        let stdin = child.stdin.as_mut().expect("stdin");
        stdin
            .write_all(b"BEGIN IMMEDIATE;\nSELECT 1;\n")
            .expect("write to sqlite3");
        stdin.flush().expect("flush");
        // Let the shell take the lock before the server tries to write.
        std::thread::sleep(Duration::from_millis(300));
        WriteLock(child)
    }

    pub fn release(mut self) {
        if let Some(stdin) = self.0.stdin.as_mut() {
            let _ = stdin.write_all(b"COMMIT;\n.quit\n");
        }
        let _ = self.0.wait();
    }
}

/// Runs the binary with `args` (no server) and returns its output.
pub fn run_cli(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_URL_PRIMARY")
        .env("RUST_LOG", "warn");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run the binary")
}

/// The `extensions.code` of each error in a GraphQL response, in order.
pub fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array in {body}"))
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_string())
        .collect()
}
