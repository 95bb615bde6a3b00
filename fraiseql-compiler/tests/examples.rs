//! The example app's schema compiles, and every generated API SDL is a valid GraphQL schema
//! (checked by apollo-compiler, the parser the runtime serves it with).

use std::path::Path;

fn compile(relative: &str) -> fraiseql_compiler::Generated {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join(relative)).expect("schema file");
    match fraiseql_compiler::compile_sources(&[(relative.to_owned(), text)]) {
        Ok(g) => g,
        Err(errors) => panic!("{}", fraiseql_compiler::Errors(errors)),
    }
}

#[test]
fn generated_api_sdl_is_valid_graphql() {
    for schema in [
        "schema/blog.graphql",
        "examples/todo-app/schema/todo.graphql",
        "examples/sharded/schema/shop.graphql",
    ] {
        let generated = compile(schema);
        if let Err(e) =
            apollo_compiler::Schema::parse_and_validate(&generated.api_sdl, "api.graphql")
        {
            panic!("{schema}: generated API SDL is invalid:\n{}", e.errors);
        }
    }
}

#[test]
fn todo_schema_model() {
    use fraiseql_compiler::model::{CacheScope, Kind, RelationKind, Route};
    let model = compile("examples/todo-app/schema/todo.graphql").model;
    let [lists, todos] = &model.types[..] else {
        panic!("two tables expected")
    };
    assert_eq!(
        (lists.table.as_str(), todos.table.as_str()),
        ("todo_lists", "todos")
    );
    assert_eq!(
        lists.cache.map(|c| (c.ttl_seconds, c.scope)),
        Some((30, CacheScope::Public))
    );
    // The many-to-one field adds a hidden, non-null foreign key after the field columns.
    let fk = todos.columns.last().expect("columns");
    assert_eq!(
        (fk.name.as_str(), fk.kind, fk.nullable, fk.field.is_none()),
        ("list_id", Kind::ForeignKey, false, true)
    );
    assert_eq!(todos.relations[0].kind, RelationKind::BelongsTo);
    assert_eq!(lists.relations[0].kind, RelationKind::HasMany);
    let index_names: Vec<&str> = todos.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        index_names,
        ["idx_todos_list_id", "idx_todos_list_id_state"]
    );
    assert!(lists.indexes.is_empty());
    assert_eq!(
        todos
            .columns
            .iter()
            .find(|c| c.name == "due_at")
            .map(|c| c.nullable),
        Some(true)
    );
    let todos_root = model
        .query
        .iter()
        .find(|f| f.name == "todos")
        .expect("todos");
    assert_eq!(
        todos_root.route,
        Route::Replica {
            max_lag_ms: Some(2000)
        }
    );
}
