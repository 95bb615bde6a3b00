mod schema {
    include!("reference_generated_blog.rs");
}

fn main() {
    println!("{} types", schema::SCHEMA.types.len());
}
