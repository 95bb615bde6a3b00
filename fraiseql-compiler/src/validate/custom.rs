//! What `@resolver` fields on `Query` and `Mutation` share: they return rows of a table type
//! (`T!`, `T` or `[T!]!`), take scalar or enum arguments (maybe nullable, maybe a list), and
//! each is resolved by a Rust function whose name is the snake_case of the field's, so those
//! names must be usable and distinct.

use graphql_parser::schema::{Field, InputValue, Type};
use graphql_parser::Pos;

use super::types::{shape, written};
use super::{source, Ctx, BUILTIN_SCALARS};
use crate::directives::Location;
use crate::model::{Argument, Kind, MutationField, MutationKind, Returns, RootField, RootKind};
use crate::naming::{create_input, is_unusable_rust_field, update_input};
use crate::resolvers::{argument_name, function_name};

/// What a type name in a root field's type refers to.
pub(crate) enum Named {
    /// A table type (index into the tables).
    Table(usize),
    /// A scalar, an enum or a root type: the caller says why that is wrong there.
    Other,
    /// Unknown (reported here, with a "did you mean"), or reported where it is defined (an
    /// object type without `@table`, a custom scalar).
    Reported,
}

/// Resolves the type name `name` written in `subject`'s type.
pub(crate) fn named(ctx: &mut Ctx<'_>, file: &str, pos: Pos, subject: &str, name: &str) -> Named {
    if let Some(&target) = ctx.tables.get(name) {
        return Named::Table(target);
    }
    if ctx.objects.iter().any(|o| o.def.name == name) || ctx.custom_scalars.contains(&name) {
        return Named::Reported;
    }
    if !ctx.known_types.contains(&name) {
        let hint = ctx.suggest_type(name);
        ctx.error(file, pos, format!("{subject} has unknown type {name}"))
            .hint = hint;
        return Named::Reported;
    }
    Named::Other
}

/// The table and result shape of a `@resolver` field: `T!`, `T` or `[T!]!` for a table type.
pub(crate) fn returns(
    ctx: &mut Ctx<'_>,
    file: &str,
    field: &Field<'static, String>,
    subject: &str,
) -> Option<(usize, Returns)> {
    let s = shape(&field.field_type);
    let ty = written(&field.field_type);
    let name = s.name;
    let returns = if ty == format!("{name}!") {
        Some(Returns::One)
    } else if ty == name {
        Some(Returns::Optional)
    } else if ty == format!("[{name}!]!") {
        Some(Returns::List)
    } else {
        None
    };
    match (named(ctx, file, field.position, subject, name), returns) {
        (Named::Table(target), Some(returns)) => Some((target, returns)),
        (Named::Table(_), None) => {
            let message = format!(
                "{subject} is a @resolver field returning `{ty}`, which is none of `{name}!`, `{name}` or `[{name}!]!`"
            );
            let hint = if s.list {
                format!("a list is `[{name}!]!`: empty when there are no rows")
            } else {
                format!("`{name}!` for exactly one row, `{name}` for at most one")
            };
            ctx.error(file, field.position, message).hint = Some(hint);
            None
        }
        (Named::Other, _) => {
            let message = format!(
                "{subject} is a @resolver field returning {name}; @resolver fields return rows of a table type"
            );
            ctx.error(file, field.position, message).hint =
                Some("return `T!`, `T` or `[T!]!` for a table type T".into());
            None
        }
        (Named::Reported, _) => None,
    }
}

/// The arguments of a `@resolver` field: scalars or enums, maybe nullable, maybe a list of
/// them; each becomes a parameter of the Rust function, so their snake_case names must be
/// usable and distinct. `None` when any is wrong (each is reported).
pub(crate) fn arguments(
    ctx: &mut Ctx<'_>,
    file: &str,
    subject: &str,
    arguments: &[InputValue<'static, String>],
) -> Option<Vec<Argument>> {
    let mut out: Vec<Argument> = Vec::new();
    let mut ok = true;
    for a in arguments {
        let what = format!("argument {} of {subject}", a.name);
        ctx.directives(file, &what, Location::Other, &a.directives);
        if out.iter().any(|o| o.name == a.name) {
            ctx.error(file, a.position, format!("{what} is declared twice"));
            ok = false;
            continue;
        }
        let rust = argument_name(&a.name);
        if a.name.starts_with("__") || is_unusable_rust_field(&rust) {
            let message = format!("{what} cannot be a Rust parameter name ({rust})");
            ctx.error(file, a.position, message).hint = Some("rename the argument".into());
            ok = false;
            continue;
        }
        if let Some(other) = out.iter().find(|o| argument_name(&o.name) == rust) {
            let message = format!(
                "{what} and argument {} both become the Rust parameter {rust}",
                other.name
            );
            ctx.error(file, a.position, message).hint = Some("rename one of them".into());
            ok = false;
            continue;
        }
        if a.default_value.is_some() {
            let message = format!("{what} has a default value; @resolver arguments take none");
            ctx.error(file, a.position, message).hint =
                Some("make the argument nullable and apply the default in the function".into());
            ok = false;
            continue;
        }
        let s = shape(&a.value_type);
        if s.nested {
            let message = format!("{what} is a list of lists, which is not supported");
            ctx.error(file, a.position, message);
            ok = false;
            continue;
        }
        let base = BUILTIN_SCALARS
            .iter()
            .find(|(n, _)| *n == s.name)
            .map(|(_, k)| *k)
            .or_else(|| ctx.enum_index(s.name).map(Kind::Enum));
        let Some(base) = base else {
            // The generated mutation inputs are not in the known types; they are no scalars.
            let generated = ctx
                .tables
                .keys()
                .any(|t| create_input(t) == s.name || update_input(t) == s.name);
            if generated
                || matches!(
                    named(ctx, file, a.position, &what, s.name),
                    Named::Table(_) | Named::Other
                )
            {
                let message = format!(
                    "{what} has type {}; @resolver arguments are scalars, enums or lists of them",
                    s.name
                );
                ctx.error(file, a.position, message).hint =
                    Some("pass the row's id (ID!) and load it in the function".into());
            }
            ok = false;
            continue;
        };
        out.push(Argument {
            name: a.name.clone(),
            description: a.description.clone(),
            graphql_type: written(&a.value_type),
            base,
            nullable: s.nullable,
            list: list_items_nullable(&a.value_type),
            source: source(file, a.position),
        });
    }
    ok.then_some(out)
}

/// `Some(item_nullable)` for a list type (`[ID!]` -> `Some(false)`), `None` otherwise.
fn list_items_nullable(ty: &Type<'static, String>) -> Option<bool> {
    match ty {
        Type::NonNullType(inner) => list_items_nullable(inner),
        Type::ListType(item) => Some(!matches!(**item, Type::NonNullType(_))),
        Type::NamedType(_) => None,
    }
}

/// Each `@resolver` field is resolved by the function named after it: a name Rust cannot use,
/// or two fields of one root type sharing a function name, would leave the macro unable to
/// tell which field a function resolves.
pub(crate) fn check_function_names(
    ctx: &mut Ctx<'_>,
    query: &[RootField],
    mutations: &[MutationField],
) {
    let query = query
        .iter()
        .filter(|f| matches!(f.kind, RootKind::Custom(_)))
        .map(|f| (&f.name, &f.source));
    let mutations = mutations
        .iter()
        .filter(|f| matches!(f.kind, MutationKind::Custom(_)))
        .map(|f| (&f.name, &f.source));
    for (root, fields) in [
        ("Query", query.collect::<Vec<_>>()),
        ("Mutation", mutations.collect()),
    ] {
        for (i, (name, at)) in fields.iter().enumerate() {
            let function = function_name(name);
            let pos = Pos {
                line: at.line,
                column: at.column,
            };
            if is_unusable_rust_field(&function) {
                let message =
                    format!("{root}.{name} cannot be resolved by a Rust function named {function}");
                ctx.error(&at.file, pos, message).hint = Some("rename the field".into());
            } else if let Some((other, _)) = fields[..i]
                .iter()
                .find(|(other, _)| function_name(other) == function)
            {
                let message = format!(
                    "{root}.{other} and {root}.{name} would both be resolved by a function named {function}"
                );
                ctx.error(&at.file, pos, message).hint = Some("rename one of the fields".into());
            }
        }
    }
}
