//! Validation: parsed documents in, a [`Model`] out, or every error found.
//!
//! Pass 1 (here) collects definitions across files and rejects what FraiseQL does not support
//! (duplicates, custom scalars, interfaces, `Subscription`, ...). Then each table type is read
//! ([`types`]), relations, indexes and shard keys are resolved once every table's columns are
//! known ([`relations`]), and finally the root types: `Query` and the schema-wide defaults
//! ([`query`]), `Mutation` ([`mutation`]), with the rules `@resolver` fields share in
//! [`custom`].

mod access;
mod custom;
mod mutation;
mod query;
mod relations;
mod types;

use std::collections::HashMap;

use graphql_parser::schema::{
    Definition, Document, EnumType, ObjectType, SchemaDefinition, TypeDefinition,
};
use graphql_parser::Pos;

use crate::directives::{self, DirectiveSet, Location};
use crate::error::SchemaError;
use crate::model::{self, Cache, CacheScope, Model, Route, Source};
use crate::naming::did_you_mean;

/// Built-in scalars and the kind each maps to.
pub(crate) const BUILTIN_SCALARS: &[(&str, model::Kind)] = &[
    ("ID", model::Kind::Id),
    ("Int", model::Kind::Int),
    ("Float", model::Kind::Float),
    ("String", model::Kind::String),
    ("Boolean", model::Kind::Boolean),
    ("DateTime", model::Kind::DateTime),
    ("JSON", model::Kind::Json),
];

/// Type names the API schema defines itself; a user type may not take them.
const GENERATED_NAMES: &[&str] = &[
    "IDFilter",
    "IntFilter",
    "FloatFilter",
    "StringFilter",
    "BooleanFilter",
    "DateTimeFilter",
    "JSONFilter",
    "SortDirection",
    "CacheScope",
];

/// A definition together with the file it came from.
pub(crate) struct At<'d, T> {
    pub file: &'d str,
    pub def: &'d T,
}

/// Everything pass 1 collected, plus the errors so far.
pub(crate) struct Ctx<'d> {
    pub errors: Vec<SchemaError>,
    /// Object types other than `Query`, in declaration order.
    pub objects: Vec<At<'d, ObjectType<'static, String>>>,
    pub enums: Vec<At<'d, EnumType<'static, String>>>,
    pub query: Option<At<'d, ObjectType<'static, String>>>,
    pub mutation: Option<At<'d, ObjectType<'static, String>>>,
    pub schema_defs: Vec<At<'d, SchemaDefinition<'static, String>>>,
    /// Type name -> table index (order of declaration among `@table` types).
    pub tables: HashMap<&'d str, usize>,
    /// Every declared or built-in type name, for "did you mean".
    pub known_types: Vec<&'d str>,
    /// Declared custom scalars: already reported, so fields using them are not reported again.
    pub custom_scalars: Vec<&'d str>,
}

impl<'d> Ctx<'d> {
    pub fn error(&mut self, file: &str, pos: Pos, message: impl Into<String>) -> &mut SchemaError {
        self.errors.push(SchemaError::new(file, pos, message));
        let last = self.errors.len() - 1;
        &mut self.errors[last]
    }

    pub fn directives(
        &mut self,
        file: &str,
        subject: &str,
        location: Location,
        list: &[graphql_parser::schema::Directive<'static, String>],
    ) -> DirectiveSet {
        directives::check(file, subject, location, list, &mut self.errors)
    }

    /// "did you mean" over every known type name.
    pub fn suggest_type(&self, name: &str) -> Option<String> {
        did_you_mean(name, self.known_types.iter().copied(), false)
    }

    pub fn enum_index(&self, name: &str) -> Option<usize> {
        self.enums.iter().position(|e| e.def.name == name)
    }

    /// `@cache(ttl:, scope:)` as a policy; reports a ttl that is not a positive `u32`.
    pub fn cache(
        &mut self,
        file: &str,
        set: &DirectiveSet,
        default_scope: CacheScope,
        ttl_arg: &str,
    ) -> Option<Cache> {
        let d = set.get("cache")?;
        let ttl = d.int(ttl_arg)?;
        let Ok(ttl_seconds) = u32::try_from(ttl) else {
            let message =
                format!("@cache {ttl_arg} must be a positive number of seconds, not {ttl}");
            self.error(file, d.pos, message);
            return None;
        };
        if ttl_seconds == 0 {
            let message = format!("@cache {ttl_arg} must be a positive number of seconds, not 0");
            self.error(file, d.pos, message).hint = Some("remove @cache to disable caching".into());
            return None;
        }
        let scope = match d.enum_value("scope") {
            Some("PRIVATE") => CacheScope::Private,
            Some(_) => CacheScope::Public,
            None => default_scope,
        };
        Some(Cache { ttl_seconds, scope })
    }

    /// `@primary` / `@replica(maxLag:)` as a route.
    pub fn route(&mut self, file: &str, subject: &str, set: &DirectiveSet) -> Route {
        match (set.get("primary"), set.get("replica")) {
            (Some(p), Some(_)) => {
                let message = format!("{subject} has both @primary and @replica");
                self.error(file, p.pos, message).hint = Some("keep one".into());
                Route::Inherit
            }
            (Some(_), None) => Route::Primary,
            (None, Some(r)) => match r.int("maxLag").map(u32::try_from) {
                None => Route::Replica { max_lag_ms: None },
                Some(Ok(ms)) => Route::Replica {
                    max_lag_ms: Some(ms),
                },
                Some(Err(_)) => {
                    let message = format!("@replica maxLag on {subject} must be a non-negative number of milliseconds");
                    self.error(file, r.pos, message);
                    Route::Inherit
                }
            },
            (None, None) => Route::Inherit,
        }
    }
}

pub(crate) fn source(file: &str, pos: Pos) -> Source {
    Source {
        file: file.to_owned(),
        line: pos.line,
        column: pos.column,
    }
}

/// Validates `documents` (sorted by path) into the model.
pub fn validate(
    documents: &[(String, Document<'static, String>)],
    hash: String,
) -> Result<Model, Vec<SchemaError>> {
    let mut ctx = collect(documents);
    let (default_cache, default_scope) = query::schema_defaults(&mut ctx);
    let enums = types::enums(&mut ctx);
    let mut tables = types::tables(&mut ctx, default_scope);
    relations::resolve(&mut ctx, &mut tables);
    access::resolve(&mut ctx, &mut tables);
    let query = query::root_fields(&mut ctx, &tables, default_scope);
    let mutations = mutation::fields(&mut ctx);
    custom::check_function_names(&mut ctx, &query, &mutations);
    if !ctx.errors.is_empty() {
        return Err(ctx.errors);
    }
    Ok(Model {
        files: documents.iter().map(|(path, _)| path.clone()).collect(),
        hash,
        types: tables.into_iter().map(|t| t.table).collect(),
        enums,
        query,
        mutations,
        default_cache,
    })
}

/// Pass 1: collect definitions by kind; report duplicates and unsupported definitions.
fn collect<'d>(documents: &'d [(String, Document<'static, String>)]) -> Ctx<'d> {
    let mut ctx = Ctx {
        errors: Vec::new(),
        objects: Vec::new(),
        enums: Vec::new(),
        query: None,
        mutation: None,
        schema_defs: Vec::new(),
        tables: HashMap::new(),
        known_types: BUILTIN_SCALARS.iter().map(|(n, _)| *n).collect(),
        custom_scalars: Vec::new(),
    };
    // Where each type name was first defined, for duplicate reports.
    let mut defined: HashMap<&str, (&str, Pos)> = HashMap::new();
    for (file, doc) in documents {
        let file = file.as_str();
        for definition in &doc.definitions {
            let (name, pos) = match definition {
                Definition::SchemaDefinition(s) => {
                    ctx.schema_defs.push(At { file, def: s });
                    continue;
                }
                Definition::DirectiveDefinition(d) => {
                    if !directives::is_known(&d.name) {
                        let message =
                            format!("directive definitions are not supported (@{})", d.name);
                        ctx.error(file, d.position, message).hint = Some(
                            "FraiseQL's directives are built in; custom directives come later"
                                .into(),
                        );
                    }
                    continue;
                }
                Definition::TypeExtension(ext) => {
                    let pos = match ext {
                        graphql_parser::schema::TypeExtension::Scalar(t) => t.position,
                        graphql_parser::schema::TypeExtension::Object(t) => t.position,
                        graphql_parser::schema::TypeExtension::Interface(t) => t.position,
                        graphql_parser::schema::TypeExtension::Union(t) => t.position,
                        graphql_parser::schema::TypeExtension::Enum(t) => t.position,
                        graphql_parser::schema::TypeExtension::InputObject(t) => t.position,
                    };
                    ctx.error(
                        file,
                        pos,
                        "type extensions (`extend type`) are not supported",
                    )
                    .hint = Some("add the fields to the type definition itself".into());
                    continue;
                }
                Definition::TypeDefinition(t) => match t {
                    TypeDefinition::Object(o) => (o.name.as_str(), o.position),
                    TypeDefinition::Enum(e) => (e.name.as_str(), e.position),
                    TypeDefinition::Scalar(s) => {
                        // Declaring a built-in scalar (for editor support) is harmless.
                        if !BUILTIN_SCALARS.iter().any(|(n, _)| *n == s.name) {
                            let message = format!("custom scalar {} is not supported", s.name);
                            ctx.error(file, s.position, message).hint = Some(
                                "use one of ID, Int, Float, String, Boolean, DateTime, JSON".into(),
                            );
                            ctx.custom_scalars.push(s.name.as_str());
                        }
                        continue;
                    }
                    TypeDefinition::Interface(i) => {
                        ctx.error(
                            file,
                            i.position,
                            format!("interface {} is not supported", i.name),
                        );
                        continue;
                    }
                    TypeDefinition::Union(u) => {
                        ctx.error(
                            file,
                            u.position,
                            format!("union {} is not supported", u.name),
                        );
                        continue;
                    }
                    TypeDefinition::InputObject(i) => {
                        ctx.error(
                            file,
                            i.position,
                            format!("input {} is not supported", i.name),
                        )
                        .hint = Some(
                            "the compiler generates the filter and ordering inputs, and \
                             Create<T>Input / Update<T>Input for @insert / @update mutations"
                                .into(),
                        );
                        continue;
                    }
                },
            };
            if let Some((first_file, first)) = defined.get(name) {
                let hint = format!(
                    "first defined at {first_file}:{}:{}",
                    first.line, first.column
                );
                ctx.error(file, pos, format!("duplicate type {name}")).hint = Some(hint);
                continue;
            }
            if BUILTIN_SCALARS.iter().any(|(n, _)| *n == name) || GENERATED_NAMES.contains(&name) {
                ctx.error(
                    file,
                    pos,
                    format!("type name {name} is reserved (FraiseQL defines it)"),
                );
                continue;
            }
            defined.insert(name, (file, pos));
            ctx.known_types.push(name);
            match definition {
                Definition::TypeDefinition(TypeDefinition::Object(o)) => match name {
                    "Query" => ctx.query = Some(At { file, def: o }),
                    "Mutation" => ctx.mutation = Some(At { file, def: o }),
                    "Subscription" => {
                        ctx.error(file, pos, "type Subscription is not supported")
                            .hint = Some("FraiseQL serves queries and mutations".into());
                    }
                    _ => {
                        if o.directives.iter().any(|d| d.name == "table") {
                            ctx.tables.insert(name, ctx.tables.len());
                        }
                        ctx.objects.push(At { file, def: o });
                    }
                },
                Definition::TypeDefinition(TypeDefinition::Enum(e)) => {
                    ctx.enums.push(At { file, def: e })
                }
                _ => {}
            }
        }
    }
    check_generated_names(&mut ctx);
    ctx
}

/// `<Table>Where`, `<Table>OrderBy`, `<Table>OrderField`, `Create<Table>Input`,
/// `Update<Table>Input` and `<Enum>Filter` are generated; a user type with such a name would
/// make the API schema invalid. The mutation inputs are reserved for every table, not only the
/// ones with `@insert` / `@update` fields, so adding a mutation never breaks a schema.
fn check_generated_names(ctx: &mut Ctx<'_>) {
    let mut generated: Vec<String> = Vec::new();
    for name in ctx.tables.keys() {
        for suffix in ["Where", "OrderBy", "OrderField"] {
            generated.push(format!("{name}{suffix}"));
        }
        generated.push(crate::naming::create_input(name));
        generated.push(crate::naming::update_input(name));
    }
    for e in &ctx.enums {
        generated.push(format!("{}Filter", e.def.name));
    }
    let mut clashes = Vec::new();
    for o in &ctx.objects {
        if generated.contains(&o.def.name) {
            clashes.push((o.file, o.def.position, o.def.name.clone()));
        }
    }
    for e in &ctx.enums {
        if generated.contains(&e.def.name) {
            clashes.push((e.file, e.def.position, e.def.name.clone()));
        }
    }
    for (file, pos, name) in clashes {
        ctx.error(
            file,
            pos,
            format!("type name {name} clashes with a generated API type"),
        )
        .hint = Some("rename the type".into());
    }
}
