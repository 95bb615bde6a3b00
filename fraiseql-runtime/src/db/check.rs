//! `check`: whether the database can serve the model — every table and column present, with
//! a type the generated rows can read. It reads the catalog only and changes nothing.
//!
//! What counts as drift:
//! - a missing table or column;
//! - a column whose type stores other values (TEXT where BIGINT is needed; on PostgreSQL also
//!   INTEGER where BIGINT is needed, because rows are decoded by exact type). Spellings of one
//!   type are fine: VARCHAR(n) or CHAR for TEXT, JSON for JSONB; on SQLite, which stores by
//!   type affinity, any declared type with the same affinity;
//! - a nullable column where the schema says non-null: the API promises a value, and one NULL
//!   row would break that promise at request time, far from the cause. (The reverse, NOT NULL
//!   where the schema allows null, is fine.)
//!
//! Missing indexes are not drift: they cost speed, not correctness, and `migrate` adds them.
//! Extra tables and columns are ignored.

use super::introspect::{self, DbColumn};
use super::shard::Holds;
use super::{Database, DbError};
use crate::model::{ColumnModel, Dialect, SchemaModel};

/// How the database differs from the model, one plain sentence per difference.
#[derive(Debug, thiserror::Error)]
pub enum SchemaDrift {
    /// The differences, in model order.
    #[error("{}", .0.join("\n"))]
    Differences(Vec<String>),
    /// The catalog could not be read.
    #[error("cannot read the database schema: {0}")]
    Database(#[from] DbError),
}

impl SchemaDrift {
    /// The differences found (empty when the catalog could not be read).
    pub fn differences(&self) -> &[String] {
        match self {
            SchemaDrift::Differences(lines) => lines,
            SchemaDrift::Database(_) => &[],
        }
    }
}

/// `Ok` when `db` has every table and column `model` needs, with compatible types.
pub async fn check(model: &SchemaModel, db: &Database) -> Result<(), SchemaDrift> {
    check_holding(model, db, Holds::primary(db)).await
}

/// [`check`] on every shard of `db` (nothing without shards); each difference starts with the
/// shard's label (`shard-1: table "posts" is missing`).
pub async fn check_shards(model: &SchemaModel, db: &Database) -> Result<(), SchemaDrift> {
    let Some(router) = db.shard_router() else {
        return Ok(());
    };
    let mut differences = Vec::new();
    for (label, shard) in router.databases() {
        match check_holding(model, shard, Holds::Sharded).await {
            Ok(()) => {}
            Err(SchemaDrift::Differences(lines)) => {
                differences.extend(lines.into_iter().map(|l| format!("{label}: {l}")))
            }
            Err(SchemaDrift::Database(e)) => {
                return Err(SchemaDrift::Database(DbError::Other(format!(
                    "{label}: {e}"
                ))))
            }
        }
    }
    if differences.is_empty() {
        Ok(())
    } else {
        Err(SchemaDrift::Differences(differences))
    }
}

async fn check_holding(
    model: &SchemaModel,
    db: &Database,
    holds: Holds,
) -> Result<(), SchemaDrift> {
    let mut session = db.session().await?;
    let existing = introspect::read(&mut session).await?;
    drop(session);
    let dialect = db.dialect();
    let mut differences = Vec::new();
    for ty in model.types.iter().filter(|t| holds.table(t)) {
        let Some(columns) = existing.table(ty.table) else {
            differences.push(format!("table \"{}\" is missing", ty.table));
            continue;
        };
        for column in ty.columns {
            let expected = column.ddl_type.get(dialect);
            match columns.get(column.name) {
                None => differences.push(format!(
                    "table \"{}\" is missing column \"{}\" ({expected})",
                    ty.table, column.name
                )),
                Some(found) => {
                    if let Some(difference) = compare(ty.table, column, found, dialect) {
                        differences.push(difference);
                    }
                }
            }
        }
    }
    if differences.is_empty() {
        Ok(())
    } else {
        Err(SchemaDrift::Differences(differences))
    }
}

fn compare(
    table: &str,
    column: &ColumnModel,
    found: &DbColumn,
    dialect: Dialect,
) -> Option<String> {
    let expected = column.ddl_type.get(dialect);
    let compatible = match dialect {
        Dialect::Postgres => pg_family(expected) == pg_family(&found.data_type),
        Dialect::Sqlite => {
            let (want, have) = (affinity(expected), affinity(&found.data_type));
            want == have || (is_integral(want) && is_integral(have))
        }
    };
    if !compatible {
        return Some(format!(
            "column \"{table}\".\"{}\" is {} but the schema needs {expected}",
            column.name,
            found.data_type.to_ascii_uppercase()
        ));
    }
    if found.nullable && !column.nullable {
        return Some(format!(
            "column \"{table}\".\"{}\" allows NULL but the schema says it is non-null",
            column.name
        ));
    }
    None
}

/// A PostgreSQL type name (DDL spelling or `information_schema.data_type`) reduced to what the
/// row decoder cares about.
fn pg_family(type_name: &str) -> String {
    let name = type_name.to_ascii_lowercase();
    let base = name.split('(').next().unwrap_or("").trim();
    let family = match base {
        "bigint" | "int8" | "bigserial" => "bigint",
        "integer" | "int" | "int4" | "serial" => "integer",
        "double precision" | "float8" => "double",
        "text" | "varchar" | "character varying" | "character" | "char" | "bpchar" => "text",
        "boolean" | "bool" => "boolean",
        "timestamptz" | "timestamp with time zone" => "timestamptz",
        "jsonb" | "json" => "json",
        other => other,
    };
    family.to_string()
}

/// SQLite's type affinity of a declared type (the rules of section 3.1 of its datatype docs).
fn affinity(type_name: &str) -> &'static str {
    let name = type_name.to_ascii_uppercase();
    if name.contains("INT") {
        "INTEGER"
    } else if name.contains("CHAR") || name.contains("CLOB") || name.contains("TEXT") {
        "TEXT"
    } else if name.contains("BLOB") || name.is_empty() {
        "BLOB"
    } else if name.contains("REAL") || name.contains("FLOA") || name.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

/// INTEGER and NUMERIC affinity store integers (and booleans) the same way.
fn is_integral(affinity: &str) -> bool {
    matches!(affinity, "INTEGER" | "NUMERIC")
}

#[cfg(test)]
mod tests {
    use super::{affinity, pg_family};

    #[test]
    fn type_spellings_fold_together() {
        assert_eq!(pg_family("VARCHAR(255)"), pg_family("text"));
        assert_eq!(
            pg_family("TIMESTAMPTZ"),
            pg_family("timestamp with time zone")
        );
        assert_eq!(pg_family("DOUBLE PRECISION"), pg_family("double precision"));
        assert_ne!(pg_family("BIGINT"), pg_family("integer"));
        assert_ne!(pg_family("BIGINT"), pg_family("text"));
        assert_eq!(affinity("VARCHAR(10)"), "TEXT");
        assert_eq!(affinity("BIGINT"), "INTEGER");
        assert_eq!(affinity("BOOLEAN"), "NUMERIC");
        assert_eq!(affinity("REAL"), "REAL");
    }
}
