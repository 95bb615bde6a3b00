//! `#[fraiseql::query]` / `#[fraiseql::mutation]`: parse the options, load the schema (cached
//! per directory), check the function against its field, and emit the function unchanged plus
//! the impl that hands the compiled schema a shim calling it.
//!
//! Every mistake becomes a `compile_error!` at the user's tokens. Once the field is known the
//! impl is emitted even when the signature is wrong (with a body that never runs, since the
//! build fails anyway), so rustc does not add "no function resolves this field" to the
//! macro's own message.

mod arguments;
mod check;
mod expand;
mod load;
mod options;
mod signature;
mod types;

use proc_macro2::{Span, TokenStream};
use quote::quote;

pub(crate) use fraiseql_compiler::resolvers::Root;

/// `#[fraiseql::query]` / `#[fraiseql::mutation]`.
pub(crate) fn attribute(root: Root) -> String {
    format!("#[fraiseql::{}]", root.attribute())
}

/// The root a misplaced attribute's field may be in.
pub(crate) fn other(root: Root) -> Root {
    match root {
        Root::Query => Root::Mutation,
        Root::Mutation => Root::Query,
    }
}

/// Errors collected while checking one function.
#[derive(Default)]
pub(crate) struct Errors(Vec<syn::Error>);

impl Errors {
    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.0.push(syn::Error::new(span, message));
    }

    pub(crate) fn spanned(
        &mut self,
        tokens: impl quote::ToTokens,
        message: impl std::fmt::Display,
    ) {
        self.0.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn to_compile_errors(&self) -> TokenStream {
        self.0.iter().map(syn::Error::to_compile_error).collect()
    }
}

/// The whole expansion of one annotated item.
pub(crate) fn expand(root: Root, attr: TokenStream, item: TokenStream) -> TokenStream {
    let function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let message = format!(
                "{} goes on an `async fn` that resolves a {} field declared with @resolver",
                attribute(root),
                root.type_name()
            );
            let error = syn::Error::new(Span::call_site(), message).to_compile_error();
            return quote!(#item #error);
        }
    };
    let mut errors = Errors::default();
    let options = options::parse(root, attr, &mut errors);
    let signature = signature::check(root, &function, &mut errors);
    let plan = load::schema(&options, &mut errors).and_then(|loaded| {
        check::field(root, &options, &loaded, &function, signature, &mut errors)
    });
    // A method sits in an impl block, where an impl cannot follow it: the receiver's error
    // is the one to show.
    let method = function.sig.receiver().is_some();
    let impl_tokens = plan
        .filter(|_| !method)
        .map(|plan| expand::impl_tokens(&function, &plan, options.cache_ttl, errors.is_empty()))
        .unwrap_or_default();
    let compile_errors = errors.to_compile_errors();
    quote! {
        #function
        #impl_tokens
        #compile_errors
    }
}
