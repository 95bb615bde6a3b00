//! Pools against the real PostgreSQL server (a database of each test's own on 127.0.0.1:5432):
//! a read that finds its connection terminated runs again on a new one (never inside a
//! transaction), a write that reaches a read-only server recycles the pool, a statement past
//! `statement_timeout` fails cleanly and leaves its connection usable, idle connections are
//! closed and reopened to the minimum, and `sslmode` URLs are encrypted (and verified).

mod db_support;

use std::time::{Duration, Instant};

use db_support::{blog, settings, TestPg, PG_SERVER};
use fraiseql_runtime::db::{Database, DatabaseUrl, DbError, PoolSettings, Session};

/// One number from the server, loaded as a typed row (`users.id`) through [`Session::load`],
/// the path every query takes.
async fn number(session: &mut Session, expression: &str) -> Result<i64, DbError> {
    let sql = format!(
        "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, CAST(({expression}) AS BIGINT) AS id, \
         NULL AS name, NULL AS email, NULL AS bio, NULL AS created_at"
    );
    let rows = session.load(blog::SCHEMA.types[0].rows, &sql, &[]).await?;
    Ok(rows.int_column(0, 0).expect("one row with a number"))
}

async fn terminate(db: &Database, pid: i64) {
    let mut admin = db.session().await.unwrap();
    admin
        .execute_batch(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .unwrap();
}

/// Waits until the server no longer lists the backend, so the client side has surely seen
/// the connection end by the time the test uses it.
async fn wait_gone(db: &Database, pid: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut s = db.session().await.unwrap();
        let left = number(
            &mut s,
            &format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"),
        )
        .await
        .unwrap();
        if left == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "backend {pid} still there");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_read_on_a_terminated_connection_runs_again_on_a_new_one() {
    let pg = TestPg::new("pools_read_retry");
    // With the statement cache off a read runs in a transaction of its own, which the broken
    // connection leaves in an unknown state: it is retried all the same.
    for statement_cache in [true, false] {
        let db = pg
            .connect(&PoolSettings {
                statement_cache,
                ..settings(3, 2000)
            })
            .await;
        let mut session = db.session().await.unwrap();
        let pid = number(&mut session, "pg_backend_pid()").await.unwrap();
        terminate(&db, pid).await;
        wait_gone(&db, pid).await;

        // The session still holds the dead connection: no checkout can have noticed.
        let again = number(&mut session, "pg_backend_pid()").await.unwrap();
        assert_ne!(
            again, pid,
            "a new connection answered (cache {statement_cache})"
        );
        // And the replacement serves the rest of the session.
        assert_eq!(number(&mut session, "1 + 1").await.unwrap(), 2);
        drop(session);
        assert_eq!(db.pool_status().in_use, 0);
    }
}

#[tokio::test]
async fn inside_a_transaction_nothing_is_run_again() {
    let pg = TestPg::new("pools_no_retry_in_tx");
    let db = pg.connect(&settings(3, 2000)).await;
    let mut session = db.session().await.unwrap();
    session.begin().await.unwrap();
    let pid = number(&mut session, "pg_backend_pid()").await.unwrap();
    terminate(&db, pid).await;
    wait_gone(&db, pid).await;
    let err = number(&mut session, "1").await.unwrap_err();
    assert!(err.is_connection_lost(), "{err}");
    assert!(session.transaction_open());
    let _ = session.rollback().await;
    drop(session);

    // `begin` on a dead connection is safe to repeat: nothing of the transaction ran.
    let mut session = db.session().await.unwrap();
    let pid = number(&mut session, "pg_backend_pid()").await.unwrap();
    terminate(&db, pid).await;
    wait_gone(&db, pid).await;
    session.begin().await.unwrap();
    assert_ne!(number(&mut session, "pg_backend_pid()").await.unwrap(), pid);
    session.commit().await.unwrap();
}

#[tokio::test]
async fn a_write_on_a_read_only_server_recycles_the_pool() {
    let pg = TestPg::new("pools_read_only");
    let admin = pg.connect(&settings(1, 2000)).await;
    let mut s = admin.session().await.unwrap();
    s.execute_batch("CREATE TABLE t (v INT)").await.unwrap();
    // Connections opened now are read-only: a standby, as seen from the pool.
    s.execute_batch(&format!(
        "ALTER DATABASE {} SET default_transaction_read_only = on",
        pg.name
    ))
    .await
    .unwrap();
    drop(s);

    let db = pg.connect(&settings(4, 2000)).await;
    // Two connections to the "standby": one to write on, one idle in the pool.
    let mut writer = db.session().await.unwrap();
    let mut other = db.session().await.unwrap();
    let old_pid = number(&mut other, "pg_backend_pid()").await.unwrap();
    drop(other);
    assert_eq!(db.pool_status().idle, 1);

    // The failover completes: new connections reach a writable server.
    admin
        .session()
        .await
        .unwrap()
        .execute_batch(&format!(
            "ALTER DATABASE {} RESET default_transaction_read_only",
            pg.name
        ))
        .await
        .unwrap();

    let err = writer
        .execute("INSERT INTO t VALUES (1)", &[])
        .await
        .unwrap_err();
    assert!(err.is_read_only(), "{err}");
    assert_eq!(err.code(), "SERVICE_UNAVAILABLE");
    assert!(!err.public_message().contains("INSERT"));
    assert_eq!(db.pool_status().idle, 0, "idle connections were closed");
    drop(writer);
    assert_eq!(
        db.pool_status().open,
        0,
        "the read-only connection was not returned"
    );

    // What exec does on `is_read_only`: run the write again on a new session.
    let mut retry = db.session().await.unwrap();
    assert_ne!(
        number(&mut retry, "pg_backend_pid()").await.unwrap(),
        old_pid
    );
    retry.begin().await.unwrap();
    assert_eq!(
        retry
            .execute("INSERT INTO t VALUES (1)", &[])
            .await
            .unwrap(),
        1
    );
    retry.commit().await.unwrap();
}

#[tokio::test]
async fn a_statement_past_the_timeout_fails_cleanly_and_its_connection_stays_usable() {
    let pg = TestPg::new("pools_statement_timeout");
    let db = pg
        .connect(&PoolSettings {
            statement_timeout: Some(Duration::from_millis(300)),
            idle_in_transaction_timeout: Some(Duration::from_secs(5)),
            ..settings(2, 2000)
        })
        .await;
    let mut locker = db.session().await.unwrap();
    locker
        .execute_batch("CREATE TABLE t (v INT); INSERT INTO t VALUES (7)")
        .await
        .unwrap();
    // The settings reached the connection.
    assert_eq!(
        number(
            &mut locker,
            "SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout'"
        )
        .await
        .unwrap(),
        300
    );
    locker.begin().await.unwrap();
    locker
        .execute_batch("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    let mut session = db.session().await.unwrap();
    let pid = number(&mut session, "pg_backend_pid()").await.unwrap();
    let started = Instant::now();
    let err = number(&mut session, "SELECT v FROM t").await.unwrap_err();
    assert!(matches!(err, DbError::Timeout { .. }), "{err}");
    assert_eq!(err.code(), "TIMEOUT");
    assert!(
        !err.public_message().contains("SELECT"),
        "no SQL for clients"
    );
    assert!(started.elapsed() < Duration::from_secs(3));

    locker.rollback().await.unwrap();
    // The same connection (same backend) answers again.
    assert_eq!(number(&mut session, "SELECT v FROM t").await.unwrap(), 7);
    assert_eq!(number(&mut session, "pg_backend_pid()").await.unwrap(), pid);
}

#[tokio::test]
async fn idle_connections_close_down_to_the_minimum_and_old_ones_are_replaced() {
    let pg = TestPg::new("pools_upkeep");
    let db = pg
        .connect(&PoolSettings {
            min_idle: 1,
            idle_timeout: Some(Duration::from_secs(1)),
            max_lifetime: Some(Duration::from_secs(3)),
            ..settings(4, 2000)
        })
        .await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let mut s = db.session().await.unwrap();
        number(&mut s, "1").await.unwrap();
        sessions.push(s);
    }
    let first_pid = number(&mut sessions[0], "pg_backend_pid()").await.unwrap();
    drop(sessions);
    assert_eq!(db.pool_status().open, 3);

    let deadline = Instant::now() + Duration::from_secs(5);
    while db.pool_status().open > 1 {
        assert!(Instant::now() < deadline, "{:?}", db.pool_status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(db.pool_status().idle, 1, "min_idle is kept");

    // Past max_lifetime every connection has been replaced, and the minimum reopened.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let status = db.pool_status();
    assert_eq!((status.open, status.idle), (1, 1), "{status:?}");
    let mut s = db.session().await.unwrap();
    assert_ne!(number(&mut s, "pg_backend_pid()").await.unwrap(), first_pid);
}

#[tokio::test]
async fn recycle_closes_idle_connections_now_and_busy_ones_when_returned() {
    let pg = TestPg::new("pools_recycle");
    let db = pg.connect(&settings(4, 2000)).await;
    let mut busy = db.session().await.unwrap();
    let busy_pid = number(&mut busy, "pg_backend_pid()").await.unwrap();
    let mut idle = db.session().await.unwrap();
    number(&mut idle, "1").await.unwrap();
    drop(idle);
    assert_eq!(db.pool_status().open, 2);

    db.recycle();
    assert_eq!(db.pool_status().open, 1, "the idle one is closed");
    drop(busy);
    let mut next = db.session().await.unwrap();
    assert_ne!(
        number(&mut next, "pg_backend_pid()").await.unwrap(),
        busy_pid
    );
    assert_eq!(db.pool_status().open, 1, "the busy one was not reused");
}

/// Whether this session's connection is encrypted, from the server's point of view.
async fn encrypted(db: &Database) -> Result<bool, DbError> {
    let mut s = db.session().await?;
    let ssl = number(
        &mut s,
        "SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .await?;
    Ok(ssl == 1)
}

async fn connect_with(pg: &TestPg, base: &str, options: &str) -> Database {
    let url = DatabaseUrl::parse(&format!("{base}/{}{options}", pg.name)).expect("valid URL");
    Database::connect(&url, &settings(2, 3000))
        .await
        .expect("pool")
}

/// Debian's PostgreSQL runs with `ssl = on` and the self-signed "snakeoil" certificate
/// (CN and subjectAltName `localhost`).
const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

#[tokio::test]
async fn sslmode_require_encrypts_and_verify_full_checks_the_certificate() {
    let pg = TestPg::new("pools_tls");
    let plain = connect_with(&pg, PG_SERVER, "").await;
    assert!(!encrypted(&plain).await.unwrap(), "no sslmode: plain");
    let disabled = connect_with(&pg, PG_SERVER, "?sslmode=disable").await;
    assert!(!encrypted(&disabled).await.unwrap());

    let required = connect_with(&pg, PG_SERVER, "?sslmode=require").await;
    assert!(encrypted(&required).await.unwrap(), "sslmode=require");

    assert!(
        std::path::Path::new(SNAKEOIL).exists(),
        "{SNAKEOIL} missing: the server's certificate (package ssl-cert)"
    );
    let root = format!("sslrootcert={SNAKEOIL}");
    let full = connect_with(
        &pg,
        "postgres://postgres@localhost:5432",
        &format!("?sslmode=verify-full&{root}"),
    )
    .await;
    assert!(encrypted(&full).await.unwrap(), "verify-full, name matches");
    // The certificate names `localhost`, not 127.0.0.1: verify-full refuses, verify-ca
    // (the CA alone) accepts.
    let wrong_name = connect_with(&pg, PG_SERVER, &format!("?sslmode=verify-full&{root}")).await;
    let err = encrypted(&wrong_name).await.unwrap_err();
    assert!(err.is_connection_lost(), "{err}");
    let ca_only = connect_with(&pg, PG_SERVER, &format!("?sslmode=verify-ca&{root}")).await;
    assert!(encrypted(&ca_only).await.unwrap(), "verify-ca");
}

/// PgBouncer in transaction mode (`scripts/pgbouncer.sh`) on a free port in front of the
/// shared server, stopped on drop.
struct PgBouncer {
    port: u16,
}

impl PgBouncer {
    fn script(port: u16, action: &str) -> std::process::Output {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pgbouncer.sh");
        std::process::Command::new("bash")
            .arg(script)
            .args([action, &port.to_string(), "5432"])
            .output()
            .expect("run scripts/pgbouncer.sh")
    }

    fn start() -> PgBouncer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let out = PgBouncer::script(port, "start");
        assert!(
            out.status.success(),
            "pgbouncer.sh start failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        PgBouncer { port }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        PgBouncer::script(self.port, "stop");
        let _ = std::fs::remove_dir_all(format!("/tmp/fraiseql-pgbouncer-{}", self.port));
    }
}

/// Six clients at once, 100 loads each, through the pooler; the failures, as text.
async fn concurrent_loads(db: &Database) -> Vec<String> {
    let tasks: Vec<_> = (0..6)
        .map(|t| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut errors = Vec::new();
                for i in 0..100 {
                    let result = match db.session().await {
                        Ok(mut s) => number(&mut s, &format!("{t} + {}", i % 3)).await,
                        Err(e) => Err(e),
                    };
                    match result {
                        Ok(n) => assert_eq!(n, t + i % 3),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                errors
            })
        })
        .collect();
    let mut errors = Vec::new();
    for task in tasks {
        errors.extend(task.await.expect("client task"));
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_pgbouncer_in_transaction_mode_the_statement_cache_must_be_off() {
    let pg = TestPg::new("pools_pgbouncer");
    let bouncer = PgBouncer::start();
    let url = DatabaseUrl::parse(&format!(
        "postgres://postgres@127.0.0.1:{}/{}",
        bouncer.port, pg.name
    ))
    .expect("valid URL");
    let with_cache = |statement_cache| PoolSettings {
        statement_cache,
        ..settings(6, 5000)
    };

    let off = Database::connect(&url, &with_cache(false)).await.unwrap();
    let errors = concurrent_loads(&off).await;
    assert!(
        errors.is_empty(),
        "{} failed, e.g. {:?}",
        errors.len(),
        errors.first()
    );

    // PgBouncer 1.18 does not follow prepared statements from one server connection to the
    // next ("prepared statement \"s12\" does not exist"). A newer one that does (1.21+,
    // max_prepared_statements) would make this half obsolete.
    let on = Database::connect(&url, &with_cache(true)).await.unwrap();
    let errors = concurrent_loads(&on).await;
    assert!(
        errors.iter().any(|e| e.contains("does not exist")),
        "with the statement cache on, loads through PgBouncer were expected to fail: {errors:?}"
    );
}
