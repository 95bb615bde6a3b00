// Query.latestPost(authorId: ID!): Post!
#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn latest_post(
    ctx: &fraiseql::Context,
    author_id: i64,
) -> Result<schema::PostRow, fraiseql::ResolverError> {
    let rows = ctx
        .rows::<schema::PostRow>(
            "SELECT * FROM posts WHERE user_id = $1 ORDER BY id DESC LIMIT 1",
            &[fraiseql::Bind::BigInt(author_id)],
        )
        .await?;
    rows.into_iter()
        .next()
        .ok_or_else(|| fraiseql::ResolverError::not_found("that user has no posts"))
}
