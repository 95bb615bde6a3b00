//! Row filters on sharded types (PostgreSQL): a primary and two shard databases on the test
//! server; notes sharded by id, their comments on the note's shard. Both tenants have notes on
//! both shards, so a scattered list, a lookup routed by its key and a by-key batch of nested
//! comments each run on shards holding the other tenant's rows too.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use fraiseql_runtime::auth::{AuthSettings, Authenticator};
use fraiseql_runtime::db::shard::{hash_shard, shard_settings};
use fraiseql_runtime::db::{migrate, Database, DatabaseUrl, PoolSettings};
use fraiseql_runtime::graphql::{GraphqlRequest, GraphqlService, Headers, Outcome, Transport};
use fraiseql_runtime::metrics::Metrics;
use fraiseql_runtime::schema::ApiSchema;
use multi_tenant::schema::SCHEMA;
use serde_json::{json, Value};
use support::{caller, ids, psql_on, PG_SERVER, SECRET};

const SHARDS: usize = 2;

struct Dbs(Vec<String>);

impl Drop for Dbs {
    fn drop(&mut self) {
        for name in &self.0 {
            psql_on(
                "postgres",
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

async fn run(service: &GraphqlService, token: &str, query: &str) -> Value {
    let request = GraphqlRequest {
        query: query.to_string(),
        persisted: None,
        variables: Default::default(),
        operation_name: None,
        headers: Headers::from_pairs([("Authorization", format!("Bearer {token}").as_str())]),
    };
    let body = match service.handle(request, Transport::Post).await {
        Outcome::Executed(outcome) => outcome.body,
        Outcome::BadRequest(b)
        | Outcome::MethodNotAllowed(b)
        | Outcome::NotExecuted(b)
        | Outcome::PersistedQueryNotFound(b)
        | Outcome::Unauthenticated(b) => b,
    };
    let body: Value = serde_json::from_slice(&body).expect("JSON body");
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_reads_are_filtered_on_every_shard() {
    let prefix = format!("fraiseql_tenants_shards_{}", std::process::id());
    let names: Vec<String> = std::iter::once(format!("{prefix}_primary"))
        .chain((0..SHARDS).map(|i| format!("{prefix}_s{i}")))
        .collect();
    let dbs = Dbs(names.clone());
    for name in &dbs.0 {
        psql_on(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        psql_on("postgres", &format!("CREATE DATABASE {name}"));
    }
    let url = |name: &str| format!("{PG_SERVER}/{name}");
    let primary = DatabaseUrl::Postgres {
        url: url(&names[0]),
    };
    let shard_urls: Vec<String> = names[1..].iter().map(|n| url(n)).collect();
    let vars: BTreeMap<&str, String> = [("DATABASE_URL_SHARDS", shard_urls.join(","))]
        .into_iter()
        .collect();
    let settings = shard_settings(&|k| vars.get(k).cloned(), &primary).expect("shard settings");
    let pool = PoolSettings::default();
    let database = Database::connect(&primary, &pool)
        .await
        .expect("primary")
        .with_shards(&settings, &pool)
        .await
        .expect("shards");
    migrate::migrate(&SCHEMA, &database, false)
        .await
        .expect("migrate the primary");
    migrate::migrate_shards(&SCHEMA, &database, false)
        .await
        .expect("migrate the shards");

    // Notes 1..=12: odd ones acme's, even ones globex's, each on its id's shard; two comments
    // per note on the same shard, plus a globex comment (99) on acme's note 1.
    let tenant = |id: i64| if id % 2 == 1 { "acme" } else { "globex" };
    let mut sql = vec![String::new(); SHARDS];
    let mut shards_of: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for note in 1..=12_i64 {
        let shard = hash_shard(note, SHARDS);
        shards_of.entry(tenant(note)).or_default().insert(shard);
        sql[shard].push_str(&format!(
            "INSERT INTO notes (id, tenant_id, body) VALUES ({note}, '{}', 'note {note}');\n",
            tenant(note)
        ));
        for c in [note * 2 - 1, note * 2] {
            sql[shard].push_str(&format!(
                "INSERT INTO comments (id, tenant_id, text, note_id) VALUES ({c}, '{}', 'c{c}', {note});\n",
                tenant(note)
            ));
        }
    }
    sql[hash_shard(1, SHARDS)].push_str(
        "INSERT INTO comments (id, tenant_id, text, note_id) VALUES (99, 'globex', 'intruder', 1);\n",
    );
    for (shard, text) in sql.iter().enumerate() {
        psql_on(&names[1 + shard], text);
    }
    assert!(
        shards_of.values().all(|s| s.len() == SHARDS),
        "both tenants on both shards: {shards_of:?}"
    );

    let api = Arc::new(ApiSchema::load(&SCHEMA).expect("api schema"));
    let auth = Authenticator::from_settings(&AuthSettings {
        secret: Some(SECRET.into()),
        ..AuthSettings::default()
    })
    .expect("auth");
    let service = GraphqlService::new(api, database, Arc::new(Metrics::new().expect("metrics")))
        .with_auth(auth);
    let acme = caller("acme", "ann", &[]);
    let globex = caller("globex", "gus", &[]);

    // Scattered list: every shard, each filtered.
    let d = run(&service, &acme, "{ notes { id } }").await;
    assert_eq!(ids(&d["notes"]), ["1", "3", "5", "7", "9", "11"]);
    let d = run(&service, &globex, "{ notes { id } }").await;
    assert_eq!(ids(&d["notes"]), ["2", "4", "6", "8", "10", "12"]);

    // Lookup routed to the key's shard: another tenant's note is not there for the caller.
    let d = run(
        &service,
        &acme,
        "{ mine: note(id: 1) { id } theirs: note(id: 2) { id } }",
    )
    .await;
    assert_eq!(d, json!({"mine": {"id": "1"}, "theirs": null}));

    // Nested comments: one by-key batch per shard holding parents, filtered on each; the
    // intruder comment on acme's note 1 stays out.
    let d = run(
        &service,
        &acme,
        "{ notes(limit: 50) { id comments(limit: 50) { id tenantId } } }",
    )
    .await;
    let notes = d["notes"].as_array().expect("notes");
    assert_eq!(ids(&notes[0]["comments"]), ["1", "2"], "{d}");
    for note in notes {
        for c in note["comments"].as_array().expect("comments") {
            assert_eq!(c["tenantId"], "acme", "{d}");
        }
    }
    // And back up, by-key from comments to notes.
    let d = run(
        &service,
        &globex,
        "{ notes(limit: 50) { comments(limit: 50) { note { id tenantId } } } }",
    )
    .await;
    assert!(!d.to_string().contains("acme"), "{d}");
    drop(dbs);
}
