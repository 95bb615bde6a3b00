// Two functions resolve Query.userByEmail (the second names it with `name =`).
include!("resolvers/prelude.rs");
include!("resolvers/user_by_email.rs");
include!("resolvers/posts_by_tag.rs");
include!("resolvers/latest_post.rs");
include!("resolvers/publish_post.rs");

#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema", name = "userByEmail")]
async fn find_user(
    _ctx: &fraiseql::Context,
    _email: String,
) -> Result<Option<schema::UserRow>, fraiseql::ResolverError> {
    Ok(None)
}
