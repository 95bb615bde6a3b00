//! Persisted operations: documents a request names instead of sending.
//!
//! - Trusted documents (`schema/operations/*.graphql`): validated by the compiler at build time,
//!   carried in `SchemaModel.operations`, planned once at startup ([`trusted`]); addressed by
//!   `{"documentId": "<id>"}`, `{"documentId": "sha256:<hex>"}` (`id` is an alias), or Apollo's
//!   `extensions.persistedQuery.sha256Hash`.
//! - Automatic persisted queries (Apollo's APQ protocol, [`apq`]): a client sends the hash alone,
//!   and the text with the hash once the server has answered `PersistedQueryNotFound`; the text
//!   is kept in process and, with `REDIS_URL`, in Redis for the other instances.
//! - `FRAISEQL_PERSISTED_ONLY=true`: only trusted documents run.

pub mod apq;
pub mod trusted;

use sha2::{Digest, Sha256};

pub use apq::ApqStore;
pub use trusted::TrustedDocuments;

/// Apollo's code (and message) for a hash the server does not know: the client then sends the
/// text with the hash.
pub const NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// Apollo's message for [`NOT_FOUND`]; its clients match on it.
pub const NOT_FOUND_MESSAGE: &str = "PersistedQueryNotFound";
/// A document sent as text while only trusted documents may run.
pub const REQUIRED: &str = "PERSISTED_QUERY_REQUIRED";

/// A document a request names instead of (or besides) sending its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersistedRef {
    /// `documentId` (or `id`): a trusted operation's id, or `sha256:<hex>` for its hash.
    DocumentId(String),
    /// Apollo's `extensions.persistedQuery.sha256Hash` (version 1), lowercase hex.
    Apq(String),
}

/// The `sha256:` prefix of a hash-addressed `documentId`.
pub const SHA256_PREFIX: &str = "sha256:";

/// SHA-256 of a document's text, lowercase hex: the hash Apollo's clients send.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Whether `hash` looks like a SHA-256 in hex (64 hex digits, either case).
pub fn is_sha256_hex(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lowercase_hex_of_the_text() {
        // sha256("") is well known.
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_sha256_hex(&sha256_hex("{ a }")));
        assert!(!is_sha256_hex("abc"));
        assert!(!is_sha256_hex(&"g".repeat(64)));
    }
}
