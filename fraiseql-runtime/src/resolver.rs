//! Custom resolvers: Rust functions behind `@resolver` fields, written with
//! `#[fraiseql::query]` / `#[fraiseql::mutation]`.
//!
//! The attribute macro checks the function against the schema at compile time and generates a
//! [`ResolverFn`] shim that the compiled schema stores: the shim reads each argument with
//! [`arg`], awaits the user's function and turns its result into [`Resolved`] rows with
//! [`one`], [`optional`] or [`list`] (whichever shape the schema declares). The executor then
//! writes those rows with the document's selection and loads every relation selected under
//! them with the usual batched statements (one per relation field per level).
//!
//! A resolver reads and writes through its [`Context`]: `ctx.rows::<UserRow>(sql, binds)` runs
//! the user's SQL through diesel on the request's connection (inside the transaction for a
//! mutation) and completes the rows with the schema's select list, so the user's SQL only has
//! to return the table's columns (`SELECT * FROM users WHERE …`).

use std::sync::Arc;

pub use crate::cache::ResolverCache;
pub use futures_util::future::BoxFuture;
use serde_json::Value as JsonValue;

use crate::auth::Claims;
use crate::db::{Bind, DbError, Session};
use crate::model::{Dialect, SchemaModel};
use crate::row::{Keyed, RowSet, TableRow};

/// Arguments of a resolver call: the field's arguments, variables substituted, coerced by the
/// schema (absent optional arguments are missing from the map).
pub type Arguments = serde_json::Map<String, JsonValue>;

/// A resolver as the compiled schema stores it.
pub type ResolverFn =
    for<'a> fn(&'a Context, &'a Arguments) -> BoxFuture<'a, Result<Resolved, ResolverError>>;

/// The rows a resolver produced, type-erased.
pub struct Resolved {
    /// The GraphQL type of the rows.
    pub type_name: &'static str,
    /// The rows, in the order the resolver returned them.
    pub rows: Box<dyn RowSet>,
}

/// A resolver's failure, as the client sees it: a message and a stable `extensions.code`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ResolverError {
    code: &'static str,
    message: String,
    /// Server-side detail (logged, never sent).
    detail: Option<String>,
    /// From a database that answered "read-only" (a failover behind the primary's URL).
    read_only: bool,
}

impl ResolverError {
    /// An error with a code of the resolver's choosing (e.g. `"FORBIDDEN"`).
    pub fn new(code: &'static str, message: impl Into<String>) -> ResolverError {
        ResolverError {
            code,
            message: message.into(),
            detail: None,
            read_only: false,
        }
    }

    /// `NOT_FOUND`.
    pub fn not_found(message: impl Into<String>) -> ResolverError {
        ResolverError::new("NOT_FOUND", message)
    }

    /// `INVALID_INPUT`.
    pub fn invalid_input(message: impl Into<String>) -> ResolverError {
        ResolverError::new("INVALID_INPUT", message)
    }

    /// `CONFLICT`.
    pub fn conflict(message: impl Into<String>) -> ResolverError {
        ResolverError::new("CONFLICT", message)
    }

    /// The `extensions.code` sent to the client.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message sent to the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the database answered "read-only" (the executor may run a mutation again on a
    /// fresh primary connection).
    pub(crate) fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// What the server logs beside the public message.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

impl From<DbError> for ResolverError {
    /// A database failure keeps its public message and code; the database's own text (which
    /// may quote SQL) only reaches the logs.
    fn from(error: DbError) -> ResolverError {
        ResolverError {
            code: error.code(),
            message: error.public_message().to_string(),
            detail: Some(error.to_string()),
            read_only: error.is_read_only(),
        }
    }
}

/// What a resolver gets: the request's database connection and what the request carried.
///
/// The connection is always the primary's, for `#[fraiseql::query]` functions too (even on a
/// field marked `@replica`, or under `FRAISEQL_READS=replica`): a resolver may write, and reads
/// its own and the client's earlier writes. Read replicas apply to the relations selected under
/// the rows it returns, which load as their routes say.
pub struct Context {
    model: &'static SchemaModel,
    dialect: Dialect,
    session: tokio::sync::Mutex<Session>,
    headers: crate::graphql::Headers,
    claims: Option<Arc<Claims>>,
}

impl Context {
    /// A context over a session; the executor takes the session back with
    /// [`Context::into_session`] once the resolver is done.
    pub(crate) fn new(
        model: &'static SchemaModel,
        session: Session,
        headers: crate::graphql::Headers,
        claims: Option<Arc<Claims>>,
    ) -> Context {
        Context {
            model,
            dialect: session.dialect(),
            session: tokio::sync::Mutex::new(session),
            headers,
            claims,
        }
    }

    /// The caller's verified token claims; `None` for an anonymous caller (or when no token
    /// verification is configured). A resolver's own SQL is not row-filtered: use these to
    /// scope it (`ctx.claim_str("tenant")`).
    pub fn claims(&self) -> Option<&Claims> {
        self.claims.as_deref()
    }

    /// One string claim of the caller's token (`sub`, `tenant`, …).
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.as_deref().and_then(|c| c.claim_str(name))
    }

    /// The session, for the rest of the request.
    pub(crate) fn into_session(self) -> Session {
        self.session.into_inner()
    }

    /// The SQL dialect of the connection (`$1` placeholders work on both).
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A request header's value (first occurrence; names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Runs `sql` (placeholders `$1, $2, …` in bind order) and returns its rows as `R`.
    /// The statement must return the columns of `R`'s table by their names (`SELECT *` or a
    /// list of them); the runtime selects each column from it the way the schema's own
    /// statements do, so every field reads the same as from a generated field.
    pub async fn rows<R: TableRow>(
        &self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<Vec<R>, ResolverError> {
        let Some((_, ty)) = self.model.type_named(R::TYPE_NAME) else {
            return Err(ResolverError::new(
                "INTERNAL_SERVER_ERROR",
                format!("type {} is not in the served schema", R::TYPE_NAME),
            ));
        };
        let mut wrapped = String::with_capacity(sql.len() + 256);
        wrapped.push_str("SELECT CAST(0 AS BIGINT) AS __fraiseql_parent");
        for column in ty.columns {
            wrapped.push_str(", ");
            wrapped.push_str(column.select.get(self.dialect));
        }
        wrapped.push_str(" FROM (");
        wrapped.push_str(sql.trim().trim_end_matches(';'));
        wrapped.push_str(") AS t");
        let rows = {
            let mut session = self.session.lock().await;
            session.load(ty.rows, &wrapped, binds).await?
        };
        match rows.into_any().downcast::<Vec<Keyed<R>>>() {
            Ok(rows) => Ok(rows.into_iter().map(|k| k.row).collect()),
            Err(_) => Err(ResolverError::new(
                "INTERNAL_SERVER_ERROR",
                format!(
                    "rows of {} did not load as the requested row type",
                    R::TYPE_NAME
                ),
            )),
        }
    }

    /// Runs one statement without results; returns the number of rows it changed.
    pub async fn execute(&self, sql: &str, binds: &[Bind]) -> Result<usize, ResolverError> {
        let mut session = self.session.lock().await;
        Ok(session.execute(sql, binds).await?)
    }
}

/// A Rust value a resolver argument converts to. `ID` is `i64`, `Int` `i32`, `Float` `f64`,
/// `String`, `DateTime` and enums `String`, `Boolean` `bool`, `JSON` `serde_json::Value`; a
/// nullable argument is an `Option`, a list a `Vec`.
pub trait FromArgument: Sized {
    /// Converts a coerced value (`None`: the argument was not given).
    fn from_argument(value: Option<&JsonValue>) -> Result<Self, String>;
}

fn required(value: Option<&JsonValue>) -> Result<&JsonValue, String> {
    match value {
        None | Some(JsonValue::Null) => Err("a value is required".into()),
        Some(v) => Ok(v),
    }
}

impl FromArgument for i64 {
    /// `ID`: the API's IDs are decimal strings (or integers) of 64-bit keys.
    fn from_argument(value: Option<&JsonValue>) -> Result<Self, String> {
        match required(value)? {
            JsonValue::String(s) => s
                .parse()
                .map_err(|_| format!("{s:?} is not an ID (a 64-bit integer)")),
            JsonValue::Number(n) => n.as_i64().ok_or_else(|| format!("{n} is not an ID")),
            other => Err(format!("{other} is not an ID")),
        }
    }
}

impl FromArgument for i32 {
    fn from_argument(value: Option<&JsonValue>) -> Result<Self, String> {
        let v = required(value)?;
        v.as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| format!("{v} is not an Int"))
    }
}

impl FromArgument for f64 {
    fn from_argument(value: Option<&JsonValue>) -> Result<Self, String> {
        let v = required(value)?;
        v.as_f64().ok_or_else(|| format!("{v} is not a Float"))
    }
}

impl FromArgument for bool {
    fn from_argument(value: Option<&JsonValue>) -> Result<Self, String> {
        let v = required(value)?;
        v.as_bool().ok_or_else(|| format!("{v} is not a Boolean"))
    }
}

impl FromArgument for String {
    fn from_argument(value: Option<&JsonValue>) -> Result<Self, String> {
        match required(value)? {
            JsonValue::String(s) => Ok(s.clone()),
            other => Err(format!("{other} is not a string")),
        }
    }
}

impl FromArgument for JsonValue {
    fn from_argument(value: Option<&JsonValue>) -> Result<Self, String> {
        Ok(value.cloned().unwrap_or(JsonValue::Null))
    }
}

impl<T: FromArgument> FromArgument for Option<T> {
    fn from_argument(value: Option<&JsonValue>) -> Result<Self, String> {
        match value {
            None | Some(JsonValue::Null) => Ok(None),
            some => T::from_argument(some).map(Some),
        }
    }
}

impl<T: FromArgument> FromArgument for Vec<T> {
    fn from_argument(value: Option<&JsonValue>) -> Result<Self, String> {
        match required(value)? {
            JsonValue::Array(items) => items.iter().map(|v| T::from_argument(Some(v))).collect(),
            // Input coercion: a single value where a list is expected is a list of one.
            single => T::from_argument(Some(single)).map(|v| vec![v]),
        }
    }
}

/// Reads argument `name` as `T` (generated shims call this).
pub fn arg<T: FromArgument>(args: &Arguments, name: &str) -> Result<T, ResolverError> {
    T::from_argument(args.get(name))
        .map_err(|message| ResolverError::invalid_input(format!("argument `{name}`: {message}")))
}

/// A result the schema declares as one row (`User!`): `R` or `Result<R, E>`.
#[diagnostic::on_unimplemented(
    message = "this resolver's field is `{R}`-shaped and non-null in the schema: return `{R}` or `Result<{R}, fraiseql::ResolverError>`, not `{Self}`",
    label = "the schema declares exactly one row here"
)]
pub trait IntoOne<R> {
    /// The row, or the resolver's error.
    fn into_one(self) -> Result<R, ResolverError>;
}

/// A result the schema declares as at most one row (`User`): `Option<R>` or a `Result` of it.
#[diagnostic::on_unimplemented(
    message = "this resolver's field is nullable in the schema: return `Option<{R}>` or `Result<Option<{R}>, fraiseql::ResolverError>`, not `{Self}`",
    label = "the schema declares at most one row here"
)]
pub trait IntoOptional<R> {
    /// The row if any, or the resolver's error.
    fn into_optional(self) -> Result<Option<R>, ResolverError>;
}

/// A result the schema declares as a list (`[User!]!`): `Vec<R>` or a `Result` of it.
#[diagnostic::on_unimplemented(
    message = "this resolver's field is a list in the schema: return `Vec<{R}>` or `Result<Vec<{R}>, fraiseql::ResolverError>`, not `{Self}`",
    label = "the schema declares a list here"
)]
pub trait IntoList<R> {
    /// The rows, or the resolver's error.
    fn into_list(self) -> Result<Vec<R>, ResolverError>;
}

impl<R: TableRow> IntoOne<R> for R {
    fn into_one(self) -> Result<R, ResolverError> {
        Ok(self)
    }
}

impl<R: TableRow, E: Into<ResolverError>> IntoOne<R> for Result<R, E> {
    fn into_one(self) -> Result<R, ResolverError> {
        self.map_err(Into::into)
    }
}

impl<R: TableRow> IntoOptional<R> for Option<R> {
    fn into_optional(self) -> Result<Option<R>, ResolverError> {
        Ok(self)
    }
}

impl<R: TableRow, E: Into<ResolverError>> IntoOptional<R> for Result<Option<R>, E> {
    fn into_optional(self) -> Result<Option<R>, ResolverError> {
        self.map_err(Into::into)
    }
}

impl<R: TableRow> IntoList<R> for Vec<R> {
    fn into_list(self) -> Result<Vec<R>, ResolverError> {
        Ok(self)
    }
}

impl<R: TableRow, E: Into<ResolverError>> IntoList<R> for Result<Vec<R>, E> {
    fn into_list(self) -> Result<Vec<R>, ResolverError> {
        self.map_err(Into::into)
    }
}

pub(crate) fn resolved<R: TableRow>(rows: Vec<R>) -> Resolved {
    let keyed: Vec<Keyed<R>> = rows
        .into_iter()
        .map(|row| Keyed { parent: 0, row })
        .collect();
    Resolved {
        type_name: R::TYPE_NAME,
        rows: Box::new(keyed),
    }
}

/// The rows of a field declared `R!`, before they are type-erased (for a cached resolver).
pub fn one_rows<R: TableRow, T: IntoOne<R>>(value: T) -> Result<Vec<R>, ResolverError> {
    value.into_one().map(|row| vec![row])
}

/// The rows of a field declared `R` (nullable), before they are type-erased.
pub fn optional_rows<R: TableRow, T: IntoOptional<R>>(value: T) -> Result<Vec<R>, ResolverError> {
    value.into_optional().map(|row| row.into_iter().collect())
}

/// The rows of a field declared `[R!]!`, before they are type-erased.
pub fn list_rows<R: TableRow, T: IntoList<R>>(value: T) -> Result<Vec<R>, ResolverError> {
    value.into_list()
}

/// The rows of a field declared `R!`.
pub fn one<R: TableRow, T: IntoOne<R>>(value: T) -> Result<Resolved, ResolverError> {
    value.into_one().map(|row| resolved(vec![row]))
}

/// The rows of a field declared `R` (nullable).
pub fn optional<R: TableRow, T: IntoOptional<R>>(value: T) -> Result<Resolved, ResolverError> {
    value
        .into_optional()
        .map(|row| resolved(row.into_iter().collect()))
}

/// The rows of a field declared `[R!]!`.
pub fn list<R: TableRow, T: IntoList<R>>(value: T) -> Result<Resolved, ResolverError> {
    value.into_list().map(resolved)
}
