mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}

// `fraiseql_runtime::cli::main(&schema::SCHEMA)` replaces this once the runtime's CLI exists.
fn main() {
    println!("{} types", schema::SCHEMA.types.len());
}
