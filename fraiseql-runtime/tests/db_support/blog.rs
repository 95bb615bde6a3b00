//! The demo blog model, compiled from the repository's `schema/` by the same compiler the
//! build script uses (through the `schema!` macro), so these tests never drift from it.

fraiseql_macros::schema!("../schema");
