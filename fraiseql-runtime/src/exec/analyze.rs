//! `explain --analyze`: runs a query document's statements for real, level by level — each
//! relation's statement gets the keys its parents' rows produced, exactly as a request would —
//! and asks the database how it ran each one (PostgreSQL `EXPLAIN ANALYZE`, inside a
//! transaction that is rolled back; SQLite `EXPLAIN QUERY PLAN`, which has no timings). A full
//! scan of a large table is flagged with the index that would serve the statement's filter.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::load::{distinct_keys, statement, LoadContext, LoadError};
use crate::db::{Bind, Database, DbError, Session};
use crate::model::{Dialect, TypeModel};
use crate::plan::{FetchNode, OperationPlan, OutputField, RootKind};

/// A table with at least this many rows is large enough for a full scan to matter.
pub const LARGE_TABLE_ROWS: i64 = 1000;

/// One statement, how the database ran it, and what to do about it.
pub struct AnalyzedStatement {
    /// Response path (`users.posts`).
    pub path: String,
    /// The table read.
    pub table: &'static str,
    /// The SQL as run.
    pub sql: String,
    /// The database's plan, one line per row.
    pub plan: Vec<String>,
    /// A full scan of a large table, if the plan has one.
    pub finding: Option<Finding>,
}

/// A full scan of a large table.
pub struct Finding {
    /// Rows in the table.
    pub rows: i64,
    /// `CREATE INDEX …` for the filtered columns no index leads with; `None` when the
    /// statement has no filter an index could serve (it reads the whole table by design).
    pub suggestion: Option<String>,
}

/// Why the analysis stopped.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// Only queries are analysed: a mutation would write.
    #[error("explain --analyze runs query documents only; a mutation would write")]
    Mutation,
    /// A variable value does not fit its use.
    #[error("{0}")]
    Input(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<LoadError> for AnalyzeError {
    fn from(error: LoadError) -> Self {
        match error {
            LoadError::Input(message) => AnalyzeError::Input(message),
            LoadError::Database(e) => AnalyzeError::Database(e),
            LoadError::Internal(message) => AnalyzeError::Input(message.to_string()),
        }
    }
}

/// Runs and explains every statement of `plan` on the primary of `database`.
pub async fn analyze(
    plan: &OperationPlan,
    operation: &apollo_compiler::executable::Operation,
    variables: &apollo_compiler::response::JsonMap,
    database: &Database,
) -> Result<Vec<AnalyzedStatement>, AnalyzeError> {
    if plan.mutation {
        return Err(AnalyzeError::Mutation);
    }
    let ctx = LoadContext {
        model: plan.model,
        dialect: plan.dialect,
        default_limit: plan.default_limit,
        operation,
        variables,
        // `explain --analyze` runs as an anonymous caller: filtered types read no rows.
        claims: None,
    };
    let mut session = database.session().await?;
    let mut out = Vec::new();
    for root in &plan.roots {
        if let RootKind::Fetch { node, .. } = &root.kind {
            analyze_node(&mut session, &ctx, node, None, &mut out).await?;
        }
    }
    Ok(out)
}

fn analyze_node<'a>(
    session: &'a mut Session,
    ctx: &'a LoadContext<'a>,
    node: &'a FetchNode,
    parent_keys: Option<Vec<i64>>,
    out: &'a mut Vec<AnalyzedStatement>,
) -> BoxFuture<'a, Result<(), AnalyzeError>> {
    async move {
        let ty = &ctx.model.types[node.type_index];
        let (built, binds) = statement(ctx, node, parent_keys)?;
        let plan = session.explain(&built.sql, &binds, true).await?;
        let finding = match full_scan(ctx.dialect, &plan, ty.table) {
            true => {
                let rows = table_rows(session, ty.table).await?;
                (rows >= LARGE_TABLE_ROWS).then(|| Finding {
                    rows,
                    suggestion: suggest_index(ty, &built.sql),
                })
            }
            false => None,
        };
        let rows = session.load(ty.rows, &built.sql, &binds).await?;
        out.push(AnalyzedStatement {
            path: node.path.clone(),
            table: ty.table,
            sql: built.sql.clone(),
            plan,
            finding,
        });
        for field in &node.fields {
            let OutputField::Relation { node: child, .. } = field else {
                continue;
            };
            let Some(link) = child.link else { continue };
            let keys = distinct_keys(rows.as_ref(), link.parent_column);
            if !keys.is_empty() {
                analyze_node(session, ctx, child, Some(keys), out).await?;
            }
        }
        Ok(())
    }
    .boxed()
}

/// Whether the plan reads `table` in full: PostgreSQL `Seq Scan on <table>`, SQLite `SCAN t`
/// (our statements alias the node's table `t`).
fn full_scan(dialect: Dialect, plan: &[String], table: &str) -> bool {
    plan.iter().any(|line| {
        let line = line.trim_start_matches([' ', '-', '>']);
        match dialect {
            Dialect::Postgres => line
                .strip_prefix("Seq Scan on ")
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|name| name.trim_matches('"') == table),
            Dialect::Sqlite => is_sqlite_full_scan(line),
        }
    }) && !(dialect == Dialect::Sqlite
        && plan.iter().any(|l| l.trim_start().starts_with("SEARCH t ")))
}

/// SQLite's `SCAN t` without an index. A statement that also SEARCHes `t` reads the table by
/// index and scans only a subquery's result (a relation statement), which is no finding.
fn is_sqlite_full_scan(line: &str) -> bool {
    line.strip_prefix("SCAN t")
        .is_some_and(|rest| (rest.is_empty() || rest.starts_with(' ')) && !rest.contains("USING"))
}

async fn table_rows(session: &mut Session, table: &str) -> Result<i64, DbError> {
    let sql = format!("SELECT CAST(count(*) AS TEXT) AS value FROM \"{table}\"");
    let values = session.text_values(&sql, &[] as &[Bind]).await?;
    Ok(values.first().and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// An index on the columns the statement filters on (`t."col"` between `WHERE` and
/// `ORDER BY`) that no existing index (nor the key) leads with.
fn suggest_index(ty: &TypeModel, sql: &str) -> Option<String> {
    let filter = sql.split_once(" WHERE ")?.1;
    let filter = filter.split(" ORDER BY ").next().unwrap_or(filter);
    let mut columns: Vec<&str> = Vec::new();
    for (i, column) in ty.columns.iter().enumerate() {
        if i == ty.key_column || !filter.contains(&format!("t.\"{}\"", column.name)) {
            continue;
        }
        let led = ty
            .indexes
            .iter()
            .any(|index| index.columns.first() == Some(&column.name));
        if !led {
            columns.push(column.name);
        }
    }
    if columns.is_empty() {
        return None;
    }
    let list: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
    Some(format!(
        "CREATE INDEX ON \"{}\" ({});",
        ty.table,
        list.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scans_are_recognised_per_dialect() {
        let pg = vec![
            "Limit  (cost=0.00..20.50 rows=1 width=8)".to_string(),
            "  ->  Seq Scan on users t  (cost=0.00..20.50 rows=1 width=8)".to_string(),
        ];
        assert!(full_scan(Dialect::Postgres, &pg, "users"));
        assert!(!full_scan(Dialect::Postgres, &pg, "posts"));
        let index = vec!["Index Scan using users_pkey on users t".to_string()];
        assert!(!full_scan(Dialect::Postgres, &index, "users"));
        assert!(full_scan(Dialect::Sqlite, &["SCAN t".to_string()], "users"));
        assert!(!full_scan(
            Dialect::Sqlite,
            &["SEARCH t USING INTEGER PRIMARY KEY (rowid=?)".to_string()],
            "users"
        ));
        assert!(!full_scan(
            Dialect::Sqlite,
            &["SCAN t USING INDEX idx_posts_user_id".to_string()],
            "users"
        ));
        let relation = vec![
            "CO-ROUTINE t".to_string(),
            "SEARCH t USING INDEX idx_posts_user_id (user_id=?)".to_string(),
            "SCAN t".to_string(),
        ];
        assert!(!full_scan(Dialect::Sqlite, &relation, "posts"));
    }
}
