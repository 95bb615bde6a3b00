// postsByTag has four arguments; the function leaves out `limit` and `authorIds`.
include!("resolvers/prelude.rs");
include!("resolvers/user_by_email.rs");
include!("resolvers/latest_post.rs");
include!("resolvers/publish_post.rs");

#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn posts_by_tag(
    _ctx: &fraiseql::Context,
    _tag: String,
    _status: Option<String>,
) -> Result<Vec<schema::PostRow>, fraiseql::ResolverError> {
    Ok(Vec::new())
}
