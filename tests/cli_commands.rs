//! The command line of the `fraiseql-blog` binary, run as a user would: `serve` refusing invalid
//! configuration and a database that drifted from the schema, `migrate` (and its `--dry-run`),
//! `check`, `seed`, `print-schema` and `explain`. Each test works on SQLite files in a temporary
//! folder of its own, which is also the working directory of every command (so the default
//! `sqlite://fraiseql.db` could never touch the repository's file). Drift is made with the
//! `sqlite3` command-line shell, which `scripts/test.sh` installs.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{free_port, temp_dir, BIN};

/// What a finished command printed and how it exited.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the binary with `args` in `dir` (the environment cleared of database variables, then
/// `envs`), killing it and failing the test if it has not exited after `limit`.
fn run_in(dir: &Path, args: &[&str], envs: &[(&str, &str)], limit: Duration) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_URL_PRIMARY")
        .env_remove("FRAISEQL_BIND")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn the binary");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the binary") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`{} {}` did not exit within {limit:?}; stderr so far:\n{}",
                BIN,
                args.join(" "),
                err_reader.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// A temporary folder and the SQLite URL of `blog.db` in it.
struct Workspace {
    dir: PathBuf,
    db: PathBuf,
    url: String,
}

impl Workspace {
    fn new(tag: &str) -> Workspace {
        let dir = temp_dir(tag);
        let db = dir.join("blog.db");
        let url = format!("sqlite://{}", db.display());
        Workspace { dir, db, url }
    }

    /// Runs a command on this workspace's database (one minute at most).
    fn run(&self, args: &[&str]) -> Run {
        run_in(
            &self.dir,
            args,
            &[("DATABASE_URL", self.url.as_str())],
            Duration::from_secs(60),
        )
    }

    /// `serve` on this database and a free port; it must exit by itself within a minute.
    fn serve_must_exit(&self) -> Run {
        let bind = format!("127.0.0.1:{}", free_port());
        run_in(
            &self.dir,
            &["serve"],
            &[
                ("DATABASE_URL", self.url.as_str()),
                ("FRAISEQL_BIND", bind.as_str()),
            ],
            Duration::from_secs(60),
        )
    }

    /// Output of the `sqlite3` shell on this database.
    fn sqlite3(&self, sql: &str) -> String {
        let output = Command::new("sqlite3")
            .arg(&self.db)
            .arg(sql)
            .output()
            .expect("run sqlite3 (install it: apt-get install sqlite3; scripts/test.sh does)");
        assert!(
            output.status.success(),
            "sqlite3 {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }

    /// Every table, index and their SQL, as SQLite stores them.
    fn catalog(&self) -> String {
        self.sqlite3("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
    }

    fn migrated(tag: &str) -> Workspace {
        let ws = Workspace::new(tag);
        let run = ws.run(&["migrate"]);
        assert!(run.success(), "migrate: {run}");
        ws
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn serve_refuses_an_unknown_database_url_with_exit_code_2() {
    let ws = Workspace::new("cli-bad-url");
    let bind = format!("127.0.0.1:{}", free_port());
    let run = run_in(
        &ws.dir,
        &["serve"],
        &[("DATABASE_URL", "mysql://x"), ("FRAISEQL_BIND", &bind)],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains("DATABASE_URL=\"mysql://x\" is not a database URL"),
        "{run}"
    );
    assert!(
        run.stderr.contains("sqlite://"),
        "says what would do: {run}"
    );

    // The alias wins and is the one named.
    let run = run_in(
        &ws.dir,
        &["serve"],
        &[
            ("DATABASE_URL", ws.url.as_str()),
            ("DATABASE_URL_PRIMARY", "mysql://x"),
            ("FRAISEQL_BIND", &bind),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr.contains("DATABASE_URL_PRIMARY=\"mysql://x\""),
        "{run}"
    );
    assert!(!ws.db.exists(), "no database may be created");

    // The one-shot commands read the same variable.
    let run = run_in(
        &ws.dir,
        &["migrate"],
        &[("DATABASE_URL", "mysql://x")],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("mysql://x"), "{run}");
}

#[test]
fn serve_refuses_an_invalid_bind_address_with_exit_code_2() {
    let ws = Workspace::new("cli-bad-bind");
    let run = run_in(
        &ws.dir,
        &["serve"],
        &[("DATABASE_URL", ws.url.as_str()), ("FRAISEQL_BIND", "abc")],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains("FRAISEQL_BIND=\"abc\" is not an address like 127.0.0.1:8080"),
        "{run}"
    );
    assert!(
        !ws.db.exists(),
        "configuration is checked before the database is created"
    );
}

#[test]
fn serve_refuses_an_invalid_log_filter_with_exit_code_2() {
    let ws = Workspace::new("cli-bad-log");
    let bind = format!("127.0.0.1:{}", free_port());
    let run = run_in(
        &ws.dir,
        &["serve"],
        &[
            ("DATABASE_URL", ws.url.as_str()),
            ("FRAISEQL_BIND", &bind),
            ("RUST_LOG", "info,fraiseql=loud"),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains("RUST_LOG=\"info,fraiseql=loud\" is not a log filter"),
        "{run}"
    );
    assert!(!ws.db.exists(), "refused before the database is created");
}

#[test]
fn an_unreachable_database_is_reported_as_such_not_as_drift() {
    let ws = Workspace::new("cli-unreachable");
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let url = "postgres://postgres@127.0.0.1:1/blog";
    let bind = format!("127.0.0.1:{}", free_port());
    for args in [&["serve"][..], &["check"][..], &["migrate"][..]] {
        let run = run_in(
            &ws.dir,
            args,
            &[("DATABASE_URL", url), ("FRAISEQL_BIND", &bind)],
            Duration::from_secs(60),
        );
        assert_eq!(run.code, Some(1), "{args:?}: {run}");
        assert!(
            run.stderr.contains("the database does not answer"),
            "{args:?}: {run}"
        );
        assert!(!run.stderr.contains("hint"), "{args:?}: {run}");
    }
}

#[test]
fn serve_and_check_refuse_a_database_that_lost_a_column() {
    let ws = Workspace::migrated("cli-drift");
    let run = ws.run(&["check"]);
    assert!(run.success(), "a migrated database matches: {run}");
    assert!(run.stdout.contains("ok"), "{run}");

    ws.sqlite3("ALTER TABLE users DROP COLUMN bio");

    let run = ws.serve_must_exit();
    assert!(!run.success(), "serve must refuse: {run}");
    assert!(
        run.stderr
            .contains("the database does not match the schema"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("table \"users\" is missing column \"bio\""),
        "{run}"
    );
    assert!(
        run.stderr.contains("hint: run \"fraiseql-blog migrate\""),
        "{run}"
    );

    let run = ws.run(&["check"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout
            .contains("- table \"users\" is missing column \"bio\""),
        "{run}"
    );

    // migrate repairs it, after which check passes again.
    let run = ws.run(&["migrate"]);
    assert!(run.success(), "{run}");
    assert_eq!(
        run.stdout.trim(),
        "ALTER TABLE \"users\" ADD COLUMN \"bio\" TEXT;",
        "{run}"
    );
    let run = ws.run(&["check"]);
    assert!(run.success(), "{run}");
}

#[test]
fn serve_and_check_refuse_a_database_that_lost_a_table() {
    let ws = Workspace::migrated("cli-drift-table");
    ws.sqlite3("DROP TABLE comments");
    let run = ws.serve_must_exit();
    assert!(!run.success(), "serve must refuse: {run}");
    assert!(
        run.stderr.contains("table \"comments\" is missing"),
        "{run}"
    );
    assert!(run.stderr.contains("migrate"), "{run}");
    let run = ws.run(&["check"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains("table \"comments\" is missing"),
        "{run}"
    );
}

#[test]
fn migrate_prints_its_ddl_and_a_second_run_has_nothing_to_do() {
    let ws = Workspace::new("cli-migrate");
    let first = ws.run(&["migrate"]);
    assert!(first.success(), "{first}");
    for table in ["users", "posts", "comments"] {
        assert!(
            first
                .stdout
                .contains(&format!("CREATE TABLE \"{table}\" (")),
            "{table}: {first}"
        );
    }
    assert!(first.stdout.contains("CREATE INDEX"), "{first}");
    let statements = first.stdout.lines().filter(|l| l.ends_with(';')).count();
    assert!(
        first
            .stderr
            .contains(&format!("applied {statements} statement(s)")),
        "{first}"
    );
    let tables = ws.sqlite3("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    assert_eq!(tables, "comments\nposts\nusers\n");

    let before = ws.catalog();
    let second = ws.run(&["migrate"]);
    assert!(second.success(), "{second}");
    assert_eq!(
        second.stdout,
        "nothing to do: the database already has every table, column and index\n"
    );
    assert_eq!(
        ws.catalog(),
        before,
        "the second migrate changed the schema"
    );
    let dry = ws.run(&["migrate", "--dry-run"]);
    assert!(dry.success(), "{dry}");
    assert!(dry.stdout.starts_with("nothing to do"), "{dry}");
}

#[test]
fn migrate_dry_run_prints_create_table_and_creates_nothing() {
    let ws = Workspace::new("cli-dry-run");
    let dry = ws.run(&["migrate", "--dry-run"]);
    assert!(dry.success(), "{dry}");
    assert!(dry.stdout.contains("CREATE TABLE \"users\" ("), "{dry}");
    assert!(dry.stdout.contains("CREATE TABLE \"comments\" ("), "{dry}");
    assert!(!dry.stderr.contains("applied"), "{dry}");
    assert_eq!(
        ws.sqlite3("SELECT count(*) FROM sqlite_master"),
        "0\n",
        "a dry run created something"
    );

    // The real run does exactly what the dry run said.
    let real = ws.run(&["migrate"]);
    assert!(real.success(), "{real}");
    assert_eq!(real.stdout, dry.stdout);
}

#[test]
fn print_schema_prints_the_api_sdl() {
    let ws = Workspace::new("cli-print-schema");
    let run = ws.run(&["print-schema"]);
    assert!(run.success(), "{run}");
    assert!(run.stdout.contains("type Query {"), "{run}");
    let contract = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/api-schema-blog.graphql"
    ))
    .expect("docs/api-schema-blog.graphql");
    assert_eq!(run.stdout, contract, "the documented API schema");
    assert!(!ws.db.exists(), "print-schema needs no database");
}

#[test]
fn explain_lists_one_statement_per_level_with_routes_and_cache_policies() {
    let ws = Workspace::new("cli-explain");
    let nested = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nested.graphql");
    let run = ws.run(&["explain", nested]);
    assert!(run.success(), "{run}");
    let text = &run.stdout;
    assert!(
        text.starts_with("query Nested: 3 SQL statement(s) on SQLite\n"),
        "{run}"
    );
    for header in [
        "#1 users  (User rows from \"users\")",
        "#2 users.posts  (Post rows from \"posts\")",
        "#3 users.posts.comments  (Comment rows from \"comments\")",
    ] {
        assert!(text.contains(header), "{header}: {run}");
    }
    assert_eq!(text.matches("   route: primary\n").count(), 3, "{run}");
    // `users` is @cache(ttl: 60, scope: PUBLIC); the relations below it have no policy.
    assert_eq!(
        text.matches("   cache: public, max-age=60\n").count(),
        1,
        "{run}"
    );
    assert_eq!(
        text.matches("   cache: none (not cacheable)\n").count(),
        2,
        "{run}"
    );
    assert_eq!(
        text.matches("   batched: one statement for all parents")
            .count(),
        2,
        "{run}"
    );
    assert_eq!(text.matches("   sql: SELECT ").count(), 3, "{run}");
    assert!(text.contains("response cache policy: no-store"), "{run}");
    assert!(!ws.db.exists(), "explain needs no database");

    // Routes and cache policies declared in the schema: `user` is @cache(ttl: 3600, scope:
    // PUBLIC), `posts` is @replica(maxLag: 5000). On PostgreSQL, without connecting.
    let file = ws.dir.join("routes.graphql");
    std::fs::write(&file, "{ user(id: 1) { name } posts(limit: 2) { title } }").unwrap();
    let run = run_in(
        &ws.dir,
        &["explain", file.to_str().unwrap()],
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
        Duration::from_secs(60),
    );
    assert!(run.success(), "{run}");
    assert!(
        run.stdout
            .starts_with("query (anonymous): 2 SQL statement(s) on PostgreSQL\n"),
        "{run}"
    );
    assert!(
        run.stdout.contains(
            "#1 user  (User rows from \"users\")\n   route: primary\n   cache: public, max-age=3600\n"
        ),
        "{run}"
    );
    assert!(
        run.stdout.contains(
            "#2 posts  (Post rows from \"posts\")\n   route: replica (max lag 5000 ms)\n   cache: none (not cacheable)\n"
        ),
        "{run}"
    );
}

#[test]
fn explain_rejects_invalid_documents_and_variables() {
    let ws = Workspace::new("cli-explain-invalid");
    let file = ws.dir.join("bad.graphql");
    std::fs::write(&file, "{\n  users(limit: 1) {\n    nope\n  }\n}\n").unwrap();
    let run = ws.run(&["explain", file.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
    assert!(run.stderr.contains("the document is not valid"), "{run}");
    assert!(run.stderr.contains("nope"), "names the field: {run}");

    std::fs::write(&file, "{ users(limit: 1) { id ").unwrap();
    let run = ws.run(&["explain", file.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("the document is not valid"), "{run}");

    let missing = ws.dir.join("missing.graphql");
    let run = ws.run(&["explain", missing.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("cannot read"), "{run}");

    std::fs::write(&file, "query ($n: Int) { users(limit: $n) { id } }").unwrap();
    let run = ws.run(&[
        "explain",
        file.to_str().unwrap(),
        "--variables",
        r#"{"n": "ten"}"#,
    ]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("--variables"), "{run}");
    let run = ws.run(&["explain", file.to_str().unwrap(), "--variables", "{"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr.contains("--variables is not a JSON object"),
        "{run}"
    );
    let run = ws.run(&[
        "explain",
        file.to_str().unwrap(),
        "--variables",
        r#"{"n": 2}"#,
    ]);
    assert!(run.success(), "good variables: {run}");
}

#[test]
fn seed_refuses_a_database_that_has_rows() {
    let ws = Workspace::migrated("cli-seed");
    let run = ws.run(&["seed"]);
    assert!(run.success(), "{run}");
    assert!(
        run.stdout
            .starts_with("seeded 1000 users, 10000 posts, 30000 comments in "),
        "{run}"
    );
    let counts = "SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM posts) \
                  || ' ' || (SELECT count(*) FROM comments)";
    assert_eq!(ws.sqlite3(counts), "1000 10000 30000\n");

    let again = ws.run(&["seed"]);
    assert_eq!(again.code, Some(1), "{again}");
    assert!(
        again.stderr.contains(
            "refusing to seed: table \"users\" already has rows (seed only fills empty tables)"
        ),
        "{again}"
    );
    assert_eq!(ws.sqlite3(counts), "1000 10000 30000\n", "nothing inserted");
}

/// `check` "reads the catalog only and changes nothing", and `migrate --dry-run` only prints; on
/// a SQLite path with no file yet, neither may create the file: `serve` treats a missing file as
/// new (creates, migrates and seeds it), but an existing empty file as drift and refuses to start.
#[test]
fn check_and_dry_run_on_a_missing_file_do_not_stop_serve_from_creating_it() {
    for args in [&["check"][..], &["migrate", "--dry-run"][..]] {
        let ws = Workspace::new("cli-no-file");
        let run = ws.run(args);
        assert!(
            !ws.db.exists(),
            "`{}` on a missing SQLite file created it: {run}",
            args.join(" ")
        );
        let server = support::TestServer::start(&[("DATABASE_URL", ws.url.as_str())]);
        let body = server.query("{ users(limit: 1) { id } }", serde_json::json!({}));
        assert_eq!(body, serde_json::json!({"data": {"users": [{"id": "1"}]}}));
    }
}

#[test]
fn bad_pool_settings_are_refused_with_exit_code_2_by_every_command() {
    let ws = Workspace::new("cli-bad-pool");
    let bind = format!("127.0.0.1:{}", free_port());
    for (variable, value) in [
        ("FRAISEQL_POOL_MAX", "0"),
        ("FRAISEQL_POOL_ACQUIRE_TIMEOUT_MS", "soon"),
        ("FRAISEQL_STATEMENT_CACHE", "maybe"),
    ] {
        for command in ["serve", "migrate"] {
            let run = run_in(
                &ws.dir,
                &[command],
                &[
                    ("DATABASE_URL", ws.url.as_str()),
                    ("FRAISEQL_BIND", &bind),
                    (variable, value),
                ],
                Duration::from_secs(60),
            );
            assert_eq!(run.code, Some(2), "{command} {variable}={value}: {run}");
            assert!(
                run.stderr
                    .contains(&format!("{variable}=\"{value}\" is not ")),
                "{run}"
            );
        }
    }
}

#[test]
fn bad_replica_settings_stop_serve_with_exit_code_2() {
    let ws = Workspace::new("cli-bad-replicas");
    let bind = format!("127.0.0.1:{}", free_port());
    let pg = "postgres://postgres@127.0.0.1:1/none";
    for (envs, expected) in [
        (
            vec![("FRAISEQL_READS", "replicas")],
            "FRAISEQL_READS=\"replicas\" is not ",
        ),
        (
            vec![("FRAISEQL_REPLICA_MAX_LAG_MS", "-5")],
            "FRAISEQL_REPLICA_MAX_LAG_MS=\"-5\" is not ",
        ),
        (
            vec![("FRAISEQL_REPLICA_PROBE_MS", "1")],
            "FRAISEQL_REPLICA_PROBE_MS=\"1\" is not ",
        ),
        (
            vec![("DATABASE_URL_REPLICA", "mysql://replica/db")],
            "DATABASE_URL_REPLICA=\"mysql://replica/db\" is not a database URL",
        ),
        (
            // The primary is the workspace's SQLite file.
            vec![("DATABASE_URL_REPLICA", pg)],
            "DATABASE_URL_REPLICA is set but the primary (DATABASE_URL) is SQLite",
        ),
    ] {
        let mut all = vec![("DATABASE_URL", ws.url.as_str()), ("FRAISEQL_BIND", &bind)];
        all.extend(envs.iter().copied());
        let run = run_in(&ws.dir, &["serve"], &all, Duration::from_secs(60));
        assert_eq!(run.code, Some(2), "{envs:?}: {run}");
        assert!(run.stderr.contains(expected), "{run}");
    }
    // `explain` prints routes as FRAISEQL_READS resolves them, so it refuses a bad one too.
    let query = ws.dir.join("q.graphql");
    std::fs::write(&query, "{ users(limit: 1) { id } }").expect("write the query");
    let file = query.to_str().expect("utf-8 path");
    let run = run_in(
        &ws.dir,
        &["explain", file],
        &[("FRAISEQL_READS", "all")],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(2), "{run}");
    let run = run_in(
        &ws.dir,
        &["explain", file],
        &[
            ("FRAISEQL_READS", "replica"),
            ("FRAISEQL_REPLICA_MAX_LAG_MS", "250"),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout
            .contains("route: replica (max lag 250 ms; FRAISEQL_READS=replica)"),
        "{run}"
    );
}

#[test]
fn explain_analyze_runs_the_statements_and_names_the_missing_index() {
    let ws = Workspace::new("cli-explain-analyze");
    for command in ["migrate", "seed"] {
        let run = ws.run(&[command]);
        assert_eq!(run.code, Some(0), "{run}");
    }
    let file = ws.dir.join("q.graphql");
    // A filter on an unindexed column of a 1,000-row table, and a relation the planner batches
    // through the foreign-key index.
    let name = ws.sqlite3("SELECT name FROM users ORDER BY id LIMIT 1");
    std::fs::write(
        &file,
        "query($n: String!) { users(limit: 5, where: {name: {eq: $n}}) { id posts(limit: 2) { id } } }",
    )
    .unwrap();
    let variables = serde_json::json!({"n": name.trim()}).to_string();
    let run = ws.run(&[
        "explain",
        "--analyze",
        file.to_str().unwrap(),
        "--variables",
        &variables,
    ]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout
            .starts_with("2 statement(s) run; 1 full scan(s) of large tables"),
        "{run}"
    );
    assert!(
        run.stdout.contains("! full scan of \"users\" (1000 rows)"),
        "{run}"
    );
    assert!(
        run.stdout.contains("CREATE INDEX ON \"users\" (\"name\");"),
        "{run}"
    );
    assert_eq!(
        run.stdout.matches("! full scan").count(),
        1,
        "posts are read by index: {run}"
    );

    // With the index, nothing is flagged.
    ws.sqlite3("CREATE INDEX idx_users_name ON users (name)");
    let run = ws.run(&[
        "explain",
        "--analyze",
        file.to_str().unwrap(),
        "--variables",
        &variables,
    ]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.contains("0 full scan(s)"), "{run}");

    // A mutation would write: refused.
    std::fs::write(&file, "mutation { deleteComment(id: 1) }").unwrap();
    let run = ws.run(&["explain", "--analyze", file.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("query documents only"), "{run}");
    assert_eq!(
        ws.sqlite3("SELECT count(*) FROM comments WHERE id = 1")
            .trim(),
        "1"
    );
}
