//! Must show 4 (Redis killed during a steady stream of 1,000 requests: none fails, and the
//! cache is used again once Redis is back; Redis hung with SIGSTOP: requests are still
//! answered within the timeout) and 6 (NATS down during writes: once it is back, no read is
//! staler than the configured bound). Each test runs its own redis-server / nats-server on a
//! port of its own and kills only that.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::support::services::Service;
use super::support::TestServer;
use super::{backends, rename, serial, user_name, SharedDb};

const KILLED_REDIS_PORT: u16 = 56310;
const HUNG_REDIS_PORT: u16 = 56311;
const NATS_PORT: u16 = 56320;
const REDIS_TIMEOUT_MS: u64 = 200;

/// A server with L2 on `redis` and no L1, so every lookup shows in L2's counters.
fn l2_only_server(redis: &Service) -> TestServer {
    TestServer::start(&[
        ("REDIS_URL", &redis.url()),
        ("FRAISEQL_CACHE_L1_BYTES", "0"),
        (
            "FRAISEQL_CACHE_REDIS_TIMEOUT_MS",
            &REDIS_TIMEOUT_MS.to_string(),
        ),
        ("FRAISEQL_CACHE_REDIS_RETRY_MS", "200"),
    ])
}

#[test]
fn redis_killed_during_a_stream_of_requests_fails_none_and_is_used_again() {
    let _serial = serial();
    let mut redis = Service::redis(KILLED_REDIS_PORT);
    let server = Arc::new(l2_only_server(&redis));
    server.wait_ready(Duration::from_secs(20), |r| backends(r, "ok", "off"));

    const TOTAL: usize = 1000;
    const CLIENTS: usize = 4;
    let sent = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (server, sent, failed) = (server.clone(), sent.clone(), failed.clone());
            std::thread::spawn(move || loop {
                let n = sent.fetch_add(1, Ordering::SeqCst);
                if n >= TOTAL {
                    return;
                }
                let id = (n % 25 + 1).to_string();
                let (status, _, body) = server.post_with(
                    "query U($id: ID!) { user(id: $id) { id name } }",
                    json!({ "id": id }),
                    &[],
                );
                if status != 200
                    || body.get("errors").is_some()
                    || body["data"]["user"]["id"] != json!(id)
                {
                    eprintln!("request {n} failed: {status} {body}");
                    failed.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let wait_for = |count: usize| {
        while sent.load(Ordering::SeqCst) < count {
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait_for(300);
    let hits_before_kill = server.series("fraiseql_cache_hits_total{tier=\"l2\"}");
    assert!(hits_before_kill > 0.0, "L2 answered before the kill");
    redis.kill();
    // While Redis is down, readiness stays 200 and says degraded.
    let ready = server.wait_ready(Duration::from_secs(20), |r| {
        r["status"] == json!("degraded")
    });
    assert_eq!(ready["cache"]["redis"], json!("down"));
    let (status, _, _) = server.get("/health/ready", "application/json");
    assert_eq!(status, 200);
    wait_for(700);
    redis.restart();
    for client in clients {
        client.join().expect("client thread");
    }
    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "requests failed while Redis was killed"
    );
    assert!(server.series("fraiseql_cache_errors_total{backend=\"redis\"}") > 0.0);

    // Back: the breaker's probe closes it, and L2 answers again.
    server.wait_ready(Duration::from_secs(20), |r| r["status"] == json!("ready"));
    let hits = server.series("fraiseql_cache_hits_total{tier=\"l2\"}");
    for _ in 0..2 {
        user_name(&server, 99);
    }
    assert!(
        server.series("fraiseql_cache_hits_total{tier=\"l2\"}") > hits,
        "the restarted Redis is used again"
    );
}

#[test]
fn a_hung_redis_only_costs_the_timeout() {
    let _serial = serial();
    let redis = Service::redis(HUNG_REDIS_PORT);
    let server = l2_only_server(&redis);
    server.wait_ready(Duration::from_secs(20), |r| backends(r, "ok", "off"));
    user_name(&server, 1);
    redis.signal_pause(true);
    // Generous beside the 200 ms timeout (a lookup and a store may each wait for it before
    // the breaker opens), yet far below a hung client's wait.
    let bound = Duration::from_millis(REDIS_TIMEOUT_MS * 2) + Duration::from_millis(1800);
    let mut slowest = Duration::ZERO;
    for i in 0..40 {
        let started = Instant::now();
        let name = user_name(&server, i % 5 + 1);
        assert!(!name.is_empty());
        slowest = slowest.max(started.elapsed());
    }
    assert!(
        slowest < bound,
        "a request took {slowest:?} with Redis hung"
    );
    let ready = server.wait_ready(Duration::from_secs(10), |r| {
        r["status"] == json!("degraded")
    });
    assert_eq!(ready["cache"]["redis"], json!("down"));
    redis.signal_pause(false);
    server.wait_ready(Duration::from_secs(20), |r| r["status"] == json!("ready"));
}

#[test]
fn after_nats_returns_no_read_is_staler_than_the_bound() {
    let _serial = serial();
    const BOUND: Duration = Duration::from_secs(2);
    let db = SharedDb::new("natsdown");
    let mut nats = Service::nats(NATS_PORT);
    let url = db.url();
    let server = || {
        TestServer::start(&[
            ("DATABASE_URL", url.as_str()),
            ("NATS_URL", &nats.url()),
            ("FRAISEQL_CACHE_NATS_DOWN_TTL_S", "2"),
        ])
    };
    let writer = server();
    let reader = server();
    for s in [&writer, &reader] {
        s.wait_ready(Duration::from_secs(20), |r| backends(r, "off", "ok"));
    }
    let id = 11;
    let original = user_name(&reader, id);
    assert_eq!(user_name(&writer, id), original);

    nats.kill();
    for s in [&writer, &reader] {
        s.wait_ready(Duration::from_secs(20), |r| {
            r["cache"]["nats"] == json!("down")
        });
    }
    // Writes while NATS is down: the reader cannot hear of them.
    rename(&writer, id, "Written While NATS Was Down");
    let written = Instant::now();
    assert_eq!(user_name(&writer, id), "Written While NATS Was Down");
    // Even before NATS returns, the reader's entry (1-hour ttl) is not served past the bound.
    std::thread::sleep(BOUND.saturating_sub(written.elapsed()) + Duration::from_millis(300));
    assert_eq!(user_name(&reader, id), "Written While NATS Was Down");
    // The reader caches again during the outage; then another write it cannot hear of.
    rename(&writer, id, "Second Write While Down");
    let written = Instant::now();

    nats.restart();
    for s in [&writer, &reader] {
        s.wait_ready(Duration::from_secs(30), |r| {
            r["cache"]["nats"] == json!("ok")
        });
    }
    // Once NATS is back, a read more than the bound after a write reflects it.
    std::thread::sleep(BOUND.saturating_sub(written.elapsed()) + Duration::from_millis(300));
    assert_eq!(user_name(&reader, id), "Second Write While Down");
    assert!(
        reader.log().contains("NATS is back"),
        "the gap is logged:\n{}",
        reader.log()
    );
    // And invalidations flow again: a new write reaches the reader at once.
    user_name(&reader, id);
    rename(&writer, id, "After NATS Returned");
    let written = Instant::now();
    while user_name(&reader, id) != "After NATS Returned" {
        assert!(
            written.elapsed() < Duration::from_secs(5),
            "no invalidation after NATS returned"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
