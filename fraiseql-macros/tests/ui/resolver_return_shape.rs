// Query.userByEmail is `User` (at most one row): a Vec is the wrong shape.
include!("resolvers/prelude.rs");
include!("resolvers/posts_by_tag.rs");
include!("resolvers/latest_post.rs");
include!("resolvers/publish_post.rs");

#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn user_by_email(
    _ctx: &fraiseql::Context,
    _email: String,
) -> Result<Vec<schema::UserRow>, fraiseql::ResolverError> {
    Ok(Vec::new())
}
