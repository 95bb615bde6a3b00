//! Reading enums and table types: columns from scalar fields, relation fields left pending
//! until every table is known, and the type-level directives.

use std::collections::HashSet;

use graphql_parser::schema::{Field, Type};
use graphql_parser::Pos;

use super::{source, Ctx, BUILTIN_SCALARS};
use crate::directives::{DirectiveSet, Location};
use crate::model::{
    self, Access, CacheScope, Column, EnumType, EnumValue, FieldRef, Kind, Route, TableType,
    AUTHENTICATED,
};
use crate::naming::{is_plain_identifier, is_unusable_rust_field, snake_case};

/// Field names the generated API uses on a table type or its `<Type>Where` input.
const RESERVED_FIELDS: &[&str] = &["_cursor", "and", "or", "not"];

/// A table type being built: relations wait for [`super::relations`].
pub(crate) struct Draft {
    pub table: TableType,
    pub file: String,
    pub pending: Vec<Pending>,
    pub directives: DirectiveSet,
    /// Columns with `@column(unique: true)`, in declaration order.
    pub unique: Vec<usize>,
}

/// A relation field before its foreign key is resolved.
pub(crate) struct Pending {
    pub field: String,
    pub description: Option<String>,
    pub graphql_type: String,
    pub target: usize,
    pub list: bool,
    pub nullable: bool,
    pub foreign_key: String,
    pub cache: Option<model::Cache>,
    pub route: Route,
    pub pos: Pos,
}

/// The shape of a field's type: `[X!]!` is `list` with name `X`.
pub(crate) struct Shape<'t> {
    pub name: &'t str,
    pub list: bool,
    pub nullable: bool,
    /// `[[X]]`: never supported.
    pub nested: bool,
}

pub(crate) fn shape<'t>(ty: &'t Type<'static, String>) -> Shape<'t> {
    fn inner<'t>(
        ty: &'t Type<'static, String>,
        depth: usize,
        nullable: bool,
        shape: &mut Shape<'t>,
    ) {
        match ty {
            Type::NonNullType(t) => inner(t, depth, false, shape),
            Type::ListType(t) => {
                if depth == 0 {
                    shape.nullable = nullable;
                    shape.list = true;
                } else {
                    shape.nested = true;
                }
                inner(t, depth + 1, true, shape)
            }
            Type::NamedType(n) => {
                if depth == 0 {
                    shape.nullable = nullable;
                }
                shape.name = n;
            }
        }
    }
    let mut s = Shape {
        name: "",
        list: false,
        nullable: true,
        nested: false,
    };
    inner(ty, 0, true, &mut s);
    s
}

/// The type as written in SDL, e.g. `[Post!]!`.
pub(crate) fn written(ty: &Type<'static, String>) -> String {
    match ty {
        Type::NamedType(n) => n.clone(),
        Type::ListType(t) => format!("[{}]", written(t)),
        Type::NonNullType(t) => format!("{}!", written(t)),
    }
}

pub(crate) fn enums(ctx: &mut Ctx<'_>) -> Vec<EnumType> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for e in &ctx.enums {
        let mut seen = HashSet::new();
        let mut values = Vec::new();
        for v in &e.def.values {
            if !seen.insert(v.name.as_str()) {
                errors.push((
                    e.file,
                    v.position,
                    format!("enum {} has the value {} twice", e.def.name, v.name),
                ));
                continue;
            }
            values.push(EnumValue {
                name: v.name.clone(),
                description: v.description.clone(),
            });
        }
        out.push(EnumType {
            name: e.def.name.clone(),
            description: e.def.description.clone(),
            values,
        });
    }
    for (file, pos, message) in errors {
        ctx.error(file, pos, message);
    }
    let enums: Vec<_> = ctx.enums.iter().map(|e| (e.file, e.def)).collect();
    for (file, def) in enums {
        ctx.directives(
            file,
            &format!("enum {}", def.name),
            Location::Other,
            &def.directives,
        );
        for v in &def.values {
            ctx.directives(
                file,
                &format!("{}.{}", def.name, v.name),
                Location::Other,
                &v.directives,
            );
        }
    }
    out
}

/// Reads every object type: tables become drafts, the rest are reported.
pub(crate) fn tables(ctx: &mut Ctx<'_>, default_scope: CacheScope) -> Vec<Draft> {
    let objects: Vec<_> = ctx.objects.iter().map(|o| (o.file, o.def)).collect();
    let mut drafts = Vec::new();
    let mut table_names: Vec<(String, String)> = Vec::new();
    for (file, def) in objects {
        let name = def.name.as_str();
        if !ctx.tables.contains_key(name) {
            not_a_table(ctx, file, def.position, name);
            continue;
        }
        if !def.implements_interfaces.is_empty() {
            ctx.error(
                file,
                def.position,
                format!("type {name} implements an interface; interfaces are not supported"),
            );
        }
        let directives = ctx.directives(
            file,
            &format!("type {name}"),
            Location::Type,
            &def.directives,
        );
        let table = match directives.get("table").and_then(|d| d.string("name")) {
            Some(t) => t.to_owned(),
            None => snake_case(name),
        };
        if !is_plain_identifier(&table) {
            let message = format!("table name \"{table}\" of {name} is not a plain SQL identifier");
            ctx.error(file, def.position, message).hint = Some("use letters, digits and _".into());
        } else if let Some((other, _)) = table_names.iter().find(|(_, t)| *t == table) {
            let message = format!("types {other} and {name} both use table \"{table}\"");
            ctx.error(file, def.position, message).hint =
                Some("give one of them @table(name: ...)".into());
        }
        table_names.push((name.to_owned(), table.clone()));
        let cache = ctx.cache(file, &directives, default_scope, "ttl");
        let route = ctx.route(file, &format!("type {name}"), &directives);
        let seed_rows = match directives.get("seed") {
            Some(d) => match d.int("rows").map(u32::try_from) {
                Some(Ok(rows)) => rows,
                _ => {
                    ctx.error(
                        file,
                        d.pos,
                        format!("@seed rows on {name} must be a non-negative number"),
                    );
                    0
                }
            },
            None => 0,
        };
        let mut draft = Draft {
            table: TableType {
                name: name.to_owned(),
                description: def.description.clone(),
                table,
                key_column: 0,
                columns: Vec::new(),
                relations: Vec::new(),
                indexes: Vec::new(),
                cache,
                route,
                shard: None,
                seed_rows,
                access: Access {
                    requires: auth_requirement(ctx, file, name, &directives),
                    ..Access::default()
                },
                fields: Vec::new(),
                source: source(file, def.position),
            },
            file: file.to_owned(),
            pending: Vec::new(),
            directives,
            unique: Vec::new(),
        };
        fields(ctx, &mut draft, &def.fields, default_scope);
        drafts.push(draft);
    }
    drafts
}

/// `@auth(requires:)` on `subject`: the role, or `"authenticated"` when left out. A role is one
/// word (it is compared with the entries of the token's `roles` claim).
fn auth_requirement(
    ctx: &mut Ctx<'_>,
    file: &str,
    subject: &str,
    directives: &DirectiveSet,
) -> Option<String> {
    let d = directives.get("auth")?;
    let requires = d.string("requires").unwrap_or(AUTHENTICATED).trim();
    if requires.is_empty() || requires.contains(char::is_whitespace) {
        let message = format!("@auth on {subject} requires {requires:?}, which is not a role name");
        ctx.error(file, d.pos, message).hint = Some(format!(
            "name one role the token's roles claim must hold, e.g. @auth(requires: \"admin\"), or \"{AUTHENTICATED}\" for any signed-in caller"
        ));
        return None;
    }
    Some(requires.to_owned())
}

/// Reports an object type without `@table`, saying where it is used when it is.
fn not_a_table(ctx: &mut Ctx<'_>, file: &str, pos: Pos, name: &str) {
    let user = ctx
        .objects
        .iter()
        .chain(ctx.query.iter())
        .chain(ctx.mutation.iter())
        .flat_map(|o| o.def.fields.iter().map(move |f| (o.def.name.as_str(), f)))
        .find(|(_, f)| shape(&f.field_type).name == name)
        .map(|(owner, f)| format!("{owner}.{}", f.name));
    let message = match user {
        Some(user) => format!("type {name} is used by {user} but has no @table"),
        None => format!("type {name} has no @table"),
    };
    ctx.error(file, pos, message).hint = Some(format!(
        "every object type except Query maps to a table: add @table(name: \"{}\")",
        snake_case(name)
    ));
}

fn fields(
    ctx: &mut Ctx<'_>,
    draft: &mut Draft,
    fields: &[Field<'static, String>],
    default_scope: CacheScope,
) {
    let file = draft.file.clone();
    let owner = draft.table.name.clone();
    let mut seen = HashSet::new();
    let mut key = None;
    let mut id_field = false;
    for field in fields {
        let subject = format!("{owner}.{}", field.name);
        if !seen.insert(field.name.as_str()) {
            ctx.error(&file, field.position, format!("duplicate field {subject}"));
            continue;
        }
        if RESERVED_FIELDS.contains(&field.name.as_str()) || field.name.starts_with("__") {
            let message = format!("field name {subject} is reserved");
            ctx.error(&file, field.position, message).hint = Some(
                "the API adds `_cursor` to every table type, and `and`, `or`, `not` to its Where input".into(),
            );
            continue;
        }
        if !field.arguments.is_empty() {
            let message = format!("{subject} declares arguments; fields of table types take none");
            ctx.error(&file, field.position, message).hint =
                Some("list fields get limit, offset, after, where and orderBy generated".into());
        }
        let s = shape(&field.field_type);
        let scalar = BUILTIN_SCALARS
            .iter()
            .find(|(n, _)| *n == s.name)
            .map(|(_, k)| *k);
        let kind = scalar.or_else(|| ctx.enum_index(s.name).map(Kind::Enum));
        if s.nested {
            ctx.error(
                &file,
                field.position,
                format!("{subject} is a list of lists, which is not supported"),
            );
            continue;
        }
        if let Some(kind) = kind {
            if s.list {
                let message = format!(
                    "{subject} is a list of {}; lists of scalars are not supported",
                    s.name
                );
                ctx.error(&file, field.position, message).hint =
                    Some("use a JSON field, or a table type with a @relation".into());
                continue;
            }
            let directives =
                ctx.directives(&file, &subject, Location::ScalarField, &field.directives);
            if let Some(requires) = auth_requirement(ctx, &file, &subject, &directives) {
                draft
                    .table
                    .access
                    .fields
                    .push((field.name.clone(), requires));
            }
            if field.name == "id" {
                id_field = true;
                if written(&field.field_type) != "ID!" {
                    let message = format!(
                        "{subject} must be the key, ID!, not {}",
                        written(&field.field_type)
                    );
                    ctx.error(&file, field.position, message);
                    continue;
                }
                key = Some(draft.table.columns.len());
            }
            let (column, unique) = column(
                ctx,
                &file,
                &subject,
                field,
                kind,
                s.nullable,
                &directives,
                default_scope,
            );
            if let Some(other) = draft.table.columns.iter().find(|c| c.name == column.name) {
                let message = format!(
                    "{subject} maps to column \"{}\", which {owner}.{} already uses",
                    column.name,
                    other.field.as_deref().unwrap_or("")
                );
                ctx.error(&file, field.position, message).hint =
                    Some("rename one with @column(name: ...)".into());
                continue;
            }
            if unique {
                draft.unique.push(draft.table.columns.len());
            }
            draft
                .table
                .fields
                .push(FieldRef::Column(draft.table.columns.len()));
            draft.table.columns.push(column);
        } else if let Some(&target) = ctx.tables.get(s.name) {
            let directives =
                ctx.directives(&file, &subject, Location::RelationField, &field.directives);
            if let Some(requires) = auth_requirement(ctx, &file, &subject, &directives) {
                draft
                    .table
                    .access
                    .fields
                    .push((field.name.clone(), requires));
            }
            let Some(foreign_key) = directives
                .get("relation")
                .and_then(|d| d.string("foreignKey"))
            else {
                // A missing @relation is reported unless @relation was present but invalid.
                if !field.directives.iter().any(|d| d.name == "relation") {
                    let guess = if s.list {
                        snake_case(&owner)
                    } else {
                        snake_case(s.name)
                    };
                    let message = format!(
                        "{subject} refers to table type {} but has no @relation",
                        s.name
                    );
                    ctx.error(&file, field.position, message).hint =
                        Some(format!("add @relation(foreignKey: \"{guess}_id\")"));
                }
                continue;
            };
            let foreign_key = foreign_key.to_owned();
            let cache = ctx.cache(&file, &directives, default_scope, "ttl");
            let route = ctx.route(&file, &subject, &directives);
            draft
                .table
                .fields
                .push(FieldRef::Relation(draft.pending.len()));
            draft.pending.push(Pending {
                field: field.name.clone(),
                description: field.description.clone(),
                graphql_type: written(&field.field_type),
                target,
                list: s.list,
                nullable: s.nullable,
                foreign_key,
                cache,
                route,
                pos: field.position,
            });
        } else if s.name == "Query" || s.name == "Mutation" {
            ctx.error(
                &file,
                field.position,
                format!("{subject} uses type {}, which is a root type", s.name),
            );
        } else if !ctx.objects.iter().any(|o| o.def.name == s.name)
            && !ctx.custom_scalars.contains(&s.name)
        {
            // Object types without @table are reported at their definition.
            let message = format!("{subject} has unknown type {}", s.name);
            let hint = ctx.suggest_type(s.name);
            ctx.error(&file, field.position, message).hint = hint;
        }
    }
    match key {
        Some(k) => draft.table.key_column = k,
        // A mistyped `id` field was reported where it is written.
        None if id_field => {}
        None => {
            let message = format!("table type {owner} has no id: ID! field");
            ctx.error(&file, draft.table.source_pos(), message).hint =
                Some("every table has a 64-bit integer key exposed as `id: ID!`".into());
        }
    }
}

/// The column of a scalar field, and whether `@column(unique: true)` asks for a unique index.
#[allow(clippy::too_many_arguments)]
fn column(
    ctx: &mut Ctx<'_>,
    file: &str,
    subject: &str,
    field: &Field<'static, String>,
    kind: Kind,
    nullable: bool,
    directives: &DirectiveSet,
    default_scope: CacheScope,
) -> (Column, bool) {
    let column = directives.get("column");
    let name = column
        .and_then(|c| c.string("name"))
        .map(str::to_owned)
        .unwrap_or_else(|| snake_case(&field.name));
    if !is_plain_identifier(&name)
        || is_unusable_rust_field(&name)
        || name.starts_with("__fraiseql")
    {
        let message = format!("column name \"{name}\" of {subject} is not usable");
        ctx.error(file, field.position, message).hint =
            Some("use letters, digits and _, not a Rust path keyword (self, super, crate)".into());
    }
    let max_length = match column.and_then(|c| c.int("maxLength").map(|v| (c.pos, v))) {
        None => None,
        Some((pos, v)) => match u32::try_from(v) {
            _ if kind != Kind::String => {
                ctx.error(
                    file,
                    pos,
                    format!("@column maxLength on {subject} applies to String fields only"),
                );
                None
            }
            Ok(v) if v > 0 => Some(v),
            _ => {
                ctx.error(
                    file,
                    pos,
                    format!("@column maxLength on {subject} must be positive, not {v}"),
                );
                None
            }
        },
    };
    let unique = match column.and_then(|c| c.boolean("unique").map(|v| (c.pos, v))) {
        Some((pos, true)) if field.name == "id" => {
            let message = format!("@column unique on {subject}: the key is unique already");
            ctx.error(file, pos, message).hint = Some("remove unique: true".into());
            false
        }
        Some((pos, true)) if kind == Kind::Json => {
            let message = format!("@column unique on {subject}: a JSON column cannot be unique");
            ctx.error(file, pos, message).hint = Some("make a scalar field unique instead".into());
            false
        }
        Some((_, unique)) => unique,
        None => false,
    };
    let column = Column {
        name,
        field: Some(field.name.clone()),
        description: field.description.clone(),
        graphql_type: written(&field.field_type),
        kind,
        nullable,
        max_length,
        cache: ctx.cache(file, directives, default_scope, "ttl"),
    };
    (column, unique)
}

impl TableType {
    /// The definition's position (for errors about the whole type).
    pub(crate) fn source_pos(&self) -> Pos {
        Pos {
            line: self.source.line,
            column: self.source.column,
        }
    }
}
