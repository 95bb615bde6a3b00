//! The root: `schema { ... }` definitions (the default cache policy) and `type Query`, whose
//! fields are either a lookup by key (`user(id: ID!): User`) or a list (`users: [User!]!`).

use graphql_parser::Pos;

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
        if def.mutation.is_some() || def.subscription.is_some() {
            ctx.error(
                file,
                def.position,
                "mutation and subscription roots are not supported yet",
            )
            .hint = Some("FraiseQL serves queries only for now".into());
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
        let s = shape(&field.field_type);
        let Some(&target) = ctx.tables.get(s.name) else {
            if !ctx.objects.iter().any(|o| o.def.name == s.name)
                && !ctx.known_types.contains(&s.name)
                && !ctx.custom_scalars.contains(&s.name)
            {
                let hint = ctx.suggest_type(s.name);
                ctx.error(
                    file,
                    field.position,
                    format!("{subject} has unknown type {}", s.name),
                )
                .hint = hint;
            } else if !ctx.objects.iter().any(|o| o.def.name == s.name)
                && !ctx.custom_scalars.contains(&s.name)
            {
                let message = format!(
                    "{subject} returns {}; Query fields return a table type",
                    s.name
                );
                ctx.error(file, field.position, message).hint =
                    Some("custom resolvers are not supported yet".into());
            }
            continue;
        };
        let args: Vec<(String, String)> = field
            .arguments
            .iter()
            .map(|a| (a.name.clone(), written(&a.value_type)))
            .collect();
        let kind = match (s.list, s.nested, args.as_slice()) {
            (false, _, [(name, ty)]) if name == "id" && ty == "ID!" && s.nullable => {
                RootKind::Lookup
            }
            (true, false, []) => RootKind::List,
            _ => {
                bad_shape(ctx, file, field.position, &subject, s.name);
                continue;
            }
        };
        let directives = ctx.directives(file, &subject, Location::QueryField, &field.directives);
        let cache = ctx.cache(file, &directives, default_scope, "ttl");
        let route = ctx.route(file, &subject, &directives);
        out.push(RootField {
            name: field.name.clone(),
            description: field.description.clone(),
            graphql_type: written(&field.field_type),
            target,
            kind,
            cache,
            route,
            arguments: Vec::new(),
            source: source(file, field.position),
        });
    }
    out
}

fn bad_shape(ctx: &mut Ctx<'_>, file: &str, pos: Pos, subject: &str, type_name: &str) {
    let name = subject.trim_start_matches("Query.");
    let message = format!("{subject} must be a lookup `{name}(id: ID!): {type_name}` or a list `{name}: [{type_name}!]!`");
    ctx.error(file, pos, message).hint =
        Some("custom resolvers are not supported yet; lists get limit, offset, after, where and orderBy generated".into());
}
