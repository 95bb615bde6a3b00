//! Must show 1: two regions, each with two server processes and its own Redis (region A: the
//! shared Redis under a key prefix of this test's own; region B: a redis-server of this
//! test's own), one NATS (the shared one, on a subject of this test's own). A mutation
//! through one instance invalidates the other instances' L1 and both regions' L2 within 1 s.

use std::time::{Duration, Instant};

use super::support::services::{drop_redis_prefix, redis_get, unique, Service};
use super::support::TestServer;
use super::{backends, rename, serial, user_name, SharedDb};

const REGION_B_REDIS_PORT: u16 = 56301;

#[test]
fn a_mutation_invalidates_every_instance_and_both_regions_within_a_second() {
    let _serial = serial();
    let db = SharedDb::new("regions");
    let redis_b = Service::redis(REGION_B_REDIS_PORT);
    let prefix = unique("fraiseql-test-regions-");
    let prefix = format!("{prefix}:");
    let subject = unique("fraiseql.test.regions.");
    let url = db.url();
    let server = |region: &str, redis: &str| {
        TestServer::start(&[
            ("DATABASE_URL", url.as_str()),
            ("FRAISEQL_REGION", region),
            ("REDIS_URL", redis),
            ("FRAISEQL_CACHE_REDIS_PREFIX", prefix.as_str()),
            ("NATS_URL", "nats://127.0.0.1:4222"),
            ("FRAISEQL_CACHE_NATS_SUBJECT", subject.as_str()),
        ])
    };
    let region_a = "redis://127.0.0.1:6379/0";
    let region_b = redis_b.url();
    // The first server creates and seeds the shared database; the others find it ready.
    let a1 = server("a", region_a);
    let a2 = server("a", region_a);
    let b1 = server("b", &region_b);
    let b2 = server("b", &region_b);
    let all = [&a1, &a2, &b1, &b2];
    for s in all {
        s.wait_ready(Duration::from_secs(20), |r| backends(r, "ok", "ok"));
    }

    // Fill every tier: a1 and b1 miss everywhere and fill their region's L2; a2 and b2
    // then find the entry in L2; a second round is answered by each L1.
    let id = 7;
    let before = user_name(&a1, id);
    assert_eq!(user_name(&b1, id), before);
    for s in [&a2, &b2] {
        assert_eq!(user_name(s, id), before);
        assert_eq!(s.series("fraiseql_cache_hits_total{tier=\"l2\"}"), 1.0);
    }
    for s in all {
        assert_eq!(user_name(s, id), before);
        assert!(s.series("fraiseql_cache_hits_total{tier=\"l1\"}") >= 1.0);
    }

    rename(&a1, id, "Renamed Across Regions");
    let written = Instant::now();
    // Polled for up to 1 s from the mutation's answer. A fresh answer from a2, b1 or b2 means
    // its L1 entry was invalidated and its region's L2 entry too (else L2 would answer).
    for s in [&a2, &b1, &b2] {
        loop {
            if user_name(s, id) == "Renamed Across Regions" {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(1),
                "{} still answers the old name 1 s after the mutation",
                s.base
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // Both regions' Redis hold the bumped table version (B's bumped by its own instances on
    // hearing the invalidation over NATS).
    let version = |port: u16| {
        redis_get(port, &format!("{prefix}v:t:users"))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert!(version(6379) >= 1, "region A's L2 was not invalidated");
    assert!(
        version(REGION_B_REDIS_PORT) >= 1,
        "region B's L2 was not invalidated"
    );
    assert_eq!(a1.series("fraiseql_cache_invalidations_sent_total"), 1.0);
    for s in [&a2, &b1, &b2] {
        assert_eq!(s.series("fraiseql_cache_invalidations_received_total"), 1.0);
    }
    drop_redis_prefix(6379, &prefix);
}
