//! `explain`: what a document will run — each statement in execution order with its route,
//! cache policy and bound parameters, and with shards which shards it touches — without
//! touching a database.

use std::fmt::Write;

use apollo_compiler::response::JsonMap;

use super::shards::{Reach, ShardNotes};
use super::{BindSource, FetchNode, OperationPlan, OutputField, RootKind, Statement};
use crate::db::shard::ShardMap;
use crate::db::{ReadRouting, Reads};
use crate::model::{CachePolicy, CacheScope, Dialect, RelationKind, Route};

/// Renders the plan as text, with routes as `routing` resolves them.
pub(crate) fn render(plan: &OperationPlan, routing: ReadRouting) -> String {
    render_sharded(plan, routing, None, None)
}

/// Renders the plan as text, with routes as `routing` resolves them and the shards each
/// statement touches under `shards` (keys resolved from the document and `variables`).
pub(crate) fn render_sharded(
    plan: &OperationPlan,
    routing: ReadRouting,
    shards: Option<&ShardMap>,
    variables: Option<&JsonMap>,
) -> String {
    let mut notes = ShardNotes::new(plan.model, shards, variables);
    let mut out = String::new();
    let name = plan.operation_name.as_deref().unwrap_or("(anonymous)");
    let dialect = match plan.dialect {
        Dialect::Postgres => "PostgreSQL",
        Dialect::Sqlite => "SQLite",
    };
    let operation = if plan.mutation { "mutation" } else { "query" };
    let _ = writeln!(
        out,
        "{operation} {name}: {} SQL statement(s) on {dialect}",
        plan.statement_count()
    );
    if plan.mutation && shards.is_some() {
        let _ = writeln!(
            out,
            "one transaction on one database (the primary for reference tables, else the one shard \
             the written keys name); fields run in order, and any failure rolls back all"
        );
    } else if plan.mutation {
        let _ = writeln!(
            out,
            "one transaction on the primary; fields run in order, and any failure rolls back all"
        );
    }
    let mut policies = Vec::new();
    let mut n = 0;
    for root in &plan.roots {
        match &root.kind {
            RootKind::Typename => {}
            RootKind::Introspection => {
                let _ = writeln!(out, "\n{}: schema introspection (no SQL)", root.key);
            }
            RootKind::Fetch { node, .. } => node_text(
                &mut out,
                plan,
                routing,
                node,
                &mut n,
                &mut policies,
                &mut notes,
                None,
            ),
            RootKind::Write { write, node } => {
                n += 1;
                let ty = &plan.model.types[write.type_index];
                let verb = match write.kind {
                    super::WriteKind::Insert => "INSERT INTO",
                    super::WriteKind::Update => "UPDATE",
                    super::WriteKind::Delete => "DELETE FROM",
                };
                let (reach, text) = notes.write(write);
                let route = match text {
                    Some(text) => format!("shards: {text}"),
                    None => "route: primary".into(),
                };
                let _ = writeln!(
                    out,
                    "\n#{n} {}  ({verb} \"{}\", built per request from the arguments)\n   {route}",
                    root.key, ty.table
                );
                policies.push(None);
                if let Some(node) = node {
                    node_text(
                        &mut out,
                        plan,
                        routing,
                        node,
                        &mut n,
                        &mut policies,
                        &mut notes,
                        Some(reach),
                    );
                }
            }
            RootKind::Custom { node, .. } => {
                let ty = &plan.model.types[node.type_index];
                let _ = writeln!(
                    out,
                    "\n{}: custom resolver (its own SQL), returning {} rows; relations below load batched",
                    root.key, ty.name
                );
                policies.push(node.cache);
                for field in &node.fields {
                    if let OutputField::Relation { node: child, .. } = field {
                        node_text(
                            &mut out,
                            plan,
                            routing,
                            child,
                            &mut n,
                            &mut policies,
                            &mut notes,
                            Some(Reach::Primary),
                        );
                    }
                }
            }
        }
    }
    if let Some(summary) = notes.summary() {
        let _ = writeln!(out, "\nshards touched: {summary}");
    }
    let _ = writeln!(
        out,
        "\nresponse cache policy: {}",
        response_policy(&policies)
    );
    out
}

#[allow(clippy::too_many_arguments)] // the renderer's state, passed down the recursion
fn node_text(
    out: &mut String,
    plan: &OperationPlan,
    routing: ReadRouting,
    node: &FetchNode,
    n: &mut usize,
    policies: &mut Vec<Option<CachePolicy>>,
    notes: &mut ShardNotes<'_>,
    parent: Option<Reach>,
) {
    *n += 1;
    let ty = &plan.model.types[node.type_index];
    policies.push(node.cache);
    // A selected column's own @cache (e.g. a PRIVATE email) lowers the response's policy too,
    // as the result cache reads it.
    for field in &node.fields {
        if let OutputField::Column { column, .. } = field {
            if let Some(own) = ty.columns.get(*column).and_then(|c| c.cache) {
                policies.push(Some(own));
            }
        }
    }
    let batching = match node.link {
        None => String::new(),
        Some(link) => {
            let parent_column = match link.kind {
                RelationKind::HasMany => "key",
                RelationKind::BelongsTo => "foreign key",
            };
            format!("\n   batched: one statement for all parents, keyed by each parent's {parent_column} ($1)")
        }
    };
    let (reach, shard_text) = notes.node(node, parent);
    let route = match shard_text {
        Some(text) => format!("shards: {text}"),
        None => format!("route: {}", route_text(node.route, routing)),
    };
    let _ = writeln!(
        out,
        "\n#{n} {}  ({} rows from \"{}\")\n   {route}\n   cache: {}{batching}",
        node.path,
        ty.name,
        ty.table,
        policy_text(node.cache),
    );
    match &node.statement {
        Statement::Ready(built) => {
            let _ = writeln!(out, "   sql: {}", built.sql);
            // Binds are the last placeholders: relations and re-reads (by keys) keep `$1` for
            // the keys, so count back from the highest.
            let first = highest_placeholder(&built.sql)
                .map_or(1, |n| (n + 1).saturating_sub(built.binds.len()).max(1));
            for (i, bind) in built.binds.iter().enumerate() {
                let _ = writeln!(out, "   ${} = {}", i + first, bind_text(bind));
            }
        }
        Statement::PerRequest { template, .. } => {
            let _ = writeln!(
                out,
                "   sql: built per request (a variable shapes the filter or order), from: {template}"
            );
        }
    }
    for field in &node.fields {
        if let OutputField::Relation { node: child, .. } = field {
            node_text(
                out,
                plan,
                routing,
                child,
                n,
                policies,
                notes,
                Some(reach.clone()),
            );
        }
    }
}

/// The highest `$n` in `sql`.
fn highest_placeholder(sql: &str) -> Option<usize> {
    sql.split('$')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .max()
}

fn bind_text(bind: &BindSource) -> String {
    match bind {
        BindSource::Const(value) => format!("{value:?}"),
        BindSource::Var { name, .. } | BindSource::VarList { name, .. } => format!("${name}"),
        BindSource::Limit(name, _) => format!("${name} (limit; null = none)"),
        BindSource::Offset(name) => format!("${name} (offset; null = 0)"),
        BindSource::Claim { claim, .. } => format!("claim {claim} (row filter)"),
    }
}

/// Where a statement with `route` reads: the primary, or a replica within a lag bound (when
/// one qualifies; else the primary, see the README's "Read replicas").
fn route_text(route: Route, routing: ReadRouting) -> String {
    let ms = |d: std::time::Duration| d.as_millis();
    match route {
        Route::Primary => "primary".into(),
        Route::Inherit => match routing.reads {
            Reads::Primary => "primary".into(),
            Reads::Replica => format!(
                "replica (max lag {} ms; FRAISEQL_READS=replica)",
                ms(routing.default_max_lag)
            ),
        },
        Route::Replica {
            max_lag_ms: Some(lag),
        } => format!("replica (max lag {lag} ms)"),
        Route::Replica { max_lag_ms: None } => format!(
            "replica (max lag {} ms; FRAISEQL_REPLICA_MAX_LAG_MS)",
            ms(routing.default_max_lag)
        ),
    }
}

fn policy_text(policy: Option<CachePolicy>) -> String {
    match policy {
        None => "none (not cacheable)".into(),
        Some(p) => format!(
            "{}, max-age={}",
            match p.scope {
                CacheScope::Public => "public",
                CacheScope::Private => "private",
            },
            p.ttl_seconds
        ),
    }
}

/// The lowest ttl of what the response touches, private if any part is; no-store if any part
/// has no policy.
fn response_policy(policies: &[Option<CachePolicy>]) -> String {
    if policies.is_empty() {
        return "none (no SQL)".into();
    }
    let mut lowest: Option<CachePolicy> = None;
    for policy in policies {
        let Some(p) = policy else {
            return "no-store (a part has no @cache policy)".into();
        };
        lowest = Some(match lowest {
            None => *p,
            Some(l) => CachePolicy {
                ttl_seconds: l.ttl_seconds.min(p.ttl_seconds),
                scope: if l.scope == CacheScope::Private || p.scope == CacheScope::Private {
                    CacheScope::Private
                } else {
                    CacheScope::Public
                },
            },
        });
    }
    policy_text(lowest)
}
