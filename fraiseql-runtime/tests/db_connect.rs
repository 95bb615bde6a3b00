//! Connecting, sessions and typed loads against real SQLite files and a real PostgreSQL
//! server: URL parsing, every `Bind` kind on both dialects, pool exhaustion, and a pooled
//! PostgreSQL connection used from a runtime other than the one that opened it.

mod db_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use db_support::{blog, settings, TestPg, TestSqlite};
use fraiseql_runtime::db::{Bind, Database, DatabaseUrl, DbError};
use fraiseql_runtime::model::Dialect;

#[test]
fn urls_parse_by_scheme() {
    assert_eq!(
        DatabaseUrl::parse("sqlite://blog.db").unwrap(),
        DatabaseUrl::Sqlite {
            path: PathBuf::from("blog.db")
        }
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite:///var/lib/blog.db").unwrap(),
        DatabaseUrl::Sqlite {
            path: PathBuf::from("/var/lib/blog.db")
        }
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite:data/blog.db").unwrap(),
        DatabaseUrl::Sqlite {
            path: PathBuf::from("data/blog.db")
        }
    );
    for url in ["postgres://u:p@h:5432/db", "postgresql://h/db"] {
        assert_eq!(
            DatabaseUrl::parse(url).unwrap(),
            DatabaseUrl::Postgres {
                url: url.to_string()
            }
        );
    }
    assert_eq!(
        DatabaseUrl::parse("postgres://h/db").unwrap().dialect(),
        Dialect::Postgres
    );

    for bad in [
        "mysql://u:secret@h/db",
        "blog.db",
        "sqlite://",
        "",
        "sqlite://blog.db?mode=rwc",
        "sqlite::memory:",
    ] {
        let err = DatabaseUrl::parse(bad).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, DbError::InvalidUrl(_)), "{bad}: {text}");
        assert!(!text.contains("secret"), "the password leaked: {text}");
    }
    let text = DatabaseUrl::parse("mysql://h/db").unwrap_err().to_string();
    assert!(
        text.contains("sqlite://") && text.contains("postgres://"),
        "{text}"
    );
}

/// The posts table with three rows, written by hand so these tests do not depend on `migrate`.
fn fixture(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
               published BOOLEAN NOT NULL, status TEXT NOT NULL, rating REAL, views INTEGER NOT NULL,
               metadata TEXT, created_at TEXT NOT NULL, user_id INTEGER NOT NULL);
             INSERT INTO posts VALUES
               (1, 'one', 'b1', 1, 'DRAFT', 1.5, 10, '{\"a\":1}', '2024-01-01T00:00:00.000Z', 7),
               (2, 'two', 'b2', 0, 'PUBLISHED', NULL, 20, NULL, '2024-01-02T00:00:00.000Z', 7),
               (3, 'three', 'b3', 1, 'ARCHIVED', 2.5, 30, NULL, '2024-01-03T00:00:00.000Z', 8);"
        }
        Dialect::Postgres => {
            "CREATE TABLE posts (id BIGINT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
               published BOOLEAN NOT NULL, status TEXT NOT NULL, rating DOUBLE PRECISION,
               views INTEGER NOT NULL, metadata JSONB, created_at TIMESTAMPTZ NOT NULL,
               user_id BIGINT NOT NULL);
             INSERT INTO posts VALUES
               (1, 'one', 'b1', true, 'DRAFT', 1.5, 10, '{\"a\":1}', '2024-01-01T00:00:00Z', 7),
               (2, 'two', 'b2', false, 'PUBLISHED', NULL, 20, NULL, '2024-01-02T00:00:00Z', 7),
               (3, 'three', 'b3', true, 'ARCHIVED', 2.5, 30, NULL, '2024-01-03T00:00:00Z', 8);"
        }
    }
}

/// `SELECT <all post columns> FROM posts AS t WHERE <predicate> ORDER BY id`, as the planner
/// would write it.
fn select_posts(dialect: Dialect, predicate: &str) -> String {
    let post = &blog::SCHEMA.types[1];
    let columns: Vec<&str> = post.columns.iter().map(|c| c.select.get(dialect)).collect();
    format!(
        "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, {} FROM posts AS t WHERE {predicate} ORDER BY t.id",
        columns.join(", ")
    )
}

/// The ids of the posts matching `predicate`, loaded as typed rows (the planner's path). The
/// same predicate in an UPDATE (the `execute` path, which binds by position) must match as
/// many rows.
async fn ids_where(db: &Database, predicate: &str, binds: &[Bind]) -> Vec<i64> {
    let mut session = db.session().await.expect("session");
    let sql = select_posts(db.dialect(), predicate);
    let rows = session
        .load(blog::SCHEMA.types[1].rows, &sql, binds)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let ids: Vec<i64> = (0..rows.len())
        .map(|i| rows.int_column(i, 0).expect("id"))
        .collect();
    let update = format!("UPDATE posts AS t SET views = t.views WHERE {predicate}");
    let changed = session
        .execute(&update, binds)
        .await
        .unwrap_or_else(|e| panic!("{update}: {e}"));
    assert_eq!(changed, ids.len(), "{update}");
    ids
}

/// Every `Bind` kind filters as its SQL type, on either dialect.
async fn every_bind_kind(db: &Database) {
    db.session()
        .await
        .unwrap()
        .execute_batch(fixture(db.dialect()))
        .await
        .unwrap();
    let list = |p: &str| match db.dialect() {
        Dialect::Postgres => format!("t.{p} = ANY($1)"),
        Dialect::Sqlite => format!("t.{p} IN (SELECT value FROM json_each($1))"),
    };
    assert_eq!(ids_where(db, "t.id = $1", &[Bind::BigInt(2)]).await, [2]);
    assert_eq!(
        ids_where(db, "t.views = $1", &[Bind::Integer(30)]).await,
        [3]
    );
    assert_eq!(
        ids_where(db, "t.rating = $1", &[Bind::Double(1.5)]).await,
        [1]
    );
    assert_eq!(
        ids_where(db, "t.title = $1", &[Bind::Text("two".into())]).await,
        [2]
    );
    assert_eq!(
        ids_where(db, "t.published = $1", &[Bind::Bool(true)]).await,
        [1, 3]
    );
    assert_eq!(
        ids_where(db, &list("id"), &[Bind::BigIntList(vec![3, 1, 99])]).await,
        [1, 3]
    );
    assert_eq!(
        ids_where(db, &list("views"), &[Bind::IntegerList(vec![20])]).await,
        [2]
    );
    assert_eq!(
        ids_where(db, &list("rating"), &[Bind::DoubleList(vec![2.5])]).await,
        [3]
    );
    let titles = Bind::TextList(vec!["one".into(), "three".into(), "it's".into()]);
    assert_eq!(ids_where(db, &list("title"), &[titles]).await, [1, 3]);
    assert!(ids_where(db, &list("id"), &[Bind::BigIntList(vec![])])
        .await
        .is_empty());
    // `$1` used twice is one parameter on both dialects.
    let twice = "t.user_id = $1 AND t.id > $2 AND t.user_id = $1";
    assert_eq!(
        ids_where(db, twice, &[Bind::BigInt(7), Bind::BigInt(1)]).await,
        [2]
    );

    // The row writes the canonical DateTime and the JSON document as loaded.
    let mut session = db.session().await.unwrap();
    let rows = session
        .load(
            blog::SCHEMA.types[1].rows,
            &select_posts(db.dialect(), "t.id = $1"),
            &[Bind::BigInt(1)],
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    rows.write_column(0, 8, &mut out);
    out.push(b' ');
    rows.write_column(0, 7, &mut out);
    let json = match db.dialect() {
        Dialect::Postgres => r#"{"a": 1}"#, // jsonb's own text form
        Dialect::Sqlite => r#"{"a":1}"#,
    };
    let written = String::from_utf8(out).unwrap();
    assert_eq!(written, format!(r#""2024-01-01T00:00:00.000Z" {json}"#));

    // A failing statement is an error with the database's message (for logs), not a panic,
    // and the session stays usable.
    let err = session
        .load(blog::SCHEMA.types[1].rows, "SELECT nope FROM nowhere", &[])
        .await
        .err()
        .expect("fails");
    assert!(matches!(err, DbError::Query { .. }), "{err}");
    assert_eq!(err.public_message(), "internal database error");
    session.execute_batch("SELECT 1").await.unwrap();
    assert_eq!(
        session
            .execute(
                "UPDATE posts SET views = views + 1 WHERE user_id = $1",
                &[Bind::BigInt(7)]
            )
            .await
            .unwrap(),
        2
    );

    // explain runs inside a rolled-back transaction.
    let plan = session
        .explain(
            "UPDATE posts SET views = 0 WHERE id = $1",
            &[Bind::BigInt(1)],
            true,
        )
        .await
        .unwrap();
    assert!(!plan.is_empty());
    assert_eq!(
        ids_where(db, "t.views = $1", &[Bind::Integer(11)]).await,
        [1]
    );
}

#[tokio::test]
async fn sqlite_loads_with_every_bind_kind() {
    let file = TestSqlite::new("connect_binds");
    assert!(!file.path().exists());
    let db = file.connect(&settings(4, 2000)).await;
    assert!(file.path().exists(), "the file is created");
    assert_eq!(db.dialect(), Dialect::Sqlite);
    db.ping(Duration::from_secs(2)).await.unwrap();
    every_bind_kind(&db).await;
}

#[tokio::test]
async fn postgres_loads_with_every_bind_kind() {
    let pg = TestPg::new("connect_binds");
    let db = pg.connect(&settings(4, 2000)).await;
    assert_eq!(db.dialect(), Dialect::Postgres);
    db.ping(Duration::from_secs(2)).await.unwrap();
    every_bind_kind(&db).await;
}

async fn exhausted_pool_times_out(db: &Database) {
    let held = db.session().await.expect("the only connection");
    let start = Instant::now();
    let err = db.session().await.err().expect("no connection is free");
    let waited = start.elapsed();
    assert!(matches!(err, DbError::PoolTimeout(_)), "{err}");
    assert!(
        waited >= Duration::from_millis(250),
        "gave up early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "waited too long: {waited:?}"
    );
    assert_eq!(err.public_message(), "the database is busy; retry shortly");
    drop(held);
    db.session().await.expect("free again");
}

#[tokio::test]
async fn postgres_pool_exhaustion_is_a_timeout() {
    let pg = TestPg::new("connect_pool");
    let db = pg.connect(&settings(1, 300)).await;
    exhausted_pool_times_out(&db).await;
}

#[tokio::test]
async fn sqlite_pool_exhaustion_is_a_timeout() {
    let file = TestSqlite::new("connect_pool");
    let db = file.connect(&settings(1, 300)).await;
    exhausted_pool_times_out(&db).await;
}

#[test]
fn postgres_sessions_work_from_any_runtime_within_one_limit() {
    let pg = TestPg::new("connect_runtimes");
    let current_thread = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    // Runtime A takes the only session and keeps it, then sits idle (nothing drives it), as a
    // busy worker or a CLI's startup runtime would.
    let opener = current_thread();
    let (db, held) = opener.block_on(async {
        let db = pg.connect(&settings(1, 300)).await;
        let mut held = db.session().await.unwrap();
        held.execute_batch("SELECT 1").await.unwrap();
        (db, held)
    });
    assert_eq!(db.pool_status().in_use, 1);

    // The limit covers every runtime: B cannot take a second session meanwhile.
    let other = current_thread();
    other.block_on(async {
        let err = db.session().await.err().expect("the limit is process-wide");
        assert!(matches!(err, DbError::PoolTimeout(_)), "{err}");
    });
    drop(held);
    assert_eq!(db.pool_status().in_use, 0);

    // Other runtimes work while A is idle; a statement never waits for A to be polled.
    for runtime in [other, current_thread()] {
        runtime.block_on(async {
            let mut session = db.session().await.unwrap();
            let query = session.execute_batch("SELECT 1");
            tokio::time::timeout(Duration::from_secs(3), query)
                .await
                .expect("the statement does not wait for runtime A")
                .unwrap();
        });
    }
    // And after A is gone too, on a multi-thread runtime.
    drop(opener);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut session = db.session().await.unwrap();
        session.execute_batch("SELECT 1").await.unwrap();
    });
    let status = db.pool_status();
    assert_eq!((status.max_size, status.in_use), (1, 0));
    assert!(status.open >= 1, "{status:?}");
}

/// A pooled connection whose server process ends (a restart, a failover) fails as
/// "unavailable", and the pool replaces it instead of handing it out again.
#[tokio::test]
async fn postgres_pool_replaces_a_terminated_connection() {
    let pg = TestPg::new("connect_terminated");
    let db = pg.connect(&settings(2, 2000)).await;
    let mut doomed = db.session().await.unwrap();
    let pid_sql =
        "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, CAST(pg_backend_pid() AS BIGINT) AS id, \
                   NULL AS name, NULL AS email, NULL AS bio, NULL AS created_at";
    let rows = doomed
        .load(blog::SCHEMA.types[0].rows, pid_sql, &[])
        .await
        .unwrap();
    let pid = rows.int_column(0, 0).unwrap();
    let mut other = db.session().await.unwrap();
    other
        .execute_batch(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .unwrap();
    drop(other);

    // The first statement may see the server's FATAL message, later ones a closed socket.
    let first = doomed.execute_batch("SELECT 1").await.unwrap_err();
    let second = doomed.execute_batch("SELECT 1").await.unwrap_err();
    assert!(matches!(second, DbError::Connect(_)), "{first} / {second}");
    assert_eq!(second.public_message(), "the database is unavailable");
    drop(doomed);

    for _ in 0..3 {
        let mut session = db.session().await.unwrap();
        let rows = session
            .load(blog::SCHEMA.types[0].rows, pid_sql, &[])
            .await
            .unwrap();
        assert_ne!(rows.int_column(0, 0), Some(pid));
    }
}

#[tokio::test]
async fn unreachable_postgres_fails_within_the_timeout() {
    let url = DatabaseUrl::parse("postgres://postgres@127.0.0.1:1/none").unwrap();
    let db = Database::connect(&url, &settings(2, 500)).await.unwrap();
    let err = db.ping(Duration::from_millis(500)).await.unwrap_err();
    assert!(
        matches!(err, DbError::Connect(_) | DbError::PoolTimeout(_)),
        "{err}"
    );
}
