//! The planner on the blog schema: which statements a document turns into, and with what SQL,
//! for both dialects. Snapshots make every change to the SQL shapes visible in review.

#[allow(dead_code)]
mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}

use apollo_compiler::ExecutableDocument;
use fraiseql_runtime::model::Dialect;
use fraiseql_runtime::plan::OperationPlan;
use fraiseql_runtime::schema::ApiSchema;

fn explain(query: &str, dialect: Dialect) -> String {
    let api = ApiSchema::load(&schema::SCHEMA).expect("the blog API schema is valid");
    let document = ExecutableDocument::parse_and_validate(&api.schema, query, "query.graphql")
        .unwrap_or_else(|e| panic!("invalid test document: {}", e.errors));
    let operation = document.operations.get(None).expect("one operation");
    match OperationPlan::build(&api, &document, operation, dialect) {
        Ok(plan) => plan.explain(),
        Err(errors) => format!("errors: {errors:?}"),
    }
}

const NESTED: &str =
    "{ users(limit: 50) { id name posts(limit: 5) { id title comments(limit: 3) { id body } } } }";

#[test]
fn nested_query_is_three_statements_on_postgres() {
    let text = explain(NESTED, Dialect::Postgres);
    assert!(
        text.starts_with("query (anonymous): 3 SQL statement(s) on PostgreSQL"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn nested_query_is_three_statements_on_sqlite() {
    let text = explain(NESTED, Dialect::Sqlite);
    assert!(
        text.starts_with("query (anonymous): 3 SQL statement(s) on SQLite"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn filters_orders_and_cursors_are_bound_never_inlined() {
    let text = explain(
        r#"query Page($after: String, $name: String!) {
             users(limit: 10, orderBy: [{field: name, direction: DESC}], after: $after,
                   where: {name: {neq: $name}, or: [{bio: {isNull: true}}, {email: {like: "%@example.com"}}]}) {
               id name _cursor
             }
           }"#,
        Dialect::Postgres,
    );
    assert!(
        !text.contains("example.com\" "),
        "a literal leaked into SQL: {text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn a_keyset_cursor_becomes_a_bound_predicate() {
    // The cursor of a row (name "Alice", id 17) in a list ordered by name.
    let text = explain(
        r#"{ users(limit: 5, orderBy: [{field: name}], after: "eyJrIjpbIm5hbWUiLCJpZCJdLCJ2IjpbIkFsaWNlIiwiMTciXX0") { id } }"#,
        Dialect::Sqlite,
    );
    assert!(
        text.contains(r#"(t."name" > $1) OR (t."name" = $2 AND t."id" > $3)"#),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn a_cursor_from_another_ordering_is_refused() {
    let text = explain(
        r#"{ users(after: "eyJrIjpbIm5hbWUiLCJpZCJdLCJ2IjpbIkFsaWNlIiwiMTciXX0") { id } }"#,
        Dialect::Sqlite,
    );
    assert!(text.contains("cursor for a different orderBy"), "{text}");
}

#[test]
fn variables_in_scalar_positions_keep_the_sql_fixed() {
    let text = explain(
        r#"query One($id: ID!, $n: Int) { user(id: $id) { id name posts(limit: $n, where: {published: {eq: true}}) { id } } }"#,
        Dialect::Sqlite,
    );
    assert!(!text.contains("built per request"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn a_variable_that_shapes_the_filter_builds_sql_per_request() {
    let text = explain(
        r#"query F($w: PostWhere) { posts(where: $w) { id } }"#,
        Dialect::Postgres,
    );
    assert!(text.contains("built per request"), "{text}");
}

#[test]
fn cache_policies_and_routes_are_shown() {
    let text = explain(
        "{ user(id: 1) { id posts { id } } posts(limit: 1) { id author { id } } }",
        Dialect::Postgres,
    );
    assert!(text.contains("public, max-age=3600"), "{text}");
    assert!(text.contains("replica (max lag 5000 ms)"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn a_mutation_is_its_writes_then_the_rereads_in_one_transaction() {
    let text = explain(
        r#"mutation {
             createPost(input: {title: "t", body: "b", published: true, status: DRAFT, views: 0, authorId: 1}) {
               id author { name }
             }
             deleteComment(id: 7)
           }"#,
        Dialect::Postgres,
    );
    assert!(
        text.starts_with("mutation (anonymous): 4 SQL statement(s) on PostgreSQL"),
        "{text}"
    );
    assert!(text.contains("one transaction on the primary"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn a_private_column_makes_the_response_private() {
    // `User.email` is @cache(ttl: 300, scope: PRIVATE): selecting it lowers `user`'s policy.
    let text = explain("{ user(id: 1) { name email } }", Dialect::Sqlite);
    assert!(
        text.ends_with("response cache policy: private, max-age=300\n"),
        "{text}"
    );
    let text = explain("{ user(id: 1) { name } }", Dialect::Sqlite);
    assert!(
        text.ends_with("response cache policy: public, max-age=3600\n"),
        "{text}"
    );
}
