//! Read replicas against real streaming replication: a private primary and two replicas made by
//! `scripts/pg-replicas.sh` (pg_basebackup -R), the server binary in front of them, and every
//! claim checked by what each PostgreSQL server itself counted (`pg_stat_statements` on each
//! cluster, standbys included), never by the server's own bookkeeping.
//!
//! - reads marked `@replica` (or every query under `FRAISEQL_READS=replica`, but `@primary`
//!   fields) are spread over both replicas; writes land on the primary;
//! - a replica killed under concurrent reads fails none of them, and serves again once restarted;
//!   one that hangs (SIGSTOP) fails none either;
//! - a replica whose replay is paused leaves the rotation past the lag bound and returns after
//!   its replay resumes;
//! - read-your-writes: with replay paused everywhere, a read carrying a mutation's consistency
//!   token is served by the primary and sees the write, one without it by a (stale) replica.
//!
//! Each test starts its own three clusters on ports of its own (55480-55491), under
//! `$CARGO_TARGET_TMPDIR/pg-replicas`, and removes them when it ends (also when it fails); the
//! tests take turns, so one set runs at a time. They need the PostgreSQL server binaries and root
//! (or the `postgres` OS user), so a plain `cargo test` skips them (`#[ignore]`);
//! `scripts/test.sh` runs them in a step of their own:
//! `cargo test --workspace --test replicas -- --ignored`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::TestServer;

/// One set of clusters at a time: a two-core machine runs three PostgreSQL servers and the
/// server under test per set, and the lag assertions want a machine that is not saturated.
static TURN: Mutex<()> = Mutex::new(());

const DB: &str = "blog";
const POSTS: &str = "{ posts(limit: 5) { id title author { name } } }";
/// What the fixture answers to [`POSTS`].
fn posts_data() -> Value {
    json!({"posts": [
        {"id": "10", "title": "A1", "author": {"name": "Ann"}},
        {"id": "11", "title": "A2", "author": {"name": "Ann"}},
        {"id": "12", "title": "B1", "author": {"name": "Bob"}},
    ]})
}

const FIXTURE: &str = "\
    INSERT INTO users (id, name, email, bio, created_at) VALUES \
      (1, 'Ann', 'ann@example.com', NULL, '2026-01-01T00:00:00Z'), \
      (2, 'Bob', 'bob@example.com', NULL, '2026-01-02T00:00:00Z'); \
    INSERT INTO posts (id, title, body, published, status, rating, views, metadata, created_at, user_id) VALUES \
      (10, 'A1', 'b', true, 'PUBLISHED', NULL, 1, NULL, '2026-02-01T00:00:00Z', 1), \
      (11, 'A2', 'b', true, 'PUBLISHED', NULL, 1, NULL, '2026-02-02T00:00:00Z', 1), \
      (12, 'B1', 'b', true, 'PUBLISHED', NULL, 1, NULL, '2026-02-03T00:00:00Z', 2); \
    INSERT INTO comments (id, body, created_at, post_id, user_id) VALUES \
      (100, 'c1', '2026-03-01T00:00:00Z', 10, 2); \
    SELECT setval(pg_get_serial_sequence('users', 'id'), 100); \
    SELECT setval(pg_get_serial_sequence('posts', 'id'), 100); \
    SELECT setval(pg_get_serial_sequence('comments', 'id'), 1000);";

// ---------------------------------------------------------------------------------------------
// Clusters

/// A primary and two streaming replicas, removed on drop.
struct Clusters {
    primary: u16,
    replicas: [u16; 2],
    dir: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-replicas.sh")
}

impl Clusters {
    /// Starts (creating) the clusters on `first_port` and the two ports after it, then the
    /// `blog` database: migrated by the binary, the fixture inserted, replayed on both replicas.
    fn start(first_port: u16) -> Clusters {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pg-replicas");
        let clusters = Clusters {
            primary: first_port,
            replicas: [first_port + 1, first_port + 2],
            dir,
        };
        // Leftovers of an earlier run that was killed: start from nothing.
        clusters.script(&["remove"]);
        clusters.script(&["start"]);
        clusters.psql(
            clusters.primary,
            "postgres",
            &format!("CREATE DATABASE {DB}"),
        );
        let migrate = support::run_cli(
            &["migrate"],
            &[("DATABASE_URL", clusters.url(clusters.primary).as_str())],
        );
        assert!(
            migrate.status.success(),
            "migrate: {}",
            String::from_utf8_lossy(&migrate.stderr)
        );
        clusters.psql(clusters.primary, DB, FIXTURE);
        for port in clusters.replicas {
            wait_for(Duration::from_secs(30), "the fixture on a replica", || {
                clusters.try_psql(port, DB, "SELECT count(*) FROM comments") == Some("1".into())
            });
        }
        clusters
    }

    fn ports(&self) -> Vec<String> {
        let mut ports = vec![self.primary.to_string()];
        ports.extend(self.replicas.iter().map(u16::to_string));
        ports
    }

    /// `scripts/pg-replicas.sh <action> <every port>`.
    fn script(&self, action: &[&str]) {
        let mut args: Vec<String> = action.iter().map(|s| s.to_string()).collect();
        if action.len() == 1 {
            args.extend(self.ports());
        }
        let output = Command::new("bash")
            .arg(script())
            .args(&args)
            .env("PG_REPLICAS_DIR", &self.dir)
            .output()
            .expect("run scripts/pg-replicas.sh");
        assert!(
            output.status.success(),
            "pg-replicas.sh {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Immediate shutdown of one cluster: a crash, as far as its clients can tell.
    fn kill(&self, port: u16) {
        self.script(&["kill", &port.to_string()]);
    }

    fn url(&self, port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{DB}")
    }

    fn replica_urls(&self) -> String {
        format!(
            "{},{}",
            self.url(self.replicas[0]),
            self.url(self.replicas[1])
        )
    }

    fn try_psql(&self, port: u16, database: &str, sql: &str) -> Option<String> {
        let output = Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-U", "postgres"])
            .args(["-p", &port.to_string(), "-d", database, "-c", sql])
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    fn psql(&self, port: u16, database: &str, sql: &str) -> String {
        self.try_psql(port, database, sql)
            .unwrap_or_else(|| panic!("psql on port {port} failed: {sql}"))
    }

    /// Executions on the cluster at `port` of the `blog` statements whose text matches the
    /// LIKE `pattern` (pg_stat_statements: what that server itself ran).
    fn count(&self, port: u16, pattern: &str) -> i64 {
        let sql = format!(
            "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s \
             JOIN pg_database d ON d.oid = s.dbid \
             WHERE d.datname = '{DB}' AND s.query LIKE '{}'",
            pattern.replace('\'', "''")
        );
        self.psql(port, "postgres", &sql).parse().expect("a count")
    }

    /// [`Clusters::count`] on the primary, replica 0 and replica 1.
    fn counts(&self, pattern: &str) -> [i64; 3] {
        [
            self.count(self.primary, pattern),
            self.count(self.replicas[0], pattern),
            self.count(self.replicas[1], pattern),
        ]
    }
}

impl Drop for Clusters {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("remove")
            .args(self.ports())
            .env("PG_REPLICAS_DIR", &self.dir)
            .output();
    }
}

/// Statement shapes (LIKE patterns over pg_stat_statements' text, where constants read `$n`).
const POSTS_LIST: &str = "SELECT %FROM \"posts\" AS t WHERE $% = $% ORDER BY %";
const USERS_BY_KEYS: &str = "SELECT %FROM \"users\" AS t WHERE t.\"id\" = ANY(%";
const USERS_LIST: &str = "SELECT %FROM \"users\" AS t WHERE $% = $% ORDER BY %";
const USER_LOOKUP: &str = "SELECT %FROM \"users\" AS t WHERE t.\"id\" = $1";
const COMMENT_LOOKUP: &str = "SELECT %FROM \"comments\" AS t WHERE t.\"id\" = $1";
const POST_INSERT: &str = "INSERT INTO \"posts\"%";

fn delta(after: [i64; 3], before: [i64; 3]) -> [i64; 3] {
    [
        after[0] - before[0],
        after[1] - before[1],
        after[2] - before[2],
    ]
}

// ---------------------------------------------------------------------------------------------
// The server

fn serve(clusters: &Clusters, extra: &[(&str, &str)]) -> TestServer {
    let primary = clusters.url(clusters.primary);
    let replicas = clusters.replica_urls();
    let mut envs = vec![
        ("DATABASE_URL", primary.as_str()),
        ("DATABASE_URL_REPLICA", replicas.as_str()),
        ("FRAISEQL_REPLICA_PROBE_MS", "100"),
        // Every read must reach a database for the per-server counts to mean anything.
        ("FRAISEQL_CACHE", "off"),
    ];
    envs.extend_from_slice(extra);
    let server = TestServer::start(&envs);
    wait_for(Duration::from_secs(20), "both replicas in rotation", || {
        (0..2).all(|i| replica_gauge(&server, "fraiseql_replica_healthy", i) == Some(1.0))
    });
    server
}

/// A labelled gauge from /metrics: `name{replica="replica-<i>"}`.
fn replica_gauge(server: &TestServer, name: &str, replica: usize) -> Option<f64> {
    let (_, _, text) = server.get("/metrics", "text/plain");
    let prefix = format!("{name}{{replica=\"replica-{replica}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

/// POSTs `query` (with `headers`); returns status, the consistency header and the body.
fn post(
    server: &TestServer,
    query: &str,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    static CLIENT: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client")
    });
    let mut request = client
        .post(format!("{}/graphql", server.base))
        .header("content-type", "application/json")
        .body(json!({ "query": query }).to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().expect("POST /graphql");
    let status = response.status().as_u16();
    let token = response
        .headers()
        .get("fraiseql-consistency")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = response.text().unwrap_or_default();
    (
        status,
        token,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The `data` of a successful query.
fn data(server: &TestServer, query: &str, headers: &[(&str, &str)]) -> Value {
    let (status, _, body) = post(server, query, headers);
    assert_eq!(status, 200, "{query}: {body}");
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------
// 1. Reads spread over both replicas; writes on the primary.

#[test]
#[ignore = "starts PostgreSQL clusters; scripts/test.sh runs it (cargo test --test replicas -- --ignored)"]
fn replica_reads_are_spread_over_both_replicas_and_writes_land_on_the_primary() {
    let _turn = turn();
    let clusters = Clusters::start(55480);
    let server = serve(&clusters, &[]);

    let posts_before = clusters.counts(POSTS_LIST);
    let authors_before = clusters.counts(USERS_BY_KEYS);
    let users_before = clusters.counts(USERS_LIST);
    for _ in 0..40 {
        assert_eq!(data(&server, POSTS, &[]), posts_data());
    }
    for _ in 0..10 {
        data(&server, "{ users(limit: 2) { id } }", &[]);
    }
    let posts = delta(clusters.counts(POSTS_LIST), posts_before);
    let authors = delta(clusters.counts(USERS_BY_KEYS), authors_before);
    let users = delta(clusters.counts(USERS_LIST), users_before);
    // `posts` is @replica(maxLag: 5000): none on the primary, some on each replica.
    assert_eq!(posts[0], 0, "posts reads on the primary: {posts:?}");
    assert!(
        posts[1] > 0 && posts[2] > 0,
        "posts reads per server: {posts:?}"
    );
    assert_eq!(posts[1] + posts[2], 40, "posts reads per server: {posts:?}");
    // The relation under it follows it, to the same replica as its parent level.
    assert_eq!(
        authors, posts,
        "author reads per server vs posts: {authors:?}"
    );
    // `users` declares nothing and FRAISEQL_READS is primary.
    assert_eq!(users, [10, 0, 0], "users reads per server");

    let inserts_before = clusters.counts(POST_INSERT);
    for n in 0..3 {
        let (status, token, body) = post(
            &server,
            &format!(
                "mutation {{ createPost(input: {{title: \"new {n}\", body: \"b\", published: true, \
                 status: DRAFT, views: 0, authorId: 1}}) {{ id author {{ name }} }} }}"
            ),
            &[],
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["data"]["createPost"]["author"]["name"], "Ann",
            "{body}"
        );
        let token = token.expect("a consistency token header");
        assert!(token.starts_with("v1:"), "{token}");
        assert_eq!(body["extensions"]["consistency"], token.as_str(), "{body}");
    }
    let inserts = delta(clusters.counts(POST_INSERT), inserts_before);
    assert_eq!(inserts, [3, 0, 0], "INSERTs per server");
    for port in clusters.replicas {
        wait_for(
            Duration::from_secs(10),
            "the new posts on a replica",
            || clusters.try_psql(port, DB, "SELECT count(*) FROM posts") == Some("6".into()),
        );
    }

    // Pool gauges per replica pool, lag and health per replica, readiness names them.
    let (_, _, metrics) = server.get("/metrics", "text/plain");
    for label in ["primary", "replica-0", "replica-1"] {
        assert!(
            metrics.contains(&format!("fraiseql_db_pool_max{{pool=\"{label}\"}}")),
            "{metrics}"
        );
    }
    for i in 0..2 {
        assert!(
            replica_gauge(&server, "fraiseql_replica_lag_seconds", i).is_some(),
            "{metrics}"
        );
    }
    let (status, _, ready) = server.get("/health/ready", "application/json");
    assert_eq!(status, 200, "{ready}");
    let ready: Value = serde_json::from_str(&ready).expect("JSON");
    assert_eq!(
        ready["replicas"],
        json!({"replica-0": "ok", "replica-1": "ok"})
    );
    drop(server);

    // FRAISEQL_READS=replica: every query field reads from replicas, but `@primary` ones.
    let server = serve(&clusters, &[("FRAISEQL_READS", "replica")]);
    let users_before = clusters.counts(USERS_LIST);
    let comment_before = clusters.counts(COMMENT_LOOKUP);
    for _ in 0..10 {
        data(&server, "{ users(limit: 2) { id } }", &[]);
        assert_eq!(
            data(&server, "{ comment(id: 100) { body } }", &[]),
            json!({"comment": {"body": "c1"}})
        );
    }
    let users = delta(clusters.counts(USERS_LIST), users_before);
    let comment = delta(clusters.counts(COMMENT_LOOKUP), comment_before);
    assert_eq!(users[0], 0, "users reads per server: {users:?}");
    assert!(
        users[1] > 0 && users[2] > 0,
        "users reads per server: {users:?}"
    );
    assert_eq!(comment, [10, 0, 0], "comment (@primary) reads per server");
}

// ---------------------------------------------------------------------------------------------
// 2. A replica killed under load fails no read, and serves again once restarted.

#[test]
#[ignore = "starts PostgreSQL clusters; scripts/test.sh runs it (cargo test --test replicas -- --ignored)"]
fn a_replica_killed_or_hung_under_load_fails_no_read_and_returns_when_restarted() {
    let _turn = turn();
    let clusters = Clusters::start(55483);
    let server = serve(&clusters, &[]);
    let victim = clusters.replicas[0];

    let stop = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::<String>::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let (status, _, body) = post(&server, POSTS, &[]);
                    reads.fetch_add(1, Ordering::Relaxed);
                    if status != 200 || body.get("errors").is_some() || body["data"] != posts_data()
                    {
                        failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(format!("{status}: {body}"));
                    }
                }
            });
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_for(Duration::from_secs(10), "reads on the victim", || {
                clusters.count(victim, POSTS_LIST) >= 20
            });
            clusters.kill(victim);
            let killed_at = reads.load(Ordering::Relaxed);
            wait_for(Duration::from_secs(20), "reads while it is down", || {
                reads.load(Ordering::Relaxed) >= killed_at + 200
            });
            assert_eq!(
                replica_gauge(&server, "fraiseql_replica_healthy", 0),
                Some(0.0),
                "the killed replica is out of rotation"
            );
            // Back: started again (crash recovery), streaming, probed, and read from.
            clusters.script(&["start"]);
            let restarted = clusters.count(victim, POSTS_LIST);
            wait_for(
                Duration::from_secs(20),
                "reads on the restarted replica",
                || clusters.count(victim, POSTS_LIST) >= restarted + 20,
            );

            // A replica that stops answering with its sockets open (a hung host): the reads
            // waiting on it give up when its probe fails, and run elsewhere.
            let hung = clusters.replicas[1].to_string();
            clusters.script(&["freeze", &hung]);
            let frozen_at = reads.load(Ordering::Relaxed);
            wait_for(Duration::from_secs(20), "reads while one is frozen", || {
                reads.load(Ordering::Relaxed) >= frozen_at + 200
            });
            assert_eq!(
                replica_gauge(&server, "fraiseql_replica_healthy", 1),
                Some(0.0),
                "the frozen replica is out of rotation"
            );
            clusters.script(&["thaw", &hung]);
            wait_for(Duration::from_secs(20), "the thawed replica back", || {
                replica_gauge(&server, "fraiseql_replica_healthy", 1) == Some(1.0)
            });
        }));
        stop.store(true, Ordering::Relaxed);
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    let total = reads.load(Ordering::Relaxed);
    let log = std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default();
    eprintln!(
        "{total} reads; {} ran again elsewhere after failing on a replica",
        log.matches("running it elsewhere").count()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} reads failed, e.g. {:?}",
        failures.len(),
        failures.first()
    );
    for i in 0..2 {
        assert_eq!(
            replica_gauge(&server, "fraiseql_replica_healthy", i),
            Some(1.0)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Replay paused on one replica: out of rotation past the lag bound, back after resume.

#[test]
#[ignore = "starts PostgreSQL clusters; scripts/test.sh runs it (cargo test --test replicas -- --ignored)"]
fn a_replica_past_the_lag_bound_leaves_the_rotation_until_it_catches_up() {
    let _turn = turn();
    let clusters = Clusters::start(55486);
    let server = serve(
        &clusters,
        &[
            ("FRAISEQL_READS", "replica"),
            ("FRAISEQL_REPLICA_MAX_LAG_MS", "500"),
        ],
    );
    let paused = clusters.replicas[0];
    let lag = |i| replica_gauge(&server, "fraiseql_replica_lag_seconds", i).unwrap_or(f64::NAN);
    const READ: &str = "{ users(limit: 2) { id } }";

    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // Writes keep coming on the primary, as in production.
        scope.spawn(|| {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                clusters.psql(
                    clusters.primary,
                    DB,
                    &format!("UPDATE posts SET views = {n} WHERE id = 10"),
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            clusters.psql(paused, "postgres", "SELECT pg_wal_replay_pause()");
            wait_for(Duration::from_secs(20), "the paused replica's lag", || {
                lag(0) > 0.5
            });
            let before = clusters.counts(USERS_LIST);
            for _ in 0..30 {
                data(&server, READ, &[]);
            }
            let reads = delta(clusters.counts(USERS_LIST), before);
            assert_eq!(reads[1], 0, "reads on the lagging replica: {reads:?}");
            assert!(reads[2] > 0, "reads per server: {reads:?}");
            assert_eq!(reads.iter().sum::<i64>(), 30, "reads per server: {reads:?}");

            clusters.psql(paused, "postgres", "SELECT pg_wal_replay_resume()");
            wait_for(Duration::from_secs(20), "the replica to catch up", || {
                lag(0) < 0.5
            });
            let before = clusters.counts(USERS_LIST);
            for _ in 0..30 {
                data(&server, READ, &[]);
            }
            let reads = delta(clusters.counts(USERS_LIST), before);
            assert!(reads[1] > 0, "reads per server after resume: {reads:?}");
        }));
        stop.store(true, Ordering::Relaxed);
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// 4. Read-your-writes with the consistency token.

#[test]
#[ignore = "starts PostgreSQL clusters; scripts/test.sh runs it (cargo test --test replicas -- --ignored)"]
fn a_read_with_the_consistency_token_sees_the_write_and_one_without_may_not() {
    let _turn = turn();
    let clusters = Clusters::start(55489);
    let server = serve(
        &clusters,
        &[
            ("FRAISEQL_READS", "replica"),
            ("FRAISEQL_REPLICA_MAX_LAG_MS", "60000"),
        ],
    );
    const READ: &str = "{ user(id: 1) { name } }";
    for port in clusters.replicas {
        clusters.psql(port, "postgres", "SELECT pg_wal_replay_pause()");
    }

    let (status, token, body) = post(
        &server,
        "mutation { updateUser(id: 1, input: {name: \"Ann 2\"}) { name } }",
        &[],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"updateUser": {"name": "Ann 2"}}));
    let token = token.expect("a FraiseQL-Consistency header");
    assert_eq!(body["extensions"]["consistency"], token.as_str(), "{body}");

    // Without the token: a replica (replay paused, within the 60 s bound) with the old name.
    let before = clusters.counts(USER_LOOKUP);
    assert_eq!(
        data(&server, READ, &[]),
        json!({"user": {"name": "Ann"}}),
        "a read without the token is served by a replica that has not replayed the write"
    );
    let reads = delta(clusters.counts(USER_LOOKUP), before);
    assert_eq!(reads[0], 0, "reads per server: {reads:?}");
    assert_eq!(reads[1] + reads[2], 1, "reads per server: {reads:?}");

    // With it: the primary, and the write.
    let before = clusters.counts(USER_LOOKUP);
    assert_eq!(
        data(&server, READ, &[("FraiseQL-Consistency", token.as_str())]),
        json!({"user": {"name": "Ann 2"}})
    );
    assert_eq!(delta(clusters.counts(USER_LOOKUP), before), [1, 0, 0]);

    // A token that does not read as one: the primary too (never stale, never an error).
    let before = clusters.counts(USER_LOOKUP);
    data(&server, READ, &[("FraiseQL-Consistency", "garbage")]);
    assert_eq!(delta(clusters.counts(USER_LOOKUP), before), [1, 0, 0]);

    // Once a replica has replayed the write, the token lets it serve the read.
    for port in clusters.replicas {
        clusters.psql(port, "postgres", "SELECT pg_wal_replay_resume()");
    }
    wait_for(
        Duration::from_secs(20),
        "a replica to serve the token",
        || {
            let before = clusters.counts(USER_LOOKUP);
            let seen = data(&server, READ, &[("FraiseQL-Consistency", token.as_str())]);
            assert_eq!(seen, json!({"user": {"name": "Ann 2"}}));
            let reads = delta(clusters.counts(USER_LOOKUP), before);
            reads[0] == 0 && reads[1] + reads[2] == 1
        },
    );
}
