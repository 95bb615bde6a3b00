//! GraphQL error bodies for requests that never reach execution: one place that decides their
//! shape (`{"errors":[{message, locations?, extensions: {code}}]}`) and codes.

use apollo_compiler::response::{GraphQLError, JsonValue};

/// The request itself is malformed (bad JSON, no `query`, a syntax error, unknown operation).
pub const BAD_REQUEST: &str = "BAD_REQUEST";
/// The document does not validate against the schema.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// Variables (or argument values) do not fit their types.
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
/// The operation is not allowed over this HTTP method.
pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";

/// Too many requests in flight: retry after `Retry-After`.
pub const OVERLOADED: &str = "OVERLOADED";
/// The request ran past the request timeout.
pub const TIMEOUT: &str = "TIMEOUT";

/// An error with a message and a code, no location.
pub fn plain(message: impl Into<String>, code: &str) -> GraphQLError {
    with_code(GraphQLError::new(message, None, &Default::default()), code)
}

/// Sets `extensions.code` unless one is already set.
pub fn with_code(mut error: GraphQLError, code: &str) -> GraphQLError {
    if !error.extensions.contains_key("code") {
        error.extensions.insert("code", JsonValue::from(code));
    }
    error
}

/// `{"errors":[…]}`.
pub fn body(errors: &[GraphQLError]) -> Vec<u8> {
    let mut out = b"{\"errors\":".to_vec();
    if serde_json::to_writer(&mut out, errors).is_err() {
        // Serializing strings and maps cannot fail; keep the body valid regardless.
        out.extend_from_slice(b"[{\"message\":\"internal error\"}]");
    }
    out.push(b'}');
    out
}
