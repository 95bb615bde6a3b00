//! Sharding against real PostgreSQL: three shard databases and a primary on the private cluster
//! with `pg_stat_statements` (`FRAISEQL_TEST_PG_STATS_URL`), so every database's statements are
//! counted by the database itself.
//!
//! - Lists scattered over the shards (orderBy, limit, offset, `after` cursors, nested lists
//!   with their own windows, a reference table's list into sharded rows) answer exactly what a
//!   single database holding the same rows answers, over random data and random queries from a
//!   seeded generator (`FRAISEQL_TEST_SEED` replays a failure).
//! - A lookup by the shard key runs on one shard; nested relations run one statement per shard
//!   per level; a relation to the reference table runs once, batched, on the primary.
//! - HASH and RANGE placement; mutations routed by their key, and refused when a document would
//!   write to two databases or its shard cannot be known.
//! - The CLI: `shard-of`, `explain`, and exit status 2 for bad shard configuration.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::Arc;

use fraiseql_runtime::db::shard::{hash_shard, shard_settings};
use fraiseql_runtime::db::{migrate, Database, DatabaseUrl, PoolSettings};
use fraiseql_runtime::graphql::{GraphqlRequest, GraphqlService, Outcome, Transport};
use fraiseql_runtime::metrics::Metrics;
use fraiseql_runtime::schema::ApiSchema;
use serde_json::{json, Value};
use sharded::schema::SCHEMA;

const PG_STATS_ENV: &str = "FRAISEQL_TEST_PG_STATS_URL";
const SHARDS: usize = 3;
const RANGES: &str = "1-1000,1001-2000,2001-";
const TABLES: [&str; 5] = ["users", "posts", "countries", "accounts", "invoices"];

// ---------------------------------------------------------------------------------------------
// Scatter-gather equals one database

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scattered_lists_equal_a_single_database_on_random_data() {
    let seed = std::env::var("FRAISEQL_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026_u64);
    let mut rng = Rng(seed);
    let env = Env::create("oracle").await;
    let data = Dataset::random(&mut rng);
    env.load(&data);

    let mut rows_compared = 0;
    for case in 0..120 {
        let query = random_query(&mut rng);
        let (sharded, oracle) = (
            env.data(&query, json!({})).await,
            env.oracle(&query, json!({})).await,
        );
        assert_eq!(
            sharded, oracle,
            "case {case} (FRAISEQL_TEST_SEED={seed}) differs from one database:\n{query}"
        );
        rows_compared += oracle.to_string().matches("\"id\"").count();
    }
    // The cases are not vacuous: most return rows, nested ones included.
    assert!(rows_compared > 2_000, "only {rows_compared} rows compared");

    // Keyset pages: walk a random ordering to the end, page by page; every page equals the
    // single database's page for the same cursor, and the pages together are the whole list.
    for walk in 0..12 {
        let order = random_order(&mut rng, USER_ORDER_FIELDS);
        let size = 1 + rng.below(17);
        let query = format!(
            "query Page($after: String) {{ users(limit: {size}, orderBy: {order}, after: $after) {{ id name _cursor }} }}"
        );
        let everything = env
            .oracle(
                &format!("{{ users(orderBy: {order}) {{ id }} }}"),
                json!({}),
            )
            .await;
        let expected: Vec<Value> = everything["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| u["id"].clone())
            .collect();
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = env.data(&query, json!({ "after": after })).await;
            let oracle = env.oracle(&query, json!({ "after": after })).await;
            assert_eq!(
                page, oracle,
                "walk {walk} (seed {seed}) page after {after}: {query}"
            );
            let rows = page["users"].as_array().expect("page").clone();
            if rows.is_empty() {
                break;
            }
            seen.extend(rows.iter().map(|u| u["id"].clone()));
            after = rows
                .last()
                .map(|u| u["_cursor"].clone())
                .unwrap_or(Value::Null);
            assert!(
                seen.len() <= expected.len(),
                "walk {walk} runs past the end"
            );
        }
        assert_eq!(seen, expected, "walk {walk} (seed {seed}) by {order}");
    }
}

const USER_ORDER_FIELDS: &[&str] = &["name", "nickname", "score", "createdAt", "id"];
const POST_ORDER_FIELDS: &[&str] = &["title", "rating", "published", "id"];

fn random_order(rng: &mut Rng, fields: &[&str]) -> String {
    let mut keys = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let field = fields[rng.below(fields.len())];
        let direction = if rng.below(2) == 0 { "ASC" } else { "DESC" };
        keys.push(format!("{{field: {field}, direction: {direction}}}"));
    }
    format!("[{}]", keys.join(", "))
}

/// `limit`/`offset` arguments, sometimes absent.
fn random_window(rng: &mut Rng, max: usize) -> String {
    let mut args = Vec::new();
    if rng.below(4) != 0 {
        args.push(format!("limit: {}", rng.below(max + 1)));
    }
    if rng.below(2) == 0 {
        args.push(format!("offset: {}", rng.below(max + 1)));
    }
    args.join(", ")
}

fn random_query(rng: &mut Rng) -> String {
    let posts = format!(
        "posts({}, orderBy: {}) {{ id title rating published author {{ name }} }}",
        random_window(rng, 4),
        random_order(rng, POST_ORDER_FIELDS)
    )
    .replace("(, ", "(");
    let filter = match rng.below(4) {
        0 => format!(", where: {{score: {{gte: {}}}}}", rng.below(10)),
        1 => ", where: {nickname: {isNull: true}}".to_string(),
        _ => String::new(),
    };
    match rng.below(4) {
        // A reference table's list into sharded rows: every shard, merged per country.
        0 => format!(
            "{{ countries {{ id name users({}, orderBy: {}) {{ id name score }} }} }}",
            random_window(rng, 6),
            random_order(rng, USER_ORDER_FIELDS)
        )
        .replace("(, ", "("),
        // Posts scattered, with their co-located authors.
        1 => format!(
            "{{ posts({}, orderBy: {}) {{ id title rating author {{ id name }} }} }}",
            random_window(rng, 40),
            random_order(rng, POST_ORDER_FIELDS)
        )
        .replace("(, ", "("),
        _ => format!(
            "{{ users({}, orderBy: {}{filter}) {{ id name nickname score createdAt _cursor country {{ name }} {posts} }} }}",
            random_window(rng, 60),
            random_order(rng, USER_ORDER_FIELDS)
        )
        .replace("(, ", "("),
    }
}

// ---------------------------------------------------------------------------------------------
// Statements per database

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_lookup_touches_one_shard_and_levels_are_one_statement_per_shard() {
    let mut rng = Rng(7);
    let env = Env::create("counts").await;
    let data = Dataset::random(&mut rng);
    env.load(&data);

    // A lookup by the shard key: its shard alone, one statement per level there; the country
    // (a reference table) once on the primary.
    let user = data
        .users
        .iter()
        .find(|u| u.country.is_some() && !data.posts_of(u.id).is_empty())
        .expect("a user with posts and a country");
    let home = hash_shard(user.id, SHARDS);
    env.reset_statements();
    let got = env
        .data(
            "query($id: ID!) { user(id: $id) { name posts(limit: 2) { title author { name } } country { name } } }",
            json!({ "id": user.id.to_string() }),
        )
        .await;
    assert_eq!(got["user"]["name"], user.name.as_str(), "{got}");
    let counts = env.statements();
    for (database, statements) in &counts {
        let calls: u64 = statements.values().sum();
        match database.as_str() {
            "primary" => assert_eq!(calls, 1, "primary: {statements:#?}"),
            d if d == format!("shard-{home}") => {
                assert_eq!(calls, 3, "{d} (the user's shard): {statements:#?}")
            }
            d => assert_eq!(calls, 0, "{d} is not the user's shard: {statements:#?}"),
        }
    }

    // A list: every shard runs the list once, then one statement per relation level (only
    // shards holding parents of that level); the reference table once on the primary.
    env.reset_statements();
    let query = "{ users(limit: 45, orderBy: [{field: score}]) { id posts(limit: 2) { id author { name } } country { name } } }";
    let got = env.data(query, json!({})).await;
    assert_eq!(got, env.oracle(query, json!({})).await);
    let counts = env.statements();
    let primary: u64 = counts["primary"].values().sum();
    assert_eq!(primary, 1, "the country level: {:#?}", counts["primary"]);
    for shard in 0..SHARDS {
        let statements = &counts[&format!("shard-{shard}")];
        assert!(
            statements.len() <= 3 && statements.values().all(|&calls| calls == 1),
            "shard-{shard}: at most one statement per level (users, posts, author): {statements:#?}"
        );
        let lists = statements
            .iter()
            // The root list (pg_stat_statements shows its constants as parameters).
            .filter(|(sql, _)| sql.contains("FROM \"users\" AS t WHERE") && sql.contains("OFFSET"))
            .count();
        assert_eq!(
            lists, 1,
            "shard-{shard} runs the list once: {statements:#?}"
        );
    }
    let levels: u64 = counts
        .iter()
        .filter(|(d, _)| d.starts_with("shard-"))
        .map(|(_, s)| s.values().sum::<u64>())
        .sum();
    assert!(levels <= 9, "3 levels on 3 shards at most: {counts:#?}");
}

// ---------------------------------------------------------------------------------------------
// RANGE placement

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_sharding_places_keys_by_the_configured_ranges() {
    let env = Env::create("range").await;
    // Range boundaries and beyond: shard 0 holds 1-1000, shard 1 1001-2000, shard 2 from 2001.
    let accounts: [(i64, usize); 7] = [
        (1, 0),
        (999, 0),
        (1000, 0),
        (1001, 1),
        (1500, 1),
        (2001, 2),
        (1_000_000_000, 2),
    ];
    let mut shard_sql = vec![String::new(); SHARDS];
    let mut oracle_sql = String::new();
    for (i, (id, shard)) in accounts.iter().enumerate() {
        let rows = format!(
            "INSERT INTO accounts (id, name) VALUES ({id}, 'account {}');
             INSERT INTO invoices (id, amount, account_id) VALUES ({}, {}, {id}), ({}, {}, {id});",
            7 - i,
            id * 10,
            i * 3,
            id * 10 + 1,
            100 - i
        );
        shard_sql[*shard].push_str(&rows);
        oracle_sql.push_str(&rows);
    }
    for (shard, sql) in shard_sql.iter().enumerate() {
        psql(&env.shard_urls[shard], sql);
    }
    psql(&env.oracle_url, &oracle_sql);

    let query = "{ accounts(orderBy: [{field: name, direction: DESC}], limit: 5, offset: 1) { id name invoices(orderBy: [{field: amount}]) { amount account { id } } } }";
    assert_eq!(
        env.data(query, json!({})).await,
        env.oracle(query, json!({})).await
    );

    env.reset_statements();
    let got = env
        .data(
            "{ account(id: 1500) { name invoices { amount } } }",
            json!({}),
        )
        .await;
    assert_eq!(got["account"]["name"], "account 3", "{got}");
    let counts = env.statements();
    for (database, statements) in &counts {
        let calls: u64 = statements.values().sum();
        let expected = if database == "shard-1" { 2 } else { 0 };
        assert_eq!(calls, expected, "{database}: {statements:#?}");
    }

    // A new account gets a server id (time-ordered, far above 2001): the open-ended range.
    let created = env
        .data(
            "mutation { createAccount(input: {name: \"new\"}) { id name } }",
            json!({}),
        )
        .await;
    let id: i64 = created["createAccount"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{created}"));
    assert!(id > 2001, "{id}");
    assert_eq!(
        psql(
            &env.shard_urls[2],
            &format!("SELECT count(*) FROM accounts WHERE id = {id}")
        )
        .trim(),
        "1"
    );
    // An invoice goes to its account's shard.
    env.data(
        "mutation { createInvoice(input: {amount: 7, accountId: \"1500\"}) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        psql(
            &env.shard_urls[1],
            "SELECT count(*) FROM invoices WHERE amount = 7"
        )
        .trim(),
        "1"
    );
    // A key no range holds has no shard: nothing to read, and a clear error to write.
    let none = env.data("{ account(id: 0) { id } }", json!({})).await;
    assert_eq!(none["account"], Value::Null);
    let refused = env
        .response(
            "mutation { createInvoice(input: {amount: 1, accountId: \"0\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "{refused}"
    );
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no shard holds key 0")),
        "{refused}"
    );
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_route_by_their_key_and_never_span_databases() {
    let env = Env::create("writes").await;
    psql(
        &env.primary_url,
        "INSERT INTO countries (id, name) VALUES (1, 'Norway')",
    );

    let created = env
        .data(
            "mutation { createUser(input: {name: \"Ada\", score: 1, countryId: \"1\"}) { id name country { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        created["createUser"]["country"]["name"], "Norway",
        "{created}"
    );
    let id: i64 = created["createUser"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{created}"));
    let home = hash_shard(id, SHARDS);
    for shard in 0..SHARDS {
        let count = psql(
            &env.shard_urls[shard],
            &format!("SELECT count(*) FROM users WHERE id = {id}"),
        );
        assert_eq!(
            count.trim(),
            if shard == home { "1" } else { "0" },
            "shard {shard}"
        );
    }

    // A post lands on its author's shard, and reads back with the author in the transaction.
    let post = env
        .data(
            "mutation($a: ID!) { createPost(input: {title: \"t\", published: true, authorId: $a}) { id author { name } } }",
            json!({ "a": id.to_string() }),
        )
        .await;
    assert_eq!(post["createPost"]["author"]["name"], "Ada", "{post}");
    assert_eq!(
        psql(
            &env.shard_urls[home],
            &format!("SELECT count(*) FROM posts WHERE user_id = {id}")
        )
        .trim(),
        "1"
    );
    let updated = env
        .data(
            "mutation($id: ID!) { updateUser(id: $id, input: {nickname: \"ada\"}) { nickname posts { title } } }",
            json!({ "id": id.to_string() }),
        )
        .await;
    assert_eq!(updated["updateUser"]["nickname"], "ada", "{updated}");

    // Two users almost surely land on different shards; find two that do.
    let mut other = None;
    for _ in 0..20 {
        let r = env
            .data(
                "mutation { createUser(input: {name: \"B\", score: 2}) { id } }",
                json!({}),
            )
            .await;
        let b: i64 = r["createUser"]["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("id");
        if hash_shard(b, SHARDS) != home {
            other = Some(b);
            break;
        }
    }
    let other = other.expect("a user on another shard");
    let users_before = env.total_users();
    let refused = env
        .response(
            "mutation($a: ID!, $b: ID!) { a: updateUser(id: $a, input: {score: 9}) { id } b: updateUser(id: $b, input: {score: 9}) { id } }",
            json!({ "a": id.to_string(), "b": other.to_string() }),
        )
        .await;
    assert_eq!(refused["data"], Value::Null, "{refused}");
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "CROSS_SHARD_WRITE",
        "{refused}"
    );
    // A shard and the primary are two databases too.
    let refused = env
        .response(
            "mutation { a: createUser(input: {name: \"C\", score: 3}) { id } b: createCountry(input: {name: \"X\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "CROSS_SHARD_WRITE",
        "{refused}"
    );
    assert_eq!(env.total_users(), users_before, "nothing was written");
    assert_eq!(
        psql(&env.primary_url, "SELECT count(*) FROM countries").trim(),
        "1"
    );

    // Post is sharded by user_id: a change by id alone cannot be routed.
    let refused = env
        .response(
            "mutation { updatePost(id: \"1\", input: {title: \"x\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "SHARD_KEY_MISSING",
        "{refused}"
    );
    let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("by user_id"), "{message}");
    assert!(
        !message.contains("SELECT") && !message.contains("UPDATE"),
        "{message}"
    );

    // Same-shard writes in one document are one transaction: both or neither.
    let both = env
        .data(
            "mutation($a: ID!) { p: createPost(input: {title: \"1\", published: false, authorId: $a}) { id } q: createPost(input: {title: \"2\", published: false, authorId: $a}) { id } }",
            json!({ "a": id.to_string() }),
        )
        .await;
    assert!(
        both["p"]["id"].is_string() && both["q"]["id"].is_string(),
        "{both}"
    );
    let deleted = env
        .data(
            "mutation($b: ID!) { deleteUser(id: $b) }",
            json!({ "b": other.to_string() }),
        )
        .await;
    assert_eq!(deleted["deleteUser"], true);
}

// ---------------------------------------------------------------------------------------------
// CLI and metrics

#[test]
fn shard_of_and_explain_name_the_shards() {
    let shards =
        "postgres://u@127.0.0.1:1/s0,postgres://u@127.0.0.1:1/s1,postgres://u@127.0.0.1:1/s2";
    let cli = |args: &[&str], extra: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sharded"));
        command
            .args(args)
            .env("DATABASE_URL", "postgres://u@127.0.0.1:1/primary")
            .env("DATABASE_URL_SHARDS", shards)
            .env("FRAISEQL_SHARD_RANGES", RANGES)
            .env_remove("DATABASE_URL_PRIMARY");
        for (k, v) in extra {
            command.env(k, v);
        }
        let out = command.output().expect("run the example binary");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for key in [1_i64, 42, 1_000_000] {
        let (code, out, err) = cli(&["shard-of", "User", &key.to_string()], &[]);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out.trim(), format!("shard-{}", hash_shard(key, 3)));
    }
    assert_eq!(
        cli(&["shard-of", "Account", "1500"], &[]).1.trim(),
        "shard-1"
    );
    assert_eq!(cli(&["shard-of", "Country", "1"], &[]).1.trim(), "primary");
    let (code, _, err) = cli(&["shard-of", "Account", "0"], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no shard holds key 0"), "{err}");

    let dir = std::env::temp_dir().join(format!("fraiseql-sharded-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("q.graphql");
    std::fs::write(
        &file,
        "query($id: ID!) { user(id: $id) { name posts { title } country { name } } users(limit: 3) { id } }",
    )
    .expect("write the document");
    let file = file.to_str().expect("utf-8 path");
    let (code, out, err) = cli(&["explain", file, "--variables", "{\"id\": \"42\"}"], &[]);
    assert_eq!(code, Some(0), "{err}");
    let home = hash_shard(42, 3);
    assert!(
        out.contains(&format!("shards: shard {home} (User.id = 42)")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "shards: shard {home} (co-located with the parent rows)"
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "shards: all 3 in parallel; rows merged by the ordering, then offset and limit"
        ),
        "{out}"
    );
    assert!(
        out.contains("shards touched: all 3, and the primary (reference tables)"),
        "{out}"
    );
    let (_, out, _) = cli(&["explain", file], &[]);
    assert!(out.contains("the one shard holding $id (User.id)"), "{out}");

    // A scattered list selects what the document reads plus the ordering's columns (the merge
    // compares them), unless the request's variables choose the ordering.
    let select_list = |document: &str, variables: &str| {
        std::fs::write(dir.join("list.graphql"), document).expect("write the document");
        let list = dir.join("list.graphql");
        let list = list.to_str().expect("utf-8 path");
        let (code, out, err) = cli(&["explain", list, "--variables", variables], &[]);
        assert_eq!(code, Some(0), "{err}");
        let sql = out
            .lines()
            .find_map(|line| line.trim().strip_prefix("sql: SELECT "))
            .unwrap_or_else(|| panic!("no statement in {out}"));
        sql[..sql.find(" FROM ").expect("a FROM clause")].to_string()
    };
    assert_eq!(
        select_list("{ users(limit: 5) { name } }", "{}"),
        r#"CAST(0 AS BIGINT) AS __fraiseql_parent, t."id" AS "id", t."name" AS "name""#
    );
    assert_eq!(
        select_list(
            "{ users(limit: 5, orderBy: [{field: score, direction: DESC}]) { name } }",
            "{}"
        ),
        r#"CAST(0 AS BIGINT) AS __fraiseql_parent, t."id" AS "id", t."name" AS "name", t."score" AS "score""#
    );
    let _ = std::fs::remove_dir_all(&dir);

    // Configuration the server cannot use: exit status 2, naming the variable.
    let (code, _, err) = cli(
        &["shard-of", "User", "1"],
        &[("DATABASE_URL_SHARDS", "mysql://x")],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("DATABASE_URL_SHARDS=\"mysql://x\""), "{err}");
    let (code, _, err) = cli(
        &["shard-of", "User", "1"],
        &[("FRAISEQL_SHARD_RANGES", "1-10")],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("1 range(s) for 3 shard(s)"), "{err}");
    let (code, _, err) = cli(&["shard-of", "User", "1"], &[("FRAISEQL_SHARD_RANGES", "")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("Account is sharded by RANGE but FRAISEQL_SHARD_RANGES is not set"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shard_has_its_own_pool_gauges() {
    let env = Env::create("pools").await;
    env.data("{ users(limit: 1) { id } }", json!({})).await;
    let text = Metrics::new()
        .expect("metrics")
        .render(&env.database.pool_statuses(), &[]);
    let text = String::from_utf8_lossy(&text);
    for pool in ["primary", "shard-0", "shard-1", "shard-2"] {
        assert!(
            text.contains(&format!("fraiseql_db_pool_max{{pool=\"{pool}\"}}")),
            "{pool}:\n{text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Support

/// Random rows: users spread over random ids (so they hash to every shard), with repeated and
/// NULL values in every ordering column (ties and NULL ordering matter), posts per user, four
/// countries.
struct Dataset {
    users: Vec<UserRow>,
    posts: Vec<PostRow>,
}

struct UserRow {
    id: i64,
    name: String,
    nickname: Option<&'static str>,
    score: i64,
    created_at: &'static str,
    country: Option<i64>,
}

struct PostRow {
    id: i64,
    user: i64,
    title: &'static str,
    rating: Option<f64>,
    published: bool,
}

impl Dataset {
    fn random(rng: &mut Rng) -> Dataset {
        // Byte order and a locale's order disagree on these: case, accents, spaces.
        const NAMES: &[&str] = &[
            "ann", "Bob", "bob", "Émile", "zoe", "Zed", "al", "al b", "Al",
        ];
        const NICKS: &[&str] = &["x", "Y", "y", "ü"];
        const TIMES: &[&str] = &[
            "2026-01-01T00:00:00.000Z",
            "2026-01-01T00:00:00.001Z",
            "2025-06-30T12:30:00.500Z",
            "2027-03-04T05:06:07.089Z",
        ];
        const TITLES: &[&str] = &["a", "B", "b", "c c", "ç"];
        const RATINGS: &[f64] = &[-1.5, 0.0, 2.25, 10.0];
        let mut ids = BTreeSet::new();
        while ids.len() < 150 {
            ids.insert(1 + rng.below(100_000) as i64);
        }
        let mut ids: Vec<i64> = ids.into_iter().collect();
        rng.shuffle(&mut ids);
        let users: Vec<UserRow> = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| UserRow {
                id,
                name: format!("{} {}", NAMES[rng.below(NAMES.len())], i % 7),
                nickname: (rng.below(3) != 0).then(|| NICKS[rng.below(NICKS.len())]),
                score: rng.below(10) as i64,
                created_at: TIMES[rng.below(TIMES.len())],
                country: (rng.below(5) != 0).then(|| 1 + rng.below(4) as i64),
            })
            .collect();
        let mut posts = Vec::new();
        let mut post_id = 1_000_000;
        for user in &users {
            for _ in 0..rng.below(6) {
                post_id += 1 + rng.below(50) as i64;
                posts.push(PostRow {
                    id: post_id,
                    user: user.id,
                    title: TITLES[rng.below(TITLES.len())],
                    rating: (rng.below(4) != 0).then(|| RATINGS[rng.below(RATINGS.len())]),
                    published: rng.below(2) == 0,
                });
            }
        }
        Dataset { users, posts }
    }

    fn posts_of(&self, user: i64) -> Vec<&PostRow> {
        self.posts.iter().filter(|p| p.user == user).collect()
    }
}

fn sql_text(value: Option<&str>) -> String {
    value.map_or("NULL".into(), |v| format!("'{}'", v.replace('\'', "''")))
}

/// A primary and three shards (migrated, served together) and an oracle: one database holding
/// every table, served by the same schema without shards.
struct Env {
    admin_url: String,
    names: Vec<String>,
    primary_url: String,
    shard_urls: Vec<String>,
    oracle_url: String,
    database: Database,
    sharded: GraphqlService,
    single: GraphqlService,
}

impl Env {
    async fn create(purpose: &str) -> Env {
        let admin_url = std::env::var(PG_STATS_ENV).unwrap_or_else(|_| {
            panic!(
                "{PG_STATS_ENV} is not set. The shard tests need a PostgreSQL cluster with \
                 pg_stat_statements: run `bash scripts/test.sh`, or start one with \
                 `bash scripts/pg-instance.sh start 55475 target/pg-stats` and export \
                 {PG_STATS_ENV}=postgres://postgres@127.0.0.1:55475/postgres"
            )
        });
        let server = match admin_url.rsplit_once('/') {
            Some((server, _)) => server.to_string(),
            None => panic!("{PG_STATS_ENV} must end in /<database>, got {admin_url}"),
        };
        let prefix = format!("fraiseql_shards_{purpose}_{}", std::process::id());
        let mut names = vec![format!("{prefix}_primary"), format!("{prefix}_oracle")];
        names.extend((0..SHARDS).map(|i| format!("{prefix}_s{i}")));
        for name in &names {
            psql(
                &admin_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
            // A collation that is not byte order (a, b, B, e, é, Z): the server merges shards'
            // rows comparing bytes, so the databases must be told to order that way too.
            psql(
                &admin_url,
                &format!(
                    "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu \
                     ICU_LOCALE 'en-US' LOCALE 'C'"
                ),
            );
        }
        let url = |name: &str| format!("{server}/{name}");
        let primary_url = url(&names[0]);
        let oracle_url = url(&names[1]);
        let shard_urls: Vec<String> = names[2..].iter().map(|n| url(n)).collect();

        let settings = {
            let vars: BTreeMap<&str, String> = [
                ("DATABASE_URL_SHARDS", shard_urls.join(",")),
                ("FRAISEQL_SHARD_RANGES", RANGES.to_string()),
            ]
            .into_iter()
            .collect();
            let primary = DatabaseUrl::Postgres {
                url: primary_url.clone(),
            };
            shard_settings(&|k| vars.get(k).cloned(), &primary).expect("shard settings")
        };
        let pool = PoolSettings::default();
        let database = Database::connect(
            &DatabaseUrl::Postgres {
                url: primary_url.clone(),
            },
            &pool,
        )
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
        let oracle = Database::connect(
            &DatabaseUrl::Postgres {
                url: oracle_url.clone(),
            },
            &pool,
        )
        .await
        .expect("oracle");
        migrate::migrate(&SCHEMA, &oracle, false)
            .await
            .expect("migrate the oracle");

        let api = Arc::new(ApiSchema::load(&SCHEMA).expect("api schema"));
        let metrics = || Arc::new(Metrics::new().expect("metrics"));
        Env {
            sharded: GraphqlService::new(api.clone(), database.clone(), metrics()),
            single: GraphqlService::new(api, oracle, metrics()),
            admin_url,
            names,
            primary_url,
            shard_urls,
            oracle_url,
            database,
        }
    }

    /// The rows of `data`: countries on the primary, users and posts on their shards; all of
    /// them in the oracle.
    fn load(&self, data: &Dataset) {
        let countries = "INSERT INTO countries (id, name) VALUES (1, 'Chile'), (2, 'chad'), (3, 'Åland'), (4, 'Peru');";
        let mut shard_sql = vec![String::new(); SHARDS];
        let mut all = String::from(countries);
        for u in &data.users {
            let row = format!(
                "INSERT INTO users (id, name, nickname, score, created_at, country_id) VALUES ({}, {}, {}, {}, '{}', {});\n",
                u.id,
                sql_text(Some(&u.name)),
                sql_text(u.nickname),
                u.score,
                u.created_at,
                u.country.map_or("NULL".into(), |c| c.to_string())
            );
            shard_sql[hash_shard(u.id, SHARDS)].push_str(&row);
            all.push_str(&row);
        }
        for p in &data.posts {
            let row = format!(
                "INSERT INTO posts (id, title, rating, published, user_id) VALUES ({}, {}, {}, {}, {});\n",
                p.id,
                sql_text(Some(p.title)),
                p.rating.map_or("NULL".into(), |r| r.to_string()),
                p.published,
                p.user
            );
            // On its author's shard: the shard key is user_id.
            shard_sql[hash_shard(p.user, SHARDS)].push_str(&row);
            all.push_str(&row);
        }
        psql(&self.primary_url, countries);
        for (shard, sql) in shard_sql.iter().enumerate() {
            assert!(!sql.is_empty(), "every shard gets rows");
            psql(&self.shard_urls[shard], &format!("{sql} ANALYZE;"));
        }
        psql(&self.oracle_url, &format!("{all} ANALYZE;"));
    }

    async fn response(&self, query: &str, variables: Value) -> Value {
        run(&self.sharded, query, variables).await
    }

    /// `data` of the sharded service; panics on errors.
    async fn data(&self, query: &str, variables: Value) -> Value {
        let r = run(&self.sharded, query, variables).await;
        assert!(r.get("errors").is_none(), "{query}: {r}");
        r["data"].clone()
    }

    /// `data` of the single-database service; panics on errors.
    async fn oracle(&self, query: &str, variables: Value) -> Value {
        let r = run(&self.single, query, variables).await;
        assert!(r.get("errors").is_none(), "{query}: {r}");
        r["data"].clone()
    }

    fn databases(&self) -> Vec<(String, String)> {
        let mut all = vec![("primary".to_string(), self.names[0].clone())];
        all.extend((0..SHARDS).map(|i| (format!("shard-{i}"), self.names[2 + i].clone())));
        all
    }

    fn reset_statements(&self) {
        for (_, name) in self.databases() {
            psql(
                &self.admin_url,
                &format!(
                    "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = '{name}'), 0)"
                ),
            );
        }
    }

    /// Per database (`primary`, `shard-0`, …): statement text -> calls, for statements on the
    /// app's tables since the last reset.
    fn statements(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        for (label, name) in self.databases() {
            let rows = psql(
                &self.admin_url,
                &format!(
                    "SELECT calls, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements \
                     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{name}')"
                ),
            );
            let mut statements = BTreeMap::new();
            for line in rows.lines() {
                let Some((calls, query)) = line.split_once('|') else {
                    continue;
                };
                if !TABLES.iter().any(|t| query.contains(&format!("\"{t}\""))) {
                    continue;
                }
                let calls: u64 = calls.parse().expect("calls");
                *statements.entry(query.to_string()).or_insert(0) += calls;
            }
            out.insert(label, statements);
        }
        out
    }

    fn total_users(&self) -> u64 {
        self.shard_urls
            .iter()
            .map(|url| {
                psql(url, "SELECT count(*) FROM users")
                    .trim()
                    .parse::<u64>()
                    .expect("count")
            })
            .sum()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("psql")
                .args(["-X", "-q", "-d", &self.admin_url, "-c"])
                .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .output();
        }
    }
}

async fn run(service: &GraphqlService, query: &str, variables: Value) -> Value {
    let request = GraphqlRequest {
        query: query.to_string(),
        persisted: None,
        variables: serde_json::from_value(variables).expect("variables"),
        operation_name: None,
        headers: Default::default(),
    };
    let body = match service.handle(request, Transport::Post).await {
        Outcome::Executed(outcome) => outcome.body,
        Outcome::BadRequest(b)
        | Outcome::MethodNotAllowed(b)
        | Outcome::NotExecuted(b)
        | Outcome::PersistedQueryNotFound(b)
        | Outcome::Unauthenticated(b) => b,
    };
    serde_json::from_slice(&body).expect("JSON body")
}

/// Runs SQL with psql (script on stdin), returning unaligned, tuples-only output.
fn psql(url: &str, sql: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-f",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("psql (the PostgreSQL client) must be installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(sql.as_bytes())
        .expect("write SQL");
    let out = child.wait_with_output().expect("psql");
    assert!(
        out.status.success(),
        "psql failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        &sql[..sql.len().min(2000)]
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// splitmix64: a small seeded generator, so a failing case can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}
