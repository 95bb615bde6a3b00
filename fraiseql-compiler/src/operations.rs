//! Trusted documents: `schema/operations/*.graphql`, compiled with the schema so that a bad
//! operation fails `cargo build` instead of a client's request.
//!
//! One file holds one named operation (plus any fragments it spreads): the file's text is the
//! document, byte for byte, so its SHA-256 is the hash a client computes over the same text
//! (Apollo's `persistedQuery.sha256Hash`), and the operation's name is its id. Each document is
//! validated against the API schema (the generated SDL, the one the server validates requests
//! against) with the same validator the runtime uses, apollo-compiler.

use apollo_compiler::executable::OperationType;
use apollo_compiler::validation::Valid;
use apollo_compiler::ExecutableDocument;
use sha2::{Digest, Sha256};

use crate::error::SchemaError;
use crate::model::{Operation, OperationKind, Source};

/// Where trusted documents live, relative to the schema directory.
pub const OPERATIONS_DIR: &str = "operations";

/// Validates each `(path, text)` against `api_sdl`; every error of every file, in file order.
pub fn compile(
    api_sdl: &str,
    sources: &[(String, String)],
) -> Result<Vec<Operation>, Vec<SchemaError>> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let schema = match apollo_compiler::Schema::parse_and_validate(api_sdl, "api.graphql") {
        Ok(schema) => schema,
        // The API SDL is generated from a validated schema, so this is a compiler bug; still
        // an error on the first operation file rather than a panic in the user's build.
        Err(e) => {
            let file = &sources[0].0;
            return Err(vec![at(
                file,
                1,
                1,
                format!("the generated API schema does not validate: {}", e.errors),
            )
            .with_hint("this is a bug in fraiseql-compiler; please report it")]);
        }
    };
    let mut operations: Vec<Operation> = Vec::new();
    let mut errors = Vec::new();
    for (file, text) in sources {
        match compile_one(&schema, file, text) {
            Ok(op) => {
                if let Some(first) = operations.iter().find(|o| o.id == op.id) {
                    errors.push(
                        at(
                            file,
                            op.source.line,
                            op.source.column,
                            format!(
                                "operation \"{}\" is also defined in {}:{}:{}",
                                op.id, first.source.file, first.source.line, first.source.column
                            ),
                        )
                        .with_hint("an operation's name is its id: give each a different name"),
                    );
                } else {
                    operations.push(op);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(operations)
    } else {
        Err(errors)
    }
}

fn compile_one(
    schema: &Valid<apollo_compiler::Schema>,
    file: &str,
    text: &str,
) -> Result<Operation, Vec<SchemaError>> {
    let document = ExecutableDocument::parse_and_validate(schema, text, file).map_err(|e| {
        let mut errors: Vec<SchemaError> = e
            .errors
            .iter()
            .map(|d| {
                let (line, column) = d
                    .line_column_range()
                    .map_or((1, 1), |r| (r.start.line, r.start.column));
                let message = d.error.to_string();
                let hint = if message.starts_with("syntax error") {
                    "each file in schema/operations is one GraphQL query or mutation"
                } else {
                    "trusted operations are checked against the API schema; \
                     `cargo run -- print-schema` prints it"
                };
                at(file, line, column, message).with_hint(hint)
            })
            .collect();
        // The parser reports each unclosed brace at the same end-of-file spot; one is enough.
        errors.dedup();
        errors
    })?;
    let mut named = document.operations.named.values();
    let operation = match (&document.operations.anonymous, named.next(), named.next()) {
        (None, Some(op), None) => op,
        (Some(op), None, None) => {
            let (line, column) = position(op, &document);
            return Err(vec![at(file, line, column, "the operation has no name")
                .with_hint(
                    "the name is the operation's id: write `query UsersPage { … }`",
                )]);
        }
        (None, None, None) => {
            return Err(vec![at(file, 1, 1, "the file holds no operation")
                .with_hint(
                    "each file in schema/operations holds one named query or mutation",
                )]);
        }
        (_, _, _) => {
            let second = document
                .operations
                .iter()
                .nth(1)
                .map_or((1, 1), |op| position(op, &document));
            return Err(vec![at(
                file,
                second.0,
                second.1,
                "the file holds more than one operation",
            )
            .with_hint(
                "put each operation in its own file: the file's text is the document its hash covers",
            )]);
        }
    };
    let kind = match operation.operation_type {
        OperationType::Query => OperationKind::Query,
        OperationType::Mutation => OperationKind::Mutation,
        // The API schema has no Subscription type, so validation refuses one first.
        OperationType::Subscription => {
            let (line, column) = position(operation, &document);
            return Err(vec![at(
                file,
                line,
                column,
                "subscriptions are not supported",
            )]);
        }
    };
    let (line, column) = position(operation, &document);
    let id = operation
        .name
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    Ok(Operation {
        id,
        hash: hex::encode(Sha256::digest(text.as_bytes())),
        kind,
        document: text.to_owned(),
        source: Source {
            file: file.to_owned(),
            line,
            column,
        },
    })
}

fn position(
    operation: &apollo_compiler::Node<apollo_compiler::executable::Operation>,
    document: &Valid<ExecutableDocument>,
) -> (usize, usize) {
    operation
        .line_column_range(&document.sources)
        .map_or((1, 1), |r| (r.start.line, r.start.column))
}

fn at(file: &str, line: usize, column: usize, message: impl Into<String>) -> SchemaError {
    SchemaError {
        file: file.to_owned(),
        line,
        column,
        message: message.into(),
        hint: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "type Query { user(id: ID!): User users(limit: Int): [User!]! }\n\
                       type User { id: ID! name: String! }";

    fn one(text: &str) -> Result<Vec<Operation>, Vec<SchemaError>> {
        compile(SDL, &[("ops/a.graphql".to_owned(), text.to_owned())])
    }

    #[test]
    fn a_named_operation_gets_its_name_and_the_hash_of_its_text() {
        let text = "query UsersPage { users(limit: 5) { id name } }\n";
        let ops = one(text).expect("valid");
        assert_eq!(ops[0].id, "UsersPage");
        assert_eq!(ops[0].kind, OperationKind::Query);
        assert_eq!(ops[0].hash, hex::encode(Sha256::digest(text.as_bytes())));
        assert_eq!((ops[0].source.line, ops[0].source.column), (1, 1));
    }

    #[test]
    fn files_with_no_or_several_operations_are_refused() {
        let errors = one("query A { users { id } }\nquery B { users { id } }").expect_err("two");
        assert_eq!(
            errors[0].to_string(),
            "ops/a.graphql:2:1: the file holds more than one operation (put each operation in \
             its own file: the file's text is the document its hash covers)"
        );
        let errors = one("fragment F on User { id }").expect_err("none");
        assert!(
            errors[0]
                .to_string()
                .contains("must be used in an operation"),
            "{errors:?}"
        );
    }
}
