mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}

fn main() {
    match fraiseql_runtime::schema::ApiSchema::load(&schema::SCHEMA) {
        Ok(api) => println!("ok: {} types", api.schema.types.len()),
        Err(e) => println!("{e}"),
    }
}
