//! Row structs: per table, a struct with one `Option<T>` per column, diesel's
//! `QueryableByName` for it, the runtime's `Row` trait, and the `static` loader.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Kind, TableType};

/// The Rust value type and diesel SQL type of a column kind.
fn rust_type(kind: Kind) -> (TokenStream, TokenStream) {
    match kind {
        Kind::Id | Kind::ForeignKey => (quote!(i64), quote!(BigInt)),
        Kind::Int => (quote!(i32), quote!(Integer)),
        Kind::Float => (quote!(f64), quote!(Double)),
        Kind::Boolean => (quote!(bool), quote!(Bool)),
        Kind::String | Kind::DateTime | Kind::Json | Kind::Enum(_) => {
            (quote!(::std::string::String), quote!(Text))
        }
    }
}

/// The struct field for a column; a Rust keyword becomes a raw identifier (`r#type`).
pub(crate) fn field_ident(column: &str) -> Ident {
    match syn::parse_str::<Ident>(column) {
        Ok(ident) => ident,
        Err(_) => Ident::new_raw(column, Span::call_site()),
    }
}

/// `UserRow` for `User`.
pub(crate) fn row_ident(t: &TableType) -> Ident {
    format_ident!("{}Row", t.name)
}

/// `__FRAISEQL_ROWS_User` for `User`.
pub(crate) fn loader_ident(t: &TableType) -> Ident {
    // The type name verbatim: type names are unique, their upper-case forms need not be.
    format_ident!("__FRAISEQL_ROWS_{}", t.name)
}

pub(crate) fn impl_row_tokens(t: &TableType) -> TokenStream {
    let row = row_ident(t);
    let loader = loader_ident(t);
    let doc = format!(
        " A row of table `{}` (type `{}`). A column the document did not select is `None`.",
        t.table, t.name
    );
    let fields = t.columns.iter().map(|c| {
        let ident = field_ident(&c.name);
        let (ty, _) = rust_type(c.kind);
        quote!(pub #ident: ::core::option::Option<#ty>)
    });
    let queryable = impl_queryable_tokens(t);
    let row_trait = impl_row_trait_tokens(t);
    let type_name = &t.name;
    let key = field_ident(t.key_name());
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::default::Default)]
        pub struct #row { #(#fields,)* }

        const _: () = {
            use ::fraiseql_runtime::__private::diesel;
            use ::fraiseql_runtime::__private::row::json;
            #queryable
            #row_trait

            #[automatically_derived]
            impl ::fraiseql_runtime::row::TableRow for #row {
                const TYPE_NAME: &'static str = #type_name;
                fn key(&self) -> ::core::option::Option<i64> {
                    self.#key
                }
            }
        };

        #[allow(non_upper_case_globals)]
        static #loader: ::fraiseql_runtime::__private::row::TableRows<#row> =
            ::fraiseql_runtime::__private::row::TableRows::new();
    }
}

/// `QueryableByName` for every backend that can decode the column types used.
fn impl_queryable_tokens(t: &TableType) -> TokenStream {
    let diesel = quote!(diesel);
    let row = row_ident(t);
    // One bound per Rust type, in a fixed order so output is stable.
    let mut bounds = Vec::new();
    for (ty, sql) in [
        (quote!(::std::string::String), quote!(Text)),
        (quote!(bool), quote!(Bool)),
        (quote!(f64), quote!(Double)),
        (quote!(i32), quote!(Integer)),
        (quote!(i64), quote!(BigInt)),
    ] {
        let used = t
            .columns
            .iter()
            .any(|c| rust_type(c.kind).0.to_string() == ty.to_string());
        if used {
            bounds.push(quote!(#ty: #diesel::deserialize::FromSql<#diesel::sql_types::#sql, __DB>));
        }
    }
    // Columns are matched by name, one pass over the row: a statement selects only the columns
    // its document needs (in any order), and a column it does not return stays `None`. Looking
    // each field up by name instead (`NamedRow::get`) scans the row once per field.
    let arms = t.columns.iter().map(|c| {
        let ident = field_ident(&c.name);
        let name = &c.name;
        let (ty, sql) = rust_type(c.kind);
        quote! {
            ::core::option::Option::Some(#name) => {
                __fraiseql_out.#ident = <::core::option::Option<#ty> as #diesel::deserialize::FromSql<
                    #diesel::sql_types::Nullable<#diesel::sql_types::#sql>,
                    __DB,
                >>::from_nullable_sql(#diesel::row::Field::value(&__fraiseql_field))?;
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl<__DB> #diesel::deserialize::QueryableByName<__DB> for #row
        where
            __DB: #diesel::backend::Backend,
            #(#bounds,)*
        {
            fn build<'__a>(
                __fraiseql_row: &impl #diesel::row::NamedRow<'__a, __DB>,
            ) -> #diesel::deserialize::Result<Self> {
                let mut __fraiseql_out = Self::default();
                for __fraiseql_index in 0..#diesel::row::Row::field_count(__fraiseql_row) {
                    let ::core::option::Option::Some(__fraiseql_field) =
                        #diesel::row::Row::get(__fraiseql_row, __fraiseql_index)
                    else {
                        continue;
                    };
                    match #diesel::row::Field::field_name(&__fraiseql_field) {
                        #(#arms)*
                        _ => {}
                    }
                }
                ::core::result::Result::Ok(__fraiseql_out)
            }
        }
    }
}

/// `Row`: integer columns for batching, and each column's JSON writer.
fn impl_row_trait_tokens(t: &TableType) -> TokenStream {
    let row = row_ident(t);
    let json = quote!(json);
    let ints = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.kind, Kind::Id | Kind::ForeignKey))
        .map(|(i, c)| {
            let ident = field_ident(&c.name);
            let i = Literal::usize_unsuffixed(i);
            quote!(#i => self.#ident)
        });
    let writes = t.columns.iter().enumerate().map(|(i, c)| {
        let ident = field_ident(&c.name);
        let value = quote!(self.#ident);
        let i = Literal::usize_unsuffixed(i);
        let call = match c.kind {
            Kind::Id => quote!(#json::id(__fraiseql_out, #value)),
            Kind::ForeignKey | Kind::Int => quote!(#json::int(__fraiseql_out, #value)),
            Kind::Float => quote!(#json::float(__fraiseql_out, #value)),
            Kind::Boolean => quote!(#json::boolean(__fraiseql_out, #value)),
            Kind::String | Kind::DateTime | Kind::Enum(_) => {
                quote!(#json::string(__fraiseql_out, #value.as_deref()))
            }
            Kind::Json => quote!(#json::raw_json(__fraiseql_out, #value.as_deref())),
        };
        quote!(#i => #call)
    });
    quote! {
        #[automatically_derived]
        impl ::fraiseql_runtime::__private::row::Row for #row {
            fn int_column(&self, __fraiseql_column: usize) -> ::core::option::Option<i64> {
                match __fraiseql_column {
                    #(#ints,)*
                    _ => ::core::option::Option::None,
                }
            }
            fn write_column(&self, __fraiseql_column: usize, __fraiseql_out: &mut ::std::vec::Vec<u8>) {
                match __fraiseql_column {
                    #(#writes,)*
                    _ => #json::null(__fraiseql_out),
                }
            }
        }
    }
}
