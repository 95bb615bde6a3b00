//! An app with custom resolvers: `schema/app.graphql` declares `searchUsers`, `userByEmail` and
//! `publishDrafts` with `@resolver`; `resolvers.rs` implements them as Rust functions the
//! compiler checks against the schema. Whatever a client selects under their results
//! (`posts { title }`, `author { name }`) is loaded by FraiseQL's planner, batched: one
//! statement per relation field per level, however many rows the resolver returned.

// `#[fraiseql::query]` names the runtime by this name.
extern crate fraiseql_runtime as fraiseql;

pub mod resolvers;

/// The generated row types, `SCHEMA`, and the resolver traits the functions implement.
pub mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}
