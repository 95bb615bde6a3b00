//! The impl a resolver adds: `<field's trait> for Resolvers`, whose `RESOLVER` is a shim the
//! compiled schema stores. The shim reads each argument, awaits the user's function and
//! converts its result with `one` / `optional` / `list`, spanned at the user's return type so
//! a wrong shape or row type is reported there, with the runtime's `on_unimplemented` text.

use fraiseql_compiler::model::Returns;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::ItemFn;

use super::check::Plan;

/// `sound`: the macro found no mistake. Otherwise the shim's body is a placeholder that never
/// runs (the build already fails with the macro's errors); the impl is still emitted so the
/// field does not also show up as unresolved.
pub(crate) fn impl_tokens(
    function: &ItemFn,
    plan: &Plan,
    cache_ttl: Option<u32>,
    sound: bool,
) -> TokenStream {
    let r = quote!(::fraiseql_runtime::resolver);
    // The impl header is at the function's name, so two functions for one field are reported
    // there as conflicting implementations of the field's trait.
    let at = here(function.sig.ident.span());
    let schema = schema_path(plan, at);
    let trait_ident = syn::Ident::new(&plan.trait_ident.to_string(), at);
    let resolvers = quote_spanned!(at=> __fraiseql_resolvers::Resolvers);
    let body = if sound {
        shim_body(function, plan, cache_ttl)
    } else {
        quote!(::core::unreachable!(
            "fraiseql: a resolver that failed its compile-time checks"
        ))
    };
    // Tracking the schema files makes rustc expand again when one changes, even when the
    // generated module lives elsewhere.
    let files = plan.files.iter().map(|f| f.to_string_lossy().into_owned());
    quote_spanned! {at=>
        #[automatically_derived]
        impl #schema::__fraiseql_resolvers::#trait_ident for #schema::#resolvers {
            const RESOLVER: #r::ResolverFn = {
                fn __fraiseql_shim<'a>(
                    __fraiseql_ctx: &'a #r::Context,
                    __fraiseql_args: &'a #r::Arguments,
                ) -> #r::BoxFuture<'a, ::core::result::Result<#r::Resolved, #r::ResolverError>> {
                    #body
                }
                __fraiseql_shim
            };
        }
        const _: &[&str] = &[#(::core::include_str!(#files)),*];
    }
}

fn shim_body(function: &ItemFn, plan: &Plan, cache_ttl: Option<u32>) -> TokenStream {
    let r = quote!(::fraiseql_runtime::resolver);
    let ident = &function.sig.ident;
    let locals: Vec<syn::Ident> = (0..plan.args.len())
        .map(|i| format_ident!("__fraiseql_arg_{}", i))
        .collect();
    let reads = plan.args.iter().zip(&locals).map(|((name, ty), local)| {
        // A type the runtime cannot read an argument as is reported at the parameter's type.
        let at = here(ty.span());
        quote_spanned!(at=> let #local: #ty = #r::arg(__fraiseql_args, #name)?;)
    });
    let convert = match (plan.returns, cache_ttl.is_some()) {
        (Returns::One, false) => quote!(one),
        (Returns::Optional, false) => quote!(optional),
        (Returns::List, false) => quote!(list),
        // A cached resolver keeps its rows typed, to clone them out on a hit.
        (Returns::One, true) => quote!(one_rows),
        (Returns::Optional, true) => quote!(optional_rows),
        (Returns::List, true) => quote!(list_rows),
    };
    let at = here(plan.return_span);
    let schema = schema_path(plan, at);
    let row = &plan.row;
    let result = quote_spanned!(at=>
        #r::#convert::<#schema::#row, _>(#ident(__fraiseql_ctx, #(#locals),*).await)
    );
    // A future that is not `Send` is reported at the function's name.
    let at = here(ident.span());
    match cache_ttl {
        None => quote_spanned!(at=> ::std::boxed::Box::pin(async move {
            #(#reads)*
            #result
        })),
        Some(ttl) => quote_spanned!(at=> ::std::boxed::Box::pin(async move {
            static __FRAISEQL_CACHE: #r::ResolverCache = #r::ResolverCache::new(#ttl);
            __FRAISEQL_CACHE
                .rows::<#schema::#row, _>(__fraiseql_args, __fraiseql_ctx.claims(), async move {
                    #(#reads)*
                    #result
                })
                .await
        })),
    }
}

/// The generated module's path: as written in `schema = ...`, else `crate::schema` at `at`.
fn schema_path(plan: &Plan, at: Span) -> TokenStream {
    match &plan.schema {
        Some(path) => path.to_token_stream(),
        None => quote_spanned!(at=> crate::schema),
    }
}

/// A span at the user's tokens that still resolves names like the macro's own (so the shim's
/// locals stay visible however the user's tokens were produced).
fn here(location: Span) -> Span {
    Span::call_site().located_at(location)
}
