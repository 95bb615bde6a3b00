//! Loading: runs a node's statement, then each included relation's statement once for all the
//! rows of this level (their keys bound as one array), recursively. Statements per request =
//! one per root field + one per relation field per level, whatever the number of parents.
//! Each statement runs where its node's route sends it ([`RequestSessions::load`]: the primary,
//! or a replica), or, for a sharded type with shards configured, where its placement sends it
//! (`shards.rs`: the shards holding its keys, or every shard with the rows merged).

use std::borrow::Cow;

use apollo_compiler::executable::Operation;
use apollo_compiler::response::JsonMap;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use crate::auth::Claims;
use crate::db::{Bind, DbError, RequestSessions};
use crate::model::{Dialect, SchemaModel};
use crate::plan::{
    build_per_request, resolve_binds, BuiltStatement, FetchNode, OrderKey, OutputField, Placement,
    Statement,
};
use crate::row::RowSet;

use super::shards;

/// Why a node could not be loaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    /// A variable's value does not fit its use (bad ID, cursor, negative limit, …).
    #[error("{0}")]
    Input(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbError),
    /// A plan and its execution disagree (a bug, never the client's doing).
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// A node's rows and, per relation output field, its loaded children.
pub(crate) struct Loaded {
    pub rows: Box<dyn RowSet>,
    pub order: Vec<OrderKey>,
    /// Aligned with `FetchNode::fields`; `None` for non-relations and excluded relations.
    pub children: Vec<Option<Children>>,
}

/// Child rows grouped by the parent value they belong to.
pub(crate) struct Children {
    pub loaded: Loaded,
    /// Child row indexes, grouped by parent key, each group in statement order.
    pub sorted: Vec<u32>,
    /// Parent key -> range in `sorted`. foldhash, not SipHash: one lookup per parent row per
    /// relation, and its per-process seed still keeps crafted keys from colliding at will.
    pub groups: foldhash::HashMap<i64, (u32, u32)>,
}

impl Children {
    /// The child rows of one parent value.
    pub fn of(&self, key: Option<i64>) -> &[u32] {
        match key.and_then(|k| self.groups.get(&k)) {
            Some(&(start, end)) => &self.sorted[start as usize..end as usize],
            None => &[],
        }
    }
}

/// What loading reads besides the node.
pub(crate) struct LoadContext<'a> {
    pub model: &'static SchemaModel,
    pub dialect: Dialect,
    /// The `limit` of a list queried without one.
    pub default_limit: i64,
    pub operation: &'a Operation,
    pub variables: &'a JsonMap,
    /// The caller's verified claims (`None`: anonymous), for row filters.
    pub claims: Option<&'a Claims>,
}

/// Loads `node` (with `parent_keys` bound as `$1` for relations) and its included children.
pub(crate) fn load<'a>(
    sessions: &'a mut RequestSessions<'_>,
    ctx: &'a LoadContext<'a>,
    node: &'a FetchNode,
    parent_keys: Option<Vec<i64>>,
) -> BoxFuture<'a, Result<Loaded, LoadError>> {
    async move {
        let batched = parent_keys.is_some();
        let (built, binds) = statement(ctx, node, parent_keys)?;
        let ty = &ctx.model.types[node.type_index];
        let database = sessions.database();
        let rows = match (node.placement, database.shard_router()) {
            (Placement::Primary, _) | (_, None) => {
                sessions
                    .load(node.route, ty.rows, &built.sql, &binds)
                    .await?
            }
            // A mutation's re-read of the row it wrote: in its transaction, on its shard.
            (Placement::ByKey | Placement::Scatter, Some(_))
                if node.link.is_none() && sessions.pinned_shard().is_some() =>
            {
                shards::pinned(sessions, ty, &built, binds).await?
            }
            (Placement::ByKey, Some(router)) => {
                shards::by_key(sessions, router, ty, &built, binds, batched).await?
            }
            (Placement::Scatter, Some(router)) => {
                shards::scatter(sessions, router, ty, &built, binds, batched).await?
            }
        };
        complete(sessions, ctx, node, rows, built.order.clone()).await
    }
    .boxed()
}

/// The statement of `node` for this request and its binds (`parent_keys` first, as `$1`).
pub(crate) fn statement<'a>(
    ctx: &LoadContext<'_>,
    node: &'a FetchNode,
    parent_keys: Option<Vec<i64>>,
) -> Result<(Cow<'a, BuiltStatement>, Vec<Bind>), LoadError> {
    let built = match &node.statement {
        Statement::Ready(built) => Cow::Borrowed(built),
        Statement::PerRequest { .. } => Cow::Owned(
            build_per_request(
                ctx.model,
                node,
                ctx.dialect,
                ctx.default_limit,
                ctx.operation,
                ctx.variables,
            )
            .map_err(LoadError::Input)?,
        ),
    };
    let mut binds: Vec<Bind> = Vec::with_capacity(built.binds.len() + 1);
    if let Some(keys) = parent_keys {
        binds.push(Bind::BigIntList(keys));
    }
    resolve_binds(&built.binds, ctx.variables, ctx.claims, &mut binds).map_err(LoadError::Input)?;
    Ok((built, binds))
}

/// Loads the included relations of `node` for `rows` (however they were obtained: its own
/// statement, or a custom resolver).
pub(crate) fn complete<'a>(
    sessions: &'a mut RequestSessions<'_>,
    ctx: &'a LoadContext<'a>,
    node: &'a FetchNode,
    rows: Box<dyn RowSet>,
    order: Vec<OrderKey>,
) -> BoxFuture<'a, Result<Loaded, LoadError>> {
    async move {
        let mut children = Vec::with_capacity(node.fields.len());
        for field in &node.fields {
            let OutputField::Relation {
                inclusion,
                node: child,
                ..
            } = field
            else {
                children.push(None);
                continue;
            };
            if !inclusion.holds(ctx.variables) {
                children.push(None);
                continue;
            }
            let Some(link) = child.link else {
                children.push(None);
                continue;
            };
            let keys = distinct_keys(rows.as_ref(), link.parent_column);
            let loaded = if keys.is_empty() {
                // No parent has a key: nothing to ask the database.
                Loaded {
                    rows: Box::new(NoRows),
                    order: Vec::new(),
                    children: child.fields.iter().map(|_| None).collect(),
                }
            } else {
                load(sessions, ctx, child, Some(keys)).await?
            };
            children.push(Some(group(loaded)));
        }
        Ok(Loaded {
            rows,
            order,
            children,
        })
    }
    .boxed()
}

/// Non-null values of `column` over all rows, first-seen order, without repeats.
pub(crate) fn distinct_keys(rows: &dyn RowSet, column: usize) -> Vec<i64> {
    let mut seen = foldhash::HashSet::with_capacity_and_hasher(rows.len(), Default::default());
    let mut keys = Vec::with_capacity(rows.len());
    for i in 0..rows.len() {
        if let Some(key) = rows.int_column(i, column) {
            if seen.insert(key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// Groups child rows by their parent key; a stable sort keeps each parent's rows in the
/// statement's order.
fn group(loaded: Loaded) -> Children {
    let rows = loaded.rows.as_ref();
    let mut sorted: Vec<u32> = (0..rows.len() as u32).collect();
    sorted.sort_by_key(|&i| rows.parent(i as usize));
    let mut groups = foldhash::HashMap::default();
    let mut start = 0usize;
    while start < sorted.len() {
        let key = rows.parent(sorted[start] as usize);
        let mut end = start + 1;
        while end < sorted.len() && rows.parent(sorted[end] as usize) == key {
            end += 1;
        }
        groups.insert(key, (start as u32, end as u32));
        start = end;
    }
    Children {
        loaded,
        sorted,
        groups,
    }
}

/// The rows of a statement that did not need to run.
pub(super) struct NoRows;

impl RowSet for NoRows {
    fn len(&self) -> usize {
        0
    }
    fn parent(&self, _: usize) -> i64 {
        0
    }
    fn int_column(&self, _: usize, _: usize) -> Option<i64> {
        None
    }
    fn write_column(&self, _: usize, _: usize, out: &mut Vec<u8>) {
        crate::row::json::null(out)
    }
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        self
    }
}
