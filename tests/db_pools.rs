//! The pool as a client sees it, against the real server binary on a PostgreSQL database of
//! the test's own (on the shared server: holding its connections with a table lock harms no
//! one else): an exhausted pool answers 503 with `Retry-After` within the acquire timeout and
//! recovers, the gauges show it per pool, backends terminated between requests go unnoticed,
//! and a statement past `FRAISEQL_STATEMENT_TIMEOUT_MS` is a clean GraphQL error.

mod support;

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{run_cli, TestServer};

const PG_HOST: &str = "127.0.0.1";
const PG_PORT: &str = "5432";

fn psql(database: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-X", "-q", "-A", "-t", "-h", PG_HOST, "-p", PG_PORT, "-U", "postgres",
        ])
        .args(["-d", database, "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql failed: {sql}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A migrated and seeded database, dropped on drop.
struct BlogDb {
    name: String,
}

impl BlogDb {
    fn create(tag: &str) -> BlogDb {
        let name = format!("fraiseql_test_pools_{tag}_{}", std::process::id());
        psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        psql("postgres", &format!("CREATE DATABASE {name}"));
        let db = BlogDb { name };
        for command in ["migrate", "seed"] {
            let out = run_cli(&[command], &[("DATABASE_URL", &db.url())]);
            assert!(
                out.status.success(),
                "{command}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        db
    }

    fn url(&self) -> String {
        format!("postgres://postgres@{PG_HOST}:{PG_PORT}/{}", self.name)
    }

    /// Terminates every backend of the database (a restart or failover, as the pool sees it).
    fn terminate_backends(&self) -> usize {
        let killed = psql(
            "postgres",
            &format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = '{}' AND pid <> pg_backend_pid()",
                self.name
            ),
        );
        killed.parse().expect("a count")
    }
}

impl Drop for BlogDb {
    fn drop(&mut self) {
        psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` held by a psql session in an open transaction, so
/// the server's statements on that table wait; released by `COMMIT`.
struct TableLock {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl TableLock {
    fn take(db: &BlogDb, table: &str) -> TableLock {
        let mut child = Command::new("psql")
            .args(["-X", "-q", "-h", PG_HOST, "-p", PG_PORT, "-U", "postgres"])
            .args(["-d", &db.name, "-v", "ON_ERROR_STOP=1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("psql runs");
        let mut stdin = child.stdin.take().expect("psql stdin");
        writeln!(stdin, "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;").expect("write");
        stdin.flush().expect("flush");
        let granted = format!(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
             WHERE c.relname = '{table}' AND l.mode = 'AccessExclusiveLock' AND l.granted"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while psql(&db.name, &granted) != "1" {
            assert!(
                Instant::now() < deadline,
                "the lock on {table} was not granted"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        TableLock {
            child,
            stdin: Some(stdin),
        }
    }

    fn release(mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            writeln!(stdin, "COMMIT;").expect("write");
        }
        let status = self.child.wait().expect("psql ends");
        assert!(status.success(), "the locking psql session failed");
    }
}

impl Drop for TableLock {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The value of `name{pool="primary"}` in the Prometheus text.
fn primary_gauge(text: &str, name: &str) -> f64 {
    let prefix = format!("{name}{{pool=\"primary\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in /metrics:\n{text}"))
}

const USERS: &str = "{ users(limit: 1) { id } }";

#[test]
fn an_exhausted_pool_answers_503_with_retry_after_and_recovers() {
    let db = BlogDb::create("exhausted");
    let url = db.url();
    let server = TestServer::start(&[
        ("DATABASE_URL", &url),
        ("FRAISEQL_POOL_MAX", "2"),
        ("FRAISEQL_POOL_ACQUIRE_TIMEOUT_MS", "500"),
        // Identical cached queries would share one flight (and one connection); this test
        // needs each request on its own connection.
        ("FRAISEQL_CACHE", "off"),
    ]);
    let (_, _, metrics) = server.get("/metrics", "text/plain");
    assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_max"), 2.0);
    assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_in_use"), 0.0);
    assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_waiting"), 0.0);
    assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_utilisation"), 0.0);
    assert!(primary_gauge(&metrics, "fraiseql_db_pool_size") >= 1.0);
    assert!(primary_gauge(&metrics, "fraiseql_db_pool_idle") >= 1.0);

    let lock = TableLock::take(&db, "users");
    std::thread::scope(|scope| {
        // Two requests that hold both connections, waiting on the lock.
        let blocked: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| server.post_json(json!({ "query": USERS }))))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, _, metrics) = server.get("/metrics", "text/plain");
            if primary_gauge(&metrics, "fraiseql_db_pool_in_use") == 2.0 {
                assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_utilisation"), 1.0);
                break;
            }
            assert!(Instant::now() < deadline, "both sessions never got taken");
            std::thread::sleep(Duration::from_millis(20));
        }

        // A third waits out the acquire timeout (and is counted as waiting meanwhile).
        let started = Instant::now();
        let third = scope.spawn(|| server.post_json(json!({ "query": USERS })));
        let mut saw_waiting = false;
        while !third.is_finished() {
            let (_, _, metrics) = server.get("/metrics", "text/plain");
            saw_waiting |= primary_gauge(&metrics, "fraiseql_db_pool_waiting") == 1.0;
            std::thread::sleep(Duration::from_millis(10));
        }
        let (status, headers, body) = third.join().expect("third request");
        let waited = started.elapsed();
        assert_eq!(status, 503, "{body}");
        assert_eq!(
            headers.get("retry-after").map(|v| v.to_str().unwrap_or("")),
            Some("1")
        );
        assert_eq!(body["data"], Value::Null, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "{body}"
        );
        assert!(
            waited >= Duration::from_millis(450) && waited < Duration::from_secs(3),
            "answered after {waited:?}, the acquire timeout is 500 ms"
        );
        assert!(
            saw_waiting,
            "fraiseql_db_pool_waiting showed the third request"
        );

        // Released: the two blocked requests finish, and new ones are served again.
        lock.release();
        for request in blocked {
            let (status, _, body) = request.join().expect("blocked request");
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["data"]["users"].as_array().map(Vec::len), Some(1));
        }
    });
    let body = server.query(USERS, json!({}));
    assert!(body.get("errors").is_none(), "{body}");
    let (_, _, metrics) = server.get("/metrics", "text/plain");
    assert_eq!(primary_gauge(&metrics, "fraiseql_db_pool_in_use"), 0.0);
}

#[test]
fn backends_terminated_between_requests_go_unnoticed() {
    let db = BlogDb::create("terminated");
    let url = db.url();
    let server = TestServer::start(&[("DATABASE_URL", &url)]);
    let nested = "{ users(limit: 3) { id posts(limit: 2) { id } } }";
    let expected = server.query(nested, json!({}));
    assert!(expected.get("errors").is_none(), "{expected}");
    let mut killed = 0;
    // Several rounds, so each HTTP worker's connections die under it at least once.
    for _ in 0..4 {
        killed += db.terminate_backends();
        for _ in 0..3 {
            assert_eq!(server.query(nested, json!({})), expected);
        }
    }
    assert!(
        killed >= 4,
        "the server's connections were terminated ({killed})"
    );
}

#[test]
fn a_statement_past_the_timeout_is_a_clean_error_and_the_server_recovers() {
    let db = BlogDb::create("statement_timeout");
    let url = db.url();
    let server = TestServer::start(&[
        ("DATABASE_URL", &url),
        ("FRAISEQL_POOL_MAX", "1"),
        ("FRAISEQL_STATEMENT_TIMEOUT_MS", "300"),
    ]);
    let lock = TableLock::take(&db, "users");
    let started = Instant::now();
    let (status, _, body) = server.post_json(json!({ "query": USERS }));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "TIMEOUT", "{body}");
    let text = body.to_string();
    for leak in ["SELECT", "users AS", "canceling", "statement_timeout"] {
        assert!(!text.contains(leak), "{leak:?} leaked: {text}");
    }
    lock.release();
    let body = server.query(USERS, json!({}));
    assert!(body.get("errors").is_none(), "{body}");
}
