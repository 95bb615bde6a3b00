//! `#[fraiseql::query(cache(ttl = 3600))]` on `user_by_email`: the resolver's own result is kept
//! per set of arguments, whatever is selected under it (relations still load per request), and
//! dropped when a mutation writes its table. SQLite's statement trace shows which SQL ran.

use std::sync::Arc;

use custom_resolvers::schema::SCHEMA;
use fraiseql_runtime::cache::{CacheSettings, ResultCache};
use fraiseql_runtime::db::{migrate::migrate, seed::seed, Database, DatabaseUrl, PoolSettings};
use fraiseql_runtime::exec::Written;
use fraiseql_runtime::graphql::{GraphqlRequest, GraphqlService, Outcome, Transport};
use fraiseql_runtime::metrics::Metrics;
use fraiseql_runtime::schema::ApiSchema;
use serde_json::{json, Value};

const BY_EMAIL: &str = "query($e: String!) { userByEmail(email: $e) { id name } }";
const BY_EMAIL_WITH_POSTS: &str =
    "query($e: String!) { userByEmail(email: $e) { id name posts { title } } }";

#[tokio::test(flavor = "multi_thread")]
async fn a_cached_resolver_runs_once_per_arguments_until_its_table_is_written() {
    let dir = std::env::temp_dir().join(format!("fraiseql-cached-resolver-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let trace = dir.join("statements.trace");
    // Read when the first SQLite connection opens; this file has one test function.
    std::env::set_var(fraiseql_runtime::db::SQLITE_TRACE_ENV, &trace);
    let db = Database::connect(
        &DatabaseUrl::Sqlite {
            path: dir.join("app.db"),
        },
        &PoolSettings::default(),
    )
    .await
    .expect("connect");
    migrate(&SCHEMA, &db, false).await.expect("migrate");
    seed(&SCHEMA, &db).await.expect("seed");
    let metrics = Arc::new(Metrics::new().expect("metrics"));
    let cache = ResultCache::start(CacheSettings::default(), &SCHEMA, metrics.clone())
        .await
        .expect("cache");
    let api = Arc::new(ApiSchema::load(&SCHEMA).expect("api schema"));
    let service = GraphqlService::new(api, db, metrics).with_cache(cache.clone());

    let run = |query: &'static str, variables: Value| {
        let service = &service;
        let trace = trace.clone();
        async move {
            let before = std::fs::read(&trace).map(|b| b.len()).unwrap_or(0);
            let request = GraphqlRequest {
                query: query.to_string(),
                persisted: None,
                variables: serde_json::from_value(variables).expect("variables"),
                operation_name: None,
                headers: Default::default(),
            };
            let body = match service.handle(request, Transport::Post).await {
                Outcome::Executed(outcome) => outcome.body,
                Outcome::BadRequest(b)
                | Outcome::MethodNotAllowed(b)
                | Outcome::NotExecuted(b)
                | Outcome::PersistedQueryNotFound(b)
                | Outcome::Unauthenticated(b) => b,
            };
            let traced = std::fs::read(&trace).unwrap_or_default();
            let statements: Vec<String> =
                String::from_utf8_lossy(&traced[before.min(traced.len())..])
                    .lines()
                    .map(str::to_owned)
                    .collect();
            let body: Value = serde_json::from_slice(&body).expect("JSON body");
            (body, statements)
        }
    };
    let resolver_sql = |statements: &[String]| {
        statements
            .iter()
            .filter(|s| s.contains("lower(email)"))
            .count()
    };

    let (users, _) = run("{ users(limit: 2) { email } }", json!({})).await;
    let first = users["data"]["users"][0]["email"]
        .as_str()
        .expect("email")
        .to_owned();
    let second = users["data"]["users"][1]["email"]
        .as_str()
        .expect("email")
        .to_owned();

    let (body, statements) = run(BY_EMAIL, json!({"e": first})).await;
    assert!(body["data"]["userByEmail"]["name"].is_string(), "{body}");
    assert_eq!(resolver_sql(&statements), 1, "{statements:?}");

    // Another document with the same arguments: the resolver's rows come from its cache and
    // only the relation below them runs.
    let (with_posts, statements) = run(BY_EMAIL_WITH_POSTS, json!({"e": first})).await;
    assert_eq!(
        with_posts["data"]["userByEmail"]["name"],
        body["data"]["userByEmail"]["name"]
    );
    assert_eq!(resolver_sql(&statements), 0, "{statements:?}");
    assert!(
        statements.iter().any(|s| s.contains("\"posts\"")),
        "the relation still loads: {statements:?}"
    );

    // Other arguments: the resolver runs.
    let (_, statements) = run(BY_EMAIL, json!({"e": second})).await;
    assert_eq!(resolver_sql(&statements), 1, "{statements:?}");

    // A write to posts leaves a users result alone; a write to users drops it.
    let (written, _) = run(
        "mutation { createPost(input: {title: \"t\", published: false, authorId: 1}) { id } }",
        json!({}),
    )
    .await;
    assert!(written["data"]["createPost"]["id"].is_string(), "{written}");
    let (_, statements) = run(BY_EMAIL_WITH_POSTS, json!({"e": first})).await;
    assert_eq!(resolver_sql(&statements), 0, "{statements:?}");
    let users_type = SCHEMA
        .types
        .iter()
        .position(|t| t.name == "User")
        .expect("User");
    cache
        .invalidate(&[Written {
            type_index: users_type,
            key: Some(1),
        }])
        .await;
    let (_, statements) = run(BY_EMAIL, json!({"e": first})).await;
    assert_eq!(resolver_sql(&statements), 1, "{statements:?}");

    drop(service);
    let _ = std::fs::remove_dir_all(dir);
}
