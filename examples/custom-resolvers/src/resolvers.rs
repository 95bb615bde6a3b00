//! The Rust behind the schema's `@resolver` fields. Each function's name, arguments and return
//! type are checked against `schema/app.graphql` at compile time; the SQL is the app's own,
//! run through diesel on the request's connection (`$1, $2, …` placeholders on both SQLite and
//! PostgreSQL). `ctx.rows` only needs the table's columns back (`SELECT *`): the runtime reads
//! each field from them exactly as it does for generated fields.

use fraiseql::{Bind, Context, ResolverError};

use crate::schema::{PostRow, UserRow};

/// `searchUsers(text: String!, limit: Int = 10): [User!]!`
#[fraiseql::query]
pub async fn search_users(
    ctx: &Context,
    text: String,
    limit: Option<i32>,
) -> Result<Vec<UserRow>, ResolverError> {
    let limit = limit.unwrap_or(10);
    if !(0..=100).contains(&limit) {
        return Err(ResolverError::invalid_input(
            "limit must be between 0 and 100",
        ));
    }
    // Escape LIKE's wildcards so the text matches literally.
    let pattern = format!(
        "%{}%",
        text.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    ctx.rows(
        "SELECT * FROM users WHERE lower(name) LIKE $1 ESCAPE '\\' ORDER BY name, id LIMIT $2",
        &[Bind::Text(pattern), Bind::BigInt(i64::from(limit))],
    )
    .await
}

/// `userByEmail(email: String!): User` — its result is kept for an hour per email address
/// (and dropped when a mutation writes users).
#[fraiseql::query(cache(ttl = 3600))]
pub async fn user_by_email(ctx: &Context, email: String) -> Result<Option<UserRow>, ResolverError> {
    let rows: Vec<UserRow> = ctx
        .rows(
            "SELECT * FROM users WHERE lower(email) = lower($1)",
            &[Bind::Text(email)],
        )
        .await?;
    Ok(rows.into_iter().next())
}

/// `publishDrafts(authorId: ID!): [Post!]! @writes(types: ["Post"])` — runs inside the
/// mutation's transaction, so a failure later in the same document undoes it.
#[fraiseql::mutation]
pub async fn publish_drafts(ctx: &Context, author_id: i64) -> Result<Vec<PostRow>, ResolverError> {
    let drafts: Vec<PostRow> = ctx
        .rows(
            "SELECT * FROM posts WHERE user_id = $1 AND NOT published ORDER BY id",
            &[Bind::BigInt(author_id)],
        )
        .await?;
    if drafts.is_empty() {
        return Err(ResolverError::not_found(format!(
            "user {author_id} has no drafts"
        )));
    }
    ctx.execute(
        "UPDATE posts SET published = $2 WHERE user_id = $1 AND NOT published",
        &[Bind::BigInt(author_id), Bind::Bool(true)],
    )
    .await?;
    Ok(drafts
        .into_iter()
        .map(|post| PostRow {
            published: Some(true),
            ..post
        })
        .collect())
}
