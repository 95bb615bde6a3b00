//! Generated mutations (`@insert`, `@update`, `@delete`) in-process on SQLite and on real
//! PostgreSQL: writes and the nested selection read back after them, input checked before any
//! SQL, every constraint violation's code, and a multi-field mutation that fails half-way
//! leaving nothing written.

#[allow(dead_code)]
mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}

mod inprocess;

use fraiseql_runtime::db::{migrate::migrate, Database, DatabaseUrl};
use inprocess::{sqlite_url, Harness, PgDatabase, FIXTURE};
use serde_json::{json, Value};

fn code(r: &Value) -> &str {
    r["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

async fn writes(h: &Harness) {
    // Create, with the nested author and (empty) comments read back in the same transaction.
    let r = h
        .run(
            r#"mutation($input: CreatePostInput!) {
                 createPost(input: $input) { title published status rating views metadata
                   author { name posts { title } } comments { id } }
               }"#,
            json!({"input": {"title": "Fresh", "body": "text", "published": true,
                   "status": "DRAFT", "views": 0, "metadata": {"k": [1, 2]}, "authorId": "2"}}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {"createPost": {"title": "Fresh", "published": true, "status": "DRAFT",
            "rating": null, "views": 0, "metadata": {"k": [1, 2]},
            "author": {"name": "Bob", "posts": [{"title": "B1"}, {"title": "Fresh"}]},
            "comments": []}}}),
    );

    // A left-out DateTime! is the time of the write; the key comes from the database.
    let r = h
        .run(
            r#"mutation { createUser(input: {name: "Dee", email: "dee@example.com"}) { id bio createdAt } }"#,
            json!({}),
        )
        .await;
    let user = &r["data"]["createUser"];
    assert!(
        user["id"]
            .as_str()
            .is_some_and(|id| id.parse::<i64>().unwrap_or(0) > 3),
        "{r}"
    );
    assert_eq!(user["bio"], Value::Null, "{r}");
    assert!(
        user["createdAt"]
            .as_str()
            .is_some_and(|t| t.starts_with("20") && t.ends_with('Z')),
        "{r}"
    );

    // A comment, and its post's comments read after the write include it.
    let r = h
        .run(
            r#"mutation { createComment(input: {body: "hi", postId: 12, authorId: 3}) {
                 body post { title comments { body author { name } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {"createComment": {"body": "hi", "post": {"title": "A3", "comments": [
            {"body": "c3", "author": {"name": "Bob"}}, {"body": "hi", "author": {"name": "Cyd"}}]}}}})
    );

    // Update writes only the fields given; null clears a nullable one.
    let r = h
        .run(
            r#"mutation { updatePost(id: 10, input: {title: "A1 v2", rating: null}) { id title rating body author { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {"updatePost": {"id": "10", "title": "A1 v2", "rating": null, "body": "b", "author": {"name": "Ann"}}}})
    );
    // Moving a post to another author through the foreign key field.
    let r = h
        .run(
            r#"mutation { updatePost(id: 11, input: {authorId: 3}) { author { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {"updatePost": {"author": {"name": "Cyd"}}}})
    );
    let r = h.run("{ post(id: 10) { title rating } }", json!({})).await;
    assert_eq!(
        r,
        json!({"data": {"post": {"title": "A1 v2", "rating": null}}})
    );

    // Update and delete of a missing row: NOT_FOUND.
    let r = h
        .run(
            r#"mutation { updatePost(id: 999, input: {title: "x"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    assert_eq!(r["errors"][0]["path"], json!(["updatePost"]), "{r}");
    let r = h.run("mutation { deletePost(id: 999) }", json!({})).await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    assert_eq!(r["data"], Value::Null, "{r}");

    // Delete.
    let r = h
        .run("mutation { deleteComment(id: 101) }", json!({}))
        .await;
    assert_eq!(r, json!({"data": {"deleteComment": true}}));
    let r = h.run("{ comment(id: 101) { id } }", json!({})).await;
    assert_eq!(r, json!({"data": {"comment": null}}));
}

async fn input_checks(h: &Harness) {
    let long = "x".repeat(256);
    let cases = [
        (
            format!(r#"mutation {{ createUser(input: {{name: "L", email: "{long}"}}) {{ id }} }}"#),
            "input.email",
        ),
        (
            r#"mutation { updatePost(id: "ten", input: {title: "x"}) { id } }"#.to_string(),
            "id",
        ),
        (
            r#"mutation { updatePost(id: 10, input: {title: null}) { id } }"#.to_string(),
            "input.title",
        ),
        (
            r#"mutation { updateUser(id: 1, input: {createdAt: "yesterday"}) { id } }"#.to_string(),
            "input.createdAt",
        ),
        (
            r#"mutation { createComment(input: {body: "x", postId: "p", authorId: 1}) { id } }"#
                .to_string(),
            "input.postId",
        ),
    ];
    for (query, field) in cases {
        let r = h.run(&query, json!({})).await;
        assert_eq!(code(&r), "INVALID_INPUT", "{query}: {r}");
        assert_eq!(r["errors"][0]["extensions"]["field"], field, "{query}: {r}");
        assert_eq!(r["data"], Value::Null, "{query}: {r}");
    }
}

async fn constraints(h: &Harness) {
    // Unique: another user's email.
    let r = h
        .run(
            r#"mutation { createUser(input: {name: "Ann 2", email: "ann@example.com"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    assert_eq!(r["errors"][0]["extensions"]["field"], "input.email", "{r}");
    let message = r["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        !message.to_lowercase().contains("insert"),
        "SQL leaked: {r}"
    );

    // Foreign key on insert: the author does not exist.
    let r = h
        .run(
            r#"mutation { createPost(input: {title: "t", body: "b", published: false, status: DRAFT, views: 0, authorId: 999}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "INVALID_INPUT", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("authorId"),
        "{r}"
    );

    // Foreign key on delete: the user still has posts.
    let r = h.run("mutation { deleteUser(id: 1) }", json!({})).await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let r = h.run("{ user(id: 1) { name } }", json!({})).await;
    assert_eq!(r, json!({"data": {"user": {"name": "Ann"}}}));
}

/// The strict table's constraints (NOT NULL and CHECK beyond the schema's own).
async fn database_only_constraints(h: &Harness) {
    let r = h
        .run(
            r#"mutation { createUser(input: {name: "Eve", email: "eve@example.com"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "INVALID_INPUT", "NOT NULL: {r}");
    assert_eq!(r["errors"][0]["extensions"]["field"], "input.bio", "{r}");
    let r = h
        .run(
            r#"mutation { createUser(input: {name: "E", email: "e@example.com", bio: "b"}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "INVALID_INPUT", "CHECK: {r}");
    assert!(
        !r["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("length"),
        "{r}"
    );
}

async fn rollback(h: &Harness) {
    let before = h.run("{ users { id } posts { id } }", json!({})).await;
    // The first field succeeds, the second conflicts: neither is kept.
    let r = h
        .run(
            r#"mutation {
                 a: createPost(input: {title: "kept?", body: "b", published: true, status: DRAFT, views: 1, authorId: 1}) { id }
                 b: createUser(input: {name: "Dup", email: "bob@example.com"}) { id }
                 c: createUser(input: {name: "Never", email: "never@example.com"}) { id }
               }"#,
            json!({}),
        )
        .await;
    assert_eq!(r["data"], Value::Null, "{r}");
    assert_eq!(code(&r), "CONFLICT", "{r}");
    assert_eq!(r["errors"][0]["path"], json!(["b"]), "{r}");
    assert_eq!(r["errors"].as_array().map(Vec::len), Some(1), "{r}");
    let after = h.run("{ users { id } posts { id } }", json!({})).await;
    assert_eq!(before, after, "a failed mutation left rows behind");

    // Fields run in document order: the second sees the first's row.
    let r = h
        .run(
            r#"mutation {
                 u: createUser(input: {name: "Ord", email: "ord@example.com", bio: "b"}) { id }
                 d: deleteComment(id: 102)
               }"#,
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["d"], true, "{r}");
}

/// The users table with constraints the schema does not know: `bio` NOT NULL and a CHECK on
/// `name`, so the database itself rejects what passed input checking.
async fn strict_users_ddl(url: &DatabaseUrl) -> Vec<String> {
    let db = Database::connect(url, &inprocess::pool_settings())
        .await
        .expect("connect");
    let planned = migrate(&schema::SCHEMA, &db, true).await.expect("dry run");
    let users = planned
        .iter()
        .find(|s| s.starts_with("CREATE TABLE \"users\""))
        .expect("users DDL");
    let strict = users
        .replace("\"bio\" TEXT", "\"bio\" TEXT NOT NULL")
        .replace(
            "\"name\" TEXT NOT NULL",
            "\"name\" TEXT NOT NULL CONSTRAINT users_name_length CHECK (length(\"name\") > 1)",
        );
    assert_ne!(&strict, users, "the DDL changed shape: {users}");
    vec![strict]
}

fn strict_fixture() -> Vec<String> {
    let mut rows: Vec<String> = FIXTURE.iter().map(|s| s.to_string()).collect();
    rows[0] = rows[0].replace("NULL", "'x'");
    rows
}

async fn all(url: impl Fn() -> DatabaseUrl) {
    let h = Harness::new(url(), &[]).await;
    writes(&h).await;
    input_checks(&h).await;
    constraints(&h).await;
    rollback(&h).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mutations_on_sqlite() {
    all(|| sqlite_url("mutations")).await;
    let url = sqlite_url("mutations-strict");
    let ddl = strict_users_ddl(&url).await;
    let rows = strict_fixture();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let h = Harness::with_rows(url, &ddl, &rows).await;
    database_only_constraints(&h).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mutations_on_postgres() {
    let pg = PgDatabase::create("mutations").await;
    let url = pg.url();
    all(|| url.clone()).await;
    pg.drop_now().await;

    let pg = PgDatabase::create("mutations_strict").await;
    let ddl = strict_users_ddl(&pg.url()).await;
    let rows = strict_fixture();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let h = Harness::with_rows(pg.url(), &ddl, &rows).await;
    database_only_constraints(&h).await;
    drop(h);
    pg.drop_now().await;
}

/// A failover behind the primary's URL: the pool's connection reaches a server that is now
/// read-only, while new connections reach the writable one. The mutation's first attempt fails
/// "read-only"; the pool is recycled and the whole document runs once more, successfully.
#[tokio::test(flavor = "multi_thread")]
async fn a_mutation_on_a_primary_turned_read_only_runs_again_on_a_fresh_connection() {
    if std::env::var("FRAISEQL_TEST_PG_URL_BASE").is_ok_and(|v| !v.trim().is_empty()) {
        // Behind PgBouncer the pool's connections are PgBouncer's, not the server's.
        eprintln!("skipped: needs a direct connection to PostgreSQL");
        return;
    }
    let pg = PgDatabase::create("mutations_failover").await;
    let h = Harness::new(pg.url(), &[]).await;
    let name = pg.name().to_string();
    // Connections opened from now on are read-only, as on a standby; drop the pool's current
    // ones so that the next read opens (and pools) a read-only one.
    pg.admin(&format!(
        "ALTER DATABASE {name} SET default_transaction_read_only = on"
    ))
    .await;
    pg.admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;
    let r = h.run("{ user(id: 1) { name } }", json!({})).await;
    assert_eq!(
        r,
        json!({"data": {"user": {"name": "Ann"}}}),
        "reads work on the standby"
    );
    // The failover completes: new connections reach a writable server.
    pg.admin(&format!(
        "ALTER DATABASE {name} RESET default_transaction_read_only"
    ))
    .await;

    let r = h
        .run(
            r#"mutation { createUser(input: {name: "After", email: "after@example.com"}) { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(r, json!({"data": {"createUser": {"name": "After"}}}));
    let r = h
        .run(
            r#"{ users(where: {email: {eq: "after@example.com"}}) { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {"users": [{"name": "After"}]}}),
        "written once"
    );
    drop(h);
    pg.drop_now().await;
}
