// Query.userByEmail returns User rows, not Post rows.
include!("resolvers/prelude.rs");
include!("resolvers/posts_by_tag.rs");
include!("resolvers/latest_post.rs");
include!("resolvers/publish_post.rs");

#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn user_by_email(
    _ctx: &fraiseql::Context,
    _email: String,
) -> Result<Option<schema::PostRow>, fraiseql::ResolverError> {
    Ok(None)
}
