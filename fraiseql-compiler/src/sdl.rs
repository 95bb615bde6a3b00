//! The API schema as served: the user's types without FraiseQL's directives, plus what the
//! compiler generates for every table (list arguments, `<T>Where`, `<T>OrderBy`,
//! `<T>OrderField`, `_cursor`), the inputs of `@insert` / `@update` mutations
//! (`Create<T>Input`, `Update<T>Input`) and the fixed inputs, scalars and the `@cache`
//! executable directive. SDL is text for the runtime's GraphQL parser, so it is printed, not
//! tokenised.

use std::fmt::Write;

use crate::model::{
    Argument, FieldRef, Kind, Model, MutationKind, RelationKind, RootKind, TableType,
};
use crate::naming::{create_input, update_input};

const CURSOR_DOC: &str = "Opaque keyset cursor of this row in the list it came from; pass it as `after` for the next page.";

/// Scalar filter inputs with comparisons: (input name, value type).
const SCALAR_FILTERS: &[(&str, &str)] = &[
    ("IDFilter", "ID"),
    ("IntFilter", "Int"),
    ("FloatFilter", "Float"),
    ("StringFilter", "String"),
];

const FIXED_TAIL: &str = r#"input BooleanFilter {
  eq: Boolean
  neq: Boolean
  isNull: Boolean
}

input DateTimeFilter {
  eq: DateTime
  neq: DateTime
  in: [DateTime!]
  lt: DateTime
  lte: DateTime
  gt: DateTime
  gte: DateTime
  isNull: Boolean
}

input JSONFilter {
  isNull: Boolean
}

enum SortDirection {
  ASC
  DESC
}

"An RFC 3339 date and time in UTC, e.g. 2026-01-31T12:00:00.000Z."
scalar DateTime

"Any JSON value."
scalar JSON

enum CacheScope {
  PUBLIC
  PRIVATE
}

"Ask for this field's result to be cached for at most `ttl` seconds (never above the schema's bound)."
directive @cache(ttl: Int!, scope: CacheScope) on FIELD
"#;

/// Prints the API SDL for `model`.
pub fn api_sdl(model: &Model) -> String {
    let mut out = String::new();
    for t in &model.types {
        table_type(&mut out, model, t);
    }
    for e in &model.enums {
        description(&mut out, "", e.description.as_deref());
        let _ = writeln!(out, "enum {} {{", e.name);
        for v in &e.values {
            description(&mut out, "  ", v.description.as_deref());
            let _ = writeln!(out, "  {}", v.name);
        }
        out.push_str("}\n\n");
    }
    out.push_str("type Query {\n");
    for f in &model.query {
        description(&mut out, "  ", f.description.as_deref());
        let target = &model.types[f.target].name;
        match f.kind {
            RootKind::Lookup => {
                let _ = writeln!(out, "  {}(id: ID!): {}", f.name, f.graphql_type);
            }
            RootKind::List => {
                let _ = writeln!(out, "  {}{}: {}", f.name, list_args(target), f.graphql_type);
            }
            RootKind::Custom(_) => {
                let args = custom_arguments(&f.arguments);
                let _ = writeln!(out, "  {}{args}: {}", f.name, f.graphql_type);
            }
        }
    }
    out.push_str("}\n\n");
    if !model.mutations.is_empty() {
        mutation_type(&mut out, model);
    }
    for (i, t) in model.types.iter().enumerate() {
        let writes = |kind| {
            model
                .mutations
                .iter()
                .any(|m| m.kind == kind && m.target == i)
        };
        if writes(MutationKind::Insert) {
            write_input(&mut out, model, t, InputKind::Create);
        }
        if writes(MutationKind::Update) {
            write_input(&mut out, model, t, InputKind::Update);
        }
    }
    for t in &model.types {
        filter_inputs(&mut out, model, t);
    }
    for e in &model.enums {
        let n = &e.name;
        let _ = writeln!(
            out,
            "input {n}Filter {{\n  eq: {n}\n  neq: {n}\n  in: [{n}!]\n  isNull: Boolean\n}}\n"
        );
    }
    for (name, ty) in SCALAR_FILTERS {
        let _ = writeln!(out, "input {name} {{");
        for op in ["eq", "neq"] {
            let _ = writeln!(out, "  {op}: {ty}");
        }
        let _ = writeln!(out, "  in: [{ty}!]");
        for op in ["lt", "lte", "gt", "gte"] {
            let _ = writeln!(out, "  {op}: {ty}");
        }
        if *ty == "String" {
            out.push_str("  \"SQL LIKE pattern: % matches any run of characters, _ one character.\"\n  like: String\n");
        }
        out.push_str("  isNull: Boolean\n}\n\n");
    }
    out.push_str(FIXED_TAIL);
    out
}

fn mutation_type(out: &mut String, model: &Model) {
    out.push_str("type Mutation {\n");
    for f in &model.mutations {
        description(out, "  ", f.description.as_deref());
        let name = &model.types[f.target].name;
        // A generated mutation's arguments are fixed (validation checked them), so they are
        // printed in one order whatever order they were written in.
        let args = match f.kind {
            MutationKind::Insert => format!("(input: {}!)", create_input(name)),
            MutationKind::Update => format!("(id: ID!, input: {}!)", update_input(name)),
            MutationKind::Delete => "(id: ID!)".to_owned(),
            MutationKind::Custom(_) => custom_arguments(&f.arguments),
        };
        let _ = writeln!(out, "  {}{args}: {}", f.name, f.graphql_type);
    }
    out.push_str("}\n\n");
}

/// A `@resolver` field's arguments as written: on one line, or one per line when any has a
/// description.
fn custom_arguments(arguments: &[Argument]) -> String {
    if arguments.is_empty() {
        return String::new();
    }
    if arguments.iter().all(|a| a.description.is_none()) {
        let list: Vec<String> = arguments
            .iter()
            .map(|a| format!("{}: {}", a.name, a.graphql_type))
            .collect();
        return format!("({})", list.join(", "));
    }
    let mut out = String::from("(\n");
    for a in arguments {
        description(&mut out, "    ", a.description.as_deref());
        let _ = writeln!(out, "    {}: {}", a.name, a.graphql_type);
    }
    out.push_str("  )");
    out
}

/// Which generated mutation input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InputKind {
    Create,
    Update,
}

/// `Create<T>Input` / `Update<T>Input`: a field per column except the key, named by
/// [`TableType::input_field`] (the same names the runtime reads them by), in column order:
/// the field columns as declared, then the hidden foreign keys of many-to-one relations.
/// In `Create`, a field is required when its column is `NOT NULL`, except `DateTime!`
/// columns, which are set to the time of the write when left out; in `Update` every field
/// may be left out.
fn write_input(out: &mut String, model: &Model, t: &TableType, write: InputKind) {
    let n = &t.name;
    let (name, doc) = match write {
        InputKind::Create => (
            create_input(n),
            format!("The new {n} of an @insert mutation: a field per column of {n}."),
        ),
        InputKind::Update => (
            update_input(n),
            format!("Changes to a {n} in an @update mutation: only the fields given are written."),
        ),
    };
    description(out, "", Some(&doc));
    let _ = writeln!(out, "input {name} {{");
    for (i, c) in t.columns.iter().enumerate() {
        let Some(field) = t.input_field(i) else {
            continue;
        };
        let base = scalar_name(model, c.kind);
        let defaulted = write == InputKind::Create && c.kind == Kind::DateTime && !c.nullable;
        let filter = t.access.filters.iter().find(|f| f.column == i);
        let required = write == InputKind::Create && !c.nullable && !defaulted && filter.is_none();
        let mut doc = match (
            &c.field,
            t.relations
                .iter()
                .find(|r| r.kind == RelationKind::BelongsTo && r.foreign_key == c.name),
        ) {
            (None, Some(r)) => Some(format!(
                "The id of the {} in `{}`.",
                model.types[r.target].name, r.field
            )),
            _ => c.description.clone(),
        };
        if defaulted {
            let note = "Left out, it is set to the time of the write.";
            doc = Some(match doc {
                Some(d) => format!("{d} {note}"),
                None => note.to_owned(),
            });
        }
        if let (Some(f), InputKind::Create) = (filter, write) {
            let note = format!(
                "Left out, it is set from the caller's `{}` claim (@filter); given, it must equal it.",
                f.claim
            );
            doc = Some(match doc {
                Some(d) => format!("{d} {note}"),
                None => note,
            });
        }
        description(out, "  ", doc.as_deref());
        let bang = if required { "!" } else { "" };
        let _ = writeln!(out, "  {field}: {base}{bang}");
    }
    out.push_str("}\n\n");
}

/// The GraphQL name of a column's value type.
fn scalar_name(model: &Model, kind: Kind) -> &str {
    match kind {
        Kind::Id | Kind::ForeignKey => "ID",
        Kind::Int => "Int",
        Kind::Float => "Float",
        Kind::String => "String",
        Kind::Boolean => "Boolean",
        Kind::DateTime => "DateTime",
        Kind::Json => "JSON",
        Kind::Enum(i) => &model.enums[i].name,
    }
}

fn list_args(target: &str) -> String {
    format!("(limit: Int, offset: Int, after: String, where: {target}Where, orderBy: [{target}OrderBy!])")
}

fn table_type(out: &mut String, model: &Model, t: &TableType) {
    description(out, "", t.description.as_deref());
    let _ = writeln!(out, "type {} {{", t.name);
    for f in &t.fields {
        match *f {
            FieldRef::Column(i) => {
                let c = &t.columns[i];
                description(out, "  ", c.description.as_deref());
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    c.field.as_deref().unwrap_or_default(),
                    c.graphql_type
                );
            }
            FieldRef::Relation(i) => {
                let Some(r) = t.relations.get(i) else {
                    continue;
                };
                description(out, "  ", r.description.as_deref());
                let args = match r.kind {
                    crate::model::RelationKind::HasMany => list_args(&model.types[r.target].name),
                    crate::model::RelationKind::BelongsTo => String::new(),
                };
                let _ = writeln!(out, "  {}{args}: {}", r.field, r.graphql_type);
            }
        }
    }
    description(out, "  ", Some(CURSOR_DOC));
    out.push_str("  _cursor: String!\n}\n\n");
}

fn filter_inputs(out: &mut String, model: &Model, t: &TableType) {
    let n = &t.name;
    let fields: Vec<(&str, Kind)> = t
        .columns
        .iter()
        .filter_map(|c| c.field.as_deref().map(|f| (f, c.kind)))
        .collect();
    let _ = writeln!(
        out,
        "\"Filter on {n} rows; fields combine with AND.\"\ninput {n}Where {{"
    );
    for (field, kind) in &fields {
        let _ = writeln!(out, "  {field}: {}", filter_name(model, *kind));
    }
    let _ = writeln!(
        out,
        "  and: [{n}Where!]\n  or: [{n}Where!]\n  not: {n}Where\n}}\n"
    );
    let _ = writeln!(
        out,
        "\"One ordering key for {n} lists; the key `{}` always breaks ties.\"\ninput {n}OrderBy {{\n  field: {n}OrderField!\n  direction: SortDirection = ASC\n}}\n",
        t.columns[t.key_column].field.as_deref().unwrap_or("id")
    );
    let _ = writeln!(out, "enum {n}OrderField {{");
    for (field, _) in fields.iter().filter(|(_, k)| *k != Kind::Json) {
        let _ = writeln!(out, "  {field}");
    }
    out.push_str("}\n\n");
}

fn filter_name(model: &Model, kind: Kind) -> String {
    match kind {
        Kind::Id | Kind::ForeignKey => "IDFilter".into(),
        Kind::Int => "IntFilter".into(),
        Kind::Float => "FloatFilter".into(),
        Kind::String => "StringFilter".into(),
        Kind::Boolean => "BooleanFilter".into(),
        Kind::DateTime => "DateTimeFilter".into(),
        Kind::Json => "JSONFilter".into(),
        Kind::Enum(i) => format!("{}Filter", model.enums[i].name),
    }
}

/// A description line (or block string when it spans lines), indented like its definition.
fn description(out: &mut String, indent: &str, text: Option<&str>) {
    let Some(text) = text else { return };
    if text.contains('\n') {
        let _ = writeln!(out, "{indent}\"\"\"");
        for line in text.lines() {
            let _ = writeln!(out, "{indent}{}", line.replace("\"\"\"", "\\\"\"\""));
        }
        let _ = writeln!(out, "{indent}\"\"\"");
    } else {
        let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(out, "{indent}\"{escaped}\"");
    }
}
