//! The planner and executor in-process, on SQLite and on real PostgreSQL (a database of this
//! test's own on the shared server): the responses for the GraphQL features a client uses —
//! nesting with per-parent limits, many-to-one, fragments, aliases, @skip/@include, filters,
//! ordering, keyset pages, __typename and introspection.

#[allow(dead_code)]
mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}

use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::JsonMap;
use apollo_compiler::ExecutableDocument;
use fraiseql_runtime::db::{migrate::migrate, Database, DatabaseUrl, PoolSettings};
use fraiseql_runtime::exec::{execute, ExecRequest};
use fraiseql_runtime::plan::OperationPlan;
use fraiseql_runtime::schema::ApiSchema;
use serde_json::{json, Value};

const FIXTURE: &[&str] = &[
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

struct Harness {
    api: ApiSchema,
    db: Database,
}

impl Harness {
    async fn new(url: DatabaseUrl) -> Harness {
        let db = Database::connect(&url, &PoolSettings::default())
            .await
            .expect("connect");
        migrate(&schema::SCHEMA, &db, false).await.expect("migrate");
        let mut session = db.session().await.expect("session");
        for statement in FIXTURE {
            session
                .execute(statement, &[])
                .await
                .expect("fixture insert");
        }
        drop(session);
        Harness {
            api: ApiSchema::load(&schema::SCHEMA).expect("api schema"),
            db,
        }
    }

    async fn run(&self, query: &str, variables: Value) -> Value {
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
            database: &self.db,
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

async fn all_cases(h: &Harness) {
    // Nesting with per-parent limits, in key order.
    let r = h
        .run("{ users(limit: 2) { id name posts(limit: 2) { id title comments(limit: 1) { id body } } } }", json!({}))
        .await;
    assert_eq!(
        r,
        json!({"data": {"users": [
            {"id": "1", "name": "Ann", "posts": [
                {"id": "10", "title": "A1", "comments": [{"id": "100", "body": "c1"}]},
                {"id": "11", "title": "A2", "comments": []}]},
            {"id": "2", "name": "Bob", "posts": [
                {"id": "13", "title": "B1", "comments": [{"id": "103", "body": "c4"}]}]}]}})
    );

    // Many-to-one, aliases, fragments, __typename, every scalar kind.
    let r = h
        .run(
            "query { p: post(id: 10) { __typename ...F author { who: name } } missing: post(id: 999) { id } }
             fragment F on Post { title published status rating views metadata createdAt }",
            json!({}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {
            "p": {"__typename": "Post", "title": "A1", "published": true, "status": "PUBLISHED", "rating": 4.5,
                  "views": 10, "metadata": {"tags": ["x"]}, "createdAt": "2026-02-01T00:00:00.000Z",
                  "author": {"who": "Ann"}},
            "missing": null}})
    );

    // @skip / @include with variables, one plan for both values.
    let q = "query($full: Boolean!) { user(id: 2) { name email @include(if: $full) posts @skip(if: $full) { id } } }";
    assert_eq!(
        h.run(q, json!({"full": true})).await,
        json!({"data": {"user": {"name": "Bob", "email": "bob@example.com"}}})
    );
    assert_eq!(
        h.run(q, json!({"full": false})).await,
        json!({"data": {"user": {"name": "Bob", "posts": [{"id": "13"}]}}})
    );

    // Filters: and/or/not, in, like, isNull, comparisons; a variable-shaped filter.
    let r = h
        .run(
            r#"{ users(where: {or: [{bio: {isNull: false}}, {email: {like: "%.org"}}]}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(r, json!({"data": {"users": [{"id": "2"}, {"id": "3"}]}}));
    let r = h
        .run(
            "query($w: PostWhere) { posts(where: $w, orderBy: [{field: views, direction: DESC}]) { id } }",
            json!({"w": {"status": {"in": ["PUBLISHED", "ARCHIVED"]}, "not": {"views": {"gte": 40}}}}),
        )
        .await;
    assert_eq!(r, json!({"data": {"posts": [{"id": "12"}, {"id": "10"}]}}));
    let r = h
        .run(
            "query($since: DateTime!) { comments(where: {createdAt: {gt: $since}}) { id } }",
            json!({"since": "2026-03-02T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {"comments": [{"id": "102"}, {"id": "103"}]}})
    );

    // Nullable order column: NULLs sort last ascending.
    let r = h
        .run("{ posts(orderBy: [{field: rating}]) { id } }", json!({}))
        .await;
    assert_eq!(
        r,
        json!({"data": {"posts": [{"id": "13"}, {"id": "12"}, {"id": "10"}, {"id": "11"}]}})
    );

    // Keyset pages walk the whole list in order, with no gaps or repeats.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = h
            .run(
                "query($after: String) { posts(limit: 3, orderBy: [{field: rating, direction: DESC}], after: $after) { id _cursor } }",
                json!({"after": after}),
            )
            .await;
        let page = r["data"]["posts"].as_array().expect("a page").clone();
        if page.is_empty() {
            break;
        }
        seen.extend(
            page.iter()
                .map(|p| p["id"].as_str().unwrap_or_default().to_string()),
        );
        after = page[page.len() - 1]["_cursor"].clone();
    }
    assert_eq!(seen, ["11", "10", "12", "13"]);

    // A cursor from another ordering is refused with a clear error.
    let r = h
        .run(
            "query($a: String) { posts(after: $a) { id } }",
            json!({"a": after}),
        )
        .await;
    assert_eq!(r["data"], Value::Null, "{r}");
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{r}"
    );
    assert_eq!(r["errors"][0]["path"], json!(["posts"]), "{r}");

    // Introspection next to data.
    let r = h
        .run(
            "{ __typename __type(name: \"User\") { name } user(id: 1) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {"__typename": "Query", "__type": {"name": "User"}, "user": {"id": "1"}}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn executes_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("fraiseql-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("blog.db");
    let _ = std::fs::remove_file(&path);
    let h = Harness::new(DatabaseUrl::Sqlite { path }).await;
    all_cases(&h).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn executes_on_postgres() {
    let admin = "postgres://postgres@127.0.0.1:5432/postgres".to_string();
    let name = format!("fraiseql_test_exec_{}", std::process::id());
    let admin_db = Database::connect(
        &DatabaseUrl::Postgres { url: admin },
        &PoolSettings::default(),
    )
    .await
    .expect("connect to the shared PostgreSQL");
    let mut s = admin_db.session().await.expect("session");
    s.execute_batch(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .expect("drop");
    s.execute_batch(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create");
    drop(s);
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let h = Harness::new(DatabaseUrl::Postgres { url }).await;
    all_cases(&h).await;
    drop(h);
    let mut s = admin_db.session().await.expect("session");
    s.execute_batch(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .expect("drop");
}
