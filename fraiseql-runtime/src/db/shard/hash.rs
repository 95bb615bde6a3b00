//! The `HASH` strategy's key -> shard function. It decides where rows are stored, so it must
//! give the same answer in every process, build and version: it is written out here (and in
//! the README) rather than taken from a hasher whose output may change or is seeded per
//! process.

/// The shard of `key` among `count` shards: `jump(splitmix64(key as u64), count)`.
/// `count` 0 is treated as 1.
pub fn hash_shard(key: i64, count: usize) -> usize {
    // The two's-complement bits: negative keys hash like any other.
    jump(splitmix64(key as u64), count.max(1))
}

/// The splitmix64 finalizer: a bijection on u64 whose output bits each depend on every input
/// bit, so consecutive keys (ids 1, 2, 3, …) spread evenly.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Lamping and Veach's jump consistent hash ("A Fast, Minimal Memory, Consistent Hash
/// Algorithm", 2014): a bucket in `0..buckets`, moving only 1/(n+1) of the keys when a bucket
/// is added.
fn jump(mut key: u64, buckets: usize) -> usize {
    let buckets = i64::try_from(buckets).unwrap_or(i64::MAX);
    let (mut b, mut j): (i64, i64) = (-1, 0);
    while j < buckets {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        // The paper's formula, in f64 as published (exact for the values involved).
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    usize::try_from(b).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::hash_shard;

    /// Pinned values (computed independently from the published algorithms): changing them
    /// would move stored rows to other shards.
    #[test]
    fn the_mapping_never_changes() {
        let cases: [(i64, [usize; 5]); 8] = [
            (0, [0, 1, 2, 3, 8]),
            (1, [0, 0, 0, 3, 9]),
            (2, [0, 0, 0, 0, 0]),
            (3, [0, 1, 1, 1, 4]),
            (42, [0, 0, 0, 0, 0]),
            (1_000_000, [0, 1, 1, 3, 3]),
            (-1, [0, 0, 2, 3, 3]),
            (4_611_686_018_427_400_249, [0, 1, 1, 1, 1]),
        ];
        for (key, expected) in cases {
            let got: Vec<usize> = [1, 2, 3, 4, 10]
                .iter()
                .map(|&n| hash_shard(key, n))
                .collect();
            assert_eq!(got, expected, "key {key}");
        }
    }

    #[test]
    fn consecutive_keys_spread_evenly_and_growing_moves_few() {
        let mut counts = [0usize; 3];
        let mut moved = 0;
        for key in 1..=30_000 {
            let three = hash_shard(key, 3);
            counts[three] += 1;
            let four = hash_shard(key, 4);
            if four != three {
                assert_eq!(four, 3, "a key only ever moves to the new shard");
                moved += 1;
            }
        }
        assert_eq!(counts, [10_031, 10_022, 9_947]);
        // About a quarter move to the fourth shard, none between the old ones.
        assert!((6_500..8_500).contains(&moved), "{moved}");
    }
}
