//! A multi-tenant app: `schema/tenants.graphql` keeps every tenant's projects and tasks in the
//! same tables, with a `tenant_id` column that `@filter(column: "tenant_id", claim: "tenant")`
//! binds to the caller's verified `tenant` claim in every statement that reads them (root
//! lists, lookups, batched relations, mutation re-reads). `Project.budget` needs the
//! `finance` role and `AuditEntry` the `admin` role (`@auth(requires:)`). `myTasks` is a Rust
//! resolver that scopes its own SQL with the claims (`ctx.claim_str`).

// `#[fraiseql::query]` names the runtime by this name.
extern crate fraiseql_runtime as fraiseql;

pub mod resolvers;

/// The generated row types, `SCHEMA`, and the resolver trait `myTasks` implements.
pub mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}
