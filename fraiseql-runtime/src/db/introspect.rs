//! What the database already has: tables, their columns (declared type, nullability) and
//! index names, read from `information_schema`/`pg_indexes` on PostgreSQL and from
//! `sqlite_schema`/`pragma_table_info` on SQLite. `migrate` and `check` compare it with the
//! model.

use std::collections::{BTreeMap, BTreeSet};

use super::{DbError, Session};
use crate::model::Dialect;

/// One existing column.
#[derive(Clone, Debug)]
pub(crate) struct DbColumn {
    /// The declared type, lower case (`bigint`, `character varying`, `integer`, …).
    pub(crate) data_type: String,
    /// Whether NULL is allowed.
    pub(crate) nullable: bool,
}

/// The existing schema: table -> column -> column facts, plus every index name.
#[derive(Debug, Default)]
pub(crate) struct DbSchema {
    pub(crate) tables: BTreeMap<String, BTreeMap<String, DbColumn>>,
    pub(crate) indexes: BTreeSet<String>,
}

impl DbSchema {
    /// The columns of `table`, if it exists.
    pub(crate) fn table(&self, table: &str) -> Option<&BTreeMap<String, DbColumn>> {
        self.tables.get(table)
    }
}

// One text value per column (tab-separated fields), so one row type serves both dialects.
// SQLite reports an `INTEGER PRIMARY KEY` as nullable; it is not, so `pk` counts as NOT NULL.
const PG_COLUMNS: &str = "SELECT table_name || chr(9) || column_name || chr(9) || data_type \
     || chr(9) || is_nullable AS value FROM information_schema.columns \
     WHERE table_schema = current_schema()";
const SQLITE_COLUMNS: &str = "SELECT m.name || char(9) || p.name || char(9) || p.type \
     || char(9) || CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'NO' ELSE 'YES' END AS value \
     FROM sqlite_schema AS m, pragma_table_info(m.name) AS p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'";
const PG_INDEXES: &str =
    "SELECT indexname AS value FROM pg_indexes WHERE schemaname = current_schema()";
const SQLITE_INDEXES: &str = "SELECT name AS value FROM sqlite_schema WHERE type = 'index'";

/// Reads the schema through `session`.
pub(crate) async fn read(session: &mut Session) -> Result<DbSchema, DbError> {
    let (columns_sql, indexes_sql) = match session.dialect() {
        Dialect::Postgres => (PG_COLUMNS, PG_INDEXES),
        Dialect::Sqlite => (SQLITE_COLUMNS, SQLITE_INDEXES),
    };
    let mut schema = DbSchema::default();
    for line in session.text_values(columns_sql, &[]).await? {
        let mut fields = line.split('\t');
        let (Some(table), Some(column), Some(data_type), Some(nullable)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(DbError::Other(format!("unexpected catalog row {line:?}")));
        };
        schema.tables.entry(table.to_string()).or_default().insert(
            column.to_string(),
            DbColumn {
                data_type: data_type.to_ascii_lowercase(),
                nullable: nullable == "YES",
            },
        );
    }
    schema.indexes = session
        .text_values(indexes_sql, &[])
        .await?
        .into_iter()
        .collect();
    Ok(schema)
}

/// `name` as a quoted SQL identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
