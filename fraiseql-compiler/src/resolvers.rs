//! How a `@resolver` field and the Rust function that resolves it name each other. The
//! compiler uses these rules to generate one trait per field (in the generated
//! `__fraiseql_resolvers` module), and `#[fraiseql::query]` / `#[fraiseql::mutation]` use the
//! same ones to find a function's field and implement that trait, so the two can never drift.
//!
//! Field `Query.userByEmail(email: String!): User` is resolved by
//! `async fn user_by_email(ctx: &fraiseql::Context, email: String) -> Result<UserRow, …>`,
//! which implements trait `QueryUserByEmail`.

use crate::model::{Argument, Kind, Model, MutationKind, Returns, RootKind, Source, TableType};
use crate::naming::snake_case;

/// The root type a `@resolver` field belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Root {
    /// `type Query`: resolved by a `#[fraiseql::query]` function.
    Query,
    /// `type Mutation`: resolved by a `#[fraiseql::mutation]` function.
    Mutation,
}

impl Root {
    /// `Query` or `Mutation`.
    pub fn type_name(self) -> &'static str {
        match self {
            Root::Query => "Query",
            Root::Mutation => "Mutation",
        }
    }

    /// The attribute that marks a resolver of this root: `query` (`#[fraiseql::query]`) or
    /// `mutation`.
    pub fn attribute(self) -> &'static str {
        match self {
            Root::Query => "query",
            Root::Mutation => "mutation",
        }
    }
}

/// The generated trait of a field: the root's name, then the field's with its first letter
/// upper-cased (`Query.userByEmail` -> `QueryUserByEmail`).
pub fn trait_name(root: Root, field: &str) -> String {
    let mut chars = field.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{}{first}{}", root.type_name(), chars.as_str())
}

/// The Rust function that resolves a field: its snake_case (`userByEmail` -> `user_by_email`).
pub fn function_name(field: &str) -> String {
    snake_case(field)
}

/// The Rust parameter of an argument: its snake_case (`authorId` -> `author_id`).
pub fn argument_name(argument: &str) -> String {
    snake_case(argument)
}

/// The Rust type of an argument's parameter: `ID` -> `i64`, `Int` -> `i32`, `Float` -> `f64`,
/// `String`, `DateTime` and enums -> `String`, `Boolean` -> `bool`, `JSON` ->
/// `serde_json::Value`; a list is a `Vec`, anything nullable an `Option` (`[ID!]` ->
/// `Option<Vec<i64>>`). These are the types `fraiseql_runtime::resolver::FromArgument` reads.
///
/// `model` is not needed by today's rules (enums are strings); it is taken so that enums can
/// become generated Rust types without changing callers.
pub fn rust_argument_type(_model: &Model, argument: &Argument) -> String {
    let base = match argument.base {
        Kind::Id | Kind::ForeignKey => "i64",
        Kind::Int => "i32",
        Kind::Float => "f64",
        Kind::String | Kind::DateTime | Kind::Enum(_) => "String",
        Kind::Boolean => "bool",
        Kind::Json => "serde_json::Value",
    };
    let ty = match argument.list {
        Some(true) => format!("Vec<Option<{base}>>"),
        Some(false) => format!("Vec<{base}>"),
        None => base.to_owned(),
    };
    if argument.nullable {
        format!("Option<{ty}>")
    } else {
        ty
    }
}

/// The row struct of a table type: `UserRow` for `User`.
pub fn row_type(t: &TableType) -> String {
    format!("{}Row", t.name)
}

/// The Rust type a resolver returns (inside its `Result`): `UserRow` for `User!`,
/// `Option<UserRow>` for `User`, `Vec<UserRow>` for `[User!]!`. `target` indexes
/// [`Model::types`].
pub fn rust_return_type(model: &Model, returns: Returns, target: usize) -> String {
    let row = row_type(&model.types[target]);
    match returns {
        Returns::One => row,
        Returns::Optional => format!("Option<{row}>"),
        Returns::List => format!("Vec<{row}>"),
    }
}

/// A `@resolver` field of `Query` or `Mutation`, as its function sees it.
#[derive(Clone, Copy, Debug)]
pub struct CustomField<'m> {
    pub root: Root,
    /// The GraphQL field name, e.g. `userByEmail`.
    pub name: &'m str,
    pub description: Option<&'m str>,
    /// The GraphQL type as written, e.g. `[User!]!`.
    pub graphql_type: &'m str,
    /// The arguments, in declaration order.
    pub arguments: &'m [Argument],
    pub returns: Returns,
    /// Index into [`Model::types`] of the type returned.
    pub target: usize,
    /// The type returned.
    pub target_type: &'m TableType,
    /// Indexes into [`Model::types`] of the types a mutation writes (`@writes(types:)`);
    /// empty for Query fields.
    pub writes: &'m [usize],
    /// Where the field is written.
    pub source: &'m Source,
}

impl CustomField<'_> {
    /// See [`trait_name`].
    pub fn trait_name(&self) -> String {
        trait_name(self.root, self.name)
    }

    /// See [`function_name`].
    pub fn function_name(&self) -> String {
        function_name(self.name)
    }

    /// See [`rust_return_type`].
    pub fn rust_return_type(&self, model: &Model) -> String {
        rust_return_type(model, self.returns, self.target)
    }

    /// The function to write, for messages:
    /// `async fn user_by_email(ctx: &fraiseql::Context, email: String) -> Result<Option<UserRow>, fraiseql::ResolverError>`.
    pub fn signature(&self, model: &Model) -> String {
        let mut params = vec!["ctx: &fraiseql::Context".to_owned()];
        for a in self.arguments {
            params.push(format!(
                "{}: {}",
                rust_ident(&argument_name(&a.name)),
                rust_argument_type(model, a)
            ));
        }
        format!(
            "async fn {}({}) -> Result<{}, fraiseql::ResolverError>",
            rust_ident(&self.function_name()),
            params.join(", "),
            self.rust_return_type(model)
        )
    }
}

/// `r#type` for a keyword, the name itself otherwise.
fn rust_ident(name: &str) -> String {
    if syn::parse_str::<syn::Ident>(name).is_ok() {
        name.to_owned()
    } else {
        format!("r#{name}")
    }
}

/// Every `@resolver` field of `root`, in declaration order.
pub fn custom_fields(model: &Model, root: Root) -> Vec<CustomField<'_>> {
    // Targets index `model.types`: validation resolved them.
    match root {
        Root::Query => model
            .query
            .iter()
            .filter_map(|f| match f.kind {
                RootKind::Custom(returns) => Some(CustomField {
                    root,
                    name: &f.name,
                    description: f.description.as_deref(),
                    graphql_type: &f.graphql_type,
                    arguments: &f.arguments,
                    returns,
                    target: f.target,
                    target_type: &model.types[f.target],
                    writes: &[],
                    source: &f.source,
                }),
                RootKind::Lookup | RootKind::List => None,
            })
            .collect(),
        Root::Mutation => model
            .mutations
            .iter()
            .filter_map(|f| match f.kind {
                MutationKind::Custom(returns) => Some(CustomField {
                    root,
                    name: &f.name,
                    description: f.description.as_deref(),
                    graphql_type: &f.graphql_type,
                    arguments: &f.arguments,
                    returns,
                    target: f.target,
                    target_type: &model.types[f.target],
                    writes: &f.writes,
                    source: &f.source,
                }),
                MutationKind::Insert | MutationKind::Update | MutationKind::Delete => None,
            })
            .collect(),
    }
}

/// The `@resolver` field `root.field` (`None` for a field without `@resolver` or no field).
pub fn custom_field<'m>(model: &'m Model, root: Root, field: &str) -> Option<CustomField<'m>> {
    custom_fields(model, root)
        .into_iter()
        .find(|f| f.name == field)
}

/// The `@resolver` field of `root` that the function `function` resolves (validation makes
/// function names unique per root).
pub fn custom_field_for_function<'m>(
    model: &'m Model,
    root: Root,
    function: &str,
) -> Option<CustomField<'m>> {
    custom_fields(model, root)
        .into_iter()
        .find(|f| f.function_name() == function)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;

    fn argument(base: Kind, graphql_type: &str, nullable: bool, list: Option<bool>) -> Argument {
        Argument {
            name: "x".into(),
            description: None,
            graphql_type: graphql_type.into(),
            base,
            nullable,
            list,
            source: Source {
                file: "schema/a.graphql".into(),
                line: 1,
                column: 1,
            },
        }
    }

    const SCHEMA: &str = r#"
type User @table(name: "users") {
  id: ID!
  email: String!
}

enum Role { ADMIN USER }

type Query {
  userByEmail(email: String!, role: Role, tags: [String!], ids: [ID]!): User @resolver
  users: [User!]!
  search(text: String): [User!]! @resolver
}

type Mutation {
  createUser(input: CreateUserInput!): User! @insert
  promote(id: ID!, level: Int, meta: JSON): User! @resolver @writes(types: ["User"])
}
"#;

    fn model() -> Model {
        match crate::compile_sources(&[("schema/a.graphql".into(), SCHEMA.into())]) {
            Ok(g) => g.model,
            Err(e) => panic!("{}", crate::Errors(e)),
        }
    }

    #[test]
    fn names_follow_the_field() {
        assert_eq!(trait_name(Root::Query, "userByEmail"), "QueryUserByEmail");
        assert_eq!(trait_name(Root::Mutation, "promote"), "MutationPromote");
        assert_eq!(trait_name(Root::Query, "x"), "QueryX");
        assert_eq!(function_name("userByEmail"), "user_by_email");
        assert_eq!(function_name("search"), "search");
        assert_eq!(argument_name("authorId"), "author_id");
        assert_eq!(argument_name("email"), "email");
    }

    #[test]
    fn argument_types_nest_vec_in_option() {
        let model = model();
        let ty = |base, gql, nullable, list| {
            rust_argument_type(&model, &argument(base, gql, nullable, list))
        };
        assert_eq!(ty(Kind::Id, "ID!", false, None), "i64");
        assert_eq!(ty(Kind::Int, "Int!", false, None), "i32");
        assert_eq!(ty(Kind::Float, "Float", true, None), "Option<f64>");
        assert_eq!(ty(Kind::String, "String!", false, None), "String");
        assert_eq!(ty(Kind::DateTime, "DateTime!", false, None), "String");
        assert_eq!(ty(Kind::Enum(0), "Role!", false, None), "String");
        assert_eq!(ty(Kind::Boolean, "Boolean!", false, None), "bool");
        assert_eq!(ty(Kind::Json, "JSON!", false, None), "serde_json::Value");
        assert_eq!(ty(Kind::Id, "[ID!]!", false, Some(false)), "Vec<i64>");
        assert_eq!(ty(Kind::Id, "[ID!]", true, Some(false)), "Option<Vec<i64>>");
        assert_eq!(ty(Kind::Id, "[ID]!", false, Some(true)), "Vec<Option<i64>>");
    }

    #[test]
    fn return_types_follow_the_shape() {
        let model = model();
        assert_eq!(rust_return_type(&model, Returns::One, 0), "UserRow");
        assert_eq!(
            rust_return_type(&model, Returns::Optional, 0),
            "Option<UserRow>"
        );
        assert_eq!(rust_return_type(&model, Returns::List, 0), "Vec<UserRow>");
    }

    #[test]
    fn custom_fields_are_found_by_field_and_function() {
        let model = model();
        let query: Vec<&str> = custom_fields(&model, Root::Query)
            .iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(query, ["userByEmail", "search"]);
        let Some(f) = custom_field(&model, Root::Query, "userByEmail") else {
            panic!("userByEmail is a custom field");
        };
        assert_eq!(f.returns, Returns::Optional);
        assert_eq!(f.target_type.name, "User");
        assert_eq!(f.trait_name(), "QueryUserByEmail");
        let args: Vec<String> = f
            .arguments
            .iter()
            .map(|a| format!("{}: {}", a.name, rust_argument_type(&model, a)))
            .collect();
        assert_eq!(
            args,
            [
                "email: String",
                "role: Option<String>",
                "tags: Option<Vec<String>>",
                "ids: Vec<Option<i64>>"
            ]
        );
        assert_eq!(
            f.signature(&model),
            "async fn user_by_email(ctx: &fraiseql::Context, email: String, role: Option<String>, \
             tags: Option<Vec<String>>, ids: Vec<Option<i64>>) -> Result<Option<UserRow>, fraiseql::ResolverError>"
        );
        assert_eq!((f.source.line, f.source.column), (10, 3));
        assert!(custom_field(&model, Root::Query, "users").is_none());
        assert!(custom_field(&model, Root::Mutation, "createUser").is_none());

        let Some(m) = custom_field_for_function(&model, Root::Mutation, "promote") else {
            panic!("promote is a custom mutation");
        };
        assert_eq!(m.writes, [0]);
        assert_eq!(m.returns, Returns::One);
        assert_eq!(
            m.signature(&model),
            "async fn promote(ctx: &fraiseql::Context, id: i64, level: Option<i32>, \
             meta: Option<serde_json::Value>) -> Result<UserRow, fraiseql::ResolverError>"
        );
        assert!(custom_field_for_function(&model, Root::Query, "promote").is_none());
    }
}
