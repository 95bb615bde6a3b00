//! FraiseQL's macros, a thin shim over `fraiseql-compiler`. Users reach them through the
//! runtime (`extern crate fraiseql_runtime as fraiseql;`, then `fraiseql::schema!`,
//! `#[fraiseql::query]`, `#[fraiseql::mutation]`).
//!
//! - [`schema!`] compiles `<crate>/<dir>/*.graphql` at expansion time into the same items
//!   `fraiseql_compiler::build` writes for `build.rs` (row structs and `pub static SCHEMA`).
//! - [`query`] and [`mutation`] turn an `async fn` into the resolver of a `@resolver` field,
//!   checked against the schema while the crate compiles.
//!
//! ```ignore
//! extern crate fraiseql_runtime as fraiseql;
//!
//! mod schema {
//!     // Or `include!(concat!(env!("OUT_DIR"), "/fraiseql_schema.rs"));` with a build.rs.
//!     fraiseql::schema!("schema");
//! }
//!
//! // schema/app.graphql:
//! //   type Query { userByEmail(email: String!): User @resolver }
//! #[fraiseql::query]
//! async fn user_by_email(
//!     ctx: &fraiseql::Context,
//!     email: String,
//! ) -> Result<Option<schema::UserRow>, fraiseql::ResolverError> {
//!     let rows = ctx
//!         .rows::<schema::UserRow>("SELECT * FROM users WHERE email = $1", &[fraiseql::Bind::Text(email)])
//!         .await?;
//!     Ok(rows.into_iter().next())
//! }
//! ```
//!
//! The attribute finds the field (`userByEmail`: the camelCase of the function's name) in the
//! schema and checks what it can see: a free `async fn` without type parameters, the context
//! first, then one parameter per schema argument, in the schema's order, named as the
//! argument in snake_case (`authorId` -> `author_id`, or `_author_id` when unused) and typed as
//! the schema says (`ID` is `i64`, `Int` `i32`, `Float` `f64`, `String`, `DateTime` and enums
//! `String`, `Boolean` `bool`, `JSON` `serde_json::Value`; nullable is `Option<..>`, a list
//! `Vec<..>`). rustc checks the return type where it is written: `UserRow` for `User!`,
//! `Option<UserRow>` for `User`, `Vec<UserRow>` for `[User!]!`, each also as a
//! `Result<_, E: Into<ResolverError>>`. The future must be `Send`: the server runs resolvers
//! on a multi-threaded runtime.
//!
//! Options, all optional: `#[fraiseql::query(schema = crate::api::schema, dir = "graphql",
//! name = "userByEmail")]`: the module holding the generated items (default `crate::schema`),
//! the schema directory relative to `Cargo.toml` (default `"schema"`), and the field (default
//! the camelCase of the function's name).
//!
//! A field declared with `@resolver` but resolved by no function fails the build where the
//! generated `SCHEMA` names it, with the field's schema position; two functions for one field
//! are conflicting implementations. Every mistake is a `compile_error!` at the user's tokens;
//! the macros never panic.

mod resolver;

use proc_macro::TokenStream;
use quote::quote_spanned;

use resolver::Root;

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

/// Makes an `async fn` the resolver of a `Query` field declared with `@resolver`.
/// See the [crate docs](crate) for the checks and the options.
#[proc_macro_attribute]
pub fn query(attr: TokenStream, item: TokenStream) -> TokenStream {
    resolver::expand(Root::Query, attr.into(), item.into()).into()
}

/// Makes an `async fn` the resolver of a `Mutation` field declared with
/// `@resolver @writes(types: [...])`; it runs inside the mutation's transaction.
/// See the [crate docs](crate) for the checks and the options.
#[proc_macro_attribute]
pub fn mutation(attr: TokenStream, item: TokenStream) -> TokenStream {
    resolver::expand(Root::Mutation, attr.into(), item.into()).into()
}

fn errors(span: proc_macro2::Span, messages: impl IntoIterator<Item = String>) -> TokenStream {
    messages
        .into_iter()
        .map(|m| quote_spanned!(span=> ::core::compile_error!(#m);))
        .collect::<proc_macro2::TokenStream>()
        .into()
}
