// Query.userByEmail(email: String!): User
#[fraiseql::query(dir = "../../../../fraiseql-macros/tests/ui/resolvers_schema")]
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
