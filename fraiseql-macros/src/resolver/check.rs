//! Finding a resolver's field: the function's name (or `name = "..."`) among the root's
//! fields, with what to do when it is missing, generated, or a field of the other root. Then
//! the arguments ([`super::arguments`]) and what the expansion needs. The return type is left
//! to rustc, in the shim.

use fraiseql_compiler::model::{Model, MutationKind, Returns, RootKind, Source};
use fraiseql_compiler::resolvers::{self, CustomField, Root};
use proc_macro2::Span;
use quote::format_ident;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{ItemFn, PatType, Type};

use super::arguments::{check_arguments, Describe};
use super::load::Loaded;
use super::options::Options;
use super::types::camel_case;
use super::{attribute, other, Errors};

/// What the expansion needs once the field is known.
pub(crate) struct Plan {
    /// `schema = <path>` as written (`crate::schema` when `None`).
    pub schema: Option<syn::Path>,
    pub trait_ident: syn::Ident,
    pub row: syn::Ident,
    pub returns: Returns,
    /// Each argument's GraphQL name and the parameter's type as the user wrote it.
    pub args: Vec<(String, Type)>,
    /// Where the user's return type is (or the function's name when it has none).
    pub return_span: Span,
    pub files: Vec<std::path::PathBuf>,
}

/// What a root field is when FraiseQL generates it (`a lookup by id`, `an @insert`, ...), with
/// its position; `None` for a `@resolver` field or no field.
fn generated<'m>(model: &'m Model, root: Root, name: &str) -> Option<(&'static str, &'m Source)> {
    match root {
        Root::Query => model
            .query
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| match f.kind {
                RootKind::Lookup => Some(("a lookup by id", &f.source)),
                RootKind::List => Some(("a list", &f.source)),
                RootKind::Custom(_) => None,
            }),
        Root::Mutation => model
            .mutations
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| match f.kind {
                MutationKind::Insert => Some(("an @insert", &f.source)),
                MutationKind::Update => Some(("an @update", &f.source)),
                MutationKind::Delete => Some(("a @delete", &f.source)),
                MutationKind::Custom(_) => None,
            }),
    }
}

/// `schema/app.graphql:7:3`.
pub(crate) fn position(source: &Source) -> String {
    format!("{}:{}:{}", source.file, source.line, source.column)
}

/// Finds the function's field and checks its arguments. `None` when there is no field to
/// implement (the error is recorded).
pub(crate) fn field(
    root: Root,
    options: &Options,
    loaded: &Loaded,
    function: &ItemFn,
    params: Vec<&PatType>,
    errors: &mut Errors,
) -> Option<Plan> {
    let model = &loaded.model;
    let fn_name = function.sig.ident.unraw().to_string();
    let (name, name_span, from) = match &options.name {
        Some(lit) => (
            lit.value(),
            lit.span(),
            format!("`name = \"{}\"`", lit.value()),
        ),
        None => (
            camel_case(&fn_name),
            function.sig.ident.span(),
            format!("the camelCase of `{fn_name}`"),
        ),
    };
    let field = if let Some(field) = resolvers::custom_field(model, root, &name) {
        field
    } else if let Some((what, source)) = generated(model, root, &name) {
        errors.at(
            name_span,
            format!(
                "{}.{name} ({}) is {what} that FraiseQL answers with SQL; it has no @resolver, so no function resolves it: remove {}, or resolve a field declared with @resolver",
                root.type_name(),
                position(source),
                attribute(root)
            ),
        );
        return None;
    } else if let Some(field) = resolvers::custom_field(model, other(root), &name) {
        errors.at(
            Span::call_site(),
            format!(
                "{}.{name} is a {} field ({}), so {} resolves it, not {}",
                field.root.type_name(),
                field.root.type_name(),
                position(field.source),
                attribute(field.root),
                attribute(root)
            ),
        );
        // Implement the field the user meant anyway, so rustc does not also report it as
        // unresolved.
        field
    } else if let Some((what, source)) = generated(model, other(root), &name) {
        let other = other(root).type_name();
        errors.at(
            Span::call_site(),
            format!(
                "{other}.{name} is a {other} field ({}), and {what} that FraiseQL answers itself: it has no @resolver, so no function resolves it",
                position(source),
            ),
        );
        return None;
    } else {
        errors.at(name_span, undeclared(model, root, &name, &from));
        return None;
    };
    let describe = Describe {
        model,
        field: &field,
        fn_name: &fn_name,
    };
    let args = check_arguments(&describe, &function.sig, &params, errors);
    let return_span = match &function.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => {
            let expected = field.rust_return_type(model);
            errors.at(
                function.sig.paren_token.span.close(),
                format!(
                    "the resolver returns nothing, but {}.{} is `{}` ({}): return `{expected}` or `Result<{expected}, fraiseql::ResolverError>`",
                    field.root.type_name(),
                    field.name,
                    field.graphql_type,
                    position(field.source)
                ),
            );
            function.sig.ident.span()
        }
    };
    Some(Plan {
        schema: options.schema.clone(),
        trait_ident: format_ident!("{}", field.trait_name()),
        row: format_ident!("{}", resolvers::row_type(field.target_type)),
        returns: field.returns,
        args,
        return_span,
        files: loaded.files.clone(),
    })
}

fn undeclared(model: &Model, root: Root, name: &str, from: &str) -> String {
    let custom: Vec<CustomField<'_>> = resolvers::custom_fields(model, root);
    let mut message = format!(
        "the schema has no field {}.{name} ({from})",
        root.type_name()
    );
    let suggestion = fraiseql_compiler::naming::closest(name, custom.iter().map(|f| f.name))
        .and_then(|c| custom.iter().find(|f| f.name == c));
    if let Some(f) = suggestion {
        message.push_str(&format!(
            "; did you mean `{}`, which resolves {}.{} ({})?",
            f.function_name(),
            root.type_name(),
            f.name,
            position(f.source)
        ));
    } else if custom.is_empty() {
        message.push_str(&format!(
            "; declare it in type {} with @resolver, or name the field with `name = \"...\"`",
            root.type_name()
        ));
    } else {
        let names: Vec<&str> = custom.iter().map(|f| f.name).collect();
        message.push_str(&format!(
            "; declare it with @resolver, or name the field with `name = \"...\"`. The @resolver fields of {} are: {}",
            root.type_name(),
            names.join(", ")
        ));
    }
    message
}
