//! `schema!` expands the demo blog schema into items that compile against the runtime and
//! carry the same model `build.rs` generates.

mod schema {
    fraiseql_macros::schema!("../schema");
}

#[test]
fn expands_the_blog_schema() {
    let names: Vec<&str> = schema::SCHEMA.types.iter().map(|t| t.name).collect();
    assert_eq!(names, ["User", "Post", "Comment"]);
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/api-schema-blog.graphql"
    ))
    .expect("docs/api-schema-blog.graphql");
    assert_eq!(schema::SCHEMA.api_sdl, docs);
    let posts = &schema::SCHEMA.types[1];
    assert_eq!(posts.columns.last().map(|c| c.name), Some("user_id"));
    assert!(fraiseql_runtime::schema::ApiSchema::load(&schema::SCHEMA).is_ok());
}

#[test]
fn generated_rows_write_json() {
    use fraiseql_runtime::row::Row;
    let row = schema::UserRow {
        id: Some(7),
        name: Some("Ada \"L\"".into()),
        ..Default::default()
    };
    let mut out = Vec::new();
    row.write_column(0, &mut out);
    row.write_column(1, &mut out);
    row.write_column(3, &mut out);
    assert_eq!(
        String::from_utf8(out).expect("utf8"),
        "\"7\"\"Ada \\\"L\\\"\"null"
    );
    assert_eq!(row.int_column(0), Some(7));
    assert_eq!(row.int_column(1), None);
}
