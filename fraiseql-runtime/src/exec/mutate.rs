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
//!
//! With shards, the transaction runs where the document writes (`targets`): the primary for
//! reference tables, else the one shard its shard keys name. Rows of sharded types get their
//! id from the server before the INSERT. A document that would write to two databases is
//! refused before any SQL runs (no transaction spans databases), and so is a write whose
//! shard cannot be known from its arguments.

use super::{failure, load, RootFailure, RootResults, RootValue, Run, Written};
use crate::db::shard::next_id;
use crate::db::{ConstraintKind, DbError, Lsn, RequestSessions, Session, Target};
use crate::model::TypeModel;
use crate::plan::{FetchNode, RootKind, VariableScope, WriteKind, WritePlan};

/// A mutation lacks what says which shard it writes to.
const SHARD_KEY_MISSING: &str = "SHARD_KEY_MISSING";
/// A mutation document writes to more than one database.
const CROSS_SHARD_WRITE: &str = "CROSS_SHARD_WRITE";

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
    let Placed { target, ids } = match targets(run) {
        Ok(placed) => placed,
        Err((index, failure)) => return Attempt::failed(roots.len(), index, failure),
    };
    let session = match begin(run, target).await {
        Ok(session) => session,
        Err(e) => return Attempt::failed(roots.len(), first, RootFailure::from_db(&e)),
    };
    let mut sessions = RequestSessions::pinned_to(run.database, target, session);
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
        let result = match &root.kind {
            RootKind::Write { write: plan, node } => {
                write(run, &mut sessions, plan, node.as_deref(), ids[index]).await
            }
            _ => run.root(&mut sessions, root).await,
        };
        match result {
            Ok(value) => results[index] = Some(Ok(value)),
            Err(failure) => {
                let rolled_back = match sessions.transaction().await {
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
    let session = match sessions.transaction().await {
        Ok(session) => session,
        Err(e) => return Attempt::failed(roots.len(), first, RootFailure::from_db(&e)),
    };
    if let Err(e) = session.commit().await {
        tracing::error!(error = %e, "commit failed");
        return Attempt::failed(roots.len(), first, RootFailure::from_db(&e));
    }
    let token = match (target, run.database.replica_set()) {
        (Target::Primary, Some(_)) => wal_position(session).await,
        _ => None,
    };
    Attempt::Committed(results, token)
}

/// Where a mutation document's transaction runs.
struct Placed {
    target: Target,
    /// Per root, the id the server assigns to the row it inserts (rows of sharded types).
    ids: Vec<Option<i64>>,
}

/// Where the document's transaction runs and the ids it inserts; or the root that cannot run,
/// and why.
fn targets(run: &Run<'_>) -> Result<Placed, (usize, RootFailure)> {
    let model = run.ctx.model;
    let router = run.database.shard_router();
    let scope = VariableScope {
        definitions: &run.ctx.operation.variables,
        values: Some(run.ctx.variables),
    };
    let roots = &run.plan.roots;
    let mut ids = vec![None; roots.len()];
    let mut chosen: Option<(Target, usize)> = None;
    for (index, root) in roots.iter().enumerate() {
        if !root.kind.uses_database() || !root.inclusion.holds(run.ctx.variables) {
            continue;
        }
        let target = match &root.kind {
            RootKind::Write { write, .. } => {
                let ty = &model.types[write.type_index];
                if ty.shard.is_some() && write.kind == WriteKind::Insert {
                    ids[index] = Some(next_id());
                }
                match router {
                    Some(router) => write_target(router, ty, write, ids[index], scope)
                        .map_err(|failure| (index, failure))?,
                    None => Target::Primary,
                }
            }
            RootKind::Custom { field, .. } => {
                let writes = model
                    .mutation_field(field.name.as_str())
                    .map_or(&[][..], |m| m.writes);
                let sharded = writes
                    .iter()
                    .map(|&t| &model.types[t])
                    .find(|t| t.shard.is_some());
                match (router, sharded) {
                    (Some(_), Some(ty)) => {
                        return Err((
                            index,
                            RootFailure::new(
                                format!(
                                    "`{}` writes {}, a sharded type; custom mutations run on the \
                                     primary and cannot write to shards",
                                    field.name, ty.name
                                ),
                                SHARD_KEY_MISSING,
                            ),
                        ))
                    }
                    _ => Target::Primary,
                }
            }
            _ => Target::Primary,
        };
        match chosen {
            None => chosen = Some((target, index)),
            Some((first, first_index)) if first != target => {
                let name = |i: usize| roots[i].key.to_string();
                return Err((
                    index,
                    RootFailure::new(
                        format!(
                            "this document writes to {} (`{}`) and to {} (`{}`); a mutation \
                             document runs in one transaction on one database, and no transaction \
                             spans shards: send these fields in separate requests",
                            describe(first),
                            name(first_index),
                            describe(target),
                            name(index)
                        ),
                        CROSS_SHARD_WRITE,
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(Placed {
        target: chosen.map_or(Target::Primary, |(t, _)| t),
        ids,
    })
}

/// The database a generated mutation of `ty` writes to.
fn write_target(
    router: &crate::db::shard::ShardRouter,
    ty: &TypeModel,
    write: &WritePlan,
    id: Option<i64>,
    scope: VariableScope<'_>,
) -> Result<Target, RootFailure> {
    let Some(shard) = ty.shard else {
        return Ok(Target::Primary);
    };
    let invalid = |e: crate::plan::WriteInputError| RootFailure {
        field: Some(e.field.clone()),
        ..RootFailure::new(format!("`{}` {}", e.field, e.message), "INVALID_INPUT")
    };
    let key_column = &ty.columns[shard.column];
    let key = if shard.column == ty.key_column {
        match write.kind {
            WriteKind::Insert => id,
            WriteKind::Update | WriteKind::Delete => {
                Some(write.id_argument(scope).map_err(invalid)?)
            }
        }
    } else {
        match write.kind {
            WriteKind::Insert => write.input_key(ty, shard.column, scope).map_err(invalid)?,
            WriteKind::Update | WriteKind::Delete => {
                return Err(RootFailure::new(
                    format!(
                        "`{}` cannot be routed: {} rows are placed on shards by {}, which an {} by \
                         id does not give; only types sharded by their own id are changed by id",
                        write.field.name,
                        ty.name,
                        key_column.name,
                        if write.kind == WriteKind::Update {
                            "update"
                        } else {
                            "delete"
                        },
                    ),
                    SHARD_KEY_MISSING,
                ))
            }
        }
    };
    let Some(key) = key else {
        let field = key_column.input.unwrap_or(key_column.name);
        return Err(RootFailure {
            field: Some(format!("input.{field}")),
            ..RootFailure::new(
                format!(
                    "`input.{field}` is required: {} rows are placed on shards by {}",
                    ty.name, key_column.name
                ),
                SHARD_KEY_MISSING,
            )
        });
    };
    match router.map().shard_of(ty, key) {
        Some(Ok(shard)) => Ok(Target::Shard {
            shard,
            replica: None,
        }),
        Some(Err(error)) => Err(RootFailure::new(
            format!("{} {key} cannot be placed: {error}", ty.name),
            "INVALID_INPUT",
        )),
        None => Ok(Target::Primary),
    }
}

fn describe(target: Target) -> String {
    match target {
        Target::Shard { shard, .. } => format!("shard {shard}"),
        Target::Primary | Target::Replica(_) => "the primary".into(),
    }
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

async fn begin(run: &Run<'_>, target: Target) -> Result<Session, DbError> {
    let database = match target {
        Target::Shard { shard, .. } => run
            .database
            .shard_router()
            .and_then(|router| router.database(shard))
            .ok_or_else(|| DbError::Other(format!("no shard {shard}")))?,
        Target::Primary | Target::Replica(_) => run.database,
    };
    let mut session = database.session().await?;
    session.begin().await?;
    Ok(session)
}

/// One generated mutation: its statement, then the re-read of the row it wrote.
pub(super) async fn write(
    run: &Run<'_>,
    sessions: &mut RequestSessions<'_>,
    write: &WritePlan,
    node: Option<&FetchNode>,
    id: Option<i64>,
) -> Result<RootValue, RootFailure> {
    let model = run.ctx.model;
    let ty = &model.types[write.type_index];
    let scope = VariableScope {
        definitions: &run.ctx.operation.variables,
        values: Some(run.ctx.variables),
    };
    let statement = write
        .statement(model, run.ctx.dialect, scope, id, run.ctx.claims)
        .map_err(|e| RootFailure {
            field: Some(e.field.clone()),
            ..RootFailure::new(format!("`{}` {}", e.field, e.message), e.code)
        })?;
    let session = sessions
        .transaction()
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
