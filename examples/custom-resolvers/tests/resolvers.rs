//! The example's resolvers served in-process on a seeded SQLite file, with SQLite's own
//! statement trace counting what a request cost: the resolver's one statement, then one per
//! relation field per level selected under its rows — never one per row.

use std::sync::Arc;

use custom_resolvers::schema::SCHEMA;
use fraiseql_runtime::db::{migrate::migrate, seed::seed, Database, DatabaseUrl, PoolSettings};
use fraiseql_runtime::graphql::{GraphqlRequest, GraphqlService, Outcome, Transport};
use fraiseql_runtime::metrics::Metrics;
use fraiseql_runtime::schema::ApiSchema;
use serde_json::{json, Value};

struct App {
    service: GraphqlService,
    db: Database,
    trace: std::path::PathBuf,
}

impl App {
    async fn start() -> App {
        let dir = std::env::temp_dir().join(format!("fraiseql-resolvers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let trace = dir.join("statements.trace");
        // Read by the runtime when the first SQLite connection opens; this test file has one
        // test function, so no other thread reads the environment meanwhile.
        std::env::set_var(fraiseql_runtime::db::SQLITE_TRACE_ENV, &trace);
        let url = DatabaseUrl::Sqlite {
            path: dir.join("app.db"),
        };
        let db = Database::connect(&url, &PoolSettings::default())
            .await
            .expect("connect");
        migrate(&SCHEMA, &db, false).await.expect("migrate");
        seed(&SCHEMA, &db).await.expect("seed");
        let api = Arc::new(ApiSchema::load(&SCHEMA).expect("api schema"));
        let metrics = Arc::new(Metrics::new().expect("metrics"));
        App {
            service: GraphqlService::new(api, db.clone(), metrics),
            db,
            trace,
        }
    }

    /// The response and the statements SQLite ran on the app's tables meanwhile.
    async fn run(&self, query: &str, variables: Value) -> (Value, Vec<String>) {
        let before = std::fs::read(&self.trace).map(|b| b.len()).unwrap_or(0);
        let request = GraphqlRequest {
            query: query.to_string(),
            persisted: None,
            variables: serde_json::from_value(variables).expect("variables"),
            operation_name: None,
            headers: Default::default(),
        };
        let body = match self.service.handle(request, Transport::Post).await {
            Outcome::Executed(outcome) => outcome.body,
            Outcome::BadRequest(b)
            | Outcome::MethodNotAllowed(b)
            | Outcome::NotExecuted(b)
            | Outcome::PersistedQueryNotFound(b)
            | Outcome::Unauthenticated(b) => b,
        };
        let traced = std::fs::read(&self.trace).unwrap_or_default();
        let statements = String::from_utf8_lossy(&traced[before.min(traced.len())..])
            .lines()
            .filter(|l| l.contains("users") || l.contains("posts"))
            .map(str::to_owned)
            .collect();
        (
            serde_json::from_slice(&body).expect("JSON body"),
            statements,
        )
    }

    /// Plain SQL for comparison, outside GraphQL.
    async fn count(&self, sql: &str) -> usize {
        let mut session = self.db.session().await.expect("session");
        session.execute(sql, &[]).await.expect("count statement")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn resolvers_return_rows_and_relations_load_batched() {
    let app = App::start().await;

    // A list resolver with nested posts (and their authors): 1 resolver statement + 1 for
    // `posts` + 1 for `author`, whatever the number of users and posts.
    let (r, statements) = app
        .run(
            "{ searchUsers(text: \"a\", limit: 25) { id name posts { title author { name } } } }",
            json!({}),
        )
        .await;
    let users = r["data"]["searchUsers"].as_array().expect("a list").clone();
    assert!(users.len() > 1, "the seed has users with an 'a': {r}");
    assert!(users.len() <= 25, "{r}");
    let posts: usize = users
        .iter()
        .map(|u| u["posts"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(posts > users.len(), "seeded users have posts: {r}");
    for user in &users {
        let name = user["name"].as_str().expect("name");
        assert!(name.to_lowercase().contains('a'), "{name}");
        for post in user["posts"].as_array().expect("posts") {
            assert_eq!(post["author"]["name"], name, "{r}");
        }
    }
    assert_eq!(
        statements.len(),
        3,
        "want the resolver's statement + one per relation level, got:\n{}",
        statements.join("\n")
    );
    assert!(
        statements[0].contains("lower(name) LIKE"),
        "{}",
        statements[0]
    );

    // An optional resolver: found, case-insensitively, and not found.
    let (r, _) = app.run("{ users(limit: 1) { email } }", json!({})).await;
    let email = r["data"]["users"][0]["email"]
        .as_str()
        .expect("email")
        .to_uppercase();
    let (r, statements) = app
        .run(
            "query($e: String!) { userByEmail(email: $e) { email posts(limit: 2) { title } } }",
            json!({"e": email}),
        )
        .await;
    assert_eq!(
        r["data"]["userByEmail"]["email"]
            .as_str()
            .map(str::to_uppercase),
        Some(email.clone()),
        "{r}"
    );
    assert_eq!(statements.len(), 2, "{}", statements.join("\n"));
    let (r, _) = app
        .run(
            "{ userByEmail(email: \"nobody@nowhere\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(r, json!({"data": {"userByEmail": null}}));

    // A resolver's own error: its code and message, nothing of the SQL.
    let (r, _) = app
        .run(
            "{ searchUsers(text: \"a\", limit: 1000) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{r}");
    assert_eq!(r["data"], Value::Null, "{r}");

    // A custom mutation inside the transaction, next to a generated one; the nested author
    // loads batched after the write.
    let (r, _) = app.run("{ users(limit: 1) { id } }", json!({})).await;
    let author = r["data"]["users"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (r, _) = app
        .run(
            "mutation($a: ID!) {
               createPost(input: {title: \"draft\", published: false, authorId: $a}) { id published }
               publishDrafts(authorId: $a) { title published author { id } }
             }",
            json!({"a": author}),
        )
        .await;
    let published = r["data"]["publishDrafts"].as_array().expect("list").clone();
    assert!(published.iter().any(|p| p["title"] == "draft"), "{r}");
    assert!(
        published
            .iter()
            .all(|p| p["published"] == true && p["author"]["id"] == author.as_str()),
        "{r}"
    );
    let drafts = app
        .count(&format!(
            "UPDATE posts SET title = title WHERE user_id = {author} AND NOT published"
        ))
        .await;
    assert_eq!(drafts, 0, "publishDrafts committed");

    // A failure after the custom mutation undoes it: nothing is left published.
    let (r, _) = app
        .run(
            "mutation($a: ID!) {
               draft: createPost(input: {title: \"second draft\", published: false, authorId: $a}) { id }
               publishDrafts(authorId: $a) { id }
               bad: createPost(input: {title: \"bad\", published: false, authorId: 999999}) { id }
             }",
            json!({"a": author}),
        )
        .await;
    assert_eq!(r["data"], Value::Null, "{r}");
    assert_eq!(r["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{r}");
    assert_eq!(r["errors"][0]["path"], json!(["bad"]), "{r}");
    let second = app
        .count("UPDATE posts SET title = title WHERE title = 'second draft'")
        .await;
    assert_eq!(second, 0, "the rolled-back insert is gone");
}
