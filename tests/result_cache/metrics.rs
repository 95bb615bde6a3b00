//! Must show 7: over a scripted sequence, `/metrics` moves as expected: hits and misses per
//! tier, the hit ratio, bytes per tier, evictions, invalidations sent and received.

use std::time::{Duration, Instant};

use super::support::services::{drop_redis_prefix, unique};
use super::support::TestServer;
use super::{backends, rename, serial, user_name, SharedDb};

const L1_HITS: &str = "fraiseql_cache_hits_total{tier=\"l1\"}";
const L1_MISSES: &str = "fraiseql_cache_misses_total{tier=\"l1\"}";
const L2_HITS: &str = "fraiseql_cache_hits_total{tier=\"l2\"}";
const L2_MISSES: &str = "fraiseql_cache_misses_total{tier=\"l2\"}";
const L1_RATIO: &str = "fraiseql_cache_hit_ratio{tier=\"l1\"}";
const L1_BYTES: &str = "fraiseql_cache_bytes{tier=\"l1\"}";
const L2_BYTES: &str = "fraiseql_cache_bytes{tier=\"l2\"}";

#[test]
fn metrics_follow_a_scripted_sequence() {
    let _serial = serial();
    let db = SharedDb::new("metrics");
    let prefix = format!("{}:", unique("fraiseql-test-metrics-"));
    let subject = unique("fraiseql.test.metrics.");
    let url = db.url();
    let server = || {
        TestServer::start(&[
            ("DATABASE_URL", url.as_str()),
            ("REDIS_URL", "redis://127.0.0.1:6379/0"),
            ("FRAISEQL_CACHE_REDIS_PREFIX", prefix.as_str()),
            ("NATS_URL", "nats://127.0.0.1:4222"),
            ("FRAISEQL_CACHE_NATS_SUBJECT", subject.as_str()),
        ])
    };
    let one = server();
    let two = server();
    for s in [&one, &two] {
        s.wait_ready(Duration::from_secs(20), |r| backends(r, "ok", "ok"));
    }
    let counts =
        |s: &TestServer| [L1_HITS, L1_MISSES, L2_HITS, L2_MISSES].map(|name| s.series(name));
    assert_eq!(counts(&one), [0.0; 4]);
    assert_eq!(one.series(L1_RATIO), 0.0);
    assert_eq!(one.series(L1_BYTES), 0.0);

    user_name(&one, 1); // cold: misses L1 and L2, fills both
    assert_eq!(counts(&one), [0.0, 1.0, 0.0, 1.0]);
    let bytes_one = one.series(L1_BYTES);
    assert!(bytes_one > 0.0, "L1 holds the entry");
    user_name(&one, 1); // L1
    user_name(&one, 1);
    user_name(&one, 1);
    assert_eq!(counts(&one), [3.0, 1.0, 0.0, 1.0]);
    assert_eq!(one.series(L1_RATIO), 0.75);
    assert_eq!(one.series(L1_BYTES), bytes_one, "hits add no bytes");

    user_name(&one, 2); // another key: a miss, more bytes
    assert_eq!(counts(&one), [3.0, 2.0, 0.0, 2.0]);
    assert_eq!(one.series(L1_RATIO), 0.6);
    assert!(one.series(L1_BYTES) > bytes_one);

    user_name(&two, 1); // the other instance: L1 miss, L2 hit
    assert_eq!(counts(&two), [0.0, 1.0, 1.0, 0.0]);
    assert_eq!(two.series("fraiseql_cache_hit_ratio{tier=\"l2\"}"), 1.0);

    // A write through `one`: sent once, received by `two`; the next read of user 1 misses.
    rename(&one, 1, "Metrics Renamed");
    assert_eq!(one.series("fraiseql_cache_invalidations_sent_total"), 1.0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while two.series("fraiseql_cache_invalidations_received_total") < 1.0 {
        assert!(Instant::now() < deadline, "the invalidation never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(user_name(&one, 1), "Metrics Renamed");
    assert_eq!(counts(&one), [3.0, 3.0, 0.0, 3.0]);
    assert_eq!(one.series(L1_RATIO), 0.5);
    assert_eq!(user_name(&two, 1), "Metrics Renamed"); // two: L1 miss, L2 hit (one refilled it)
    assert_eq!(counts(&two), [0.0, 2.0, 2.0, 0.0]);

    // L2 bytes: Redis's used_memory, read every few seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    while one.series(L2_BYTES) <= 0.0 {
        assert!(
            Instant::now() < deadline,
            "fraiseql_cache_bytes{{tier=\"l2\"}} stays 0"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        one.series("fraiseql_cache_errors_total{backend=\"redis\"}"),
        0.0
    );
    assert_eq!(
        one.series("fraiseql_cache_errors_total{backend=\"nats\"}"),
        0.0
    );
    drop_redis_prefix(6379, &prefix);
}

#[test]
fn a_small_l1_evicts_and_stays_within_its_bytes() {
    let _serial = serial();
    let server = TestServer::start(&[("FRAISEQL_CACHE_L1_BYTES", "2000")]);
    for id in 1..=40 {
        user_name(&server, id);
    }
    assert!(server.series("fraiseql_cache_evictions_total{tier=\"l1\"}") > 0.0);
    let bytes = server.series(L1_BYTES);
    assert!(bytes > 0.0 && bytes <= 2000.0, "{bytes}");
}
