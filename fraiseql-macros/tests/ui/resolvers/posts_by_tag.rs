// Query.postsByTag(tag: String!, status: PostStatus, limit: Int, authorIds: [ID!]): [Post!]!
// The types may be written with their std paths.
#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn posts_by_tag(
    ctx: &fraiseql::Context,
    tag: ::std::string::String,
    status: Option<String>,
    limit: std::option::Option<i32>,
    author_ids: Option<::std::vec::Vec<i64>>,
) -> Result<Vec<schema::PostRow>, fraiseql::ResolverError> {
    let _ = (tag, status, author_ids);
    let limit = limit.unwrap_or(10);
    ctx.rows::<schema::PostRow>(
        "SELECT * FROM posts LIMIT $1",
        &[fraiseql::Bind::Integer(limit)],
    )
    .await
}
