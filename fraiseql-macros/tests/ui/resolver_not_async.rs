// A resolver must be an async fn.
include!("resolvers/prelude.rs");
include!("resolvers/posts_by_tag.rs");
include!("resolvers/latest_post.rs");
include!("resolvers/publish_post.rs");

#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
fn user_by_email(
    _ctx: &fraiseql::Context,
    _email: String,
) -> Result<Option<schema::UserRow>, fraiseql::ResolverError> {
    Ok(None)
}
