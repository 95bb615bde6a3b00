//! Typed rows: the contract between generated row structs and the executor.
//!
//! The compiler emits, per table, a struct with one `Option<T>` field per column (a column the
//! document does not need is selected as `NULL`, so one struct serves every selection) and
//! implements [`Row`] and diesel's `QueryableByName` for it. The executor loads rows through a
//! [`RowLoader`] (one `static` [`TableRows<T>`] per table) and writes them to the response as
//! JSON directly, with no intermediate value tree.

use std::marker::PhantomData;

use diesel::deserialize::{self, QueryableByName};
use diesel::pg::Pg;
use diesel::row::NamedRow;
use diesel::sql_types::BigInt;
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{QueryResult, RunQueryDsl};
use diesel_async::AsyncPgConnection;

use crate::db::PlannedQuery;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;

/// The column every batched statement selects first: the key of the parent row a child row
/// belongs to (`0` for root statements).
pub const PARENT_COLUMN: &str = "__fraiseql_parent";

/// A generated, typed row of one table.
pub trait Row: Send + Sync + 'static {
    /// The value of an integer-keyed column (ID or foreign key), for batching relations.
    fn int_column(&self, column: usize) -> Option<i64>;
    /// Appends the JSON value of a column (`null` when NULL or not selected).
    fn write_column(&self, column: usize, out: &mut Vec<u8>);
}

/// A generated row struct of a table type: what custom resolvers read and return.
pub trait TableRow: Row + Sized {
    /// The GraphQL type the row belongs to, e.g. `User`.
    const TYPE_NAME: &'static str;
    /// The row's key (`id`), when it was loaded.
    fn key(&self) -> Option<i64>;
}

/// A row together with the key of the parent it was loaded for.
pub struct Keyed<T> {
    /// Value of [`PARENT_COLUMN`].
    pub parent: i64,
    /// The typed row.
    pub row: T,
}

impl<DB, T> QueryableByName<DB> for Keyed<T>
where
    DB: diesel::backend::Backend,
    i64: deserialize::FromSql<BigInt, DB>,
    T: QueryableByName<DB>,
{
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        Ok(Keyed {
            parent: NamedRow::get::<BigInt, i64>(row, PARENT_COLUMN)?,
            row: T::build(row)?,
        })
    }
}

/// The rows one statement returned, type-erased so a plan can hold any table's rows.
pub trait RowSet: Send + Sync {
    /// Number of rows.
    fn len(&self) -> usize;
    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The parent key of row `index`.
    fn parent(&self, index: usize) -> i64;
    /// See [`Row::int_column`].
    fn int_column(&self, index: usize, column: usize) -> Option<i64>;
    /// See [`Row::write_column`].
    fn write_column(&self, index: usize, column: usize, out: &mut Vec<u8>);
    /// The concrete rows (a `Vec<Keyed<T>>`), for typed access by custom resolvers.
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send>;
}

impl<T: Row> RowSet for Vec<Keyed<T>> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn parent(&self, index: usize) -> i64 {
        self[index].parent
    }
    fn int_column(&self, index: usize, column: usize) -> Option<i64> {
        self[index].row.int_column(column)
    }
    fn write_column(&self, index: usize, column: usize, out: &mut Vec<u8>) {
        self[index].row.write_column(column, out)
    }
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }
}

/// Runs a prepared statement and loads typed rows; one per table, as a `static`.
pub trait RowLoader: Send + Sync {
    /// Loads rows on SQLite (a blocking call).
    fn load_sqlite(
        &self,
        conn: &mut SqliteConnection,
        query: PlannedQuery<'_>,
    ) -> QueryResult<Box<dyn RowSet>>;

    /// Loads rows on PostgreSQL.
    fn load_postgres<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        query: PlannedQuery<'a>,
    ) -> BoxFuture<'a, QueryResult<Box<dyn RowSet>>>;
}

/// The [`RowLoader`] for row struct `T`; generated code declares
/// `static USER_ROWS: TableRows<UserRow> = TableRows::new();`.
pub struct TableRows<T>(PhantomData<fn() -> T>);

impl<T> TableRows<T> {
    /// The loader (a zero-sized value).
    pub const fn new() -> Self {
        TableRows(PhantomData)
    }
}

impl<T> Default for TableRows<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> RowLoader for TableRows<T>
where
    T: Row + QueryableByName<Sqlite> + QueryableByName<Pg>,
{
    fn load_sqlite(
        &self,
        conn: &mut SqliteConnection,
        query: PlannedQuery<'_>,
    ) -> QueryResult<Box<dyn RowSet>> {
        let rows: Vec<Keyed<T>> = query.load(conn)?;
        Ok(Box::new(rows))
    }

    fn load_postgres<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        query: PlannedQuery<'a>,
    ) -> BoxFuture<'a, QueryResult<Box<dyn RowSet>>> {
        async move {
            let rows: Vec<Keyed<T>> = diesel_async::RunQueryDsl::load(query, conn).await?;
            Ok(Box::new(rows) as Box<dyn RowSet>)
        }
        .boxed()
    }
}

/// JSON writers for generated `Row::write_column` bodies: one per value kind, each writing
/// `null` for `None`.
pub mod json {
    /// `ID`: the integer as a JSON string.
    pub fn id(out: &mut Vec<u8>, value: Option<i64>) {
        match value {
            Some(v) => {
                out.push(b'"');
                out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
                out.push(b'"');
            }
            None => null(out),
        }
    }

    /// `Int` (and foreign keys, which are never written as fields).
    pub fn int<I: itoa::Integer>(out: &mut Vec<u8>, value: Option<I>) {
        match value {
            Some(v) => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
            None => null(out),
        }
    }

    /// `Float`: non-finite values (which JSON cannot carry) become `null`.
    pub fn float(out: &mut Vec<u8>, value: Option<f64>) {
        match value {
            Some(v) if v.is_finite() => {
                out.extend_from_slice(ryu::Buffer::new().format(v).as_bytes())
            }
            _ => null(out),
        }
    }

    /// `Boolean`.
    pub fn boolean(out: &mut Vec<u8>, value: Option<bool>) {
        match value {
            Some(true) => out.extend_from_slice(b"true"),
            Some(false) => out.extend_from_slice(b"false"),
            None => null(out),
        }
    }

    /// `String`, `DateTime` and enums: an escaped JSON string.
    pub fn string(out: &mut Vec<u8>, value: Option<&str>) {
        match value {
            Some(v) => escape_into(out, v),
            None => null(out),
        }
    }

    /// `JSON`: the stored document embedded as-is. Text that is not valid JSON (possible on
    /// SQLite, which does not check) is written as a JSON string instead, so the response stays
    /// well-formed.
    pub fn raw_json(out: &mut Vec<u8>, value: Option<&str>) {
        match value {
            Some(v) if serde_json::from_str::<serde::de::IgnoredAny>(v).is_ok() => {
                out.extend_from_slice(v.as_bytes())
            }
            Some(v) => escape_into(out, v),
            None => null(out),
        }
    }

    /// `null`.
    pub fn null(out: &mut Vec<u8>) {
        out.extend_from_slice(b"null");
    }

    /// Appends `"name":` for a response key. Response keys are GraphQL names
    /// (`[_A-Za-z][_0-9A-Za-z]*`, checked by the parser), which never need escaping.
    pub fn key(out: &mut Vec<u8>, name: &str) {
        debug_assert!(!name.bytes().any(needs_escape), "{name}");
        out.reserve(name.len() + 3);
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
    }

    /// Whether a byte must be escaped inside a JSON string.
    #[inline]
    fn needs_escape(b: u8) -> bool {
        b < 0x20 || b == b'"' || b == b'\\'
    }

    /// Appends `value` as a quoted, escaped JSON string.
    pub fn escape_into(out: &mut Vec<u8>, value: &str) {
        let bytes = value.as_bytes();
        // Most text needs no escaping: one branch-free pass that the compiler vectorises,
        // then a single copy.
        if !bytes
            .iter()
            .fold(false, |found, &b| found | needs_escape(b))
        {
            out.reserve(bytes.len() + 2);
            out.push(b'"');
            out.extend_from_slice(bytes);
            out.push(b'"');
            return;
        }
        out.push(b'"');
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x00..=0x1f => {
                    out.extend_from_slice(&bytes[start..i]);
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[(b >> 4) as usize]);
                    out.push(HEX[(b & 0xf) as usize]);
                    start = i + 1;
                    continue;
                }
                _ => continue,
            };
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(escape);
            start = i + 1;
        }
        out.extend_from_slice(&bytes[start..]);
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::json;

    fn written(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn strings_are_escaped_like_serde_json() {
        for s in [
            "plain",
            "quote \" and \\ slash",
            "line\nbreak\ttab",
            "\u{1}ctl",
            "ünïcødé ✓",
        ] {
            let ours = written(|o| json::string(o, Some(s)));
            assert_eq!(ours, serde_json::to_string(s).unwrap_or_default());
        }
    }

    #[test]
    fn ids_are_strings_and_nulls_are_null() {
        assert_eq!(written(|o| json::id(o, Some(42))), "\"42\"");
        assert_eq!(written(|o| json::id(o, None)), "null");
        assert_eq!(written(|o| json::float(o, Some(f64::NAN))), "null");
        assert_eq!(
            written(|o| json::raw_json(o, Some("{\"a\":1}"))),
            "{\"a\":1}"
        );
        assert_eq!(written(|o| json::raw_json(o, Some("{oops"))), "\"{oops\"");
    }
}
