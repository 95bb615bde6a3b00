//! A sharded app: `schema/shop.graphql` spreads users and their posts over the shard databases
//! of `DATABASE_URL_SHARDS` by a hash of the user id (`@shard(key: "id")` on `User`,
//! `@shard(key: "user_id")` on `Post`, so a user's posts live on the user's shard), places
//! accounts and their invoices by key ranges (`strategy: RANGE`, `FRAISEQL_SHARD_RANGES`), and
//! keeps countries, a reference table, on the primary. Without `DATABASE_URL_SHARDS` the same
//! binary keeps every table on one database.

/// The generated row types and `SCHEMA`.
pub mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}
