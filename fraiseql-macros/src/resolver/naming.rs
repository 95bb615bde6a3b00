//! The naming rules a resolver and the generated schema module must agree on: the trait a
//! field's resolver implements, the Rust names and types of its arguments, the row type it
//! returns. Interim copy of `fraiseql_compiler::resolvers` until that module lands.

use fraiseql_compiler::model::{Argument, Kind, Model, Returns, TableType};

use super::Root;

/// `QueryUserByEmail` for `Query.userByEmail`.
pub(crate) fn trait_name(root: Root, field: &str) -> String {
    let mut chars = field.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{}{first}{}", root.type_name(), chars.as_str())
}

/// `user_by_email` for `userByEmail`.
pub(crate) fn function_name(field: &str) -> String {
    fraiseql_compiler::naming::snake_case(field)
}

/// The Rust parameter name of an argument: `user_id` for `userId`.
pub(crate) fn argument_name(argument: &str) -> String {
    fraiseql_compiler::naming::snake_case(argument)
}

/// The Rust type an argument converts to, e.g. `Option<Vec<i64>>` for `[ID!]`.
pub(crate) fn rust_argument_type(_model: &Model, argument: &Argument) -> String {
    let base = match argument.base {
        Kind::Id | Kind::ForeignKey => "i64",
        Kind::Int => "i32",
        Kind::Float => "f64",
        Kind::String | Kind::DateTime | Kind::Enum(_) => "String",
        Kind::Boolean => "bool",
        Kind::Json => "serde_json::Value",
    };
    let item = match argument.list {
        Some(true) => format!("Vec<Option<{base}>>"),
        Some(false) => format!("Vec<{base}>"),
        None => base.to_owned(),
    };
    if argument.nullable {
        format!("Option<{item}>")
    } else {
        item
    }
}

/// The row struct of a table type: `UserRow`.
pub(crate) fn row_type(t: &TableType) -> String {
    format!("{}Row", t.name)
}

/// What a resolver of this shape returns: `UserRow`, `Option<UserRow>` or `Vec<UserRow>`.
pub(crate) fn rust_return_type(model: &Model, returns: Returns, target: usize) -> String {
    let row = row_type(&model.types[target]);
    match returns {
        Returns::One => row,
        Returns::Optional => format!("Option<{row}>"),
        Returns::List => format!("Vec<{row}>"),
    }
}
