//! What must hold on every database: the same scenarios run on SQLite and PostgreSQL.

use serde_json::{json, Value};

use super::{caller, ids, token, App};

/// Tenant A never sees tenant B's rows: root list, lookup by key, nested relations batched
/// over parents of several rows (one statement per level), and many-to-one batches.
pub async fn isolation(app: &App) {
    let acme = caller("acme", "ann", &[]);
    let globex = caller("globex", "gus", &[]);

    // Root list: one statement, only the caller's rows.
    let q = "{ projects { id tenantId } }";
    let a = app.run(Some(&acme), q, json!({})).await;
    assert_eq!(ids(&a.data()["projects"]), ["1", "2"]);
    assert_eq!(a.statements, 1);
    let g = app.run(Some(&globex), q, json!({})).await;
    assert_eq!(ids(&g.data()["projects"]), ["3", "4"]);

    // A client `where` cannot widen it: the filter is ANDed with whatever it asks.
    let wide = "{ projects(where: {or: [{tenantId: {eq: \"globex\"}}, {tenantId: {neq: \"globex\"}}]}) { id } }";
    let a = app.run(Some(&acme), wide, json!({})).await;
    assert_eq!(ids(&a.data()["projects"]), ["1", "2"]);

    // Lookup by key of another tenant's row: null, as if it did not exist.
    let q = "query($id: ID!) { project(id: $id) { id name } }";
    let a = app.run(Some(&acme), q, json!({"id": "3"})).await;
    assert_eq!(a.data()["project"], Value::Null);
    let g = app.run(Some(&globex), q, json!({"id": "3"})).await;
    assert_eq!(g.data()["project"]["name"], "Widget");

    // Nested, batched: projects -> tasks is ONE statement for both parents; task 9 is
    // globex's although its project_id is acme's project 1, so acme does not get it.
    let q = "{ projects { id tasks(limit: 50) { id tenantId } } }";
    let a = app.run(Some(&acme), q, json!({})).await;
    let projects = a.data()["projects"].as_array().expect("projects").clone();
    assert_eq!(ids(&projects[0]["tasks"]), ["1", "2"], "{}", a.body);
    assert_eq!(ids(&projects[1]["tasks"]), ["3", "4"]);
    assert_eq!(a.statements, 2, "one statement per level");
    for p in &projects {
        for t in p["tasks"].as_array().expect("tasks") {
            assert_eq!(t["tenantId"], "acme");
        }
    }

    // Three levels, many-to-one batched back up: tasks -> project -> tasks.
    let q = "{ tasks(limit: 50) { id project { id tasks(limit: 50) { id } } } }";
    let g = app.run(Some(&globex), q, json!({})).await;
    assert_eq!(g.statements, 3, "one statement per level");
    assert_eq!(ids(&g.body["data"]["tasks"]), ["5", "6", "7", "8", "9"]);
    assert_eq!(g.body["data"]["tasks"][0]["project"]["id"], "3");
    assert_eq!(
        ids(&g.body["data"]["tasks"][0]["project"]["tasks"]),
        ["5", "6"]
    );
    // Task 9 points at acme's project: that row is not globex's to read, so the non-null
    // field is null with an error at its path, rather than acme's project leaking.
    assert_eq!(g.body["data"]["tasks"][4]["project"], Value::Null);
    assert_eq!(g.body["errors"][0]["path"], json!(["tasks", 4, "project"]));
    assert!(
        !g.body.to_string().contains("Rocket") && !g.body.to_string().contains("acme"),
        "acme's rows leaked: {}",
        g.body
    );

    // Anonymous: a filtered type has no rows (never all of them).
    let anon = app
        .run(None, "{ projects { id } tasks { id } }", json!({}))
        .await;
    assert_eq!(anon.data(), &json!({"projects": [], "tasks": []}));
    // A token without the claim is the same.
    let no_tenant = token(json!({"sub": "x"}));
    let n = app
        .run(Some(&no_tenant), "{ projects { id } }", json!({}))
        .await;
    assert_eq!(n.data(), &json!({"projects": []}));
}

/// The result cache keys filtered fields by the claim: two tenants with the same document and
/// variables never share an entry; the same tenant gets hits (another user of it too).
pub async fn cache(app: &App) {
    let q = "query($n: Int) { projects(limit: $n) { id name tasks { id } } }";
    let vars = json!({"n": 10});
    let acme = caller("acme", "ann", &[]);
    let acme_bob = caller("acme", "bob", &[]);
    let globex = caller("globex", "gus", &[]);

    let a1 = app.run(Some(&acme), q, vars.clone()).await;
    assert_eq!(ids(&a1.data()["projects"]), ["1", "2"]);
    assert_eq!(a1.statements, 2);
    let hits = app.l1_hits();

    let g = app.run(Some(&globex), q, vars.clone()).await;
    assert_eq!(
        ids(&g.data()["projects"]),
        ["3", "4"],
        "globex got acme's entry"
    );
    assert_eq!(g.statements, 2, "globex's answer ran its own SQL");
    assert_eq!(app.l1_hits(), hits, "no hit across tenants");

    let a2 = app.run(Some(&acme), q, vars.clone()).await;
    assert_eq!(a2.body, a1.body);
    assert_eq!(a2.statements, 0, "served from the cache");
    assert_eq!(app.l1_hits(), hits + 1);
    // Another user of the same tenant reads the same rows: the same entry.
    let b = app.run(Some(&acme_bob), q, vars.clone()).await;
    assert_eq!(b.body, a1.body);
    assert_eq!(b.statements, 0);

    // Anonymous: its own (empty) answer, never a tenant's entry.
    let anon = app.run(None, q, vars.clone()).await;
    assert_eq!(anon.data(), &json!({"projects": []}));

    // A cached custom resolver reads any claim (`myTasks` reads `tenant` and `sub`): both the
    // resolver's own cache and the result cache keep callers apart, even within one tenant.
    let q = "{ myTasks { id } }";
    let ann = app.run(Some(&acme), q, json!({})).await;
    assert_eq!(ids(&ann.data()["myTasks"]), ["1", "2", "3", "4"]);
    let bob = app.run(Some(&acme_bob), q, json!({})).await;
    assert_eq!(bob.data(), &json!({"myTasks": []}), "bob got ann's tasks");
    let gus = app.run(Some(&globex), q, json!({})).await;
    assert_eq!(
        ids(&gus.data()["myTasks"]),
        ["5", "6", "7", "8", "9"],
        "globex got acme's tasks"
    );
    let again = app.run(Some(&acme), q, json!({})).await;
    assert_eq!(again.body, ann.body);

    // @auth is checked before a cached part is served: budget needs `finance`.
    let q = "{ projects { id budget } }";
    let finance = caller("acme", "fay", &["finance"]);
    let f = app.run(Some(&finance), q, json!({})).await;
    assert_eq!(f.data()["projects"][0]["budget"], 100);
    let denied = app.run(Some(&acme), q, json!({})).await;
    assert_eq!(denied.code(), "FORBIDDEN");
    assert_eq!(denied.statements, 0);
}

/// Refused tokens run nothing; `@auth` denials run no SQL for the field.
pub async fn auth_errors(app: &App) {
    let q = "{ projects { id } }";
    // A token signed with another secret.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"tenant": "acme", "exp": jsonwebtoken::get_current_timestamp() + 60}),
        &jsonwebtoken::EncodingKey::from_secret(b"not the secret"),
    )
    .expect("sign");
    let r = app.run(Some(&forged), q, json!({})).await;
    assert!(r.unauthenticated, "{}", r.body);
    assert_eq!(r.code(), "UNAUTHENTICATED");
    assert_eq!(r.statements, 0);
    assert!(r.body.get("data").is_none());
    assert!(!r.body.to_string().contains(&forged[..20]), "token echoed");

    let expired =
        token(json!({"tenant": "acme", "exp": jsonwebtoken::get_current_timestamp() - 3600}));
    let r = app.run(Some(&expired), q, json!({})).await;
    assert!(r.unauthenticated);
    assert_eq!(r.code(), "UNAUTHENTICATED");
    assert!(r.body.to_string().contains("expired"), "{}", r.body);
    assert_eq!(r.statements, 0);

    let garbage = app.run(Some("not-a-jwt"), q, json!({})).await;
    assert!(garbage.unauthenticated);
    assert_eq!(garbage.statements, 0);

    // @auth on a field: FORBIDDEN without the role, UNAUTHENTICATED without a token.
    let acme = caller("acme", "ann", &["reader"]);
    let q = "{ projects { id budget } }";
    let r = app.run(Some(&acme), q, json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(r.body["errors"][0]["path"], json!(["projects"]));
    assert!(r.body["errors"][0]["message"]
        .as_str()
        .expect("message")
        .contains("Project.budget"));
    assert_eq!(r.statements, 0);
    let r = app.run(None, q, json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
    assert_eq!(r.statements, 0);
    // Nested: tasks -> project { budget } is guarded the same way.
    let r = app
        .run(Some(&acme), "{ tasks { project { budget } } }", json!({}))
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(r.statements, 0);
    // @skip(if: true) leaves the guarded field out, and so its guard.
    let r = app
        .run(
            Some(&acme),
            "query($s: Boolean!) { projects { id budget @skip(if: $s) } }",
            json!({"s": true}),
        )
        .await;
    assert_eq!(ids(&r.data()["projects"]), ["1", "2"]);

    // @auth on a type.
    let q = "{ auditEntries { message } }";
    let r = app.run(Some(&acme), q, json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(r.statements, 0);
    let admin = caller("acme", "root", &["admin"]);
    let r = app.run(Some(&admin), q, json!({})).await;
    assert_eq!(r.data()["auditEntries"][0]["message"], "created");
    assert_eq!(r.statements, 1);
    // A guarded root field beside an allowed one: only the guarded one fails, the other
    // runs (its own statement only).
    let q = "{ project(id: 1) { name } audit: auditEntries { message } }";
    let r = app.run(Some(&acme), q, json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(r.body["errors"][0]["path"], json!(["audit"]));
    assert_eq!(r.statements, 1);
}

/// Claims reach custom resolvers (`ctx.claim_str`), and what is selected under their rows is
/// row-filtered like any relation.
pub async fn resolver_claims(app: &App) {
    let ann = caller("acme", "ann", &[]);
    let q = "{ myTasks { id project { name } } }";
    let r = app.run(Some(&ann), q, json!({})).await;
    assert_eq!(ids(&r.data()["myTasks"]), ["1", "2", "3", "4"]);
    assert_eq!(r.data()["myTasks"][0]["project"]["name"], "Rocket");
    let r = app.run(None, q, json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
}

/// Writes only touch the caller's rows: inserts take the tenant from the claim, updates and
/// deletes of another tenant's row are NOT_FOUND, and the re-read is filtered too.
pub async fn mutations(app: &App) {
    let acme = caller("acme", "ann", &[]);
    let globex = caller("globex", "gus", &[]);

    let create =
        "mutation($name: String!) { createProject(input: {name: $name}) { id tenantId name } }";
    let r = app.run(Some(&acme), create, json!({"name": "Sled"})).await;
    assert_eq!(r.data()["createProject"]["tenantId"], "acme");
    assert_eq!(r.data()["createProject"]["name"], "Sled");

    let smuggle =
        "mutation { createProject(input: {name: \"Trojan\", tenantId: \"globex\"}) { id } }";
    let r = app.run(Some(&acme), smuggle, json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "input.tenantId");
    let r = app.run(None, create, json!({"name": "Nobody's"})).await;
    assert_eq!(r.code(), "FORBIDDEN");

    // Update / delete another tenant's row: NOT_FOUND, the row untouched.
    let update = "mutation { updateProject(id: 3, input: {name: \"Hijacked\"}) { id name } }";
    let r = app.run(Some(&acme), update, json!({})).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = app
        .run(Some(&acme), "mutation { deleteProject(id: 4) }", json!({}))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let g = app
        .run(Some(&globex), "{ projects { id name } }", json!({}))
        .await;
    assert_eq!(
        g.data()["projects"],
        json!([{"id": "3", "name": "Widget"}, {"id": "4", "name": "Gizmo"}])
    );
    // Moving one's own row to another tenant is refused.
    let moving = "mutation { updateProject(id: 1, input: {tenantId: \"globex\"}) { id } }";
    let r = app.run(Some(&acme), moving, json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN");
    // One's own rows still update and delete.
    let r = app
        .run(
            Some(&acme),
            "mutation { updateProject(id: 2, input: {name: \"Anvil 2\"}) { name tasks { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.data()["updateProject"],
        json!({"name": "Anvil 2", "tasks": [{"id": "3"}, {"id": "4"}]})
    );
    let r = app
        .run(
            Some(&globex),
            "mutation { deleteProject(id: 4) }",
            json!({}),
        )
        .await;
    // Project 4 still has tasks (a foreign key): CONFLICT, but it was found.
    assert_ne!(
        r.body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{}",
        r.body
    );
}
