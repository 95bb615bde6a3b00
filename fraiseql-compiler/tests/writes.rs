//! Writes and custom resolvers: `type Mutation` with generated `@insert` / `@update` /
//! `@delete` fields and `@resolver` fields on both roots, `@column(unique: true)`.

use fraiseql_compiler::model::{Index, Kind, MutationKind, Returns, RootKind};

const SCHEMA: &str = r#"schema {
  query: Query
  mutation: Mutation
}

type User @table(name: "users") {
  id: ID!
  email: String! @column(unique: true)
  name: String
  createdAt: DateTime!
  posts: [Post!]! @relation(foreignKey: "user_id")
}

type Post @table(name: "posts") {
  id: ID!
  title: String!
  status: Status!
  author: User! @relation(foreignKey: "user_id")
  editor: User @relation(foreignKey: "editor_id")
}

enum Status {
  DRAFT
  PUBLISHED
}

type Query {
  users: [User!]!
  "The user with this address, if any."
  userByEmail("Matched exactly." email: String!): User @resolver @cache(ttl: 30)
  search(text: String, statuses: [Status!], limit: Int!): [Post!]! @resolver
}

type Mutation {
  "Adds a user."
  createUser(input: CreateUserInput!): User! @insert
  updatePost(input: UpdatePostInput!, id: ID!): Post! @update
  deletePost(id: ID!): Boolean! @delete(type: "Post")
  "Publishes every draft of a user."
  publishAll(authorId: ID!, at: DateTime): [Post!]! @resolver @writes(types: ["Post", "User", "Post"])
  ping: User @resolver @writes(types: [])
}
"#;

fn compile() -> fraiseql_compiler::Generated {
    match fraiseql_compiler::compile_sources(&[(
        "schema/app.graphql".to_owned(),
        SCHEMA.to_owned(),
    )]) {
        Ok(g) => g,
        Err(errors) => panic!("{}", fraiseql_compiler::Errors(errors)),
    }
}

#[test]
fn mutations_reach_the_model() {
    let model = compile().model;
    let kinds: Vec<(&str, MutationKind, usize, &[usize])> = model
        .mutations
        .iter()
        .map(|m| (m.name.as_str(), m.kind, m.target, m.writes.as_slice()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("createUser", MutationKind::Insert, 0, &[0][..]),
            ("updatePost", MutationKind::Update, 1, &[1][..]),
            ("deletePost", MutationKind::Delete, 1, &[1][..]),
            // Listed twice, written once.
            (
                "publishAll",
                MutationKind::Custom(Returns::List),
                1,
                &[1, 0][..]
            ),
            ("ping", MutationKind::Custom(Returns::Optional), 0, &[][..]),
        ]
    );
    assert_eq!(
        model.mutations[0].description.as_deref(),
        Some("Adds a user.")
    );
    assert!(model.mutations[0].arguments.is_empty());
    let publish = &model.mutations[3];
    let args: Vec<(&str, Kind, bool, Option<bool>)> = publish
        .arguments
        .iter()
        .map(|a| (a.name.as_str(), a.base, a.nullable, a.list))
        .collect();
    assert_eq!(
        args,
        [
            ("authorId", Kind::Id, false, None),
            ("at", Kind::DateTime, true, None)
        ]
    );
    // graphql-parser places a described field at its description.
    assert_eq!((publish.source.line, publish.source.column), (39, 3));
}

#[test]
fn custom_query_fields_keep_arguments_and_policies() {
    let model = compile().model;
    let by_email = &model.query[1];
    assert_eq!(by_email.kind, RootKind::Custom(Returns::Optional));
    assert_eq!(by_email.cache.map(|c| c.ttl_seconds), Some(30));
    assert_eq!(
        by_email.arguments[0].description.as_deref(),
        Some("Matched exactly.")
    );
    let search = &model.query[2];
    assert_eq!(search.kind, RootKind::Custom(Returns::List));
    assert_eq!(search.target, 1);
    let args: Vec<(&str, &str, Kind, bool, Option<bool>)> = search
        .arguments
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.graphql_type.as_str(),
                a.base,
                a.nullable,
                a.list,
            )
        })
        .collect();
    assert_eq!(
        args,
        [
            ("text", "String", Kind::String, true, None),
            ("statuses", "[Status!]", Kind::Enum(0), true, Some(false)),
            ("limit", "Int!", Kind::Int, false, None),
        ]
    );
}

#[test]
fn unique_columns_get_a_unique_index_after_the_foreign_key_ones() {
    let model = compile().model;
    assert_eq!(
        model.types[0].indexes,
        [Index {
            name: "uq_users_email".into(),
            columns: vec!["email".into()],
            predicate: None,
            unique: true,
        }]
    );
    let posts: Vec<(&str, bool)> = model.types[1]
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.unique))
        .collect();
    assert_eq!(
        posts,
        [("idx_posts_user_id", false), ("idx_posts_editor_id", false)]
    );
}

#[test]
fn generated_code_snapshot() {
    let generated = compile();
    insta::with_settings!({ description => SCHEMA, omit_expression => true }, {
        insta::assert_snapshot!("writes_generated_code", generated.code);
    });
}

#[test]
fn api_sdl_snapshot() {
    let generated = compile();
    insta::with_settings!({ description => SCHEMA, omit_expression => true }, {
        insta::assert_snapshot!("writes_api_sdl", generated.api_sdl);
    });
}

#[test]
fn api_sdl_is_valid_graphql() {
    let generated = compile();
    if let Err(e) = apollo_compiler::Schema::parse_and_validate(&generated.api_sdl, "api.graphql") {
        panic!("generated API SDL is invalid:\n{}", e.errors);
    }
}

/// The runtime reads a write's input by `ColumnModel.input`; the SDL must offer exactly those
/// fields.
#[test]
fn input_fields_are_the_names_the_runtime_reads() {
    let generated = compile();
    let schema = apollo_compiler::Schema::parse_and_validate(&generated.api_sdl, "api.graphql")
        .expect("valid SDL");
    for (input, t) in [("CreateUserInput", 0), ("UpdatePostInput", 1)] {
        let Some(apollo_compiler::schema::ExtendedType::InputObject(def)) = schema.types.get(input)
        else {
            panic!("{input} is not an input type");
        };
        let in_sdl: Vec<&str> = def.fields.keys().map(|k| k.as_str()).collect();
        let table = &generated.model.types[t];
        let in_model: Vec<String> = (0..table.columns.len())
            .filter_map(|c| table.input_field(c))
            .collect();
        assert_eq!(in_sdl, in_model, "{input}");
    }
}

#[test]
fn a_missing_resolver_names_the_field_and_the_function_to_write() {
    let code = compile().code;
    assert!(
        code.contains(
            "schema/app.graphql:29:3: Query.userByEmail is declared with @resolver, but no #[fraiseql::query] function resolves it"
        ),
        "{code}"
    );
    assert!(code.contains(
        "add `#[fraiseql::mutation] async fn publish_all(ctx: &fraiseql::Context, author_id: i64, at: Option<String>) -> Result<Vec<PostRow>, fraiseql::ResolverError>` to this crate"
    ));
    assert!(code.contains(
        "<__fraiseql_resolvers::Resolvers as __fraiseql_resolvers::QueryUserByEmail>::RESOLVER"
    ));
}
