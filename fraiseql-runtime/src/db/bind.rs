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
