// A function for a field the schema does not declare (a typo of userByEmail).
include!("resolvers/prelude.rs");
include!("resolvers/posts_by_tag.rs");
include!("resolvers/latest_post.rs");
include!("resolvers/publish_post.rs");
include!("resolvers/user_by_email.rs");

#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn user_by_emial(
    _ctx: &fraiseql::Context,
    _email: String,
) -> Result<Option<schema::UserRow>, fraiseql::ResolverError> {
    Ok(None)
}
