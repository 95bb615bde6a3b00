// The right parameters in the wrong order.
include!("resolvers/prelude.rs");
include!("resolvers/user_by_email.rs");
include!("resolvers/latest_post.rs");
include!("resolvers/publish_post.rs");

#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn posts_by_tag(
    _ctx: &fraiseql::Context,
    status: Option<String>,
    tag: String,
    limit: Option<i32>,
    author_ids: Option<Vec<i64>>,
) -> Result<Vec<schema::PostRow>, fraiseql::ResolverError> {
    let _ = (status, tag, limit, author_ids);
    Ok(Vec::new())
}
