mod schema {
    fraiseql_macros::schema!("no_such_schema_dir");
}

fn main() {}
