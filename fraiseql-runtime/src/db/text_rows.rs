//! Rows of one text column, for the statements the db layer writes itself: catalog queries
//! (aliased `value`) and the plan lines of `EXPLAIN` (a column name each dialect fixes).

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, QueryableByName};
use diesel::row::NamedRow;
use diesel::sql_types::{Nullable, Text};

/// Column `value`.
pub(crate) struct TextValue(pub(crate) String);

/// Column `QUERY PLAN` of PostgreSQL's `EXPLAIN`.
pub(crate) struct PgPlanLine(pub(crate) String);

/// Column `detail` of SQLite's `EXPLAIN QUERY PLAN`.
pub(crate) struct SqlitePlanLine(pub(crate) String);

fn text<'a, DB>(row: &impl NamedRow<'a, DB>, column: &str) -> deserialize::Result<String>
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    // NULL reads as empty text: catalog columns such as a default expression may be NULL.
    let value = NamedRow::get::<Nullable<Text>, Option<String>>(row, column)?;
    Ok(value.unwrap_or_default())
}

impl<DB> QueryableByName<DB> for TextValue
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        text(row, "value").map(TextValue)
    }
}

impl<DB> QueryableByName<DB> for PgPlanLine
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        text(row, "QUERY PLAN").map(PgPlanLine)
    }
}

impl<DB> QueryableByName<DB> for SqlitePlanLine
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        text(row, "detail").map(SqlitePlanLine)
    }
}
