//! `seed`: deterministic demo data for every type with `@seed(rows:)`, parents before
//! children, ids 1..=N, foreign keys spread evenly over the referenced rows. One transaction,
//! multi-row INSERTs with bound values; on PostgreSQL the identity sequences are moved past
//! the seeded ids afterwards, so later inserts do not collide.

mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use super::introspect::quote;
use super::migrate::{creation_order, foreign_keys};
use super::{Bind, Database, DbError, Session};
use crate::model::{Dialect, ScalarKind, SchemaModel, TypeModel};

/// Most bound values in one INSERT: under SQLite's 32766 and PostgreSQL's 65535 limits, and
/// large enough that statement overhead is small.
const MAX_BINDS_PER_INSERT: usize = 5_000;
/// Most rows in one INSERT.
const MAX_ROWS_PER_INSERT: usize = 500;

/// What a seed inserted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReport {
    /// `(table, rows)` in insertion order.
    pub tables: Vec<(&'static str, u64)>,
    /// Wall time of the whole seed.
    pub elapsed: Duration,
}

impl SeedReport {
    /// Rows inserted in all tables.
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|(_, rows)| rows).sum()
    }
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .tables
            .iter()
            .map(|(table, rows)| format!("{rows} {table}"))
            .collect();
        write!(f, "seeded {} in {:.2?}", parts.join(", "), self.elapsed)
    }
}

/// Seeds every `@seed` type with its declared row count. Refuses (with
/// [`DbError::Other`] naming the table) when any seeded table already has rows: the seed uses
/// fixed ids, which would collide, and mixing demo rows with real ones is never wanted. Use
/// [`seed_if_empty`] to make it conditional.
pub async fn seed(model: &SchemaModel, db: &Database) -> Result<SeedReport, DbError> {
    seed_scaled(model, db, 1).await
}

/// [`seed`] with every row count multiplied by `scale` (benchmarks: 10, 100, …).
pub async fn seed_scaled(
    model: &SchemaModel,
    db: &Database,
    scale: u32,
) -> Result<SeedReport, DbError> {
    refuse_shards(model, db)?;
    let mut session = db.session().await?;
    if let Some(table) = first_non_empty(model, &mut session).await? {
        return Err(DbError::Other(format!(
            "refusing to seed: table \"{table}\" already has rows (seed only fills empty tables)"
        )));
    }
    insert_all(model, &mut session, scale).await
}

/// Seeds (like [`seed_scaled`]) only when every seeded table is empty; `Ok(None)` otherwise.
pub async fn seed_if_empty(
    model: &SchemaModel,
    db: &Database,
    scale: u32,
) -> Result<Option<SeedReport>, DbError> {
    refuse_shards(model, db)?;
    let mut session = db.session().await?;
    if first_non_empty(model, &mut session).await?.is_some() {
        return Ok(None);
    }
    insert_all(model, &mut session, scale).await.map(Some)
}

/// The demo rows are written to one database in one transaction; placing them on shards is
/// not done (yet): say so rather than fill the primary with rows the server never reads there.
fn refuse_shards(model: &SchemaModel, db: &Database) -> Result<(), DbError> {
    match seeded(model).find(|t| t.shard.is_some()) {
        Some(ty) if db.shard_router().is_some() => Err(DbError::Other(format!(
            "seed does not place rows on shards ({} is sharded); seed without \
             DATABASE_URL_SHARDS, or insert rows through the API",
            ty.name
        ))),
        _ => Ok(()),
    }
}

fn seeded(model: &SchemaModel) -> impl Iterator<Item = &TypeModel> {
    model.types.iter().filter(|t| t.seed_rows > 0)
}

async fn first_non_empty(
    model: &SchemaModel,
    session: &mut Session,
) -> Result<Option<&'static str>, DbError> {
    for ty in seeded(model) {
        let sql = format!(
            "SELECT CAST(COUNT(*) AS TEXT) AS value FROM (SELECT 1 FROM {} LIMIT 1) AS t",
            quote(ty.table)
        );
        let count = session.text_values(&sql, &[]).await?;
        if count.first().is_some_and(|c| c != "0") {
            return Ok(Some(ty.table));
        }
    }
    Ok(None)
}

async fn insert_all(
    model: &SchemaModel,
    session: &mut Session,
    scale: u32,
) -> Result<SeedReport, DbError> {
    let start = Instant::now();
    let dialect = session.dialect();
    let rows_of = |ty: &TypeModel| u64::from(ty.seed_rows) * u64::from(scale);
    let references = foreign_keys(model);
    let order: Vec<usize> = creation_order(model)
        .into_iter()
        .filter(|&i| model.types[i].seed_rows > 0)
        .collect();

    // Check every reference up front, so nothing is half-inserted for a model we cannot seed.
    for &index in &order {
        let ty = &model.types[index];
        for column in ty.columns {
            let target = references.get(&index).and_then(|m| m.get(column.name));
            if let Some(&target) = target {
                if rows_of(&model.types[target]) == 0 && !column.nullable {
                    return Err(DbError::Other(format!(
                        "cannot seed \"{}\": its column \"{}\" must reference a \"{}\" row, and \
                         {} has no @seed rows",
                        ty.table, column.name, model.types[target].table, model.types[target].name
                    )));
                }
            }
        }
    }

    let tables = session
        .in_transaction(async |session: &mut Session| {
            let mut tables = Vec::with_capacity(order.len());
            for &index in &order {
                let ty = &model.types[index];
                let targets = references.get(&index);
                let target_rows: Vec<Option<u64>> = ty
                    .columns
                    .iter()
                    .map(|c| {
                        targets
                            .and_then(|m| m.get(c.name))
                            .map(|&t| rows_of(&model.types[t]))
                    })
                    .collect();
                insert_table(model, ty, &target_rows, rows_of(ty), dialect, session).await?;
                tables.push((ty.table, rows_of(ty)));
            }
            Ok(tables)
        })
        .await?;

    // Fresh statistics, so the first queries are planned for the data that is there (without
    // them PostgreSQL may pick a key-ordered scan for a per-parent LIMIT that reads whole
    // tables).
    let analyze: Vec<String> = order
        .iter()
        .map(|&i| format!("ANALYZE {}", quote(model.types[i].table)))
        .collect();
    session.execute_batch(&analyze.join("; ")).await?;

    if dialect == Dialect::Postgres {
        for &index in &order {
            let ty = &model.types[index];
            let key = ty.columns.get(ty.key_column).map_or("id", |c| c.name);
            // Identity columns own a sequence; move it past the explicit ids.
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{key}'), \
                 (SELECT COALESCE(MAX({qkey}), 0) + 1 FROM {table}), false)",
                table = quote(ty.table).replace('\'', "''"),
                key = key.replace('\'', "''"),
                qkey = quote(key)
            );
            session.execute_batch(&sql).await?;
        }
    }
    Ok(SeedReport {
        tables,
        elapsed: start.elapsed(),
    })
}

/// Inserts rows 1..=`rows` of one table in batches. `target_rows[c]` is, for a foreign-key
/// column, how many rows the referenced table has.
async fn insert_table(
    model: &SchemaModel,
    ty: &TypeModel,
    target_rows: &[Option<u64>],
    rows: u64,
    dialect: Dialect,
    session: &mut Session,
) -> Result<(), DbError> {
    let width = ty.columns.len().max(1);
    let per_insert = (MAX_BINDS_PER_INSERT / width).clamp(1, MAX_ROWS_PER_INSERT) as u64;
    let column_list: Vec<String> = ty.columns.iter().map(|c| quote(c.name)).collect();
    let head = format!(
        "INSERT INTO {} ({}) VALUES ",
        quote(ty.table),
        column_list.join(", ")
    );
    // Nth foreign-key column of the table, for spreading the second key differently.
    let fk_rank: BTreeMap<usize, u64> = target_rows
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is_some())
        .enumerate()
        .map(|(rank, (c, _))| (c, rank as u64))
        .collect();

    let mut first = 1;
    while first <= rows {
        let last = (first + per_insert - 1).min(rows);
        let mut sql = head.clone();
        let mut binds = Vec::with_capacity(((last - first + 1) as usize) * width);
        for row in first..=last {
            if row > first {
                sql.push_str(", ");
            }
            sql.push('(');
            for (c, column) in ty.columns.iter().enumerate() {
                if c > 0 {
                    sql.push_str(", ");
                }
                let value = if c == ty.key_column {
                    Some(Bind::BigInt(row as i64))
                } else if let Some(target) = target_rows[c] {
                    reference(row, target, fk_rank.get(&c).copied().unwrap_or(0))
                } else {
                    values::value(model, ty.table, column, row)
                };
                match value {
                    Some(bind) => {
                        binds.push(bind);
                        placeholder(&mut sql, binds.len(), column.kind, dialect);
                    }
                    None => sql.push_str("NULL"),
                }
            }
            sql.push(')');
        }
        session.execute(&sql, &binds).await?;
        first = last + 1;
    }
    Ok(())
}

/// The referenced row for `row`: the first foreign key cycles through the targets in order
/// (post i belongs to user ((i-1) % users) + 1); later ones step differently, so that e.g. a
/// comment's author is not always its post's author.
fn reference(row: u64, targets: u64, rank: u64) -> Option<Bind> {
    if targets == 0 {
        return None;
    }
    let step = 2 * rank + 1;
    let value = ((row - 1) * step + rank) % targets + 1;
    Some(Bind::BigInt(value as i64))
}

/// `$n`, cast where PostgreSQL cannot take text for the column's type. (On SQLite the
/// statement runs as a [`super::PlannedQuery`], which binds by position: SQLite would resolve
/// 5000 distinct `$n` names by a linear search each.)
fn placeholder(sql: &mut String, n: usize, kind: ScalarKind, dialect: Dialect) {
    use std::fmt::Write;
    let cast = match (dialect, kind) {
        (Dialect::Postgres, ScalarKind::DateTime) => "TIMESTAMPTZ",
        (Dialect::Postgres, ScalarKind::Json) => "JSONB",
        _ => "",
    };
    // Writing to a String cannot fail.
    let _ = if cast.is_empty() {
        write!(sql, "${n}")
    } else {
        write!(sql, "CAST(${n} AS {cast})")
    };
}

#[cfg(test)]
mod tests {
    use super::reference;
    use crate::db::Bind;

    #[test]
    fn references_spread_over_every_target() {
        assert_eq!(reference(1, 1000, 0), Some(Bind::BigInt(1)));
        assert_eq!(reference(1001, 1000, 0), Some(Bind::BigInt(1)));
        assert_eq!(reference(1000, 1000, 0), Some(Bind::BigInt(1000)));
        let mut hit = vec![false; 1000];
        for row in 1..=30_000 {
            if let Some(Bind::BigInt(v)) = reference(row, 1000, 1) {
                hit[(v - 1) as usize] = true;
            }
        }
        assert!(hit.iter().all(|&h| h));
        assert_eq!(reference(5, 0, 0), None);
    }
}
