//! Reads of sharded types, as the planner placed them (`Placement`):
//! - by key: the statement's keys (`$1` of a batch, a lookup's `id`) are shard keys, so each
//!   shard holding some of them runs the statement for its keys only (one statement per shard
//!   per level at most), and the rows are put together as they are: every parent's rows come
//!   from one shard.
//! - scatter: every shard runs the statement at once, each returning its first
//!   `offset + limit` rows (from offset 0) per parent; the rows are merged by the ordering
//!   (the same total order the SQL uses, the key last) and `offset`/`limit` applied per parent
//!   after the merge, so the result is exactly what one database holding every row would
//!   return. Keyset cursors need nothing more: each shard applies `after`'s predicate itself.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::load::{LoadError, NoRows};
use crate::db::shard::ShardRouter;
use crate::db::{Bind, RequestSessions};
use crate::model::{ScalarKind, TypeModel};
use crate::plan::{BuiltStatement, OrderKey};
use crate::row::RowSet;

/// Runs a statement placed by key. `binds` starts with the parent keys when `batched`.
pub(super) async fn by_key(
    sessions: &mut RequestSessions<'_>,
    router: &ShardRouter,
    ty: &TypeModel,
    built: &BuiltStatement,
    binds: Vec<Bind>,
    batched: bool,
) -> Result<Box<dyn RowSet>, LoadError> {
    let map = router.map();
    let work: Vec<(usize, Vec<Bind>)> = if batched {
        let Some(Bind::BigIntList(keys)) = binds.first() else {
            return Err(LoadError::Internal("a batch without its keys"));
        };
        let mut per_shard: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
        for &key in keys {
            // A key no shard holds (outside every RANGE) has no rows.
            if let Some(Ok(shard)) = map.shard_of(ty, key) {
                per_shard.entry(shard).or_default().push(key);
            }
        }
        per_shard
            .into_iter()
            .map(|(shard, keys)| {
                let mut shard_binds = Vec::with_capacity(binds.len());
                shard_binds.push(Bind::BigIntList(keys));
                shard_binds.extend(binds[1..].iter().cloned());
                (shard, shard_binds)
            })
            .collect()
    } else {
        match built.key_bind.and_then(|i| binds.get(i)) {
            Some(Bind::BigInt(key)) => match map.shard_of(ty, *key) {
                Some(Ok(shard)) => vec![(shard, binds)],
                _ => Vec::new(),
            },
            // Not a lookup by key after all: every shard.
            _ => (0..router.count()).map(|s| (s, binds.clone())).collect(),
        }
    };
    if work.is_empty() {
        return Ok(Box::new(NoRows));
    }
    let parts = sessions.load_shards(ty.rows, &built.sql, &work).await?;
    Ok(concatenate(parts))
}

/// Runs a statement on the shard of a mutation's transaction only (the re-read of the row it
/// wrote there: no other shard can have it).
pub(super) async fn pinned(
    sessions: &mut RequestSessions<'_>,
    ty: &TypeModel,
    built: &BuiltStatement,
    binds: Vec<Bind>,
) -> Result<Box<dyn RowSet>, LoadError> {
    let Some(shard) = sessions.pinned_shard() else {
        return Err(LoadError::Internal("no shard holds the transaction"));
    };
    let parts = sessions
        .load_shards(ty.rows, &built.sql, &[(shard, binds)])
        .await?;
    Ok(concatenate(parts))
}

/// Runs a statement on every shard and merges the rows. `binds` starts with the parent keys
/// when `batched`.
pub(super) async fn scatter(
    sessions: &mut RequestSessions<'_>,
    router: &ShardRouter,
    ty: &TypeModel,
    built: &BuiltStatement,
    mut binds: Vec<Bind>,
    batched: bool,
) -> Result<Box<dyn RowSet>, LoadError> {
    let shift = usize::from(batched);
    let window = match (built.limit_bind, built.offset_bind) {
        (Some(limit), Some(offset)) => {
            let (limit, offset) = (limit + shift, offset + shift);
            let (Some(Bind::BigInt(l)), Some(Bind::BigInt(o))) =
                (binds.get(limit).cloned(), binds.get(offset).cloned())
            else {
                return Err(LoadError::Internal("limit or offset is not bound"));
            };
            // Each shard's first offset + limit rows hold the merged page.
            binds[limit] = Bind::BigInt(o.saturating_add(l));
            binds[offset] = Bind::BigInt(0);
            Some((o, l))
        }
        _ => None,
    };
    let work: Vec<(usize, Vec<Bind>)> = (0..router.count()).map(|s| (s, binds.clone())).collect();
    let parts = sessions.load_shards(ty.rows, &built.sql, &work).await?;
    Ok(match window {
        Some((offset, limit)) => merge(parts, ty, &built.order, offset, limit),
        // No window (a lookup, a many-to-one batch): at most one row per key, in any order.
        None => concatenate(parts),
    })
}

/// The rows of several statements, one after the other.
fn concatenate(mut parts: Vec<Box<dyn RowSet>>) -> Box<dyn RowSet> {
    if parts.len() == 1 {
        if let Some(only) = parts.pop() {
            return only;
        }
    }
    let picks = parts
        .iter()
        .enumerate()
        .flat_map(|(p, rows)| (0..rows.len()).map(move |r| (p as u32, r as u32)))
        .collect();
    Box::new(Merged { parts, picks })
}

/// Rows of several shards in the order `order` gives them, grouped by parent, each group
/// skipping `offset` rows and keeping `limit`.
fn merge(
    parts: Vec<Box<dyn RowSet>>,
    ty: &TypeModel,
    order: &[OrderKey],
    offset: i64,
    limit: i64,
) -> Box<dyn RowSet> {
    // Each row's ordering values are read once, into one flat vector (`order.len()` per row),
    // so the sort compares plain values instead of re-reading rows.
    let width = order.len();
    let total: usize = parts.iter().map(|rows| rows.len()).sum();
    let mut keyed: Vec<SortRow> = Vec::with_capacity(total);
    let mut values: Vec<Option<SortValue>> = Vec::with_capacity(total * width);
    let mut buffer = Vec::with_capacity(64);
    for (p, rows) in parts.iter().enumerate() {
        for r in 0..rows.len() {
            keyed.push(SortRow {
                parent: rows.parent(r),
                pick: (p as u32, r as u32),
                values_at: values.len(),
            });
            for key in order {
                let kind = ty.columns[key.column].kind;
                values.push(SortValue::of(
                    rows.as_ref(),
                    r,
                    key.column,
                    kind,
                    &mut buffer,
                ));
            }
        }
    }
    let cmp = |a: &SortRow, b: &SortRow| {
        a.parent.cmp(&b.parent).then_with(|| {
            let (x, y) = (&values[a.values_at..], &values[b.values_at..]);
            for (i, key) in order.iter().enumerate() {
                let o = compare(&x[i], &y[i], key.descending);
                if o.is_ne() {
                    return o;
                }
            }
            Ordering::Equal
        })
    };
    // Each shard usually answers in the merged order already (one ordered statement): then a
    // k-way merge of the parts needs far fewer comparisons than sorting everything.
    let mut bounds = Vec::with_capacity(parts.len());
    let mut start = 0;
    for rows in &parts {
        bounds.push((start, start + rows.len()));
        start += rows.len();
    }
    let sorted_parts = bounds.iter().all(|&(from, to)| {
        keyed[from..to]
            .windows(2)
            .all(|pair| cmp(&pair[0], &pair[1]).is_le())
    });
    let keyed = if sorted_parts {
        let mut heads: Vec<(usize, usize)> = bounds;
        let mut merged = Vec::with_capacity(keyed.len());
        loop {
            let mut best: Option<usize> = None;
            for (h, &(at, end)) in heads.iter().enumerate() {
                if at == end {
                    continue;
                }
                // Ties go to the earlier part, as a stable sort of the parts in order would.
                if best.is_none_or(|b| cmp(&keyed[at], &keyed[heads[b].0]).is_lt()) {
                    best = Some(h);
                }
            }
            let Some(b) = best else { break };
            merged.push(keyed[heads[b].0]);
            heads[b].0 += 1;
        }
        merged
    } else {
        keyed.sort_by(cmp);
        keyed
    };
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut picks = Vec::with_capacity(keyed.len().min(take));
    let mut start = 0;
    while start < keyed.len() {
        let parent = keyed[start].parent;
        let end = keyed[start..]
            .iter()
            .position(|k| k.parent != parent)
            .map_or(keyed.len(), |n| start + n);
        picks.extend(
            keyed[start..end]
                .iter()
                .skip(skip)
                .take(take)
                .map(|k| k.pick),
        );
        start = end;
    }
    Box::new(Merged { parts, picks })
}

/// One row of a merge: its parent, where it is, and where its ordering values start in the
/// merge's flat vector.
#[derive(Clone, Copy)]
struct SortRow {
    parent: i64,
    pick: (u32, u32),
    values_at: usize,
}

/// A value as the ordering compares it; `None` is NULL.
#[derive(Debug, PartialEq, PartialOrd)]
enum SortValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Compared byte by byte, as the SQL orders text of sharded types (`COLLATE "C"`).
    Text(String),
}

impl SortValue {
    /// Column `column` of row `r`: integer keys straight from the row, other kinds from the
    /// JSON the row writes.
    fn of(
        rows: &dyn RowSet,
        r: usize,
        column: usize,
        kind: ScalarKind,
        buffer: &mut Vec<u8>,
    ) -> Option<SortValue> {
        if matches!(kind, ScalarKind::Id | ScalarKind::ForeignKey) {
            return rows.int_column(r, column).map(SortValue::Int);
        }
        buffer.clear();
        rows.write_column(r, column, buffer);
        SortValue::read(kind, buffer)
    }

    /// The value from its JSON form as the row writes it. The common forms (numbers, booleans,
    /// strings without escapes) are read directly; anything else through serde_json.
    fn read(kind: ScalarKind, json: &[u8]) -> Option<SortValue> {
        if json == b"null" {
            return None;
        }
        let direct = match kind {
            ScalarKind::Int => std::str::from_utf8(json)
                .ok()
                .and_then(|s| s.parse().ok())
                .map(SortValue::Int),
            ScalarKind::Float => std::str::from_utf8(json)
                .ok()
                .and_then(|s| s.parse().ok())
                .map(SortValue::Float),
            ScalarKind::Boolean => match json {
                b"true" => Some(SortValue::Bool(true)),
                b"false" => Some(SortValue::Bool(false)),
                _ => None,
            },
            ScalarKind::String | ScalarKind::DateTime | ScalarKind::Enum(_) => json
                .strip_prefix(b"\"")
                .and_then(|inner| inner.strip_suffix(b"\""))
                .filter(|inner| !inner.contains(&b'\\'))
                .and_then(|inner| std::str::from_utf8(inner).ok())
                .map(|text| SortValue::Text(text.to_owned())),
            _ => None,
        };
        if direct.is_some() {
            return direct;
        }
        let value: serde_json::Value = serde_json::from_slice(json).ok()?;
        match (kind, value) {
            (_, serde_json::Value::Null) => None,
            // IDs are JSON strings.
            (ScalarKind::Id | ScalarKind::ForeignKey, serde_json::Value::String(s)) => {
                s.parse().ok().map(SortValue::Int)
            }
            (ScalarKind::Float, serde_json::Value::Number(n)) => n.as_f64().map(SortValue::Float),
            (_, serde_json::Value::Number(n)) => n
                .as_i64()
                .map(SortValue::Int)
                .or_else(|| n.as_f64().map(SortValue::Float)),
            (_, serde_json::Value::Bool(b)) => Some(SortValue::Bool(b)),
            (_, serde_json::Value::String(s)) => Some(SortValue::Text(s)),
            (_, other) => Some(SortValue::Text(other.to_string())),
        }
    }
}

/// The SQL ordering of two values: NULL sorts as the largest value (`ASC NULLS LAST`,
/// `DESC NULLS FIRST`), as the planner's `ORDER BY` says on both dialects.
fn compare(a: &Option<SortValue>, b: &Option<SortValue>, descending: bool) -> Ordering {
    let ascending = match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
    };
    if descending {
        ascending.reverse()
    } else {
        ascending
    }
}

/// Rows picked from several row sets (the shards' answers), in pick order.
struct Merged {
    parts: Vec<Box<dyn RowSet>>,
    /// (part, row) per row.
    picks: Vec<(u32, u32)>,
}

impl Merged {
    fn at(&self, index: usize) -> (&dyn RowSet, usize) {
        let (part, row) = self.picks[index];
        (self.parts[part as usize].as_ref(), row as usize)
    }
}

impl RowSet for Merged {
    fn len(&self) -> usize {
        self.picks.len()
    }
    fn parent(&self, index: usize) -> i64 {
        let (rows, row) = self.at(index);
        rows.parent(row)
    }
    fn int_column(&self, index: usize, column: usize) -> Option<i64> {
        let (rows, row) = self.at(index);
        rows.int_column(row, column)
    }
    fn write_column(&self, index: usize, column: usize, out: &mut Vec<u8>) {
        let (rows, row) = self.at(index);
        rows.write_column(row, column, out)
    }
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(kind: ScalarKind, json: &str) -> Option<SortValue> {
        SortValue::read(kind, json.as_bytes())
    }

    #[test]
    fn values_compare_as_sql_orders_them() {
        let id = |s| v(ScalarKind::Id, s);
        // IDs are strings in JSON but compare as numbers.
        assert_eq!(compare(&id("\"9\""), &id("\"10\""), false), Ordering::Less);
        // NULL is the largest: last ascending, first descending.
        assert_eq!(compare(&None, &id("\"1\""), false), Ordering::Greater);
        assert_eq!(compare(&None, &id("\"1\""), true), Ordering::Less);
        let text = |s| v(ScalarKind::String, s);
        // Byte order: upper case before lower case, as COLLATE "C".
        assert_eq!(
            compare(&text("\"Zed\""), &text("\"abe\""), false),
            Ordering::Less
        );
        assert_eq!(
            compare(&text("\"a\\\"b\""), &text("\"a\\\"c\""), true),
            Ordering::Greater
        );
        let float = |s| v(ScalarKind::Float, s);
        assert_eq!(compare(&float("2.5"), &float("10"), false), Ordering::Less);
        let boolean = |s| v(ScalarKind::Boolean, s);
        assert_eq!(
            compare(&boolean("false"), &boolean("true"), false),
            Ordering::Less
        );
        assert_eq!(v(ScalarKind::Int, "null"), None);
    }

    #[test]
    fn direct_reads_agree_with_the_json_reading() {
        // The direct forms and the serde_json fallback give the same values.
        let cases: &[(ScalarKind, &str, Option<SortValue>)] = &[
            (ScalarKind::Int, "-42", Some(SortValue::Int(-42))),
            (ScalarKind::Float, "2.5", Some(SortValue::Float(2.5))),
            (ScalarKind::Float, "1e20", Some(SortValue::Float(1e20))),
            (ScalarKind::Boolean, "true", Some(SortValue::Bool(true))),
            (
                ScalarKind::String,
                "\"caf\u{e9}\"",
                Some(SortValue::Text("caf\u{e9}".into())),
            ),
            // Escapes go through serde_json.
            (
                ScalarKind::String,
                r#""a\"b\u0001""#,
                Some(SortValue::Text("a\"b\u{1}".into())),
            ),
            (
                ScalarKind::DateTime,
                "\"2026-01-02T03:04:05.000Z\"",
                Some(SortValue::Text("2026-01-02T03:04:05.000Z".into())),
            ),
            (ScalarKind::String, "null", None),
        ];
        for (kind, json, expected) in cases {
            assert_eq!(&SortValue::read(*kind, json.as_bytes()), expected, "{json}");
        }
    }
}
