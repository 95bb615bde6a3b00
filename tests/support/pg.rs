//! A PostgreSQL database of a test's own on the shared server (migrated and seeded through the
//! real binary, dropped at the end), psql for plain SQL, and table locks held from a psql
//! session so the server's statements wait as long as a test wants.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::run_cli;

const PG_HOST: &str = "127.0.0.1";
const PG_PORT: &str = "5432";

pub fn psql(database: &str, sql: &str) -> String {
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
pub struct BlogDb {
    pub name: String,
}

impl BlogDb {
    pub fn create(tag: &str) -> BlogDb {
        let name = format!("fraiseql_test_{tag}_{}", std::process::id());
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

    pub fn url(&self) -> String {
        format!("postgres://postgres@{PG_HOST}:{PG_PORT}/{}", self.name)
    }

    /// Terminates every backend of the database (a restart or failover, as the pool sees it).
    pub fn terminate_backends(&self) -> usize {
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
pub struct TableLock {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl TableLock {
    pub fn take(db: &BlogDb, table: &str) -> TableLock {
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

    pub fn release(mut self) {
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
