//! Types and names as the user writes them: comparing a parameter's type with the one the
//! schema implies, printing tokens for messages, and a function's name as a field's.

use quote::ToTokens;
use syn::Type;

/// A type without the invisible groups `macro_rules!` adds and without parentheses.
pub(crate) fn unwrap(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => unwrap(&g.elem),
        Type::Paren(p) => unwrap(&p.elem),
        other => other,
    }
}

/// Whether the type as written is the expected one (`Option`, `Vec`, `String`, primitives and
/// `serde_json::Value` may be written with their usual paths).
pub(crate) fn same_type(ty: &Type, expected: &str) -> bool {
    match syn::parse_str::<Type>(expected) {
        Ok(expected) => canonical(ty) == canonical(&expected),
        Err(_) => text(ty) == expected,
    }
}

const PRIMITIVES: [&str; 4] = ["i64", "i32", "f64", "bool"];

/// A type's text with the prefixes that name the same standard type removed.
fn canonical(ty: &Type) -> String {
    let ty = unwrap(ty);
    let Type::Path(p) = ty else { return text(ty) };
    if p.qself.is_some() {
        return text(ty);
    }
    let segments: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
    let Some((last, prefix)) = segments.split_last() else {
        return text(ty);
    };
    if prefix.iter().any(|s| !s.arguments.is_empty()) {
        return text(ty);
    }
    let prefix: Vec<String> = prefix.iter().map(|s| s.ident.to_string()).collect();
    let prefix = prefix.join("::");
    let allowed = |paths: &[&str]| prefix.is_empty() || paths.contains(&prefix.as_str());
    let name = last.ident.to_string();
    let inner = match &last.arguments {
        syn::PathArguments::None => None,
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => match args.args.first()
        {
            Some(syn::GenericArgument::Type(inner)) => Some(inner),
            _ => return text(ty),
        },
        _ => return text(ty),
    };
    match (name.as_str(), inner) {
        ("Option", Some(inner)) if allowed(&["std::option", "core::option"]) => {
            format!("Option<{}>", canonical(inner))
        }
        ("Vec", Some(inner)) if allowed(&["std::vec", "alloc::vec"]) => {
            format!("Vec<{}>", canonical(inner))
        }
        ("String", None) if allowed(&["std::string", "alloc::string"]) => name,
        ("Value", None) if allowed(&["serde_json"]) => "serde_json::Value".to_owned(),
        (n, None) if PRIMITIVES.contains(&n) && allowed(&["std::primitive", "core::primitive"]) => {
            name
        }
        _ => text(ty),
    }
}

/// Tokens as a person writes them: `Option<Vec<i32>>`, `&fraiseql::Context`.
pub(crate) fn text(tokens: impl ToTokens) -> String {
    let mut out = tokens.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        ("& ", "&"),
        (" ,", ","),
        (" : ", ": "),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// `user_by_email` -> `userByEmail` (leading underscores kept).
pub(crate) fn camel_case(name: &str) -> String {
    let body = name.trim_start_matches('_');
    let mut out = name[..name.len() - body.len()].to_owned();
    let mut upper = false;
    for c in body.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_become_field_names() {
        assert_eq!(camel_case("user_by_email"), "userByEmail");
        assert_eq!(camel_case("post"), "post");
        assert_eq!(camel_case("publish_post_v2"), "publishPostV2");
        assert_eq!(camel_case("_hidden_field"), "_hiddenField");
    }

    #[test]
    fn types_compare_by_what_they_name() {
        let ty = |s: &str| syn::parse_str::<Type>(s).expect("type");
        assert!(same_type(&ty("String"), "String"));
        assert!(same_type(&ty("::std::string::String"), "String"));
        assert!(same_type(
            &ty("std::option::Option<Vec<i64>>"),
            "Option<Vec<i64>>"
        ));
        assert!(same_type(
            &ty("Option < ::std::vec::Vec<Option<String>> >"),
            "Option<Vec<Option<String>>>"
        ));
        assert!(same_type(&ty("Value"), "serde_json::Value"));
        assert!(same_type(&ty("::serde_json::Value"), "serde_json::Value"));
        assert!(!same_type(&ty("i32"), "String"));
        assert!(!same_type(&ty("Option<i64>"), "i64"));
        assert!(!same_type(&ty("my::String"), "String"));
        assert!(!same_type(&ty("Vec<i32>"), "Option<Vec<i32>>"));
    }

    #[test]
    fn types_print_as_written() {
        let ty = syn::parse_str::<Type>("std::option::Option<Vec<i32>>").expect("type");
        assert_eq!(text(&ty), "std::option::Option<Vec<i32>>");
        let ty = syn::parse_str::<Type>("&'a fraiseql::Context").expect("type");
        assert_eq!(text(&ty), "&'a fraiseql::Context");
    }
}
