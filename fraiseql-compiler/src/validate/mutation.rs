//! `type Mutation`: every field is exactly one of the generated writes (`@insert`, `@update`,
//! `@delete(type:)`), whose arguments and result are fixed by the table they write, or a
//! `@resolver` field that a `#[fraiseql::mutation]` function resolves and that says with
//! `@writes(types:)` which tables it changes (so cached results of them can be dropped).

use graphql_parser::schema::Field;

use super::custom::{self, Named};
use super::types::{shape, written};
use super::{source, Ctx};
use crate::directives::{DirectiveSet, Location};
use crate::model::{MutationField, MutationKind};
use crate::naming::{create_input, did_you_mean, update_input};

/// The directives that say what a Mutation field does; exactly one per field.
const FORMS: [&str; 4] = ["insert", "update", "delete", "resolver"];

const FORMS_HINT: &str = "a Mutation field is one of `createT(input: CreateTInput!): T! @insert`, \
     `updateT(id: ID!, input: UpdateTInput!): T @update`, `deleteT(id: ID!): Boolean! @delete(type: \"T\")`, \
     or a @resolver field with @writes(types: [...]) and a #[fraiseql::mutation] function";

type GraphqlField = Field<'static, String>;

/// The fields of `type Mutation` (none without it).
pub(crate) fn fields(ctx: &mut Ctx<'_>) -> Vec<MutationField> {
    let Some((file, def)) = ctx.mutation.as_ref().map(|m| (m.file, m.def)) else {
        return Vec::new();
    };
    ctx.directives(file, "type Mutation", Location::Other, &def.directives);
    let mut out: Vec<MutationField> = Vec::new();
    for field in &def.fields {
        let subject = format!("Mutation.{}", field.name);
        if out.iter().any(|f| f.name == field.name) {
            ctx.error(file, field.position, format!("duplicate field {subject}"));
            continue;
        }
        let directives = ctx.directives(file, &subject, Location::MutationField, &field.directives);
        // What was written counts, even a directive with bad arguments (reported already).
        let written_here = |name: &str| field.directives.iter().any(|d| d.name == name);
        let forms: Vec<&str> = FORMS.into_iter().filter(|f| written_here(f)).collect();
        let form = match forms.as_slice() {
            [form] => *form,
            [] => {
                let message = format!(
                    "{subject} has none of @insert, @update, @delete or @resolver, so FraiseQL cannot tell what it does"
                );
                ctx.error(file, field.position, message).hint = Some(FORMS_HINT.into());
                continue;
            }
            [first, second, ..] => {
                let message = format!(
                    "{subject} has both @{first} and @{second}; a Mutation field does one of them"
                );
                ctx.error(file, field.position, message).hint = Some(FORMS_HINT.into());
                continue;
            }
        };
        if form != "resolver" && written_here("writes") {
            let pos = field
                .directives
                .iter()
                .find(|d| d.name == "writes")
                .map_or(field.position, |d| d.position);
            let message = format!("@writes on {subject} applies to @resolver fields only");
            ctx.error(file, pos, message).hint =
                Some(format!("@{form} writes the type it names; remove @writes"));
            continue;
        }
        let resolved = match form {
            "insert" => insert(ctx, file, field, &subject),
            "update" => update(ctx, file, field, &subject),
            "delete" => delete(ctx, file, field, &subject, &directives),
            _ => resolver(ctx, file, field, &subject, &directives),
        };
        let Some((target, kind, writes, arguments)) = resolved else {
            continue;
        };
        out.push(MutationField {
            name: field.name.clone(),
            description: field.description.clone(),
            graphql_type: written(&field.field_type),
            target,
            kind,
            arguments,
            writes,
            source: source(file, field.position),
        });
    }
    out
}

/// A validated field: target, kind, types written, arguments (custom fields only).
type Resolved = (usize, MutationKind, Vec<usize>, Vec<crate::model::Argument>);

/// `createT(input: CreateTInput!): T! @insert`.
fn insert(ctx: &mut Ctx<'_>, file: &str, field: &GraphqlField, subject: &str) -> Option<Resolved> {
    let s = shape(&field.field_type);
    let ty = written(&field.field_type);
    let target = match custom::named(ctx, file, field.position, subject, s.name) {
        Named::Table(target) if ty == format!("{}!", s.name) => target,
        Named::Table(_) => {
            let message = format!(
                "{subject} is @insert and returns `{ty}`; @insert returns the new row, `{}!`",
                s.name
            );
            ctx.error(file, field.position, message);
            return None;
        }
        Named::Other => {
            let message = format!(
                "{subject} is @insert and returns {}; @insert returns the new row of a table type T, `T!`",
                s.name
            );
            ctx.error(file, field.position, message);
            return None;
        }
        Named::Reported => return None,
    };
    let input = create_input(s.name);
    let expected = [("input", format!("{input}!"))];
    let hint = format!("{input} is generated from {}'s columns", s.name);
    fixed_arguments(ctx, file, field, subject, "@insert", &expected, hint)?;
    Some((target, MutationKind::Insert, vec![target], Vec::new()))
}

/// `updateT(id: ID!, input: UpdateTInput!): T @update`.
fn update(ctx: &mut Ctx<'_>, file: &str, field: &GraphqlField, subject: &str) -> Option<Resolved> {
    let s = shape(&field.field_type);
    let ty = written(&field.field_type);
    let target = match custom::named(ctx, file, field.position, subject, s.name) {
        Named::Table(target) if !s.list => target,
        Named::Table(_) => {
            let message = format!(
                "{subject} is @update and returns `{ty}`; @update returns the updated row, `{0}` (null when no row has the id) or `{0}!`",
                s.name
            );
            ctx.error(file, field.position, message);
            return None;
        }
        Named::Other => {
            let message = format!(
                "{subject} is @update and returns {}; @update returns the updated row of a table type T, `T` or `T!`",
                s.name
            );
            ctx.error(file, field.position, message);
            return None;
        }
        Named::Reported => return None,
    };
    let input = update_input(s.name);
    let expected = [("id", "ID!".to_owned()), ("input", format!("{input}!"))];
    let hint = format!(
        "{input} is generated from {}'s columns; the fields given are written",
        s.name
    );
    fixed_arguments(ctx, file, field, subject, "@update", &expected, hint)?;
    Some((target, MutationKind::Update, vec![target], Vec::new()))
}

/// `deleteT(id: ID!): Boolean! @delete(type: "T")`.
fn delete(
    ctx: &mut Ctx<'_>,
    file: &str,
    field: &GraphqlField,
    subject: &str,
    directives: &DirectiveSet,
) -> Option<Resolved> {
    // Without a valid @delete (its `type` missing or not a string) there is nothing to check.
    let d = directives.get("delete")?;
    let name = d.string("type").unwrap_or_default();
    let target = ctx.tables.get(name).copied();
    let ty = written(&field.field_type);
    if ty != "Boolean!" {
        let message = format!(
            "{subject} is @delete and returns `{ty}`; @delete returns `Boolean!` (whether a row was deleted)"
        );
        ctx.error(file, field.position, message);
    }
    let Some(target) = target else {
        let message =
            format!("@delete on {subject} names type \"{name}\", which is not a table type");
        let hint = did_you_mean(name, ctx.tables.keys().copied(), true);
        ctx.error(file, d.pos, message).hint = hint;
        return None;
    };
    let hint = "the row to delete is given by its key".to_owned();
    fixed_arguments(
        ctx,
        file,
        field,
        subject,
        "@delete",
        &[("id", "ID!".to_owned())],
        hint,
    )?;
    (ty == "Boolean!").then(|| (target, MutationKind::Delete, vec![target], Vec::new()))
}

/// `@resolver @writes(types: [...])`: a `#[fraiseql::mutation]` function.
fn resolver(
    ctx: &mut Ctx<'_>,
    file: &str,
    field: &GraphqlField,
    subject: &str,
    directives: &DirectiveSet,
) -> Option<Resolved> {
    let returns = custom::returns(ctx, file, field, subject);
    let arguments = custom::arguments(ctx, file, subject, &field.arguments);
    let writes = match directives.get("writes") {
        Some(d) => {
            let mut writes: Vec<usize> = Vec::new();
            let mut ok = true;
            for name in d.strings("types").unwrap_or_default() {
                match ctx.tables.get(name.as_str()) {
                    Some(&t) if writes.contains(&t) => {}
                    Some(&t) => writes.push(t),
                    None => {
                        let message = format!(
                            "@writes on {subject} names \"{name}\", which is not a table type"
                        );
                        let hint = did_you_mean(name, ctx.tables.keys().copied(), true);
                        ctx.error(file, d.pos, message).hint = hint;
                        ok = false;
                    }
                }
            }
            ok.then_some(writes)
        }
        None => {
            // A @writes that was written but invalid is reported already.
            if !field.directives.iter().any(|d| d.name == "writes") {
                let message = format!("{subject} is @resolver but does not say what it writes");
                ctx.error(file, field.position, message).hint = Some(
                    "add @writes(types: [\"T\", ...]) naming the table types it changes (their cached results are dropped), or @writes(types: []) if it changes none"
                        .into(),
                );
            }
            None
        }
    };
    let ((target, returns), arguments, writes) = (returns?, arguments?, writes?);
    Some((target, MutationKind::Custom(returns), writes, arguments))
}

/// Checks that a generated mutation's arguments are exactly `expected` (in any order, without
/// default values).
fn fixed_arguments(
    ctx: &mut Ctx<'_>,
    file: &str,
    field: &GraphqlField,
    subject: &str,
    directive: &str,
    expected: &[(&str, String)],
    hint: String,
) -> Option<()> {
    let mut found: Vec<(String, String)> = field
        .arguments
        .iter()
        .map(|a| {
            let mut ty = written(&a.value_type);
            if let Some(default) = &a.default_value {
                ty = format!("{ty} = {default}");
            }
            (a.name.clone(), ty)
        })
        .collect();
    let shown = |args: &[(String, String)]| {
        let list: Vec<String> = args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        format!("({})", list.join(", "))
    };
    let written_args = if found.is_empty() {
        "none".to_owned()
    } else {
        format!("`{}`", shown(&found))
    };
    let mut wanted: Vec<(String, String)> = expected
        .iter()
        .map(|(n, t)| ((*n).to_owned(), t.clone()))
        .collect();
    let display = shown(&wanted);
    found.sort();
    wanted.sort();
    if found == wanted {
        return Some(());
    }
    let message = format!(
        "{subject} is {directive}, so its arguments must be exactly `{display}`, not {written_args}"
    );
    ctx.error(file, field.position, message).hint = Some(hint);
    None
}
