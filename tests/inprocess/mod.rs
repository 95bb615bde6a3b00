//! The planner and executor in-process on a database of the test's own: a SQLite file in a
//! temporary directory, or a fresh database on the shared PostgreSQL server (dropped at the
//! end). Test crates that use it include the generated schema as `crate::schema`.
//!
//! `FRAISEQL_TEST_PG_URL_BASE` (default `postgres://postgres@127.0.0.1:5432`) is where the
//! tests connect to that database: point it at a pooler in front of the same server (PgBouncer
//! from `scripts/pgbouncer.sh`) to run them through it; the database is still created and
//! dropped directly on 127.0.0.1:5432. Pools take the `FRAISEQL_POOL_*` / `FRAISEQL_STATEMENT_*`
//! settings from the environment, as the server does (`FRAISEQL_STATEMENT_CACHE=off` behind
//! PgBouncer in transaction mode).

#![allow(dead_code)] // each test crate uses a different part

use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::JsonMap;
use apollo_compiler::ExecutableDocument;
use fraiseql_runtime::db::{migrate::migrate, Database, DatabaseUrl, PoolSettings};
use fraiseql_runtime::exec::{execute, ExecRequest};
use fraiseql_runtime::plan::OperationPlan;
use fraiseql_runtime::schema::ApiSchema;
use serde_json::Value;

/// Three users, four posts, four comments, with explicit keys.
pub const FIXTURE: &[&str] = &[
    "INSERT INTO users (id, name, email, bio, created_at) VALUES \
     (1, 'Ann', 'ann@example.com', NULL, '2026-01-01T00:00:00.000Z'), \
     (2, 'Bob', 'bob@example.com', 'hi', '2026-01-02T00:00:00.000Z'), \
     (3, 'Cyd', 'cyd@example.org', NULL, '2026-01-03T00:00:00.000Z')",
    "INSERT INTO posts (id, title, body, published, status, rating, views, metadata, created_at, user_id) VALUES \
     (10, 'A1', 'b', true, 'PUBLISHED', 4.5, 10, '{\"tags\":[\"x\"]}', '2026-02-01T00:00:00.000Z', 1), \
     (11, 'A2', 'b', false, 'DRAFT', NULL, 20, NULL, '2026-02-02T00:00:00.000Z', 1), \
     (12, 'A3', 'b', true, 'PUBLISHED', 3.0, 30, NULL, '2026-02-03T00:00:00.000Z', 1), \
     (13, 'B1', 'b', true, 'ARCHIVED', 1.0, 40, NULL, '2026-02-04T00:00:00.000Z', 2)",
    "INSERT INTO comments (id, body, created_at, post_id, user_id) VALUES \
     (100, 'c1', '2026-03-01T00:00:00.000Z', 10, 2), \
     (101, 'c2', '2026-03-02T00:00:00.000Z', 10, 3), \
     (102, 'c3', '2026-03-03T00:00:00.000Z', 12, 2), \
     (103, 'c4', '2026-03-04T00:00:00.000Z', 13, 1)",
];

/// A migrated, filled database and the API schema.
pub struct Harness {
    pub api: ApiSchema,
    pub db: Database,
}

impl Harness {
    /// Migrates `url` (after `before_migrate`, DDL that may create tables with stricter
    /// constraints than the schema's) and inserts [`FIXTURE`].
    pub async fn new(url: DatabaseUrl, before_migrate: &[String]) -> Harness {
        Harness::with_rows(url, before_migrate, FIXTURE).await
    }

    /// The same with other fixture rows.
    pub async fn with_rows(
        url: DatabaseUrl,
        before_migrate: &[String],
        fixture: &[&str],
    ) -> Harness {
        let db = Database::connect(&url, &pool_settings())
            .await
            .expect("connect");
        let mut session = db.session().await.expect("session");
        for statement in before_migrate {
            session.execute_batch(statement).await.expect("DDL");
        }
        drop(session);
        migrate(&crate::schema::SCHEMA, &db, false)
            .await
            .expect("migrate");
        let mut session = db.session().await.expect("session");
        for statement in fixture {
            session
                .execute(statement, &[])
                .await
                .expect("fixture insert");
        }
        if let DatabaseUrl::Postgres { .. } = url {
            // Explicit keys do not move identity sequences; new rows must not collide.
            for table in ["users", "posts", "comments"] {
                session
                    .execute_batch(&format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    ))
                    .await
                    .expect("setval");
            }
        }
        drop(session);
        Harness {
            api: ApiSchema::load(&crate::schema::SCHEMA).expect("api schema"),
            db,
        }
    }

    /// Runs a document with variables; the response body as JSON.
    pub async fn run(&self, query: &str, variables: Value) -> Value {
        let document = ExecutableDocument::parse_and_validate(&self.api.schema, query, "q.graphql")
            .unwrap_or_else(|e| panic!("invalid document: {}", e.errors));
        let operation = document.operations.get(None).expect("one operation");
        let variables: JsonMap = serde_json::from_value(variables).expect("variables object");
        let variables = coerce_variable_values(&self.api.schema, operation, &variables)
            .unwrap_or_else(|e| panic!("variables: {}", e.message()));
        let plan = OperationPlan::build(&self.api, &document, operation, self.db.dialect())
            .unwrap_or_else(|e| panic!("plan: {e:?}"));
        let outcome = execute(ExecRequest {
            api: &self.api,
            document: &document,
            operation,
            plan: &plan,
            variables: &variables,
            headers: &Default::default(),
            database: &self.db,
            claims: None,
        })
        .await;
        serde_json::from_slice(&outcome.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&outcome.body)
            )
        })
    }
}

/// The pool settings from the environment, as `serve` reads them.
pub fn pool_settings() -> PoolSettings {
    fraiseql_runtime::config::pool_settings(&|name| std::env::var(name).ok())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Where the test databases are reached: `FRAISEQL_TEST_PG_URL_BASE` or the shared server.
pub fn pg_url_base() -> String {
    std::env::var("FRAISEQL_TEST_PG_URL_BASE")
        .ok()
        .filter(|base| !base.trim().is_empty())
        .map(|base| base.trim().trim_end_matches('/').to_string())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// A fresh SQLite file for test `name`.
pub fn sqlite_url(name: &str) -> DatabaseUrl {
    let dir = std::env::temp_dir().join(format!("fraiseql-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("blog.db");
    let _ = std::fs::remove_file(&path);
    DatabaseUrl::Sqlite { path }
}

/// A fresh database on the shared PostgreSQL server, dropped by [`PgDatabase::drop_now`].
pub struct PgDatabase {
    admin: Database,
    name: String,
}

impl PgDatabase {
    pub async fn create(name: &str) -> PgDatabase {
        let admin = "postgres://postgres@127.0.0.1:5432/postgres".to_string();
        let name = format!("fraiseql_test_{name}_{}", std::process::id());
        let admin = Database::connect(
            &DatabaseUrl::Postgres { url: admin },
            &PoolSettings::default(),
        )
        .await
        .expect("connect to the shared PostgreSQL");
        let mut s = admin.session().await.expect("session");
        s.execute_batch(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .expect("drop");
        s.execute_batch(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create");
        PgDatabase { admin, name }
    }

    pub fn url(&self) -> DatabaseUrl {
        DatabaseUrl::Postgres {
            url: format!("{}/{}", pg_url_base(), self.name),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs SQL as the server's administrator, outside the test's database.
    pub async fn admin(&self, sql: &str) {
        let mut s = self.admin.session().await.expect("session");
        s.execute_batch(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn drop_now(self) {
        let mut s = self.admin.session().await.expect("session");
        s.execute_batch(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .await
        .expect("drop");
    }
}
