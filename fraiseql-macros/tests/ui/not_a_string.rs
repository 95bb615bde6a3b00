mod schema {
    fraiseql_macros::schema!(schema);
}

fn main() {}
