//! Mutations: every root field in document order, in one transaction on the primary. The
//! first failure rolls the transaction back, so a document never leaves half its writes
//! behind; the response then has `data: null` and the failing field's error (earlier fields'
//! results are not reported: they were undone).
//!
//! A generated mutation's statement returns the key it wrote, and the row is re-read by that
//! key with the document's selection on the same connection, inside the transaction, so
//! read-after-write holds for the nested relations too (the planner routes every statement of
//! a mutation to the primary; the sessions are pinned to the transaction's besides).
//!
//! With read replicas configured, a committed mutation reads the primary's WAL insert position
//! on the same connection: the consistency token a client sends back so that its next reads
//! see this write (`db/replica/lsn.rs`).

use super::{failure, load, RootFailure, RootResults, RootValue, Run, Written};
use crate::db::{ConstraintKind, DbError, Lsn, RequestSessions, Session};
use crate::model::TypeModel;
use crate::plan::{FetchNode, RootKind, VariableScope, WriteKind, WritePlan};

/// The primary's WAL insert position: at or past the end of the commit record just written
/// (the write position may not be, with `synchronous_commit = off`).
const WAL_POSITION_SQL: &str = "SELECT pg_current_wal_insert_lsn()::text AS value";

/// What running a mutation operation produced.
pub(super) struct MutationOutcome {
    pub results: RootResults,
    /// The database was unavailable.
    pub unavailable: bool,
    /// The operation failed as a whole (then `data` is null).
    pub failed: bool,
    /// The primary's WAL position after the commit, when replicas are configured.
    pub token: Option<Lsn>,
}

/// Runs a mutation operation.
///
/// When the primary answers "read-only" (a failover happened behind its URL), the session
/// layer has already recycled the pool; the whole document runs once more on a fresh
/// connection. Nothing of the first attempt was committed, so running it again is safe.
pub(super) async fn run(run: &Run<'_>) -> MutationOutcome {
    match attempt(run).await {
        Attempt::Failed {
            read_only: true, ..
        } => {
            tracing::warn!("the primary was read-only (failover?); running the mutation again on a fresh connection");
            attempt(run).await.into_outcome()
        }
        other => other.into_outcome(),
    }
}

/// One try at the whole document.
enum Attempt {
    Committed(RootResults, Option<Lsn>),
    Failed {
        results: RootResults,
        unavailable: bool,
        read_only: bool,
    },
}

impl Attempt {
    fn into_outcome(self) -> MutationOutcome {
        match self {
            Attempt::Committed(results, token) => MutationOutcome {
                results,
                unavailable: false,
                failed: false,
                token,
            },
            Attempt::Failed {
                results,
                unavailable,
                ..
            } => MutationOutcome {
                results,
                unavailable,
                failed: true,
                token: None,
            },
        }
    }

    /// Only `failure`, at root `index`, out of `count` roots.
    fn failed(count: usize, index: usize, failure: RootFailure) -> Attempt {
        let unavailable = failure.code == "SERVICE_UNAVAILABLE";
        let read_only = failure.read_only;
        let mut results: RootResults = (0..count).map(|_| None).collect();
        results[index] = Some(Err(failure));
        Attempt::Failed {
            results,
            unavailable,
            read_only,
        }
    }
}

async fn attempt(run: &Run<'_>) -> Attempt {
    let roots = &run.plan.roots;
    let mut results: RootResults = roots.iter().map(|_| None).collect();
    let Some(first) = roots
        .iter()
        .position(|r| r.kind.uses_database() && r.inclusion.holds(run.ctx.variables))
    else {
        return Attempt::Committed(results, None);
    };
    let session = match begin(run).await {
        Ok(session) => session,
        Err(e) => return Attempt::failed(roots.len(), first, RootFailure::from_db(&e)),
    };
    let mut sessions = RequestSessions::pinned(run.database, session);
    for (index, root) in roots.iter().enumerate() {
        if !root.kind.uses_database() || !root.inclusion.holds(run.ctx.variables) {
            continue;
        }
        if let RootKind::Custom { field, .. } = &root.kind {
            // What a custom mutation changes is only known by its `@writes` types.
            let model = run.ctx.model;
            for &type_index in model
                .mutation_field(&field.name)
                .map_or(&[][..], |m| m.writes)
            {
                run.wrote(Written {
                    type_index,
                    key: None,
                });
            }
        }
        match run.root(&mut sessions, root).await {
            Ok(value) => results[index] = Some(Ok(value)),
            Err(failure) => {
                let rolled_back = match sessions.primary().await {
                    Ok(session) => session.rollback().await,
                    Err(e) => Err(e),
                };
                if let Err(e) = rolled_back {
                    tracing::error!(error = %e, "rollback failed; the connection is discarded");
                }
                return Attempt::failed(roots.len(), index, failure);
            }
        }
    }
    let session = match sessions.primary().await {
        Ok(session) => session,
        Err(e) => return Attempt::failed(roots.len(), first, RootFailure::from_db(&e)),
    };
    if let Err(e) = session.commit().await {
        tracing::error!(error = %e, "commit failed");
        return Attempt::failed(roots.len(), first, RootFailure::from_db(&e));
    }
    let token = match run.database.replica_set() {
        Some(_) => wal_position(session).await,
        None => None,
    };
    Attempt::Committed(results, token)
}

/// The primary's WAL position after a commit; `None` (logged) when it cannot be read: the write
/// stands, the client only gets no token.
async fn wal_position(session: &mut Session) -> Option<Lsn> {
    let read = session.text_values(WAL_POSITION_SQL, &[]).await;
    match read.map(|values| values.into_iter().next()) {
        Ok(Some(text)) => match Lsn::parse(&text) {
            Ok(lsn) => Some(lsn),
            Err(error) => {
                tracing::warn!(%error, "the WAL position after a commit did not parse; no consistency token");
                None
            }
        },
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(%error, "no WAL position after a commit; no consistency token");
            None
        }
    }
}

async fn begin(run: &Run<'_>) -> Result<Session, DbError> {
    let mut session = run.database.session().await?;
    session.begin().await?;
    Ok(session)
}

/// One generated mutation: its statement, then the re-read of the row it wrote.
pub(super) async fn write(
    run: &Run<'_>,
    sessions: &mut RequestSessions<'_>,
    write: &WritePlan,
    node: Option<&FetchNode>,
) -> Result<RootValue, RootFailure> {
    let model = run.ctx.model;
    let ty = &model.types[write.type_index];
    let scope = VariableScope {
        definitions: &run.ctx.operation.variables,
        values: Some(run.ctx.variables),
    };
    let statement = write
        .statement(model, run.ctx.dialect, scope)
        .map_err(|e| RootFailure {
            field: Some(e.field.clone()),
            ..RootFailure::new(format!("`{}` {}", e.field, e.message), "INVALID_INPUT")
        })?;
    let session = sessions
        .primary()
        .await
        .map_err(|e| RootFailure::from_db(&e))?;
    let keys = session
        .text_values(&statement.sql, &statement.binds)
        .await
        .map_err(|e| database_failure(ty, write.kind, e))?;
    let Some(key) = keys.first().and_then(|k| k.parse::<i64>().ok()) else {
        let id = statement
            .key
            .map_or_else(String::new, |k| format!(" with id {k}"));
        return Err(RootFailure {
            field: Some("id".into()),
            ..RootFailure::new(format!("no {}{id}", ty.name), "NOT_FOUND")
        });
    };
    run.wrote(Written {
        type_index: write.type_index,
        key: Some(key),
    });
    match node {
        None => Ok(RootValue::Boolean(true)),
        Some(node) => load(sessions, run.ctx, node, Some(vec![key]))
            .await
            .map(RootValue::Rows)
            .map_err(|e| failure(&e, &node.path)),
    }
}

/// A failed write statement as the client sees it: constraint violations get a stable code
/// and, where the database says which column, the input field; never the database's text.
fn database_failure(ty: &TypeModel, kind: WriteKind, error: DbError) -> RootFailure {
    let DbError::Constraint {
        kind: constraint_kind,
        constraint,
        column,
        ..
    } = &error
    else {
        tracing::error!(error = %error, table = ty.table, "write failed");
        return RootFailure::from_db(&error);
    };
    tracing::info!(error = %error, table = ty.table, "write broke a constraint");
    let column = column
        .clone()
        .or_else(|| constraint.as_deref().and_then(|c| constraint_column(ty, c)));
    let input = column
        .as_deref()
        .and_then(|c| ty.columns.iter().find(|x| x.name == c))
        .and_then(|c| c.input);
    let field = input.map(|f| format!("input.{f}"));
    let (message, code) = match (constraint_kind, input) {
        (ConstraintKind::Unique, Some(f)) => (
            format!("another {} already has this {f}", ty.name),
            "CONFLICT",
        ),
        (ConstraintKind::Unique, None) => (
            format!("another {} already has one of these unique values", ty.name),
            "CONFLICT",
        ),
        (ConstraintKind::ForeignKey, _) if kind == WriteKind::Delete => (
            format!(
                "this {} is still referenced by other rows; delete or change those first",
                ty.name
            ),
            "CONFLICT",
        ),
        (ConstraintKind::ForeignKey, Some(f)) => (
            format!("`input.{f}` refers to a row that does not exist"),
            "INVALID_INPUT",
        ),
        (ConstraintKind::ForeignKey, None) => {
            let references: Vec<&str> = ty
                .columns
                .iter()
                .filter(|c| c.field.is_none())
                .filter_map(|c| c.input)
                .collect();
            (
                format!(
                    "a referenced row does not exist (check {})",
                    references.join(", ")
                ),
                "INVALID_INPUT",
            )
        }
        (ConstraintKind::NotNull, Some(f)) => {
            (format!("`input.{f}` needs a value"), "INVALID_INPUT")
        }
        (ConstraintKind::NotNull, None) => ("a required value is missing".into(), "INVALID_INPUT"),
        (ConstraintKind::Check, _) => (
            format!("a value breaks a check constraint of {}", ty.name),
            "INVALID_INPUT",
        ),
    };
    RootFailure {
        field,
        ..RootFailure::new(message, code)
    }
}

/// The column a PostgreSQL constraint name points at: one of the schema's indexes, or
/// PostgreSQL's default names `<table>_<column>_fkey` / `_key` / `_check`.
fn constraint_column(ty: &TypeModel, constraint: &str) -> Option<String> {
    if let Some(index) = ty.indexes.iter().find(|i| i.name == constraint) {
        return index.columns.first().map(|c| (*c).to_owned());
    }
    let rest = constraint.strip_prefix(ty.table)?.strip_prefix('_')?;
    let column = ["_fkey", "_key", "_check", "_not_null"]
        .iter()
        .find_map(|suffix| rest.strip_suffix(suffix))?;
    ty.columns
        .iter()
        .find(|c| c.name == column)
        .map(|c| c.name.to_owned())
}
