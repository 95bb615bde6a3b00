//! Cache policy per document, worked out once when the document is planned: for each root
//! field the most the schema allows (the lowest ttl of every node and column it touches,
//! PRIVATE if any is), the `@cache(ttl:, scope:)` requests the operation makes inside it, the
//! tables it reads (what invalidates it) and the variables it reads (what its key holds).
//! Per request only the requests' values and the lookup key are read.

use apollo_compiler::ast::Value;
use apollo_compiler::executable::{Field, Selection, SelectionSet};
use apollo_compiler::response::JsonMap;
use apollo_compiler::{ExecutableDocument, Name, Node};
use sha2::{Digest, Sha256};

use crate::model::{CachePolicy, CacheScope, RootFieldKind, SchemaModel};
use crate::plan::{FetchNode, OperationPlan, OutputField, RootKind};

/// The cache plan of one prepared operation.
pub(crate) struct DocumentCache {
    /// sha256 of the normalised document (apollo-compiler's printed form: no comments, one
    /// layout), so formatting does not split the cache.
    pub doc_hash: [u8; 32],
    /// One per plan root entry, in the same order.
    pub roots: Vec<RootCache>,
}

/// One root entry.
pub(crate) enum RootCache {
    /// `__typename` or introspection: no SQL, no bearing on the response's policy.
    Neutral,
    /// A mutation field: never cached.
    Write,
    /// A read.
    Read(ReadCache),
}

/// A root field that reads.
pub(crate) struct ReadCache {
    /// The most the schema allows; `None`: some part has no policy.
    pub schema: Option<CachePolicy>,
    /// `@cache` on this field or under it in the operation.
    pub requested: Vec<Requested>,
    /// Tables read as a whole (lists, relations), by type index.
    pub tables: Vec<usize>,
    /// A lookup by key: the type and the `id` argument as written.
    pub lookup: Option<(usize, Node<Value>)>,
    /// Variables the field reads, sorted (only their values go into its key).
    pub variables: Vec<Name>,
    /// The claims of the `@filter`s of every type the field reads, sorted: their values go
    /// into its key, so callers with different values never share an entry.
    pub claims: Vec<&'static str>,
    /// A custom resolver's field: the function may read any claim, so the key holds them all.
    pub custom: bool,
}

/// `@cache(ttl:, scope:)` in the operation, as written (literals or variables).
pub(crate) struct Requested {
    ttl: Node<Value>,
    scope: Option<Node<Value>>,
}

/// The policy a root field gets for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Granted {
    /// `None`: not cacheable.
    pub policy: Option<CachePolicy>,
    /// What the operation asked for when it asked for more than the schema allows.
    pub capped: Option<Asked>,
}

/// An operation's request for one root field, folded (lowest ttl, private if any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Asked {
    pub ttl: u32,
    pub scope: Option<CacheScope>,
}

impl DocumentCache {
    /// The cache plan of `plan` (planned from `document`).
    pub fn build(
        model: &SchemaModel,
        document: &ExecutableDocument,
        plan: &OperationPlan,
    ) -> DocumentCache {
        let doc_hash = Sha256::digest(document.to_string().as_bytes()).into();
        let roots = plan
            .roots
            .iter()
            .map(|root| match &root.kind {
                RootKind::Typename | RootKind::Introspection => RootCache::Neutral,
                RootKind::Write { .. } => RootCache::Write,
                RootKind::Custom { .. } if plan.mutation => RootCache::Write,
                RootKind::Fetch { node, .. } => {
                    RootCache::Read(read_cache(model, document, &root.field, node, false))
                }
                RootKind::Custom { node, .. } => {
                    RootCache::Read(read_cache(model, document, &root.field, node, true))
                }
            })
            .collect();
        DocumentCache { doc_hash, roots }
    }
}

fn read_cache(
    model: &SchemaModel,
    document: &ExecutableDocument,
    field: &Node<Field>,
    node: &FetchNode,
    custom: bool,
) -> ReadCache {
    let lookup = model
        .root_field(&field.name)
        .filter(|r| r.kind == RootFieldKind::Lookup)
        .and_then(|r| Some((r.target, field.specified_argument_by_name("id")?.clone())));
    let mut tables = Vec::new();
    // `schema @cache(maxTtl:)` is also the bound of every policy.
    let mut schema = Some(CachePolicy {
        ttl_seconds: model.default_cache.map_or(u32::MAX, |d| d.ttl_seconds),
        scope: CacheScope::Public,
    });
    node_policy(model, node, lookup.is_none(), &mut schema, &mut tables);
    tables.sort_unstable();
    tables.dedup();
    let mut walk = Walk {
        document,
        variables: Vec::new(),
        requested: Vec::new(),
        fragments: Vec::new(),
    };
    walk.field(field);
    walk.variables.sort();
    walk.variables.dedup();
    let mut claims = Vec::new();
    filter_claims(model, node, &mut claims);
    claims.sort_unstable();
    claims.dedup();
    ReadCache {
        schema,
        requested: walk.requested,
        tables,
        lookup,
        variables: walk.variables,
        claims,
        custom,
    }
}

/// The claims `node` and every relation under it are filtered by.
fn filter_claims(model: &SchemaModel, node: &FetchNode, out: &mut Vec<&'static str>) {
    let ty = &model.types[node.type_index];
    out.extend(ty.access.filters.iter().map(|f| f.claim));
    for field in &node.fields {
        if let OutputField::Relation { node: child, .. } = field {
            filter_claims(model, child, out);
        }
    }
}

/// Folds `node`'s policy (and each selected column's) into `policy`, and its table into
/// `tables` unless it is the root of a lookup (which depends on its row, not its table).
fn node_policy(
    model: &SchemaModel,
    node: &FetchNode,
    whole_table: bool,
    policy: &mut Option<CachePolicy>,
    tables: &mut Vec<usize>,
) {
    if whole_table {
        tables.push(node.type_index);
    }
    *policy = lowest(*policy, node.cache);
    let ty = &model.types[node.type_index];
    for field in &node.fields {
        match field {
            OutputField::Column { column, .. } => {
                if let Some(own) = ty.columns.get(*column).and_then(|c| c.cache) {
                    *policy = lowest(*policy, Some(own));
                }
            }
            OutputField::Relation { node: child, .. } => {
                node_policy(model, child, true, policy, tables)
            }
            OutputField::Typename { .. } | OutputField::Cursor { .. } => {}
        }
    }
}

/// The lower of two policies (`None`, not cacheable, is the lowest); private wins.
pub(crate) fn lowest(a: Option<CachePolicy>, b: Option<CachePolicy>) -> Option<CachePolicy> {
    let (a, b) = (a?, b?);
    Some(CachePolicy {
        ttl_seconds: a.ttl_seconds.min(b.ttl_seconds),
        scope: if a.scope == CacheScope::Private || b.scope == CacheScope::Private {
            CacheScope::Private
        } else {
            CacheScope::Public
        },
    })
}

/// Variables and `@cache` requests under a field, through fragments.
struct Walk<'d> {
    document: &'d ExecutableDocument,
    variables: Vec<Name>,
    requested: Vec<Requested>,
    /// Fragments being walked (a fragment spread twice is walked twice; cycles are invalid).
    fragments: Vec<Name>,
}

impl Walk<'_> {
    fn field(&mut self, field: &Field) {
        for argument in &field.arguments {
            self.value(&argument.value);
        }
        for directive in field.directives.iter() {
            for argument in &directive.arguments {
                self.value(&argument.value);
            }
            if directive.name == "cache" {
                if let Some(ttl) = directive.specified_argument_by_name("ttl") {
                    self.requested.push(Requested {
                        ttl: ttl.clone(),
                        scope: directive.specified_argument_by_name("scope").cloned(),
                    });
                }
            }
        }
        self.selections(&field.selection_set);
    }

    fn selections(&mut self, set: &SelectionSet) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => self.field(field),
                Selection::FragmentSpread(spread) => {
                    for directive in spread.directives.iter() {
                        for argument in &directive.arguments {
                            self.value(&argument.value);
                        }
                    }
                    let name = &spread.fragment_name;
                    if self.fragments.contains(name) {
                        continue;
                    }
                    if let Some(fragment) = self.document.fragments.get(name) {
                        self.fragments.push(name.clone());
                        self.selections(&fragment.selection_set);
                        self.fragments.pop();
                    }
                }
                Selection::InlineFragment(inline) => {
                    for directive in inline.directives.iter() {
                        for argument in &directive.arguments {
                            self.value(&argument.value);
                        }
                    }
                    self.selections(&inline.selection_set);
                }
            }
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Variable(name) => self.variables.push(name.clone()),
            Value::List(items) => items.iter().for_each(|v| self.value(v)),
            Value::Object(fields) => fields.iter().for_each(|(_, v)| self.value(v)),
            _ => {}
        }
    }
}

impl ReadCache {
    /// The policy for one request: the schema's, lowered by what the operation asks for.
    pub fn granted(&self, variables: &JsonMap) -> Granted {
        let asked = self.asked(variables);
        let Some(asked) = asked else {
            return Granted {
                policy: self.schema,
                capped: None,
            };
        };
        let Some(schema) = self.schema else {
            return Granted {
                policy: None,
                capped: Some(asked),
            };
        };
        let scope = match (schema.scope, asked.scope) {
            (CacheScope::Private, _) | (_, Some(CacheScope::Private)) => CacheScope::Private,
            _ => CacheScope::Public,
        };
        let ttl = schema.ttl_seconds.min(asked.ttl);
        let capped = asked.ttl > schema.ttl_seconds
            || (asked.scope == Some(CacheScope::Public) && schema.scope == CacheScope::Private);
        Granted {
            policy: (ttl > 0).then_some(CachePolicy {
                ttl_seconds: ttl,
                scope,
            }),
            capped: capped.then_some(asked),
        }
    }

    /// The operation's requests folded, or `None` when it makes none.
    fn asked(&self, variables: &JsonMap) -> Option<Asked> {
        let mut folded: Option<Asked> = None;
        for requested in &self.requested {
            // A ttl that is not a whole number (a null variable) asks for no caching.
            let ttl =
                int_value(&requested.ttl, variables).map_or(0, |n| u32::try_from(n).unwrap_or(0));
            let scope = requested
                .scope
                .as_ref()
                .and_then(|s| enum_value(s, variables))
                .and_then(|s| match s.as_str() {
                    "PUBLIC" => Some(CacheScope::Public),
                    "PRIVATE" => Some(CacheScope::Private),
                    _ => None,
                });
            folded = Some(match folded {
                None => Asked { ttl, scope },
                Some(f) => Asked {
                    ttl: f.ttl.min(ttl),
                    scope: match (f.scope, scope) {
                        (Some(CacheScope::Private), _) | (_, Some(CacheScope::Private)) => {
                            Some(CacheScope::Private)
                        }
                        (Some(s), _) | (None, Some(s)) => Some(s),
                        (None, None) => None,
                    },
                },
            });
        }
        folded
    }
}

fn int_value(value: &Value, variables: &JsonMap) -> Option<i64> {
    match value {
        Value::Int(n) => n.try_to_i32().ok().map(i64::from),
        Value::Variable(name) => variables.get(name.as_str())?.as_i64(),
        _ => None,
    }
}

fn enum_value(value: &Value, variables: &JsonMap) -> Option<String> {
    match value {
        Value::Enum(name) => Some(name.to_string()),
        Value::Variable(name) => Some(variables.get(name.as_str())?.as_str()?.to_owned()),
        _ => None,
    }
}

/// The key of a lookup's row: the `id` argument's value as an integer.
pub(crate) fn lookup_key(value: &Value, variables: &JsonMap) -> Option<i64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Int(n) => n.as_str().parse().ok(),
        Value::Variable(name) => match variables.get(name.as_str())? {
            v if v.is_string() => v.as_str()?.parse().ok(),
            v => v.as_i64(),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(ttl: u32, scope: CacheScope) -> Option<CachePolicy> {
        Some(CachePolicy {
            ttl_seconds: ttl,
            scope,
        })
    }

    #[test]
    fn lowest_ttl_and_private_win() {
        use CacheScope::*;
        assert_eq!(
            lowest(policy(60, Public), policy(30, Public)),
            policy(30, Public)
        );
        assert_eq!(
            lowest(policy(60, Private), policy(90, Public)),
            policy(60, Private)
        );
        assert_eq!(lowest(policy(60, Public), None), None);
    }

    fn read(schema: Option<CachePolicy>, requested: &[(&str, Option<&str>)]) -> ReadCache {
        ReadCache {
            schema,
            requested: requested
                .iter()
                .map(|(ttl, scope)| Requested {
                    ttl: Node::new(Value::Int(ttl.parse::<i32>().unwrap().into())),
                    scope: scope.map(|s| Node::new(Value::Enum(Name::new(s).unwrap()))),
                })
                .collect(),
            tables: Vec::new(),
            lookup: None,
            variables: Vec::new(),
            claims: Vec::new(),
            custom: false,
        }
    }

    #[test]
    fn requests_lower_but_never_raise() {
        use CacheScope::*;
        let vars = JsonMap::new();
        let g = read(policy(3600, Public), &[]).granted(&vars);
        assert_eq!(g.policy, policy(3600, Public));
        assert_eq!(g.capped, None);
        let g = read(policy(3600, Public), &[("60", None)]).granted(&vars);
        assert_eq!(g.policy, policy(60, Public));
        assert_eq!(g.capped, None);
        let g = read(policy(3600, Public), &[("7200", None)]).granted(&vars);
        assert_eq!(g.policy, policy(3600, Public));
        assert_eq!(g.capped.map(|a| a.ttl), Some(7200));
        let g = read(policy(300, Private), &[("60", Some("PUBLIC"))]).granted(&vars);
        assert_eq!(g.policy, policy(60, Private));
        assert!(g.capped.is_some());
        let g = read(policy(300, Public), &[("60", Some("PRIVATE"))]).granted(&vars);
        assert_eq!(g.policy, policy(60, Private));
        let g = read(None, &[("60", None)]).granted(&vars);
        assert_eq!(g.policy, None);
        assert!(g.capped.is_some());
        let g = read(policy(300, Public), &[("0", None)]).granted(&vars);
        assert_eq!(g.policy, None);
    }
}
