//! The `__fraiseql_resolvers` module: one trait per `@resolver` field, which the field's
//! `#[fraiseql::query]` / `#[fraiseql::mutation]` function implements for `Resolvers`, and
//! which the generated schema reads its `ResolverFn` from. A field without its function is
//! then a rustc error at the generated schema that names the field, where it is declared, and
//! the function to write (`#[diagnostic::on_unimplemented]`).

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::model::Model;
use crate::resolvers::{custom_fields, trait_name, CustomField, Root};

/// `<__fraiseql_resolvers::Resolvers as __fraiseql_resolvers::QueryUserByEmail>::RESOLVER`:
/// a path relative to the module the generated file is included in.
pub(crate) fn resolver_path(root: Root, field: &str) -> TokenStream {
    let tr = trait_ident(root, field);
    quote!(<__fraiseql_resolvers::Resolvers as __fraiseql_resolvers::#tr>::RESOLVER)
}

fn trait_ident(root: Root, field: &str) -> Ident {
    // Field names are GraphQL names (letters, digits, `_`), so the trait name is an identifier;
    // the root prefix keeps it from being a keyword.
    Ident::new(&trait_name(root, field), Span::call_site())
}

/// The module, with a trait per `@resolver` field (and only `Resolvers` when there are none, so
/// the path a macro names always exists).
pub(crate) fn impl_resolvers_tokens(model: &Model) -> TokenStream {
    let traits = [Root::Query, Root::Mutation]
        .into_iter()
        .flat_map(|root| custom_fields(model, root))
        .map(|f| impl_trait_tokens(model, &f));
    quote! {
        /// The resolver functions of the schema's `@resolver` fields: each
        /// `#[fraiseql::query]` / `#[fraiseql::mutation]` function implements its field's trait
        /// for `Resolvers`.
        #[doc(hidden)]
        // Trait names keep the field's spelling (`QueryUser_by_id`); `Resolvers` is never
        // constructed, only named, and in a schema without resolvers not even that.
        #[allow(non_camel_case_types, dead_code)]
        pub mod __fraiseql_resolvers {
            /// What every resolver trait is implemented for.
            pub struct Resolvers;
            #(#traits)*
        }
    }
}

fn impl_trait_tokens(model: &Model, f: &CustomField<'_>) -> TokenStream {
    let tr = trait_ident(f.root, f.name);
    let subject = format!("{}.{}", f.root.type_name(), f.name);
    let attribute = format!("#[fraiseql::{}]", f.root.attribute());
    let at = format!("{}:{}:{}", f.source.file, f.source.line, f.source.column);
    let message = escape(&format!(
        "{at}: {subject} is declared with @resolver, but no {attribute} function resolves it"
    ));
    let label = escape(&format!(
        "{subject} needs `{attribute} async fn {}`",
        f.function_name()
    ));
    let note = escape(&format!(
        "add `{attribute} {}` to this crate",
        f.signature(model)
    ));
    let doc = format!(" Implemented by the {attribute} function of `{subject}` ({at}).");
    quote! {
        #[doc = #doc]
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        pub trait #tr {
            /// The field's resolver, as the schema stores it.
            const RESOLVER: ::fraiseql_runtime::resolver::ResolverFn;
        }
    }
}

/// `on_unimplemented` strings are format strings: a literal brace is doubled.
fn escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}
