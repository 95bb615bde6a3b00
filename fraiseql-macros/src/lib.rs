//! `schema!("schema")`: compiles `<crate>/schema/*.graphql` at macro expansion time and emits
//! the same items `fraiseql_compiler::build` writes (row structs and `pub static SCHEMA`). A
//! thin shim: all the work is in `fraiseql-compiler`. It never panics; every schema error
//! becomes its own `compile_error!` pointing at the macro's argument.

use proc_macro::TokenStream;
use quote::quote_spanned;

/// Compiles the schema directory (relative to the crate's `Cargo.toml`) into this module.
#[proc_macro]
pub fn schema(input: TokenStream) -> TokenStream {
    let dir = match syn::parse::<syn::LitStr>(input) {
        Ok(dir) => dir,
        Err(e) => return e.to_compile_error().into(),
    };
    let span = dir.span();
    let Some(root) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return errors(
            span,
            ["CARGO_MANIFEST_DIR is not set; schema! must be expanded by cargo".to_owned()],
        );
    };
    match fraiseql_compiler::compile_dir(std::path::Path::new(&root), &dir.value()) {
        Ok((generated, files)) => {
            let items = generated.tokens;
            // `include_str!` makes rustc track the schema files, so editing one re-expands.
            let files = files.iter().map(|f| f.to_string_lossy().into_owned());
            quote_spanned!(span=>
                #items
                const _: &[&str] = &[#(::core::include_str!(#files)),*];
            )
            .into()
        }
        Err(fraiseql_compiler::DirError::Schema(list)) => {
            errors(span, list.iter().map(ToString::to_string))
        }
        Err(other) => errors(span, [other.to_string()]),
    }
}

fn errors(span: proc_macro2::Span, messages: impl IntoIterator<Item = String>) -> TokenStream {
    messages
        .into_iter()
        .map(|m| quote_spanned!(span=> ::core::compile_error!(#m);))
        .collect::<proc_macro2::TokenStream>()
        .into()
}
