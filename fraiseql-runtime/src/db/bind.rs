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
    /// `NULL`, typed (PostgreSQL types every parameter).
    Null(NullType),
}

/// The SQL type of a bound `NULL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullType {
    /// `BIGINT`.
    BigInt,
    /// `INTEGER`.
    Integer,
    /// `DOUBLE PRECISION` / `REAL`.
    Double,
    /// `TEXT`.
    Text,
    /// `BOOLEAN`.
    Bool,
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
