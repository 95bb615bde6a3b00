// #[fraiseql::query] on a Mutation field.
include!("resolvers/prelude.rs");
include!("resolvers/user_by_email.rs");
include!("resolvers/posts_by_tag.rs");
include!("resolvers/latest_post.rs");

#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn publish_post(
    _ctx: &fraiseql::Context,
    _id: i64,
    _at: Option<String>,
    _meta: Option<serde_json::Value>,
) -> Result<schema::PostRow, fraiseql::ResolverError> {
    Err(fraiseql::ResolverError::not_found("no such post"))
}
