//! Resolvers written with `#[fraiseql::query]` / `#[fraiseql::mutation]` end up in the schema
//! `schema!` generates: every `@resolver` field stores its function, generated fields none.

extern crate fraiseql_runtime as fraiseql;

mod schema {
    fraiseql::schema!("tests/ui/resolvers_schema");
}

// The same resolvers the passing ui case compiles, with this crate's schema directory.
#[fraiseql::query(dir = "tests/ui/resolvers_schema")]
async fn user_by_email(
    ctx: &fraiseql::Context,
    email: String,
) -> Result<Option<schema::UserRow>, fraiseql::ResolverError> {
    let rows = ctx
        .rows::<schema::UserRow>(
            "SELECT * FROM users WHERE email = $1",
            &[fraiseql::Bind::Text(email)],
        )
        .await?;
    Ok(rows.into_iter().next())
}

#[fraiseql::query(dir = "tests/ui/resolvers_schema", name = "postsByTag")]
async fn tagged(
    _ctx: &fraiseql::Context,
    _tag: String,
    _status: Option<String>,
    _limit: Option<i32>,
    _author_ids: Option<Vec<i64>>,
) -> Vec<schema::PostRow> {
    Vec::new()
}

#[fraiseql::query(dir = "tests/ui/resolvers_schema", schema = crate::schema)]
async fn latest_post(_ctx: &fraiseql::Context, author_id: i64) -> schema::PostRow {
    schema::PostRow {
        id: Some(author_id),
        ..Default::default()
    }
}

#[fraiseql::mutation(dir = "tests/ui/resolvers_schema")]
async fn publish_post(
    _ctx: &fraiseql::Context,
    id: i64,
    _at: Option<String>,
    _meta: Option<serde_json::Value>,
) -> Result<schema::PostRow, fraiseql::ResolverError> {
    Err(fraiseql::ResolverError::not_found(format!("no post {id}")))
}

#[test]
fn resolver_fields_store_their_functions() {
    let query: Vec<(&str, bool)> = schema::SCHEMA
        .query_fields
        .iter()
        .map(|f| (f.name, f.resolver.is_some()))
        .collect();
    assert_eq!(
        query,
        [
            ("user", false),
            ("posts", false),
            ("userByEmail", true),
            ("postsByTag", true),
            ("latestPost", true),
        ]
    );
    let mutations: Vec<(&str, bool)> = schema::SCHEMA
        .mutation_fields
        .iter()
        .map(|f| (f.name, f.resolver.is_some()))
        .collect();
    assert_eq!(mutations, [("createPost", false), ("publishPost", true)]);
}
