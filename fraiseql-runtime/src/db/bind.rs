//! Bound parameter values. The planner produces them; a session binds them with the SQL type
//! each variant names. Lists are `bigint[]`-style arrays on PostgreSQL (used as `= ANY($n)`)
//! and JSON array text on SQLite (used as `IN (SELECT value FROM json_each($n))`).

/// One bound parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Bind {
    /// `BIGINT` (IDs, foreign keys, limits, offsets).
    BigInt(i64),
    /// `INTEGER`.
    Integer(i32),
    /// `DOUBLE PRECISION` / `REAL`.
    Double(f64),
    /// `TEXT` (strings, enums, DateTime in canonical form, JSON).
    Text(String),
    /// `BOOLEAN`.
    Bool(bool),
    /// A list of `BIGINT`.
    BigIntList(Vec<i64>),
    /// A list of `INTEGER`.
    IntegerList(Vec<i32>),
    /// A list of `DOUBLE PRECISION`.
    DoubleList(Vec<f64>),
    /// A list of `TEXT`.
    TextList(Vec<String>),
}

use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Bool, Double, Integer, Text};
use diesel::sqlite::Sqlite;

/// `sql` with `binds` attached for PostgreSQL: each value with its own SQL type, lists as
/// arrays. Binds are borrowed, so nothing is copied on the hot path.
pub(crate) fn postgres_query<'a>(sql: &str, binds: &'a [Bind]) -> BoxedSqlQuery<'a, Pg, SqlQuery> {
    let mut query = diesel::sql_query(sql).into_boxed::<Pg>();
    for bind in binds {
        query = match bind {
            Bind::BigInt(v) => query.bind::<BigInt, _>(v),
            Bind::Integer(v) => query.bind::<Integer, _>(v),
            Bind::Double(v) => query.bind::<Double, _>(v),
            Bind::Text(v) => query.bind::<Text, _>(v.as_str()),
            Bind::Bool(v) => query.bind::<Bool, _>(v),
            Bind::BigIntList(v) => query.bind::<Array<BigInt>, _>(v.as_slice()),
            Bind::IntegerList(v) => query.bind::<Array<Integer>, _>(v.as_slice()),
            Bind::DoubleList(v) => query.bind::<Array<Double>, _>(v.as_slice()),
            Bind::TextList(v) => query.bind::<Array<Text>, _>(v.as_slice()),
        };
    }
    query
}

/// `sql` with `binds` attached for SQLite. SQLite has no arrays: a list is bound as one JSON
/// array text that the statement reads with `json_each`.
pub(crate) fn sqlite_query<'a>(
    sql: &str,
    binds: &'a [Bind],
) -> BoxedSqlQuery<'a, Sqlite, SqlQuery> {
    let mut query = diesel::sql_query(sql).into_boxed::<Sqlite>();
    for bind in binds {
        query = match bind {
            Bind::BigInt(v) => query.bind::<BigInt, _>(v),
            Bind::Integer(v) => query.bind::<Integer, _>(v),
            Bind::Double(v) => query.bind::<Double, _>(v),
            Bind::Text(v) => query.bind::<Text, _>(v.as_str()),
            Bind::Bool(v) => query.bind::<Bool, _>(v),
            Bind::BigIntList(v) => query.bind::<Text, _>(json_array(v)),
            Bind::IntegerList(v) => query.bind::<Text, _>(json_array(v)),
            Bind::DoubleList(v) => query.bind::<Text, _>(json_array(v)),
            Bind::TextList(v) => query.bind::<Text, _>(json_array(v)),
        };
    }
    query
}

/// A list bind as the JSON array text SQLite reads; `None` for a single value.
pub(crate) fn sqlite_list_json(bind: &Bind) -> Option<String> {
    match bind {
        Bind::BigIntList(v) => Some(json_array(v)),
        Bind::IntegerList(v) => Some(json_array(v)),
        Bind::DoubleList(v) => Some(json_array(v)),
        Bind::TextList(v) => Some(json_array(v)),
        _ => None,
    }
}

/// A list as JSON array text. Serializing numbers and strings cannot fail; the fallback keeps
/// the statement valid (an empty list) instead of panicking.
fn json_array<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_string())
}

#[cfg(test)]
mod tests {
    use super::json_array;

    #[test]
    fn lists_become_json_arrays() {
        assert_eq!(json_array(&[1_i64, 2, 3]), "[1,2,3]");
        assert_eq!(json_array(&["a\"b".to_string()]), r#"["a\"b"]"#);
        assert_eq!(json_array::<i64>(&[]), "[]");
    }
}
