//! Serve-stale-while-refreshing: past its ttl (within `FRAISEQL_CACHE_STALE_S`), the first
//! request refreshes an entry while concurrent ones get the stale entry at once. The refresh is
//! held up by a PostgreSQL table lock (SQLite's WAL would let the read through), so "at once"
//! does not depend on timing.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use super::support::{run_cli, TestServer};
use super::{header, serial};
use crate::support::pg::psql;

const QUERY: &str = "{ user(id: 1) @cache(ttl: 1) { name } }";

#[test]
fn an_expired_entry_is_served_stale_while_one_request_refreshes_it() {
    let _serial = serial();
    let name = format!("fraiseql_test_cache_stale_{}", std::process::id());
    psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    psql("postgres", &format!("CREATE DATABASE {name}"));
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    for command in ["migrate", "seed"] {
        let out = run_cli(&[command], &[("DATABASE_URL", &url)]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let server = TestServer::start(&[
        ("DATABASE_URL", &url),
        ("FRAISEQL_CACHE_TTL_JITTER_PCT", "0"),
        ("FRAISEQL_CACHE_STALE_S", "30"),
    ]);
    let ask = || {
        let (status, headers, body) = server.post_with(QUERY, json!({}), &[]);
        assert_eq!(status, 200, "{body}");
        (
            body["data"]["user"]["name"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            header(&headers, "cache-control").to_owned(),
        )
    };
    let (original, control) = ask();
    assert_eq!(control, "public, max-age=1");
    psql(
        &name,
        "UPDATE users SET name = 'Refreshed Name' WHERE id = 1",
    );
    std::thread::sleep(Duration::from_millis(1300)); // past the 1 s ttl, within the stale bound

    // Hold the refresh up: every read of users waits for this lock.
    let mut lock = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            "5432",
            "-U",
            "postgres",
            "-d",
            &name,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("psql runs");
    let mut stdin = lock.stdin.take().expect("stdin");
    writeln!(stdin, "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;").expect("write");
    stdin.flush().expect("flush");
    let granted = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                   WHERE c.relname = 'users' AND l.mode = 'AccessExclusiveLock' AND l.granted";
    let deadline = Instant::now() + Duration::from_secs(10);
    while psql(&name, granted) != "1" {
        assert!(Instant::now() < deadline, "the lock was not granted");
        std::thread::sleep(Duration::from_millis(20));
    }

    let misses = "fraiseql_cache_misses_total{tier=\"l1\"}";
    std::thread::scope(|scope| {
        // The first request after expiry leads the refresh and waits on the lock.
        let refresher = scope.spawn(ask);
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.series(misses) < 2.0 {
            assert!(Instant::now() < deadline, "the refresh never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Meanwhile another request gets the stale entry, with nothing left of its ttl.
        let (stale, control) = ask();
        assert_eq!(stale, original);
        assert_eq!(control, "public, max-age=0");
        writeln!(stdin, "COMMIT;").expect("write");
        stdin.flush().expect("flush");
        let (refreshed, _) = refresher.join().expect("refresher");
        assert_eq!(refreshed, "Refreshed Name");
    });
    drop(stdin);
    let _ = lock.wait();
    // The refreshed entry answers from now on.
    let hits = server.series("fraiseql_cache_hits_total{tier=\"l1\"}");
    assert_eq!(ask().0, "Refreshed Name");
    assert_eq!(
        server.series("fraiseql_cache_hits_total{tier=\"l1\"}"),
        hits + 1.0
    );
    drop(server);
    psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
}
