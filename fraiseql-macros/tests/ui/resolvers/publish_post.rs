// Mutation.publishPost(id: ID!, at: DateTime, meta: JSON): Post! @writes(types: ["Post"])
#[fraiseql::mutation(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn publish_post(
    ctx: &fraiseql::Context,
    id: i64,
    at: Option<String>,
    meta: Option<serde_json::Value>,
) -> Result<schema::PostRow, fraiseql::ResolverError> {
    let _ = (at, meta);
    ctx.execute(
        "UPDATE posts SET status = 'PUBLISHED' WHERE id = $1",
        &[fraiseql::Bind::BigInt(id)],
    )
    .await?;
    let rows = ctx
        .rows::<schema::PostRow>(
            "SELECT * FROM posts WHERE id = $1",
            &[fraiseql::Bind::BigInt(id)],
        )
        .await?;
    rows.into_iter()
        .next()
        .ok_or_else(|| fraiseql::ResolverError::not_found("no such post"))
}
