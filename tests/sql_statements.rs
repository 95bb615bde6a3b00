//! What the database itself saw: the nested blog query answers correctly in exactly three SQL
//! statements on SQLite and on PostgreSQL, counted by the database (SQLite's statement trace,
//! PostgreSQL's `pg_stat_statements`), never by the server's own bookkeeping; and keyset pages
//! walk a list with no gaps or repeats while rows are inserted between pages.
//!
//! Every expected answer comes from an oracle in plain SQL (the `sqlite3` and `psql` command-line
//! clients) with the limits applied here in Rust, so no code of the server decides what is right.
//!
//! The PostgreSQL tests need the private cluster that `scripts/test.sh` starts (pg_stat_statements
//! loaded, nobody else's statements in the counts): `FRAISEQL_TEST_PG_STATS_URL`.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use support::TestServer;

const NESTED: &str =
    "{ users(limit: 50) { id name posts(limit: 5) { id title comments(limit: 3) { id body } } } }";
const PAGE: &str = "query Page($after: String) { users(limit: 7, orderBy: [{field: name}], after: $after) { id name _cursor } }";
const PAGE_SIZE: usize = 7;
const BLOG_TABLES: [&str; 3] = ["users", "posts", "comments"];
const PG_STATS_ENV: &str = "FRAISEQL_TEST_PG_STATS_URL";

// ---------------------------------------------------------------------------------------------
// SQLite

#[test]
fn nested_query_is_three_statements_on_sqlite() {
    let db = SqliteDb::new("nested");
    let trace = db.dir.join("statements.trace");
    let server = TestServer::start(&[
        ("DATABASE_URL", db.url().as_str()),
        (
            "FRAISEQL_SQLITE_TRACE",
            trace.to_str().expect("utf-8 temp path"),
        ),
    ]);

    vary_seed_data(&db);
    let expected = nested_oracle(&db);
    // The trace holds everything since the process started (creating and seeding the file);
    // only what the query adds counts.
    let before = std::fs::read(&trace).map(|b| b.len()).unwrap_or(0);
    let data = graphql_data(&server, NESTED, json!({}));
    let traced = std::fs::read(&trace).expect("the trace file exists once SQLite ran");
    let lines: Vec<String> = String::from_utf8_lossy(&traced[before..])
        .lines()
        .map(str::to_string)
        .collect();

    assert_eq!(
        data, expected,
        "the nested query's data differs from plain SQL"
    );
    let blog: Vec<&String> = lines.iter().filter(|sql| reads_blog_tables(sql)).collect();
    assert_eq!(
        blog.len(),
        3,
        "SQLite ran {} statements on the blog tables for the nested query (want 3):\n{}\n\nall statements traced during the request:\n{}",
        blog.len(),
        blog.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
        lines.join("\n")
    );
}

#[test]
fn keyset_pages_walk_the_list_on_sqlite_while_rows_are_inserted() {
    let db = SqliteDb::new("keyset");
    let server = TestServer::start(&[("DATABASE_URL", db.url().as_str())]);
    keyset_walk(&server, &db);
}

/// A fresh SQLite file in its own temporary directory (removed on drop); the server creates,
/// migrates and seeds it on first start.
struct SqliteDb {
    dir: PathBuf,
}

impl SqliteDb {
    fn new(name: &str) -> SqliteDb {
        let dir = std::env::temp_dir().join(format!(
            "fraiseql-sql-statements-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        SqliteDb { dir }
    }

    fn file(&self) -> PathBuf {
        self.dir.join("blog.db")
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.file().display())
    }
}

impl Drop for SqliteDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

#[test]
fn nested_query_is_three_statements_on_postgres() {
    let db = PgDb::create("nested");
    db.migrate_and_seed();
    let server = TestServer::start(&[("DATABASE_URL", db.url.as_str())]);

    vary_seed_data(&db);
    let expected = nested_oracle(&db);
    // Only this database's counters, so other databases on the cluster cannot disturb them.
    psql(
        &db.admin_url,
        &format!("SELECT pg_stat_statements_reset(0, {}, 0)", db.oid),
    );
    let data = graphql_data(&server, NESTED, json!({}));
    let stats = psql_json(
        &db.admin_url,
        &format!(
            "SELECT query, calls FROM pg_stat_statements WHERE dbid = {} ORDER BY query",
            db.oid
        ),
    );

    assert_eq!(
        data, expected,
        "the nested query's data differs from plain SQL"
    );
    let mut blog_calls = 0;
    let mut report = String::new();
    for row in stats.as_array().expect("rows") {
        let query = row["query"].as_str().unwrap_or_default();
        let calls = row["calls"].as_i64().expect("calls is a number");
        report.push_str(&format!("{calls:>4}  {query}\n"));
        if reads_blog_tables(query) {
            blog_calls += calls;
        }
    }
    assert_eq!(
        blog_calls, 3,
        "pg_stat_statements counted {blog_calls} calls of statements on the blog tables for the nested query (want 3):\n{report}"
    );
}

#[test]
fn keyset_pages_walk_the_list_on_postgres_while_rows_are_inserted() {
    let db = PgDb::create("keyset");
    db.migrate_and_seed();
    let server = TestServer::start(&[("DATABASE_URL", db.url.as_str())]);
    keyset_walk(&server, &db);
}

/// A database of this test's own on the pg_stat_statements cluster, dropped again on drop.
struct PgDb {
    /// The cluster's `postgres` database, where pg_stat_statements lives.
    admin_url: String,
    name: String,
    url: String,
    oid: i64,
}

impl PgDb {
    fn create(purpose: &str) -> PgDb {
        let admin_url = std::env::var(PG_STATS_ENV).unwrap_or_else(|_| {
            panic!(
                "{PG_STATS_ENV} is not set. The PostgreSQL statement-count tests need the private \
                 cluster with pg_stat_statements: run `bash scripts/test.sh` (it starts the cluster \
                 on port 55432 and sets {PG_STATS_ENV}), or start it yourself with \
                 `scripts/pg-instance.sh start 55432 target/pg-stats-cluster` and export \
                 {PG_STATS_ENV}=postgres://postgres@127.0.0.1:55432/postgres"
            )
        });
        let name = format!("fraiseql_sqlcount_{purpose}_{}", std::process::id());
        psql(&admin_url, &format!("DROP DATABASE IF EXISTS {name}"));
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        let oid = psql(
            &admin_url,
            &format!("SELECT oid FROM pg_database WHERE datname = '{name}'"),
        )
        .trim()
        .parse()
        .expect("database oid");
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{PG_STATS_ENV} must end in /<database>, got {admin_url}"),
        };
        PgDb {
            admin_url,
            name,
            url,
            oid,
        }
    }

    /// The binary's own `migrate` and `seed`, exactly as a user would run them.
    fn migrate_and_seed(&self) {
        for command in ["migrate", "seed"] {
            let output = support::run_cli(&[command], &[("DATABASE_URL", self.url.as_str())]);
            assert!(
                output.status.success(),
                "`fraiseql-blog {command}` failed:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        // Best effort: a server still connected keeps the database alive; WITH (FORCE) ends it.
        let _ = Command::new("psql")
            .args(["-X", "-q", "-d", &self.admin_url, "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

// ---------------------------------------------------------------------------------------------
// Oracles: plain SQL through each database's own command-line client.

/// Runs plain SQL against a test database: `rows` returns the result rows as JSON objects.
trait Oracle {
    fn rows(&self, sql: &str) -> Vec<Value>;
    fn execute(&self, sql: &str);
}

impl Oracle for SqliteDb {
    fn rows(&self, sql: &str) -> Vec<Value> {
        let out = run(Command::new("sqlite3")
            .arg("-json")
            .arg(self.file())
            .arg(sql));
        if out.trim().is_empty() {
            return Vec::new(); // sqlite3 -json prints nothing for no rows
        }
        match serde_json::from_str(&out) {
            Ok(Value::Array(rows)) => rows,
            other => panic!("sqlite3 -json printed {other:?} for {sql}"),
        }
    }

    fn execute(&self, sql: &str) {
        run(Command::new("sqlite3")
            .arg("-cmd")
            .arg(".timeout 5000")
            .arg(self.file())
            .arg(sql));
    }
}

impl Oracle for PgDb {
    fn rows(&self, sql: &str) -> Vec<Value> {
        match psql_json(&self.url, sql) {
            Value::Array(rows) => rows,
            other => panic!("psql printed {other} for {sql}"),
        }
    }

    fn execute(&self, sql: &str) {
        psql(&self.url, sql);
    }
}

/// The seed gives every user 10 posts and every post 3 comments. Among the first users, give one
/// post more comments than the limit, one post none, and one user no posts, so that the limits
/// and the empty lists are exercised.
fn vary_seed_data(db: &dyn Oracle) {
    let user = |n: u32| format!("(SELECT id FROM users ORDER BY id LIMIT 1 OFFSET {n})");
    db.execute(&format!(
        "INSERT INTO comments (body, created_at, post_id, user_id) \
         SELECT body || ' (again)', created_at, post_id, user_id FROM comments \
         WHERE post_id = (SELECT min(id) FROM posts WHERE user_id = {})",
        user(0)
    ));
    db.execute(&format!(
        "DELETE FROM comments WHERE post_id = \
         (SELECT id FROM posts WHERE user_id = {} ORDER BY id LIMIT 1 OFFSET 1)",
        user(1)
    ));
    db.execute(&format!(
        "DELETE FROM comments WHERE post_id IN (SELECT id FROM posts WHERE user_id = {})",
        user(2)
    ));
    db.execute(&format!("DELETE FROM posts WHERE user_id = {}", user(2)));
}

/// The nested query's answer, from three flat SQL reads with the per-parent limits applied here.
fn nested_oracle(db: &dyn Oracle) -> Value {
    let users = db.rows("SELECT id, name FROM users ORDER BY id LIMIT 50");
    let posts = db.rows(
        "SELECT id, user_id, title FROM posts \
         WHERE user_id IN (SELECT id FROM users ORDER BY id LIMIT 50) ORDER BY user_id, id",
    );
    let comments = db.rows(
        "SELECT id, post_id, body FROM comments WHERE post_id IN (SELECT id FROM posts \
         WHERE user_id IN (SELECT id FROM users ORDER BY id LIMIT 50)) ORDER BY post_id, id",
    );
    assert_eq!(users.len(), 50, "the seeded database has at least 50 users");

    let mut posts_by_user: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
    for post in &posts {
        posts_by_user
            .entry(int(&post["user_id"]))
            .or_default()
            .push(post);
    }
    let mut comments_by_post: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
    for comment in &comments {
        comments_by_post
            .entry(int(&comment["post_id"]))
            .or_default()
            .push(comment);
    }
    // Without parents that have more rows than the limit, the per-parent limits go untested.
    assert!(
        posts_by_user.values().any(|p| p.len() > 5),
        "no user has more than 5 posts: the seed data does not exercise posts(limit: 5)"
    );
    assert!(
        comments_by_post.values().any(|c| c.len() > 3),
        "no post has more than 3 comments: the seed data does not exercise comments(limit: 3)"
    );

    let post_ids: Vec<i64> = posts.iter().map(|p| int(&p["id"])).collect();
    assert!(
        users
            .iter()
            .any(|u| !posts_by_user.contains_key(&int(&u["id"]))),
        "no user without posts: the empty list is not exercised"
    );
    assert!(
        post_ids.iter().any(|id| !comments_by_post.contains_key(id)),
        "no post without comments: the empty list is not exercised"
    );

    let users: Vec<Value> = users
        .iter()
        .map(|user| {
            let posts: Vec<Value> = posts_by_user
                .get(&int(&user["id"]))
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .take(5)
                .map(|post| {
                    let comments: Vec<Value> = comments_by_post
                        .get(&int(&post["id"]))
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                        .iter()
                        .take(3)
                        .map(|c| json!({"id": id(&c["id"]), "body": c["body"]}))
                        .collect();
                    json!({"id": id(&post["id"]), "title": post["title"], "comments": comments})
                })
                .collect();
            json!({"id": id(&user["id"]), "name": user["name"], "posts": posts})
        })
        .collect();
    json!({ "users": users })
}

fn int(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().expect("integer key"),
        Value::String(s) => s.parse().expect("integer key"),
        other => panic!("not a key: {other}"),
    }
}

/// GraphQL serializes `ID` as a string.
fn id(value: &Value) -> Value {
    Value::String(int(value).to_string())
}

/// Whether a statement's text reads one of the blog tables (a whole-word match, so that
/// `pg_stat_statements` or a column alias does not count).
fn reads_blog_tables(sql: &str) -> bool {
    sql.to_ascii_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| BLOG_TABLES.contains(&word))
}

// ---------------------------------------------------------------------------------------------
// Keyset pagination

/// Walks `users` ordered by name, 7 rows a page, each page `after` the previous page's last
/// `_cursor`. Midway, plain SQL inserts three users: one sorting before the cursor (it must not
/// appear: it belongs to pages already read), one sorting after it, and one with the cursor row's
/// own name (the id breaks the tie, and the new id is the largest, so it sorts after). The walk
/// must equal the database's final `ORDER BY name, id` minus the row inserted behind the cursor.
fn keyset_walk(server: &TestServer, db: &dyn Oracle) {
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut after = Value::Null;
    let mut inserted_behind: Option<String> = None;
    let mut inserted_ahead: Vec<String> = Vec::new();
    for page_number in 0.. {
        assert!(page_number < 1000, "the walk does not end");
        let data = graphql_data(server, PAGE, json!({ "after": after }));
        let page = data["users"].as_array().expect("users is a list").clone();
        if page.is_empty() {
            break;
        }
        assert!(
            page.len() <= PAGE_SIZE,
            "page {page_number} has {} rows",
            page.len()
        );
        for row in &page {
            let name = row["name"].as_str().expect("name is a string").to_string();
            seen.push((int(&row["id"]), name));
        }
        let last = page.last().expect("non-empty page");
        let cursor = last["_cursor"].as_str().expect("_cursor is a string");
        assert!(!cursor.is_empty(), "empty _cursor");
        after = Value::String(cursor.to_string());

        if page_number == 10 {
            let cursor_name = last["name"].as_str().expect("name").to_string();
            let first_name = seen[0].1.clone();
            assert!(
                first_name < cursor_name,
                "test setup: the 11th page must start after the first name"
            );
            let ahead = "~~~ inserted after the cursor".to_string();
            assert!(
                ahead > cursor_name,
                "test setup: {ahead:?} must sort after {cursor_name:?}"
            );
            for (name, tag) in [
                (&first_name, "behind"),
                (&ahead, "ahead"),
                (&cursor_name, "tie"),
            ] {
                db.execute(&format!(
                    "INSERT INTO users (name, email, created_at) \
                     SELECT '{}', 'keyset-{tag}@example.com', created_at FROM users ORDER BY id LIMIT 1",
                    name.replace('\'', "''")
                ));
            }
            inserted_behind = Some(first_name);
            inserted_ahead = vec![ahead, cursor_name];
        }
    }

    let ids: Vec<i64> = seen.iter().map(|(id, _)| *id).collect();
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a row appeared on two pages");

    let behind_id = db
        .rows("SELECT id FROM users WHERE email = 'keyset-behind@example.com'")
        .first()
        .map(|row| int(&row["id"]))
        .expect("the row inserted behind the cursor exists");
    let expected: Vec<i64> = db
        .rows("SELECT id FROM users ORDER BY name, id")
        .iter()
        .map(|row| int(&row["id"]))
        .filter(|id| *id != behind_id)
        .collect();
    assert!(
        inserted_behind.is_some() && inserted_ahead.len() == 2,
        "the walk ended before rows were inserted"
    );
    for email in ["keyset-ahead@example.com", "keyset-tie@example.com"] {
        let id = int(&db.rows(&format!("SELECT id FROM users WHERE email = '{email}'"))[0]["id"]);
        assert!(
            ids.contains(&id),
            "the row inserted after the cursor ({email}) never appeared"
        );
    }
    assert!(
        !ids.contains(&behind_id),
        "the row inserted behind the cursor appeared"
    );
    if ids != expected {
        let first_difference = ids.iter().zip(&expected).position(|(a, b)| a != b);
        panic!(
            "the walk differs from ORDER BY name, id: {} rows walked, {} expected, first difference at {:?}",
            ids.len(),
            expected.len(),
            first_difference
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// POSTs a query and returns its `data`, failing on transport or GraphQL errors.
fn graphql_data(server: &TestServer, query: &str, variables: Value) -> Value {
    let response = server.query(query, variables);
    assert!(response.get("errors").is_none(), "{query}: {response}");
    response["data"].clone()
}

fn psql(url: &str, sql: &str) -> String {
    run(Command::new("psql")
        .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c"])
        .arg(sql))
}

/// The rows of `sql` as one JSON array, built by PostgreSQL (`json_agg` over the rows).
fn psql_json(url: &str, sql: &str) -> Value {
    let out = psql(
        url,
        &format!("SELECT coalesce(json_agg(r), '[]'::json) FROM ({sql}) AS r"),
    );
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("psql printed {out:?}: {e}"))
}

fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e} (scripts/test.sh installs it)"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}
