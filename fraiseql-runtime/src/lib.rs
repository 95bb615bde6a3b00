//! FraiseQL's runtime: serves GraphQL over HTTP from SQL for a schema that `fraiseql-compiler`
//! compiled into a [`model::SchemaModel`]. See `ARCHITECTURE.md` for the path of a request.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod exec;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod model;
pub mod persisted;
pub mod plan;
pub mod playground;
pub mod request_metrics;
pub mod resolver;
pub mod row;
pub mod schema;

pub use auth::Claims;
pub use db::{Bind, NullType};
/// `schema!`, `#[query]` and `#[mutation]`, so a crate that writes
/// `extern crate fraiseql_runtime as fraiseql;` names them `fraiseql::schema!`,
/// `#[fraiseql::query]` and `#[fraiseql::mutation]`.
pub use fraiseql_macros::{mutation, query, schema};
pub use model::Dialect;
pub use resolver::{Context, ResolverError};

/// Paths generated code uses; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::row;
    pub use diesel;
}
