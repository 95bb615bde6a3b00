//! Finding a resolver's field: the function's name (or `name = "..."`) among the root's
//! fields, with what to do when it is missing, generated, or a field of the other root. Then
//! the arguments ([`super::arguments`]) and what the expansion needs. The return type is left
//! to rustc, in the shim.

use fraiseql_compiler::model::{Argument, Model, MutationKind, Returns, RootKind, Source};
use proc_macro2::Span;
use quote::format_ident;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{ItemFn, PatType, Type};

use super::arguments::{check_arguments, Describe};
use super::load::Loaded;
use super::naming;
use super::options::Options;
use super::types::camel_case;
use super::{Errors, Root};

/// What the expansion needs once the field is known.
pub(crate) struct Plan {
    pub schema: syn::Path,
    pub trait_ident: syn::Ident,
    pub row: syn::Ident,
    pub returns: Returns,
    /// Each argument's GraphQL name and the parameter's type as the user wrote it.
    pub args: Vec<(String, Type)>,
    /// Where the user's return type is (or the function's name when it has none).
    pub return_span: Span,
    pub files: Vec<std::path::PathBuf>,
}

/// A root field as a resolver sees it.
pub(crate) struct Field<'m> {
    pub root: Root,
    pub name: &'m str,
    pub graphql_type: &'m str,
    pub target: usize,
    pub source: &'m Source,
    /// `Some` for a `@resolver` field.
    pub custom: Option<(Returns, &'m [Argument])>,
    /// What the field is when it is not custom (`a lookup by id`, `an @insert`, ...).
    pub generated: &'static str,
}

fn fields(model: &Model, root: Root) -> Vec<Field<'_>> {
    match root {
        Root::Query => model
            .query
            .iter()
            .map(|f| {
                let (custom, generated) = match f.kind {
                    RootKind::Custom(returns) => (Some((returns, f.arguments.as_slice())), ""),
                    RootKind::Lookup => (None, "a lookup by id"),
                    RootKind::List => (None, "a list"),
                };
                Field {
                    root,
                    name: &f.name,
                    graphql_type: &f.graphql_type,
                    target: f.target,
                    source: &f.source,
                    custom,
                    generated,
                }
            })
            .collect(),
        Root::Mutation => model
            .mutations
            .iter()
            .map(|f| {
                let (custom, generated) = match f.kind {
                    MutationKind::Custom(returns) => (Some((returns, f.arguments.as_slice())), ""),
                    MutationKind::Insert => (None, "an @insert"),
                    MutationKind::Update => (None, "an @update"),
                    MutationKind::Delete => (None, "a @delete"),
                };
                Field {
                    root,
                    name: &f.name,
                    graphql_type: &f.graphql_type,
                    target: f.target,
                    source: &f.source,
                    custom,
                    generated,
                }
            })
            .collect(),
    }
}

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
    let own = fields(model, root);
    let other = fields(model, root.other());
    let field = if let Some(field) = own.iter().find(|f| f.name == name) {
        field
    } else if let Some(field) = other.iter().find(|f| f.name == name) {
        let attribute = root.other().attribute();
        let message = match field.custom {
            Some(_) => format!(
                "{}.{name} is a {} field ({}), so {attribute} resolves it, not {}",
                field.root.type_name(),
                field.root.type_name(),
                position(field.source),
                root.attribute()
            ),
            None => format!(
                "{}.{name} is a {} field ({}), and {} that FraiseQL answers itself: it has no @resolver, so no function resolves it",
                field.root.type_name(),
                field.root.type_name(),
                position(field.source),
                field.generated,
            ),
        };
        errors.at(Span::call_site(), message);
        // Implement the field the user meant anyway, so rustc does not also report it as
        // unresolved.
        field.custom?;
        field
    } else {
        errors.at(name_span, undeclared(root, &name, &from, &own));
        return None;
    };
    let Some((returns, arguments)) = field.custom else {
        errors.at(
            name_span,
            format!(
                "{}.{name} ({}) is {} that FraiseQL answers with SQL; it has no @resolver, so no function resolves it: remove {}, or resolve a field declared with @resolver",
                field.root.type_name(),
                position(field.source),
                field.generated,
                root.attribute()
            ),
        );
        return None;
    };
    let describe = Describe {
        model,
        field,
        arguments,
        fn_name: &fn_name,
    };
    let args = check_arguments(&describe, &function.sig, &params, errors);
    let return_span = match &function.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => {
            let expected = naming::rust_return_type(model, returns, field.target);
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
        trait_ident: format_ident!("{}", naming::trait_name(field.root, field.name)),
        row: format_ident!("{}", naming::row_type(&model.types[field.target])),
        returns,
        args,
        return_span,
        files: loaded.files.clone(),
    })
}

fn undeclared(root: Root, name: &str, from: &str, own: &[Field<'_>]) -> String {
    let custom: Vec<&Field<'_>> = own.iter().filter(|f| f.custom.is_some()).collect();
    let mut message = format!(
        "the schema has no field {}.{name} ({from})",
        root.type_name()
    );
    let suggestion = fraiseql_compiler::naming::closest(name, custom.iter().map(|f| f.name))
        .and_then(|c| custom.iter().find(|f| f.name == c));
    if let Some(f) = suggestion {
        message.push_str(&format!(
            "; did you mean `{}`, which resolves {}.{} ({})?",
            naming::function_name(f.name),
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
