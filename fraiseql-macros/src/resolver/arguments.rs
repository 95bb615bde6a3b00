//! A resolver's parameters against its field's arguments: one plain-named parameter per
//! argument, in the schema's order, of the Rust type the argument converts to. Each mistake
//! is named with the field's schema position and the whole signature to write.

use fraiseql_compiler::model::Model;
use fraiseql_compiler::resolvers::{argument_name, rust_argument_type, CustomField};
use syn::ext::IdentExt;
use syn::{Pat, PatType, Type};

use super::check::position;
use super::types::{same_type, text};
use super::Errors;

/// Everything argument messages quote.
pub(crate) struct Describe<'a> {
    pub model: &'a Model,
    pub field: &'a CustomField<'a>,
    pub fn_name: &'a str,
}

impl Describe<'_> {
    /// `Query.postsByTag(tag: String!, limit: Int) (schema/app.graphql:9:3)`.
    fn field(&self) -> String {
        let args: Vec<String> = self
            .field
            .arguments
            .iter()
            .map(|a| format!("{}: {}", a.name, a.graphql_type))
            .collect();
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({})", args.join(", "))
        };
        format!(
            "{}.{}{args} ({})",
            self.field.root.type_name(),
            self.field.name,
            position(self.field.source)
        )
    }

    /// `async fn posts_by_tag(ctx: &fraiseql::Context, tag: String, limit: Option<i32>)`.
    fn rust(&self) -> String {
        let mut params = vec!["ctx: &fraiseql::Context".to_owned()];
        params.extend(self.field.arguments.iter().map(|a| {
            format!(
                "{}: {}",
                rust_ident(&argument_name(&a.name)),
                rust_argument_type(self.model, a)
            )
        }));
        format!("async fn {}({})", self.fn_name, params.join(", "))
    }

    /// "so write `...`": the whole expected signature.
    fn expected(&self) -> String {
        format!("{} takes `{}`", self.field(), self.rust())
    }
}

/// Names, order and types of the parameters after the context. Returns each argument's
/// GraphQL name with the parameter's type, in the schema's order (complete only when no
/// error was recorded).
pub(crate) fn check_arguments(
    d: &Describe<'_>,
    sig: &syn::Signature,
    params: &[&PatType],
    errors: &mut Errors,
) -> Vec<(String, Type)> {
    let expected: Vec<String> = d
        .field
        .arguments
        .iter()
        .map(|a| argument_name(&a.name))
        .collect();
    // For each parameter, the schema argument it names (by index), if any.
    let mut names: Vec<Option<String>> = Vec::with_capacity(params.len());
    for (i, param) in params.iter().enumerate() {
        match plain_name(&param.pat) {
            Some(name) => names.push(Some(name)),
            None => {
                let hint = expected
                    .get(i)
                    .map(|e| format!("`{e}`, the schema's argument at this position"))
                    .unwrap_or_else(|| "after a schema argument".to_owned());
                errors.spanned(
                    &param.pat,
                    format!(
                        "a resolver's parameters are plain names, matched with the schema's arguments by name: name this one {hint}"
                    ),
                );
                names.push(None);
            }
        }
    }
    // `_email` names `email` too: the underscore only silences "unused variable".
    let matched: Vec<Option<usize>> = names
        .iter()
        .map(|n| {
            let n = n.as_deref()?;
            expected
                .iter()
                .position(|e| e == n || n.strip_prefix('_') == Some(e.as_str()))
        })
        .collect();
    let missing: Vec<usize> = (0..expected.len())
        .filter(|j| !matched.contains(&Some(*j)))
        .collect();
    let unknown: Vec<usize> = (0..params.len())
        .filter(|&i| names[i].is_some() && matched[i].is_none())
        .collect();
    let mut renamed: Vec<usize> = Vec::new();
    for &i in &unknown {
        let Some(name) = &names[i] else { continue };
        let candidates = missing.iter().map(|&j| expected[j].as_str());
        let by_spelling = fraiseql_compiler::naming::closest(name, candidates)
            .and_then(|c| expected.iter().position(|e| e == c));
        // One unknown name where one argument is missing is a rename, however it is spelt.
        let by_position = (unknown.len() == 1 && missing.len() == 1).then(|| missing[0]);
        match by_spelling.or(by_position) {
            Some(j) if !renamed.contains(&j) => {
                renamed.push(j);
                errors.spanned(
                    &params[i].pat,
                    format!(
                        "`{name}` is not an argument of {}: did you mean `{}` (argument `{}: {}` at {})?",
                        d.field(),
                        expected[j],
                        d.field.arguments[j].name,
                        d.field.arguments[j].graphql_type,
                        position(&d.field.arguments[j].source)
                    ),
                );
            }
            _ => errors.spanned(
                params[i],
                format!(
                    "extra parameter `{name}`: {}, so remove it or declare the argument in the schema",
                    d.expected()
                ),
            ),
        }
    }
    let still_missing: Vec<usize> = missing
        .iter()
        .copied()
        .filter(|j| !renamed.contains(j))
        .collect();
    if !still_missing.is_empty() {
        let list: Vec<String> = still_missing
            .iter()
            .map(|&j| {
                format!(
                    "`{}: {}`",
                    expected[j],
                    rust_argument_type(d.model, &d.field.arguments[j])
                )
            })
            .collect();
        let (noun, them) = if list.len() == 1 {
            ("argument", "it")
        } else {
            ("arguments", "them")
        };
        errors.at(
            sig.paren_token.span.close(),
            format!(
                "missing {noun} {}: {}; add {them}",
                list.join(", "),
                d.expected()
            ),
        );
    }
    // Order: only worth saying when every name is right.
    if unknown.is_empty() && still_missing.is_empty() && names.iter().all(Option::is_some) {
        if let Some(i) = matched.iter().enumerate().position(|(i, m)| *m != Some(i)) {
            if let (Some(Some(j)), Some(name)) = (matched.get(i), &names[i]) {
                errors.spanned(
                    params[i],
                    format!(
                        "parameter {} after the context is `{name}`, which is argument {} of {}: write the parameters in the schema's order, `{}`",
                        i + 1,
                        j + 1,
                        d.field(),
                        d.rust()
                    ),
                );
            }
        }
    }
    // Types, for every parameter whose name is right.
    for (i, param) in params.iter().enumerate() {
        let Some(j) = matched[i] else { continue };
        let argument = &d.field.arguments[j];
        let want = rust_argument_type(d.model, argument);
        if !same_type(&param.ty, &want) {
            errors.spanned(
                &param.ty,
                format!(
                    "argument `{}` is `{}` at {}, so its Rust type is `{want}`, not `{}`",
                    argument.name,
                    argument.graphql_type,
                    position(&argument.source),
                    text(&param.ty)
                ),
            );
        }
    }
    matched
        .iter()
        .zip(params)
        .filter_map(|(m, p)| m.map(|j| (d.field.arguments[j].name.clone(), (*p.ty).clone())))
        .collect()
}

/// The parameter's name when it is a plain identifier (`mut` allowed).
fn plain_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
            Some(p.ident.unraw().to_string())
        }
        _ => None,
    }
}

/// `r#type` for a keyword, the name itself otherwise (as the parameter must be written).
fn rust_ident(name: &str) -> String {
    if syn::parse_str::<syn::Ident>(name).is_ok() {
        name.to_owned()
    } else {
        format!("r#{name}")
    }
}
