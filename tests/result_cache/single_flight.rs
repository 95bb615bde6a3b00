//! Must show 3: 500 concurrent identical cold requests run the SQL once, as SQLite's own
//! statement trace (`FRAISEQL_SQLITE_TRACE`) counts it; with Redis as L2 too, so the one
//! leader's L2 miss is part of the path.

use std::sync::{Arc, Barrier};

use serde_json::json;

use super::support::services::{drop_redis_prefix, unique};
use super::support::TestServer;
use super::{backends, serial};

const CONCURRENT: usize = 500;

#[test]
fn concurrent_identical_cold_requests_run_the_sql_once() {
    let _serial = serial();
    let dir = super::support::temp_dir("flight");
    let trace = dir.join("statements.trace");
    let prefix = format!("{}:", unique("fraiseql-test-flight-"));
    let server = TestServer::start(&[
        (
            "DATABASE_URL",
            &format!("sqlite://{}", dir.join("blog.db").display()),
        ),
        ("FRAISEQL_SQLITE_TRACE", trace.to_str().expect("utf-8 path")),
        ("REDIS_URL", "redis://127.0.0.1:6379/0"),
        ("FRAISEQL_CACHE_REDIS_PREFIX", &prefix),
    ]);
    server.wait_ready(std::time::Duration::from_secs(20), |r| {
        backends(r, "ok", "off")
    });
    let query = "{ user(id: 42) { id name createdAt } }";
    let before = std::fs::read(&trace).map(|b| b.len()).unwrap_or(0);

    let client = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(CONCURRENT)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client");
    let url = format!("{}/graphql", server.base);
    let barrier = Arc::new(Barrier::new(CONCURRENT));
    let threads: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let (client, url, barrier) = (client.clone(), url.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(json!({ "query": query }).to_string())
                    .send()
                    .expect("POST");
                let status = response.status().as_u16();
                (status, response.text().unwrap_or_default())
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = threads
        .into_iter()
        .map(|t| t.join().expect("client thread"))
        .collect();

    let first = &answers[0].1;
    assert!(first.contains("\"id\":\"42\""), "{first}");
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body, first, "every caller gets the same answer");
    }
    let traced = std::fs::read(&trace).expect("trace file");
    let statements: Vec<String> = String::from_utf8_lossy(&traced[before..])
        .lines()
        .filter(|l| l.contains("\"users\""))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        statements.len(),
        1,
        "{CONCURRENT} concurrent cold requests ran {} statements on users:\n{}",
        statements.len(),
        statements.join("\n")
    );
    let misses = server.series("fraiseql_cache_misses_total{tier=\"l1\"}");
    let hits = server.series("fraiseql_cache_hits_total{tier=\"l1\"}");
    assert_eq!((misses, hits), (1.0, (CONCURRENT - 1) as f64));
    drop_redis_prefix(6379, &prefix);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
