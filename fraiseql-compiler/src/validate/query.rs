//! The root: `schema { ... }` definitions (the default cache policy and the root type names)
//! and `type Query`, whose fields are a lookup by key (`user(id: ID!): User`), a list
//! (`users: [User!]!`) or a `@resolver` field that a `#[fraiseql::query]` function resolves.

use graphql_parser::Pos;

use super::custom::{self, Named};
use super::types::{shape, written, Draft};
use super::{source, Ctx};
use crate::directives::Location;
use crate::model::{Cache, CacheScope, RootField, RootKind};

/// `schema @cache(maxTtl:, scope:)`: the default policy and the scope `@cache` falls back to.
pub(crate) fn schema_defaults(ctx: &mut Ctx<'_>) -> (Option<Cache>, CacheScope) {
    let defs: Vec<_> = ctx.schema_defs.iter().map(|s| (s.file, s.def)).collect();
    if let Some((file, extra)) = defs.get(1) {
        ctx.error(
            file,
            extra.position,
            "the schema definition is written more than once",
        );
    }
    let mut default = None;
    for (file, def) in defs.into_iter().take(1) {
        if def.query.as_deref().is_some_and(|q| q != "Query") {
            ctx.error(
                file,
                def.position,
                "the query root type must be named Query",
            );
        }
        match (def.mutation.as_deref(), ctx.mutation.is_some()) {
            (Some("Mutation"), true) | (None, false) => {}
            (Some("Mutation"), false) => {
                ctx.error(
                    file,
                    def.position,
                    "the schema definition names the mutation root Mutation, but there is no type Mutation",
                )
                .hint = Some("add type Mutation { ... } or remove `mutation: Mutation`".into());
            }
            (Some(_), _) => {
                ctx.error(
                    file,
                    def.position,
                    "the mutation root type must be named Mutation",
                );
            }
            (None, true) => {
                ctx.error(
                    file,
                    def.position,
                    "the schema definition does not name type Mutation as its mutation root",
                )
                .hint = Some("write schema { query: Query mutation: Mutation }".into());
            }
        }
        if def.subscription.is_some() {
            ctx.error(file, def.position, "subscription roots are not supported")
                .hint = Some("FraiseQL serves queries and mutations".into());
        }
        let directives = ctx.directives(file, "the schema", Location::Schema, &def.directives);
        default = ctx.cache(file, &directives, CacheScope::Public, "maxTtl");
    }
    let scope = default.map_or(CacheScope::Public, |c| c.scope);
    (default, scope)
}

pub(crate) fn root_fields(
    ctx: &mut Ctx<'_>,
    drafts: &[Draft],
    default_scope: CacheScope,
) -> Vec<RootField> {
    let Some(query) = ctx.query.as_ref().map(|q| (q.file, q.def)) else {
        let file = drafts
            .first()
            .map_or("schema", |d| d.file.as_str())
            .to_owned();
        ctx.error(
            &file,
            Pos { line: 1, column: 1 },
            "the schema has no type Query",
        )
        .hint = Some("add type Query { ... } with a lookup or list field per table".into());
        return Vec::new();
    };
    let (file, def) = query;
    ctx.directives(file, "type Query", Location::Other, &def.directives);
    let mut out: Vec<RootField> = Vec::new();
    for field in &def.fields {
        let subject = format!("Query.{}", field.name);
        if out.iter().any(|f| f.name == field.name) {
            ctx.error(file, field.position, format!("duplicate field {subject}"));
            continue;
        }
        let directives = ctx.directives(file, &subject, Location::QueryField, &field.directives);
        let cache = ctx.cache(file, &directives, default_scope, "ttl");
        let route = ctx.route(file, &subject, &directives);
        // Written, even if its arguments were wrong (reported already): the field is custom.
        let (target, kind, arguments) = if field.directives.iter().any(|d| d.name == "resolver") {
            let returns = custom::returns(ctx, file, field, &subject);
            let arguments = custom::arguments(ctx, file, &subject, &field.arguments);
            let (Some((target, returns)), Some(arguments)) = (returns, arguments) else {
                continue;
            };
            (target, RootKind::Custom(returns), arguments)
        } else {
            let Some((target, kind)) = generated(ctx, file, field, &subject) else {
                continue;
            };
            (target, kind, Vec::new())
        };
        out.push(RootField {
            name: field.name.clone(),
            description: field.description.clone(),
            graphql_type: written(&field.field_type),
            target,
            kind,
            cache,
            route,
            arguments,
            source: source(file, field.position),
        });
    }
    out
}

/// A field without `@resolver`: a lookup or a list, whose SQL the compiler writes.
fn generated(
    ctx: &mut Ctx<'_>,
    file: &str,
    field: &graphql_parser::schema::Field<'static, String>,
    subject: &str,
) -> Option<(usize, RootKind)> {
    let s = shape(&field.field_type);
    let target = match custom::named(ctx, file, field.position, subject, s.name) {
        Named::Table(target) => target,
        Named::Reported => return None,
        Named::Other => {
            let message = format!(
                "{subject} returns {}; Query fields return a table type",
                s.name
            );
            ctx.error(file, field.position, message).hint = Some(
                "a @resolver field, computed by a #[fraiseql::query] function, also returns rows of a table type"
                    .into(),
            );
            return None;
        }
    };
    let args: Vec<(String, String)> = field
        .arguments
        .iter()
        .map(|a| (a.name.clone(), written(&a.value_type)))
        .collect();
    match (s.list, s.nested, args.as_slice()) {
        (false, _, [(name, ty)]) if name == "id" && ty == "ID!" && s.nullable => {
            Some((target, RootKind::Lookup))
        }
        (true, false, []) => Some((target, RootKind::List)),
        _ => {
            bad_shape(ctx, file, field.position, subject, s.name);
            None
        }
    }
}

fn bad_shape(ctx: &mut Ctx<'_>, file: &str, pos: Pos, subject: &str, type_name: &str) {
    let name = subject.trim_start_matches("Query.");
    let message = format!("{subject} must be a lookup `{name}(id: ID!): {type_name}` or a list `{name}: [{type_name}!]!`");
    ctx.error(file, pos, message).hint = Some(format!(
        "or add @resolver and resolve it in Rust with `#[fraiseql::query] async fn {}(..)`; \
         lists get limit, offset, after, where and orderBy generated",
        crate::resolvers::function_name(name)
    ));
}
