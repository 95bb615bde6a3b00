//! Internal errors: whatever went wrong on the server's side (a statement failing for a reason
//! that is no fault of the request, a plan and an execution that disagree, a panic) reaches the
//! client as one generic message with a random `extensions.errorId`, and the server logs that
//! id beside the full cause. The client learns nothing about SQL, files or code, yet an
//! operator can find the log line a user reports.

use std::fmt::Display;

use apollo_compiler::response::{GraphQLError, JsonValue};

/// `extensions.code` of an internal error.
pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
/// The only message a client sees for an internal error.
pub const INTERNAL_MESSAGE: &str = "internal error";

/// A fresh error id: 16 hex digits (64 random bits), unique enough to find one log line.
pub fn error_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness (never seen in practice): a clock and a counter still tell one
        // report from another.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            // The low 64 bits: they are what changes from one call to the next.
            .map_or(0, |d| d.as_nanos() as u64);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes = (nanos ^ n.rotate_left(48)).to_be_bytes();
    }
    hex::encode(bytes)
}

/// Logs `cause` (at error level, with `context`) under a fresh id and returns the id.
pub fn report(context: &str, cause: &dyn Display) -> String {
    let id = error_id();
    tracing::error!(error_id = %id, cause = %cause, "internal error: {context}");
    id
}

/// `extensions.errorId` on `error`.
pub fn with_error_id(mut error: GraphQLError, id: &str) -> GraphQLError {
    error.extensions.insert("errorId", JsonValue::from(id));
    error
}

/// The client's view of an internal error reported under `id`.
pub fn error(id: &str) -> GraphQLError {
    with_error_id(
        super::errors::plain(INTERNAL_MESSAGE, INTERNAL_SERVER_ERROR),
        id,
    )
}

/// Reports `cause` and returns the client's error body (`{"errors":[…]}`) for it.
pub fn body(context: &str, cause: &dyn Display) -> Vec<u8> {
    super::errors::body(&[error(&report(context, cause))])
}

/// The text of a caught panic's payload (a `&str` or a `String`, as `panic!` makes them).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic with a payload that is not text")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_16_hex_digits_and_differ() {
        let (a, b) = (error_id(), error_id());
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn the_body_says_nothing_of_the_cause() {
        let body = body(
            "statement failed",
            &"no such table: comments in SELECT x FROM /src/a.rs",
        );
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let error = &body["errors"][0];
        assert_eq!(error["message"], INTERNAL_MESSAGE);
        assert_eq!(error["extensions"]["code"], INTERNAL_SERVER_ERROR);
        assert_eq!(
            error["extensions"]["errorId"].as_str().map(str::len),
            Some(16)
        );
        let text = body.to_string();
        for leak in ["SELECT", "/src/", "comments"] {
            assert!(!text.contains(leak), "{text}");
        }
    }
}
