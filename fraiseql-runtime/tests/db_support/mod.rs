//! Shared by the `db_*` tests: the blog model, a throwaway PostgreSQL database per test on the
//! shared server (127.0.0.1:5432), and a throwaway SQLite file per test.
#![allow(dead_code)] // each test binary uses a different part

#[allow(clippy::all, missing_docs)]
pub mod blog;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use fraiseql_runtime::db::{Database, DatabaseUrl, PoolSettings};

pub const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// A database `fraiseql_test_db_<name>` created fresh and dropped on drop.
pub struct TestPg {
    pub name: String,
}

fn psql(sql: &str) {
    let status = Command::new("psql")
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
            "postgres",
        ])
        .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed: {sql}");
}

impl TestPg {
    pub fn new(name: &str) -> TestPg {
        let name = format!("fraiseql_test_db_{name}");
        psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        psql(&format!("CREATE DATABASE {name}"));
        TestPg { name }
    }

    pub fn url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&format!("{PG_SERVER}/{}", self.name)).expect("valid URL")
    }

    pub async fn connect(&self, settings: &PoolSettings) -> Database {
        Database::connect(&self.url(), settings)
            .await
            .expect("connects")
    }
}

impl Drop for TestPg {
    fn drop(&mut self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// A SQLite file in a fresh temporary directory, removed on drop.
pub struct TestSqlite {
    pub dir: PathBuf,
}

impl TestSqlite {
    pub fn new(name: &str) -> TestSqlite {
        let dir =
            std::env::temp_dir().join(format!("fraiseql_test_db_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TestSqlite { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("test.db")
    }

    pub fn url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&format!("sqlite://{}", self.path().display())).expect("valid URL")
    }

    pub async fn connect(&self, settings: &PoolSettings) -> Database {
        Database::connect(&self.url(), settings)
            .await
            .expect("connects")
    }
}

impl Drop for TestSqlite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn settings(max_size: usize, timeout_ms: u64) -> PoolSettings {
    PoolSettings {
        max_size,
        acquire_timeout: Duration::from_millis(timeout_ms),
        ..PoolSettings::default()
    }
}
