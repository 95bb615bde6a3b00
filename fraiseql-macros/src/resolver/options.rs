//! The attribute's options: `schema = <path>`, `dir = "<dir>"`, `name = "<field>"` and (on
//! queries) `cache(ttl = <seconds>)`, each at most once, all optional.
//!
//! A wrong option is reported and parsing goes on with the rest (a misspelt key counts as the
//! key it is closest to), so the function is still checked against its field and rustc does
//! not add "no function resolves this field" to the option's error.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Meta, Token};

use super::types::text;
use super::{attribute, Errors, Root};

const KEYS: [&str; 4] = ["schema", "dir", "name", "cache"];

/// The options as written, with the spans messages point at.
pub(crate) struct Options {
    /// `schema = <path>`: the module holding the generated items, when it is not
    /// `crate::schema`.
    pub schema: Option<syn::Path>,
    /// The schema directory relative to `CARGO_MANIFEST_DIR`.
    pub dir: String,
    /// The `dir` literal, or the attribute when it was not given.
    pub dir_span: Span,
    /// `name = "..."`: the field, when it is not the camelCase of the function's name.
    pub name: Option<syn::LitStr>,
    /// `cache(ttl = N)`: keep the function's result for each set of arguments N seconds.
    pub cache_ttl: Option<u32>,
}

/// Parses the attribute's arguments, recording each mistake; unusable options keep their
/// defaults.
pub(crate) fn parse(root: Root, attr: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options {
        schema: None,
        dir: "schema".to_owned(),
        dir_span: Span::call_site(),
        name: None,
        cache_ttl: None,
    };
    let usage = match root {
        Root::Query => format!(
            "{} takes `schema = crate::schema`, `dir = \"schema\"`, `name = \"userByEmail\"` and `cache(ttl = 3600)`, each optional",
            attribute(root)
        ),
        Root::Mutation => format!(
            "{} takes `schema = crate::schema`, `dir = \"schema\"` and `name = \"publishPost\"`, each optional",
            attribute(root)
        ),
    };
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr) {
        Ok(metas) => metas,
        Err(error) => {
            errors.at(error.span(), format!("{error}; {usage}"));
            return options;
        }
    };
    let mut seen: Vec<&str> = Vec::new();
    for meta in &metas {
        let key = text(meta.path());
        let known = KEYS.iter().find(|k| **k == key).copied();
        let Some(key) = known.or_else(|| {
            let guess = fraiseql_compiler::naming::closest(&key, KEYS);
            let hint = guess
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            errors.spanned(
                meta.path(),
                format!("unknown option `{key}`{hint}; {usage}"),
            );
            guess
        }) else {
            continue;
        };
        if seen.contains(&key) {
            errors.spanned(meta.path(), format!("option `{key}` is given twice"));
            continue;
        }
        seen.push(key);
        if key == "cache" {
            options.cache_ttl = cache(root, meta, errors);
            continue;
        }
        let Meta::NameValue(pair) = meta else {
            errors.spanned(meta, format!("write `{key} = {}`", example(key)));
            continue;
        };
        match (key, &pair.value) {
            ("schema", Expr::Path(path)) if path.qself.is_none() && path.attrs.is_empty() => {
                options.schema = Some(path.path.clone());
            }
            ("schema", Expr::Lit(lit)) if matches!(lit.lit, Lit::Str(_)) => {
                let written = lit.to_token_stream().to_string();
                errors.spanned(
                    lit,
                    format!(
                        "`schema` takes a path, not a string: write `schema = {}`",
                        written.trim_matches('"')
                    ),
                );
            }
            ("schema", other) => errors.spanned(
                other,
                "`schema` takes the path of the module holding the generated items, e.g. `schema = crate::schema`",
            ),
            (_, Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            })) => {
                if key == "dir" {
                    options.dir = lit.value();
                    options.dir_span = lit.span();
                } else {
                    options.name = Some(lit.clone());
                }
            }
            (_, other) => {
                // `name = userByEmail`: the value the user meant, quoted; it is also used, so
                // the function is still checked against that field.
                let quoted = match other {
                    Expr::Path(path) if key == "name" => path.path.get_ident().map(|ident| {
                        options.name = Some(syn::LitStr::new(&ident.to_string(), ident.span()));
                        format!("\"{ident}\"")
                    }),
                    _ => None,
                };
                let quoted = quoted.unwrap_or_else(|| example(key).to_owned());
                errors.spanned(
                    other,
                    format!("`{key}` takes a string literal: write `{key} = {quoted}`"),
                );
            }
        }
    }
    options
}

/// `cache(ttl = N)`, N a whole number of seconds from 1 to u32::MAX; queries only.
fn cache(root: Root, meta: &Meta, errors: &mut Errors) -> Option<u32> {
    const WRITE: &str = "write `cache(ttl = 3600)` (seconds)";
    if root == Root::Mutation {
        errors.spanned(
            meta,
            "`cache` applies to #[fraiseql::query] only: a mutation's result is never cached",
        );
        return None;
    }
    let Meta::List(list) = meta else {
        errors.spanned(meta, WRITE);
        return None;
    };
    let inner = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
        Ok(inner) => inner,
        Err(error) => {
            errors.at(error.span(), format!("{error}; {WRITE}"));
            return None;
        }
    };
    let mut ttl = None;
    for item in &inner {
        let Meta::NameValue(pair) = item else {
            errors.spanned(item, WRITE);
            continue;
        };
        if text(&pair.path) != "ttl" {
            errors.spanned(&pair.path, format!("`cache` takes only `ttl`; {WRITE}"));
            continue;
        }
        match &pair.value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(n), ..
            }) => match n.base10_parse::<u32>() {
                Ok(seconds) if seconds > 0 => ttl = Some(seconds),
                _ => errors.spanned(n, "`ttl` is a whole number of seconds from 1 to 4294967295"),
            },
            other => errors.spanned(other, format!("`ttl` takes an integer literal; {WRITE}")),
        }
    }
    if ttl.is_none() && inner.is_empty() {
        errors.spanned(meta, WRITE);
    }
    ttl
}

fn example(key: &str) -> &'static str {
    match key {
        "schema" => "crate::schema",
        "dir" => "\"schema\"",
        _ => "\"userByEmail\"",
    }
}
