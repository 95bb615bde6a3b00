// Shared by the resolver cases: the runtime under the name users give it, and the schema
// module the resolvers implement traits of. trybuild compiles each case in
// target/tests/trybuild/fraiseql-macros, so the schema directory is named relative to that.
extern crate fraiseql_runtime as fraiseql;

mod schema {
    fraiseql::schema!("../../../../fraiseql-macros/tests/ui/resolvers_schema");
}

fn main() {}
