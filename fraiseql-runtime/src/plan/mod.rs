//! The planner: a validated operation + the compiled model -> an [`OperationPlan`]: one
//! statement per root field and per relation field (batched over every parent of its level),
//! each with its select list, bound-parameter sources, route and cache policy. Plans are
//! cached by the HTTP layer, so none of this runs twice for the same document.

mod collect;
mod cursor;
mod explain;
mod input;
mod shards;
mod sql;
mod write;

use apollo_compiler::executable::{Field, Operation, OperationType};
use apollo_compiler::response::{GraphQLError, JsonMap, JsonValue};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Node};

pub(crate) use collect::Inclusion;
pub(crate) use cursor::write as write_cursor;
pub(crate) use input::{PlanInputError, VariableScope};
pub(crate) use sql::{resolve_binds, BindSource, BuiltStatement, OrderKey};

pub(crate) use write::{ast_to_json, WriteInputError, WriteKind, WritePlan};

use crate::model::{
    CachePolicy, Dialect, MutationKind, RelationKind, ResolverFn, Returns, RootFieldKind, Route,
    SchemaModel, TypeModel,
};
use crate::schema::ApiSchema;
use collect::{collect_fields, collect_sub_fields, Collected};
use sql::{build_statement, StatementSpec};

/// The plan of one operation; cached, reused for every request with the same document.
pub struct OperationPlan {
    pub(crate) model: &'static SchemaModel,
    pub(crate) operation_name: Option<String>,
    pub(crate) roots: Vec<RootEntry>,
    pub(crate) dialect: Dialect,
    /// The `limit` of a list queried without one.
    pub(crate) default_limit: i64,
    pub(crate) has_schema_introspection: bool,
    /// A mutation: its root fields run in order, in one transaction on the primary.
    pub(crate) mutation: bool,
    /// The length of the last response written for this plan: the next one's buffer starts
    /// that large instead of growing (and copying) its way there.
    pub(crate) last_body_len: std::sync::atomic::AtomicUsize,
}

/// One root response key.
pub(crate) struct RootEntry {
    pub key: Name,
    pub inclusion: Inclusion,
    pub kind: RootKind,
    /// The field as first selected (its arguments and directives, for the result cache).
    pub field: Node<Field>,
}

pub(crate) enum RootKind {
    /// `__typename` at the root.
    Typename,
    /// `__schema` / `__type`, answered by apollo-compiler's introspection executor.
    Introspection,
    /// A table read.
    Fetch { node: Box<FetchNode>, many: bool },
    /// A generated mutation; `node` re-reads the row written (none for a delete).
    Write {
        write: Box<WritePlan>,
        node: Option<Box<FetchNode>>,
    },
    /// A `@resolver` field: the Rust function returns the rows, `node` writes them and loads
    /// the relations selected under them (its own statement never runs).
    Custom {
        resolver: ResolverFn,
        returns: Returns,
        field: Node<Field>,
        node: Box<FetchNode>,
    },
}

impl RootKind {
    /// Whether the field runs SQL or a resolver (and so needs a session).
    pub(crate) fn uses_database(&self) -> bool {
        matches!(
            self,
            RootKind::Fetch { .. } | RootKind::Write { .. } | RootKind::Custom { .. }
        )
    }

    /// Whether the field's type is non-null, so its failure nulls the whole `data`.
    pub(crate) fn non_null(&self) -> bool {
        match self {
            RootKind::Typename => true,
            RootKind::Introspection => false,
            RootKind::Fetch { many, .. } => *many,
            RootKind::Custom { returns, .. } => *returns != Returns::Optional,
            // Insert returns `T!`, delete `Boolean!`; update's `T` may be null.
            RootKind::Write { write, .. } => write.kind != WriteKind::Update,
        }
    }
}

/// One statement and what is written from its rows.
pub(crate) struct FetchNode {
    /// Response path without list indexes (`users.posts`), for explain and logs.
    pub path: String,
    pub type_index: usize,
    pub statement: Statement,
    pub fields: Vec<OutputField>,
    pub route: Route,
    pub cache: Option<CachePolicy>,
    /// How rows attach to their parents (relations only).
    pub link: Option<RelationLink>,
    /// Which database(s) hold the rows: the primary, or the shards.
    pub placement: Placement,
    /// `@auth` on the type and on the fields this node selects, checked before any SQL
    /// (`exec/access.rs`).
    pub guards: Vec<Guard>,
}

/// One `@auth` a request must satisfy to read a node.
pub(crate) struct Guard {
    /// What is guarded, for the error message: `Project` or `Project.budget`.
    pub subject: String,
    /// A role, or `model::AUTHENTICATED`.
    pub requires: &'static str,
    /// The field's `@skip` / `@include` (a field left out needs nothing).
    pub inclusion: Inclusion,
}

/// Where a statement's rows are, when shards are configured (without shards every statement
/// runs on the primary, whatever this says).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// A type without `@shard` (a reference table): the primary (and its replicas, by route).
    Primary,
    /// The keys the statement is bound to (`$1` of a batch, the `id` of a lookup) are the
    /// type's shard key: each key's rows are on its shard, so each shard that holds one of the
    /// keys runs the statement for its keys only.
    ByKey,
    /// Anything else on a sharded type (a list, a lookup by a key that is not the shard key):
    /// every shard runs it, in parallel, and the rows are merged by the ordering, with
    /// `offset`/`limit` applied after the merge.
    Scatter,
}

/// The SQL of a node.
pub(crate) enum Statement {
    /// Fixed text; binds may still read variables.
    Ready(BuiltStatement),
    /// A variable shapes the SQL (e.g. `where: $filter`): built per request from the same
    /// fragments, every value still bound.
    PerRequest {
        field: Node<Field>,
        template: &'static str,
        columns_sql: String,
        first_param: usize,
    },
}

/// How a child statement's rows attach to parent rows.
#[derive(Clone, Copy)]
pub(crate) struct RelationLink {
    pub kind: RelationKind,
    /// Column of the parent row holding the value children are keyed by.
    pub parent_column: usize,
    pub nullable: bool,
}

/// One response key of an object.
pub(crate) enum OutputField {
    Column {
        key: Name,
        inclusion: Inclusion,
        column: usize,
    },
    Typename {
        key: Name,
        inclusion: Inclusion,
    },
    Cursor {
        key: Name,
        inclusion: Inclusion,
    },
    Relation {
        key: Name,
        inclusion: Inclusion,
        node: Box<FetchNode>,
    },
}

impl OperationPlan {
    /// Plans `operation` of `document` for `dialect`.
    pub fn build(
        api: &ApiSchema,
        document: &Valid<ExecutableDocument>,
        operation: &Operation,
        dialect: Dialect,
    ) -> Result<OperationPlan, Vec<GraphQLError>> {
        OperationPlan::build_paged(api, document, operation, dialect, None)
    }

    /// [`OperationPlan::build`], a list queried without `limit` (or with `limit: null`)
    /// returning at most `page_size` rows (`None`: every row).
    pub fn build_paged(
        api: &ApiSchema,
        document: &Valid<ExecutableDocument>,
        operation: &Operation,
        dialect: Dialect,
        page_size: Option<u64>,
    ) -> Result<OperationPlan, Vec<GraphQLError>> {
        let default_limit = page_size
            .and_then(|n| i64::try_from(n).ok())
            .map_or(sql::NO_LIMIT, |n| n.min(sql::NO_LIMIT));
        let mutation = operation.operation_type == OperationType::Mutation;
        let planner = Planner {
            model: api.model,
            document,
            dialect,
            default_limit,
            scope: VariableScope {
                definitions: &operation.variables,
                values: None,
            },
            primary_only: mutation,
        };
        let mut roots = Vec::new();
        let mut errors = Vec::new();
        let mut has_schema_introspection = false;
        for collected in collect_fields(document, &operation.selection_set) {
            let inclusion = collected.inclusion();
            let field = collected.field();
            let kind = match field.name.as_str() {
                "__typename" => RootKind::Typename,
                "__schema" | "__type" => {
                    has_schema_introspection = true;
                    RootKind::Introspection
                }
                name if mutation => match planner.mutation_root(name, &collected) {
                    Ok(kind) => kind,
                    Err(e) => {
                        errors.push(*e);
                        continue;
                    }
                },
                name => match planner.root_fetch(name, &collected) {
                    Ok(kind) => kind,
                    Err(e) => {
                        errors.push(*e);
                        continue;
                    }
                },
            };
            roots.push(RootEntry {
                key: collected.key.clone(),
                inclusion,
                kind,
                field: field.clone(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(OperationPlan {
            model: api.model,
            operation_name: operation.name.as_ref().map(|n| n.to_string()),
            roots,
            dialect,
            default_limit,
            has_schema_introspection,
            mutation,
            last_body_len: Default::default(),
        })
    }

    /// `explain`: the statements in order, each with its route and cache policy, routes as
    /// the defaults resolve them (`FRAISEQL_READS=primary`).
    pub fn explain(&self) -> String {
        explain::render(self, crate::db::ReadRouting::default())
    }

    /// `explain` with routes as `routing` (`FRAISEQL_READS`, `FRAISEQL_REPLICA_MAX_LAG_MS`)
    /// resolves them.
    pub fn explain_with(&self, routing: crate::db::ReadRouting) -> String {
        explain::render(self, routing)
    }

    /// `explain` with routes as `routing` resolves them and, when `shards` are configured,
    /// which shards each statement and the whole document touch (exactly, for keys the
    /// document or `variables` give).
    pub fn explain_sharded(
        &self,
        routing: crate::db::ReadRouting,
        shards: Option<&crate::db::shard::ShardMap>,
        variables: Option<&JsonMap>,
    ) -> String {
        explain::render_sharded(self, routing, shards, variables)
    }

    /// Number of statements the plan runs when every conditional field is included.
    pub fn statement_count(&self) -> usize {
        fn count(node: &FetchNode) -> usize {
            1 + node
                .fields
                .iter()
                .map(|f| match f {
                    OutputField::Relation { node, .. } => count(node),
                    _ => 0,
                })
                .sum::<usize>()
        }
        self.roots
            .iter()
            .map(|r| match &r.kind {
                RootKind::Fetch { node, .. } => count(node),
                RootKind::Write { node, .. } => 1 + node.as_deref().map_or(0, count),
                // The resolver's own SQL is not the planner's; its relations are.
                RootKind::Custom { node, .. } => count(node) - 1,
                _ => 0,
            })
            .sum()
    }
}

struct Planner<'a> {
    model: &'static SchemaModel,
    document: &'a Valid<ExecutableDocument>,
    dialect: Dialect,
    default_limit: i64,
    scope: VariableScope<'a>,
    /// A mutation: every statement, re-reads and their relations included, runs in its
    /// transaction on the primary, whatever `@replica` says.
    primary_only: bool,
}

impl Planner<'_> {
    fn root_fetch(
        &self,
        name: &str,
        collected: &Collected<'_>,
    ) -> Result<RootKind, Box<GraphQLError>> {
        let field = collected.field();
        let Some(root) = self.model.root_field(name) else {
            return Err(self.error(field, format!("field `Query.{name}` has no resolver")));
        };
        let ty = &self.model.types[root.target];
        // Undeclared stays `Inherit`: `FRAISEQL_READS` decides at run time (and in `explain`).
        let route = resolve_route(root.route, ty.route, Route::Inherit);
        let cache = root.cache.or(ty.cache).or(self.model.default_cache);
        if let RootFieldKind::Custom(returns) = root.kind {
            return self.custom(collected, root.resolver, returns, root.target, route, cache);
        }
        let key_column = ty.key_column;
        let placement = match root.kind {
            RootFieldKind::Lookup => placement_of(ty, Some(key_column)),
            _ => placement_of(ty, None),
        };
        let node = self.node(
            collected,
            root.target,
            root.sql.get(self.dialect),
            1,
            collected.key.to_string(),
            route,
            cache,
            None,
            true,
            placement,
        )?;
        Ok(RootKind::Fetch {
            node: Box::new(node),
            many: root.kind == RootFieldKind::List,
        })
    }

    /// A root field of a mutation: always on the primary, never cached.
    fn mutation_root(
        &self,
        name: &str,
        collected: &Collected<'_>,
    ) -> Result<RootKind, Box<GraphQLError>> {
        let field = collected.field();
        let Some(mutation) = self.model.mutation_field(name) else {
            return Err(self.error(field, format!("field `Mutation.{name}` has no resolver")));
        };
        let kind = match mutation.kind {
            MutationKind::Insert => WriteKind::Insert,
            MutationKind::Update => WriteKind::Update,
            MutationKind::Delete => WriteKind::Delete,
            MutationKind::Custom(returns) => {
                return self.custom(
                    collected,
                    mutation.resolver,
                    returns,
                    mutation.target,
                    Route::Primary,
                    None,
                );
            }
        };
        let node = match kind {
            WriteKind::Delete => None,
            WriteKind::Insert | WriteKind::Update => Some(Box::new(self.reread_node(
                collected,
                mutation.target,
                Route::Primary,
                None,
            )?)),
        };
        Ok(RootKind::Write {
            write: Box::new(WritePlan {
                kind,
                type_index: mutation.target,
                field: field.clone(),
            }),
            node,
        })
    }

    /// A `@resolver` root field.
    fn custom(
        &self,
        collected: &Collected<'_>,
        resolver: Option<ResolverFn>,
        returns: Returns,
        target: usize,
        route: Route,
        cache: Option<CachePolicy>,
    ) -> Result<RootKind, Box<GraphQLError>> {
        let field = collected.field();
        let Some(resolver) = resolver else {
            return Err(self.error(
                field,
                format!("field `{}` has no resolver function", field.name),
            ));
        };
        let node = self.reread_node(collected, target, route, cache)?;
        Ok(RootKind::Custom {
            resolver,
            returns,
            field: field.clone(),
            node: Box::new(node),
        })
    }

    /// A node reading rows of `target` by key (`$1`), with the field's selection but not its
    /// arguments (those belong to the write or the resolver).
    fn reread_node(
        &self,
        collected: &Collected<'_>,
        target: usize,
        route: Route,
        cache: Option<CachePolicy>,
    ) -> Result<FetchNode, Box<GraphQLError>> {
        let ty = &self.model.types[target];
        self.node(
            collected,
            target,
            ty.by_keys.get(self.dialect),
            2,
            collected.key.to_string(),
            route,
            cache,
            None,
            false,
            placement_of(ty, Some(ty.key_column)),
        )
    }

    #[allow(clippy::too_many_arguments)] // one call site per node kind; a struct would only rename them
    fn node(
        &self,
        collected: &Collected<'_>,
        type_index: usize,
        template: &'static str,
        first_param: usize,
        path: String,
        route: Route,
        cache: Option<CachePolicy>,
        link: Option<RelationLink>,
        own_arguments: bool,
        placement: Placement,
    ) -> Result<FetchNode, Box<GraphQLError>> {
        let ty: &TypeModel = &self.model.types[type_index];
        let mut selected = vec![false; ty.columns.len()];
        selected[ty.key_column] = true;
        let mut fields = Vec::new();
        let mut wants_cursor = false;
        let mut guards: Vec<Guard> = ty
            .access
            .requires
            .map(|requires| Guard {
                subject: ty.name.to_owned(),
                requires,
                inclusion: Inclusion::Always,
            })
            .into_iter()
            .collect();
        for sub in collect_sub_fields(self.document, collected) {
            let key = sub.key.clone();
            let inclusion = sub.inclusion();
            let name = sub.field().name.as_str();
            if let Some(requires) = ty.access.field(name) {
                guards.push(Guard {
                    subject: format!("{}.{name}", ty.name),
                    requires,
                    inclusion: inclusion.clone(),
                });
            }
            if name == "__typename" {
                fields.push(OutputField::Typename { key, inclusion });
            } else if name == "_cursor" {
                wants_cursor = true;
                fields.push(OutputField::Cursor { key, inclusion });
            } else if let Some((column, _)) = ty.column_for_field(name) {
                selected[column] = true;
                fields.push(OutputField::Column {
                    key,
                    inclusion,
                    column,
                });
            } else if let Some(relation) = ty.relation(name) {
                selected[relation.parent_column] = true;
                let target = &self.model.types[relation.target];
                let child_route = if self.primary_only {
                    Route::Primary
                } else {
                    resolve_route(relation.route, target.route, route)
                };
                let child_cache = relation.cache.or(target.cache).or(self.model.default_cache);
                // The column the batch binds the parent keys to, on the child's table.
                let bound_column = match relation.kind {
                    RelationKind::HasMany => target
                        .columns
                        .iter()
                        .position(|c| c.name == relation.foreign_key),
                    RelationKind::BelongsTo => Some(target.key_column),
                };
                let child_placement =
                    placement_of(target, Some(bound_column.unwrap_or(usize::MAX)));
                let child = self.node(
                    &sub,
                    relation.target,
                    relation.sql.get(self.dialect),
                    2,
                    format!("{path}.{}", sub.key),
                    child_route,
                    child_cache,
                    Some(RelationLink {
                        kind: relation.kind,
                        parent_column: relation.parent_column,
                        nullable: relation.nullable,
                    }),
                    true,
                    child_placement,
                )?;
                fields.push(OutputField::Relation {
                    key,
                    inclusion,
                    node: Box::new(child),
                });
            } else {
                return Err(self.error(
                    sub.field(),
                    format!("field `{}.{name}` has no column or relation", ty.name),
                ));
            }
        }
        // Cursors and the merge of several shards' rows read the ordering's columns.
        let reads_order = wants_cursor || placement == Placement::Scatter;
        // A re-read node's arguments are the write's or the resolver's, not a list's.
        let without_arguments;
        let field = if own_arguments {
            collected.field()
        } else {
            let mut bare = (**collected.field()).clone();
            bare.arguments.clear();
            without_arguments = Node::new(bare);
            &without_arguments
        };
        let build = |columns_sql: &str| {
            let spec = StatementSpec {
                ty,
                template,
                columns_sql,
                first_param,
                dialect: self.dialect,
                default_limit: self.default_limit,
            };
            build_statement(&spec, field, self.scope)
        };
        let mut columns_sql = columns_sql(ty, &selected, self.dialect);
        let mut built = build(&columns_sql);
        if reads_order {
            match &built {
                // The document fixes the ordering: its columns join the selection.
                Ok(ready) if ready.order.iter().any(|key| !selected[key.column]) => {
                    for key in &ready.order {
                        selected[key.column] = true;
                    }
                    columns_sql = self::columns_sql(ty, &selected, self.dialect);
                    built = build(&columns_sql);
                }
                // The request's variables choose the ordering: any column may be needed.
                Err(PlanInputError::NeedsValues) => {
                    selected.iter_mut().for_each(|s| *s = true);
                    columns_sql = self::columns_sql(ty, &selected, self.dialect);
                }
                Ok(_) | Err(PlanInputError::Invalid(_)) => {}
            }
        }
        let statement = match built {
            Ok(built) => Statement::Ready(built),
            Err(PlanInputError::NeedsValues) => Statement::PerRequest {
                field: field.clone(),
                template,
                columns_sql,
                first_param,
            },
            Err(PlanInputError::Invalid(message)) => {
                return Err(self.input_error(field, message));
            }
        };
        Ok(FetchNode {
            path,
            type_index,
            statement,
            fields,
            route,
            cache,
            link,
            placement,
            guards,
        })
    }

    fn error(&self, field: &Node<Field>, message: String) -> Box<GraphQLError> {
        Box::new(GraphQLError::new(
            message,
            field.location(),
            &self.document.sources,
        ))
    }

    fn input_error(&self, field: &Node<Field>, message: String) -> Box<GraphQLError> {
        let mut error = self.error(
            field,
            format!("invalid argument on `{}`: {message}", field.name),
        );
        error
            .extensions
            .insert("code", JsonValue::from("BAD_USER_INPUT"));
        error
    }
}

/// The select list: the columns the document needs, in row-struct order. The generated row
/// struct matches columns by name and leaves the others `None`, so a statement sends nothing
/// the response does not use.
fn columns_sql(ty: &TypeModel, selected: &[bool], dialect: Dialect) -> String {
    let mut sql = String::new();
    for (column, _) in ty.columns.iter().zip(selected).filter(|(_, s)| **s) {
        if !sql.is_empty() {
            sql.push_str(", ");
        }
        sql.push_str(column.select.get(dialect));
    }
    sql
}

/// Where the rows of `ty` are read from by a statement bound to `bound_column`'s values (`None`:
/// a list, bound to no key).
fn placement_of(ty: &TypeModel, bound_column: Option<usize>) -> Placement {
    match ty.shard {
        None => Placement::Primary,
        Some(shard) if bound_column == Some(shard.column) => Placement::ByKey,
        Some(_) => Placement::Scatter,
    }
}

/// A field's route: its own, else its type's, else its parent's (`Inherit` up to the root:
/// `FRAISEQL_READS` decides).
fn resolve_route(field: Route, ty: Route, parent: Route) -> Route {
    match (field, ty) {
        (Route::Inherit, Route::Inherit) => parent,
        (Route::Inherit, ty) => ty,
        (field, _) => field,
    }
}

/// Builds a per-request statement with the request's variable values.
pub(crate) fn build_per_request(
    model: &SchemaModel,
    node: &FetchNode,
    dialect: Dialect,
    default_limit: i64,
    operation: &Operation,
    variables: &JsonMap,
) -> Result<BuiltStatement, String> {
    let Statement::PerRequest {
        field,
        template,
        columns_sql,
        first_param,
    } = &node.statement
    else {
        return Err("statement is not built per request".into());
    };
    let spec = StatementSpec {
        ty: &model.types[node.type_index],
        template,
        columns_sql,
        first_param: *first_param,
        dialect,
        default_limit,
    };
    let scope = VariableScope {
        definitions: &operation.variables,
        values: Some(variables),
    };
    build_statement(&spec, field, scope).map_err(|e| match e {
        PlanInputError::Invalid(message) => {
            format!("invalid argument on `{}`: {message}", field.name)
        }
        PlanInputError::NeedsValues => format!("a variable of `{}` has no value", field.name),
    })
}
