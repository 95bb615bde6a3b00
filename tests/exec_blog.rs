//! The planner and executor in-process, on SQLite and on real PostgreSQL (a database of this
//! test's own on the shared server): the responses for the GraphQL features a client uses —
//! nesting with per-parent limits, many-to-one, fragments, aliases, @skip/@include, filters,
//! ordering, keyset pages, __typename and introspection.

#[allow(dead_code)]
mod schema {
    include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));
}

mod inprocess;

use inprocess::{sqlite_url, Harness, PgDatabase};
use serde_json::{json, Value};

async fn all_cases(h: &Harness) {
    // Nesting with per-parent limits, in key order.
    let r = h
        .run("{ users(limit: 2) { id name posts(limit: 2) { id title comments(limit: 1) { id body } } } }", json!({}))
        .await;
    assert_eq!(
        r,
        json!({"data": {"users": [
            {"id": "1", "name": "Ann", "posts": [
                {"id": "10", "title": "A1", "comments": [{"id": "100", "body": "c1"}]},
                {"id": "11", "title": "A2", "comments": []}]},
            {"id": "2", "name": "Bob", "posts": [
                {"id": "13", "title": "B1", "comments": [{"id": "103", "body": "c4"}]}]}]}})
    );

    // Many-to-one, aliases, fragments, __typename, every scalar kind.
    let r = h
        .run(
            "query { p: post(id: 10) { __typename ...F author { who: name } } missing: post(id: 999) { id } }
             fragment F on Post { title published status rating views metadata createdAt }",
            json!({}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {
            "p": {"__typename": "Post", "title": "A1", "published": true, "status": "PUBLISHED", "rating": 4.5,
                  "views": 10, "metadata": {"tags": ["x"]}, "createdAt": "2026-02-01T00:00:00.000Z",
                  "author": {"who": "Ann"}},
            "missing": null}})
    );

    // @skip / @include with variables, one plan for both values.
    let q = "query($full: Boolean!) { user(id: 2) { name email @include(if: $full) posts @skip(if: $full) { id } } }";
    assert_eq!(
        h.run(q, json!({"full": true})).await,
        json!({"data": {"user": {"name": "Bob", "email": "bob@example.com"}}})
    );
    assert_eq!(
        h.run(q, json!({"full": false})).await,
        json!({"data": {"user": {"name": "Bob", "posts": [{"id": "13"}]}}})
    );

    // Filters: and/or/not, in, like, isNull, comparisons; a variable-shaped filter.
    let r = h
        .run(
            r#"{ users(where: {or: [{bio: {isNull: false}}, {email: {like: "%.org"}}]}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(r, json!({"data": {"users": [{"id": "2"}, {"id": "3"}]}}));
    let r = h
        .run(
            "query($w: PostWhere) { posts(where: $w, orderBy: [{field: views, direction: DESC}]) { id } }",
            json!({"w": {"status": {"in": ["PUBLISHED", "ARCHIVED"]}, "not": {"views": {"gte": 40}}}}),
        )
        .await;
    assert_eq!(r, json!({"data": {"posts": [{"id": "12"}, {"id": "10"}]}}));
    let r = h
        .run(
            "query($since: DateTime!) { comments(where: {createdAt: {gt: $since}}) { id } }",
            json!({"since": "2026-03-02T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {"comments": [{"id": "102"}, {"id": "103"}]}})
    );

    // Nullable order column: NULLs sort last ascending.
    let r = h
        .run("{ posts(orderBy: [{field: rating}]) { id } }", json!({}))
        .await;
    assert_eq!(
        r,
        json!({"data": {"posts": [{"id": "13"}, {"id": "12"}, {"id": "10"}, {"id": "11"}]}})
    );

    // Keyset pages walk the whole list in order, with no gaps or repeats.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = h
            .run(
                "query($after: String) { posts(limit: 3, orderBy: [{field: rating, direction: DESC}], after: $after) { id _cursor } }",
                json!({"after": after}),
            )
            .await;
        let page = r["data"]["posts"].as_array().expect("a page").clone();
        if page.is_empty() {
            break;
        }
        seen.extend(
            page.iter()
                .map(|p| p["id"].as_str().unwrap_or_default().to_string()),
        );
        after = page[page.len() - 1]["_cursor"].clone();
    }
    assert_eq!(seen, ["11", "10", "12", "13"]);

    // A cursor from another ordering is refused with a clear error.
    let r = h
        .run(
            "query($a: String) { posts(after: $a) { id } }",
            json!({"a": after}),
        )
        .await;
    assert_eq!(r["data"], Value::Null, "{r}");
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{r}"
    );
    assert_eq!(r["errors"][0]["path"], json!(["posts"]), "{r}");

    // Introspection next to data.
    let r = h
        .run(
            "{ __typename __type(name: \"User\") { name } user(id: 1) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r,
        json!({"data": {"__typename": "Query", "__type": {"name": "User"}, "user": {"id": "1"}}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn executes_on_sqlite() {
    let h = Harness::new(sqlite_url("exec"), &[]).await;
    all_cases(&h).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn executes_on_postgres() {
    let pg = PgDatabase::create("exec").await;
    let h = Harness::new(pg.url(), &[]).await;
    all_cases(&h).await;
    drop(h);
    pg.drop_now().await;
}
