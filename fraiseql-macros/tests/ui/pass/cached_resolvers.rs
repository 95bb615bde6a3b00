// The query resolvers of resolvers_schema/app.graphql with `cache(ttl = N)`: every result
// shape (one, optional, list) compiles with a cached shim.
include!("../resolvers/prelude.rs");
include!("../resolvers/publish_post.rs");
// Query.userByEmail(email: String!): User
#[fraiseql::query(cache(ttl = 3600), dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
async fn user_by_email(
    ctx: &fraiseql::Context,
    email: String,
) -> Result<Option<schema::UserRow>, fraiseql::ResolverError> {
    let rows = ctx
        .rows::<schema::UserRow>(
            "SELECT * FROM users WHERE email = $1",
            &[fraiseql::Bind::Text(email)],
        )
        .await?;
    Ok(rows.into_iter().next())
}
// Query.postsByTag(tag: String!, status: PostStatus, limit: Int, authorIds: [ID!]): [Post!]!
// The types may be written with their std paths.
#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema", cache(ttl = 60))]
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
// Query.latestPost(authorId: ID!): Post!
#[fraiseql::query(cache(ttl = 1), dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
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
