// Query.user is a lookup FraiseQL generates; it has no @resolver for a function to resolve.
include!("resolvers/prelude.rs");
include!("resolvers/user_by_email.rs");
include!("resolvers/posts_by_tag.rs");
include!("resolvers/latest_post.rs");
include!("resolvers/publish_post.rs");

#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn user(
    _ctx: &fraiseql::Context,
    _id: i64,
) -> Result<Option<schema::UserRow>, fraiseql::ResolverError> {
    Ok(None)
}
