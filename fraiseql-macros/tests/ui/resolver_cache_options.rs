// Mistakes in `cache(...)`: a ttl of 0, a ttl that is not an integer, an unknown key, and
// `cache` on a mutation (whose result is never cached).
include!("resolvers/prelude.rs");
include!("resolvers/posts_by_tag.rs");

#[fraiseql::query(cache(ttl = 0), dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn user_by_email(
    _ctx: &fraiseql::Context,
    _email: String,
) -> Result<Option<schema::UserRow>, fraiseql::ResolverError> {
    Ok(None)
}

#[fraiseql::query(cache(ttl = "1h", scope = "PRIVATE"), dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn latest_post(
    _ctx: &fraiseql::Context,
    _author_id: i64,
) -> Result<schema::PostRow, fraiseql::ResolverError> {
    Err(fraiseql::ResolverError::not_found("that user has no posts"))
}

#[fraiseql::mutation(cache(ttl = 60), dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn publish_post(
    _ctx: &fraiseql::Context,
    _id: i64,
    _at: Option<String>,
    _meta: Option<serde_json::Value>,
) -> Result<schema::PostRow, fraiseql::ResolverError> {
    Err(fraiseql::ResolverError::not_found("no such post"))
}
