// Mistakes in the attribute's options: a misspelt key, a string where the schema module's
// path goes, a field name that is not a string. Each is reported and the rest of the
// function is still checked.
include!("resolvers/prelude.rs");
include!("resolvers/publish_post.rs");

#[fraiseql::query(dirr = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn user_by_email(
    _ctx: &fraiseql::Context,
    _email: String,
) -> Result<Option<schema::UserRow>, fraiseql::ResolverError> {
    Ok(None)
}

#[fraiseql::query(schema = "crate::schema", dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn posts_by_tag(
    _ctx: &fraiseql::Context,
    _tag: String,
    _status: Option<String>,
    _limit: Option<i32>,
    _author_ids: Option<Vec<i64>>,
) -> Result<Vec<schema::PostRow>, fraiseql::ResolverError> {
    Ok(Vec::new())
}

#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema", name = latestPost)]
async fn newest_post(
    _ctx: &fraiseql::Context,
    _author_id: i64,
) -> Result<schema::PostRow, fraiseql::ResolverError> {
    Err(fraiseql::ResolverError::not_found("that user has no posts"))
}
