//! What an entry depends on, and the versions that invalidate it.
//!
//! An entry depends on tags: `Table(t)` (lists and relations read the whole table),
//! `Keyed(t)` plus `Row(t, key)` (a lookup by key reads one row), and `All` (everything).
//! Invalidating bumps a tag's version; an entry keeps the versions its tags had *before* its
//! SQL ran and is served only while they are unchanged. So a write that commits while a read
//! is running makes that read's entry unusable even if it is stored afterwards, and no entry
//! is ever deleted to invalidate it.
//!
//! A generated mutation of row `k` of `t` bumps `Table(t)` and `Row(t, k)`; a custom mutation
//! (which cannot name its rows) bumps `Table(t)` and `Keyed(t)`. Rows are hashed into a fixed
//! number of buckets, so the versions take bounded memory here and a bounded number of keys in
//! Redis; two rows sharing a bucket only cost an extra miss.

use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::model::SchemaModel;

/// Row buckets (a power of two).
pub(crate) const ROW_BUCKETS: u32 = 1 << 16;

/// One thing an entry depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Tag {
    /// Everything (bumped when invalidations may have been lost).
    All,
    /// Any row of a table (by type index).
    Table(usize),
    /// Which rows of a table exist under which key (by type index).
    Keyed(usize),
    /// The rows whose (table, key) hash into this bucket.
    Row(u32),
}

impl Tag {
    /// The row tag of `key` in `table`: stable across processes and versions (a hash of the
    /// table's name, not its index).
    pub fn row(table: &str, key: i64) -> Tag {
        let digest = Sha256::new()
            .chain_update(table.as_bytes())
            .chain_update([0])
            .chain_update(key.to_be_bytes())
            .finalize();
        let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        Tag::Row(n % ROW_BUCKETS)
    }

    /// The tag's name in Redis and in messages (tables by name).
    pub fn name(&self, model: &SchemaModel) -> String {
        match self {
            Tag::All => "all".to_owned(),
            Tag::Table(t) => format!("t:{}", model.types[*t].table),
            Tag::Keyed(t) => format!("k:{}", model.types[*t].table),
            Tag::Row(bucket) => format!("r:{bucket}"),
        }
    }
}

/// This process's tag versions (L1 entries are checked against them).
pub(crate) struct LocalVersions {
    all: AtomicU64,
    tables: Box<[AtomicU64]>,
    keyed: Box<[AtomicU64]>,
    rows: Box<[AtomicU64]>,
}

impl LocalVersions {
    pub fn new(types: usize) -> LocalVersions {
        let zeros = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect();
        LocalVersions {
            all: AtomicU64::new(0),
            tables: zeros(types),
            keyed: zeros(types),
            rows: zeros(ROW_BUCKETS as usize),
        }
    }

    fn slot(&self, tag: Tag) -> Option<&AtomicU64> {
        match tag {
            Tag::All => Some(&self.all),
            Tag::Table(t) => self.tables.get(t),
            Tag::Keyed(t) => self.keyed.get(t),
            Tag::Row(b) => self.rows.get(b as usize),
        }
    }

    /// The current versions of `tags`, in order.
    pub fn read(&self, tags: &[Tag]) -> Vec<u64> {
        tags.iter()
            .map(|t| self.slot(*t).map_or(0, |v| v.load(Ordering::Acquire)))
            .collect()
    }

    /// Whether `versions` (read earlier for `tags`) are still current.
    pub fn unchanged(&self, tags: &[Tag], versions: &[u64]) -> bool {
        tags.len() == versions.len()
            && tags.iter().zip(versions).all(|(t, v)| {
                self.slot(*t)
                    .is_none_or(|slot| slot.load(Ordering::Acquire) == *v)
            })
    }

    /// Invalidates every entry depending on any of `tags`.
    pub fn bump(&self, tags: &[Tag]) {
        for tag in tags {
            if let Some(slot) = self.slot(*tag) {
                slot.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bump_changes_only_its_tags() {
        let versions = LocalVersions::new(3);
        let tags = [Tag::All, Tag::Table(1), Tag::row("users", 5)];
        let before = versions.read(&tags);
        versions.bump(&[Tag::Table(2), Tag::row("users", 6)]);
        // Buckets of 5 and 6 may collide only by a 1 in 65536 chance; this pair does not.
        assert!(versions.unchanged(&tags, &before));
        versions.bump(&[Tag::Table(1)]);
        assert!(!versions.unchanged(&tags, &before));
    }

    #[test]
    fn row_tags_are_stable_and_spread() {
        assert_eq!(Tag::row("users", 5), Tag::row("users", 5));
        assert_ne!(Tag::row("users", 5), Tag::row("posts", 5));
        assert_ne!(Tag::row("users", 5), Tag::row("users", 6));
    }
}
