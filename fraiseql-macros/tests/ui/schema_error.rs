// trybuild compiles this file in target/tests/trybuild/fraiseql-macros, so the schema
// directory is named relative to that crate root.
mod schema {
    fraiseql_macros::schema!("../../../../fraiseql-macros/tests/ui/broken_schema");
}

fn main() {}
