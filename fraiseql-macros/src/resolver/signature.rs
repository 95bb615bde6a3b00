//! The checks that need no schema: an `async fn`, no receiver, no type parameters, and the
//! request context (`&fraiseql::Context`) as the first parameter.

use syn::{FnArg, GenericParam, ItemFn, PatType, Type};

use super::types::{text, unwrap};
use super::{attribute, Errors, Root};

/// The signature checks that need no schema. Returns the parameters that should be the
/// field's arguments (after the context, without a receiver).
pub(crate) fn check<'f>(root: Root, function: &'f ItemFn, errors: &mut Errors) -> Vec<&'f PatType> {
    let sig = &function.sig;
    let name = &sig.ident;
    if sig.asyncness.is_none() {
        let fn_token = &sig.fn_token;
        errors.spanned(
            quote::quote!(#fn_token #name),
            format!("a resolver must be an `async fn`: write `async fn {name}(...)`"),
        );
    }
    if let Some(constness) = &sig.constness {
        errors.spanned(constness, "a resolver cannot be a `const fn`");
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(
            unsafety,
            "a resolver cannot be `unsafe`: the server calls it like any other function",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "a resolver cannot have an `extern` ABI");
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, "a resolver cannot be variadic");
    }
    for param in &sig.generics.params {
        if !matches!(param, GenericParam::Lifetime(_)) {
            errors.spanned(
                param,
                format!(
                    "a resolver cannot be generic: the schema fixes its arguments' types and \
                     {} calls it with exactly those; remove `{}`",
                    attribute(root),
                    text(param)
                ),
            );
        }
    }
    let mut typed: Vec<&PatType> = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.spanned(
                receiver,
                "a resolver is a free function, not a method: remove `self`",
            ),
            FnArg::Typed(param) => typed.push(param),
        }
    }
    let Some(first) = typed.first() else {
        errors.at(
            sig.paren_token.span.join(),
            format!(
                "a resolver takes the request context first: write `{name}(ctx: &fraiseql::Context, ...)`, then one parameter per schema argument"
            ),
        );
        return typed;
    };
    match context_kind(&first.ty) {
        ContextKind::Shared => return typed.split_off(1),
        ContextKind::Mutable => {
            errors.spanned(
                &first.ty,
                "the context is shared: take it as `&fraiseql::Context`, not `&mut`",
            );
            return typed.split_off(1);
        }
        ContextKind::ByValue => {
            errors.spanned(
                &first.ty,
                "take the context by reference: `&fraiseql::Context`",
            );
            return typed.split_off(1);
        }
        ContextKind::Other => {}
    }
    // The context is not first: if it is elsewhere, say to move it and leave it out of the
    // arguments, so the argument checks do not also call it an extra argument.
    if let Some(at) = typed
        .iter()
        .position(|p| !matches!(context_kind(&p.ty), ContextKind::Other))
    {
        let ctx = typed.remove(at);
        errors.spanned(
            ctx,
            "the request context is a resolver's first parameter: move it before the arguments",
        );
    } else {
        errors.spanned(
            first,
            format!(
                "a resolver takes the request context first: add `ctx: &fraiseql::Context` before `{}`",
                text(first)
            ),
        );
    }
    typed
}

enum ContextKind {
    Shared,
    Mutable,
    ByValue,
    Other,
}

/// `&Context`, `&fraiseql::Context`, `&'a ::fraiseql_runtime::resolver::Context`, ...: any
/// path whose last segment is `Context`; rustc checks it is the runtime's at the call.
fn context_kind(ty: &Type) -> ContextKind {
    match unwrap(ty) {
        Type::Reference(r) if names_context(&r.elem) => match r.mutability {
            Some(_) => ContextKind::Mutable,
            None => ContextKind::Shared,
        },
        other if names_context(other) => ContextKind::ByValue,
        _ => ContextKind::Other,
    }
}

fn names_context(ty: &Type) -> bool {
    match unwrap(ty) {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Context" && s.arguments.is_empty()),
        _ => false,
    }
}
