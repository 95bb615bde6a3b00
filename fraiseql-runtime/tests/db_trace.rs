//! `FRAISEQL_SQLITE_TRACE`: SQLite itself reports every statement it starts, one line each.
//! A test binary of its own, because the variable is read once per process.

mod db_support;

use db_support::{blog, settings, TestSqlite};
use fraiseql_runtime::db::{Bind, SQLITE_TRACE_ENV};

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn every_statement_is_one_trace_line() {
    let file = TestSqlite::new("trace");
    let trace = file.dir.join("statements.log");
    // This binary has one test, so no other thread reads the environment meanwhile.
    std::env::set_var(SQLITE_TRACE_ENV, &trace);
    let db = file.connect(&settings(1, 2000)).await;

    // The one pooled connection ran its four pragmas.
    let opened = lines(&trace);
    assert_eq!(
        opened.iter().filter(|l| l.starts_with("PRAGMA")).count(),
        4,
        "{opened:?}"
    );

    let mut session = db.session().await.unwrap();
    session
        .execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, bio TEXT, created_at TEXT)")
        .await
        .unwrap();
    let before = lines(&trace).len();
    let sql = "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, t.id AS id, t.name AS name, \
               NULL AS email, NULL AS bio, NULL AS created_at FROM users AS t \
               WHERE t.id IN (SELECT value FROM json_each($1))";
    for _ in 0..3 {
        let rows = session
            .load(
                blog::SCHEMA.types[0].rows,
                sql,
                &[Bind::BigIntList(vec![1, 2])],
            )
            .await
            .unwrap();
        assert!(rows.is_empty());
    }
    let after = lines(&trace);
    let new = &after[before..];
    assert_eq!(new.len(), 3, "{new:?}");
    assert!(new
        .iter()
        .all(|l| l.starts_with("SELECT CAST(0 AS BIGINT)") && !l.contains('\n')));
}
