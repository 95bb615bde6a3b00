//! A cached root-field part: its JSON, when it was made, until when it is fresh and until when
//! it may still be served stale, and the tag versions it was read under. The same bytes go to
//! Redis (`encode` / `decode`), so an entry means the same in every instance of a region.

use std::time::{SystemTime, UNIX_EPOCH};

/// One cached part.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The root field's value (what follows `"key":` in `data`).
    pub json: Vec<u8>,
    /// Wall-clock milliseconds since the Unix epoch (shared by processes through Redis).
    pub created_ms: u64,
    /// Fresh until then.
    pub fresh_until_ms: u64,
    /// Servable (stale, while one request refreshes it) until then.
    pub stale_until_ms: u64,
    /// The versions of the entry's tags before its SQL ran, in the tags' order.
    pub versions: Vec<u64>,
}

/// What an entry is good for now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Freshness {
    Fresh,
    /// Past its ttl, within the stale bound.
    Stale,
    Expired,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Fixed header: created, fresh-until, stale-until, version count.
const HEADER: usize = 8 * 3 + 2;

impl Entry {
    /// A new entry made now. `ttl_ms` is shortened by up to `jitter_pct` percent, by a hash of
    /// `key` and the time, so entries made together expire apart.
    pub fn new(
        json: Vec<u8>,
        key: &[u8; 32],
        ttl_ms: u64,
        stale_ms: u64,
        jitter_pct: u8,
        versions: Vec<u64>,
    ) -> Entry {
        let created_ms = now_ms();
        let spread = u64::from(key[0]) << 8 | u64::from(key[1]);
        let cut = (spread ^ created_ms) % (u64::from(jitter_pct) + 1);
        let ttl_ms = ttl_ms - ttl_ms * cut / 100;
        let fresh_until_ms = created_ms.saturating_add(ttl_ms);
        Entry {
            json,
            created_ms,
            fresh_until_ms,
            stale_until_ms: fresh_until_ms.saturating_add(stale_ms),
            versions,
        }
    }

    /// Freshness at `now`; `cut_ms`, when set, is the most the entry may be served for since it
    /// was made (invalidations may have been missed).
    pub fn freshness(&self, now: u64, cut_ms: Option<u64>) -> Freshness {
        let limit = cut_ms.map_or(u64::MAX, |cut| self.created_ms.saturating_add(cut));
        if now < self.fresh_until_ms.min(limit) {
            Freshness::Fresh
        } else if now < self.stale_until_ms.min(limit) {
            Freshness::Stale
        } else {
            Freshness::Expired
        }
    }

    /// Whole seconds of freshness left at `now` (0 when stale).
    pub fn remaining_seconds(&self, now: u64, cut_ms: Option<u64>) -> u32 {
        let limit = cut_ms.map_or(u64::MAX, |cut| self.created_ms.saturating_add(cut));
        let left = self.fresh_until_ms.min(limit).saturating_sub(now) / 1000;
        u32::try_from(left).unwrap_or(u32::MAX)
    }

    /// Milliseconds Redis keeps the entry from now (until it may no longer be served).
    pub fn keep_ms(&self, now: u64) -> u64 {
        self.stale_until_ms.saturating_sub(now).max(1)
    }

    /// Bytes the entry holds (its weight in L1).
    pub fn weight(&self) -> u32 {
        let bytes = self.json.len() + self.versions.len() * 8 + HEADER + 64;
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }

    /// The bytes stored in Redis.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.versions.len() * 8 + self.json.len());
        out.extend_from_slice(&self.created_ms.to_be_bytes());
        out.extend_from_slice(&self.fresh_until_ms.to_be_bytes());
        out.extend_from_slice(&self.stale_until_ms.to_be_bytes());
        // Entries have a handful of tags; more than u16::MAX is impossible.
        let count = u16::try_from(self.versions.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for v in self.versions.iter().take(usize::from(count)) {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.json);
        out
    }

    /// An entry from Redis; `None` when the bytes are not one.
    pub fn decode(bytes: &[u8]) -> Option<Entry> {
        let u64_at = |at: usize| -> Option<u64> {
            Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
        };
        let created_ms = u64_at(0)?;
        let fresh_until_ms = u64_at(8)?;
        let stale_until_ms = u64_at(16)?;
        let count = usize::from(u16::from_be_bytes(bytes.get(24..26)?.try_into().ok()?));
        let versions = (0..count)
            .map(|i| u64_at(HEADER + i * 8))
            .collect::<Option<Vec<u64>>>()?;
        let json = bytes.get(HEADER + count * 8..)?.to_vec();
        Some(Entry {
            json,
            created_ms,
            fresh_until_ms,
            stale_until_ms,
            versions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes() {
        let entry = Entry::new(
            b"{\"a\":1}".to_vec(),
            &[7; 32],
            60_000,
            5_000,
            10,
            vec![1, 2],
        );
        assert_eq!(Entry::decode(&entry.encode()), Some(entry));
        assert_eq!(Entry::decode(b"short"), None);
    }

    #[test]
    fn jitter_only_shortens_and_stays_within_bounds() {
        for first in 0..=255u8 {
            let e = Entry::new(Vec::new(), &[first; 32], 100_000, 0, 10, Vec::new());
            let ttl = e.fresh_until_ms - e.created_ms;
            assert!((90_000..=100_000).contains(&ttl), "{ttl}");
        }
    }

    #[test]
    fn freshness_and_the_cut() {
        let e = Entry {
            json: Vec::new(),
            created_ms: 1_000,
            fresh_until_ms: 11_000,
            stale_until_ms: 16_000,
            versions: Vec::new(),
        };
        assert_eq!(e.freshness(5_000, None), Freshness::Fresh);
        assert_eq!(e.freshness(12_000, None), Freshness::Stale);
        assert_eq!(e.freshness(16_000, None), Freshness::Expired);
        assert_eq!(e.freshness(2_500, Some(2_000)), Freshness::Fresh);
        assert_eq!(e.freshness(3_000, Some(2_000)), Freshness::Expired);
        assert_eq!(e.remaining_seconds(5_000, None), 6);
        assert_eq!(e.remaining_seconds(2_000, Some(2_000)), 1);
    }
}
