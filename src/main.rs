mod schema {
    include!("reference_generated_blog.rs");
}

fn main() {
    match fraiseql_runtime::schema::ApiSchema::load(&schema::SCHEMA) {
        Ok(api) => println!("ok: {} types", api.schema.types.len()),
        Err(e) => println!("{e}"),
    }
}
