//! Ids the server assigns to rows of sharded types. A row's shard must be known before its
//! INSERT (a sequence in one shard's database would answer only after it, and would repeat
//! the ids of the other shards), so the server makes the id: 64-bit, time-ordered,
//! `milliseconds since 2024-01-01T00:00:00Z << 22 | 22 random bits`, strictly increasing within
//! a process. Two processes collide only when they draw the same 22 bits in the same
//! millisecond (a `CONFLICT` on the key for that one create). Positive until the year 2163.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::OnceLock;

/// 2024-01-01T00:00:00Z in Unix milliseconds.
const EPOCH_MS: i64 = 1_704_067_200_000;
const RANDOM_BITS: u32 = 22;

static LAST: AtomicI64 = AtomicI64::new(0);
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new id, greater than every id this process made before.
pub fn next_id() -> i64 {
    let millis = chrono::Utc::now()
        .timestamp_millis()
        .saturating_sub(EPOCH_MS)
        .max(0);
    let candidate = (millis << RANDOM_BITS) | random_bits();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = candidate.max(last.saturating_add(1));
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// 22 bits that differ between processes and between calls. `RandomState` is seeded from
/// the operating system's randomness once per process; hashing a counter with it is enough to
/// keep two servers from drawing in step (this value routes nothing).
fn random_bits() -> i64 {
    static STATE: OnceLock<RandomState> = OnceLock::new();
    let mut hasher = STATE.get_or_init(RandomState::new).build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() & ((1 << RANDOM_BITS) - 1)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_carry_the_time() {
        let mut previous = 0;
        for _ in 0..10_000 {
            let id = next_id();
            assert!(id > previous);
            previous = id;
        }
        let millis = (previous >> RANDOM_BITS) + EPOCH_MS;
        let now = chrono::Utc::now().timestamp_millis();
        assert!((now - millis).abs() < 60_000, "{millis} vs {now}");
    }
}
