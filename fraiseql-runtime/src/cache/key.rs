//! Cache keys: sha256 over the schema hash, the normalised document's hash, the operation
//! name, the root field's response key, the values of the variables that field reads
//! (canonical JSON: object keys sorted), and, for PRIVATE data, the caller's identity. Every
//! part is length-prefixed, so no two different inputs run together into one key.

use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::Name;
use sha2::{Digest, Sha256};

use crate::auth::Claims;

/// A cache key.
pub(crate) type Key = [u8; 32];

/// What one root field's key is made of.
pub(crate) struct KeyParts<'a> {
    pub schema_hash: &'a str,
    pub doc_hash: &'a [u8; 32],
    pub operation_name: Option<&'a str>,
    pub response_key: &'a str,
    pub variables: &'a [Name],
    pub values: &'a JsonMap,
    /// The caller, for PRIVATE data.
    pub identity: Option<&'a [u8; 32]>,
    /// The row-filter claims the field's types are filtered by (empty for most fields).
    pub claims: &'a [&'static str],
    /// The caller's verified claims, whose values of `claims` go into the key.
    pub claim_values: Option<&'a Claims>,
    /// A custom resolver's field: its answer may depend on any claim, so all of the caller's
    /// claims (but the per-token ones) go into the key.
    pub whole_caller: bool,
}

impl KeyParts<'_> {
    pub fn key(&self) -> Key {
        let mut h = Sha256::new();
        let mut part = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        part(b"fraiseql-cache-v1");
        part(self.schema_hash.as_bytes());
        part(self.doc_hash);
        match self.operation_name {
            None => part(b"\x00"),
            Some(name) => part(format!("\x01{name}").as_bytes()),
        }
        part(self.response_key.as_bytes());
        let mut json = Vec::new();
        for name in self.variables {
            part(name.as_bytes());
            json.clear();
            match self.values.get(name.as_str()) {
                // Absent and null differ: an absent variable takes the default.
                None => json.push(b'-'),
                Some(value) => canonical(value, &mut json),
            }
            part(&json);
        }
        match self.identity {
            None => part(b"public"),
            Some(identity) => part(identity),
        }
        // Only filtered fields add parts, so every other key stays as it was.
        for claim in self.claims {
            part(claim.as_bytes());
            match self.claim_values.and_then(|c| c.filter_text(claim)) {
                // A tag byte tells a missing claim from any value.
                None => part(b"\x00"),
                Some(value) => part(format!("\x01{value}").as_bytes()),
            }
        }
        if self.whole_caller {
            match self.claim_values {
                None => part(b"caller:anonymous"),
                Some(claims) => {
                    part(b"caller:");
                    part(&claims.caller_key());
                }
            }
        }
        h.finalize().into()
    }
}

/// JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are one key.
pub(crate) fn canonical(value: &JsonValue, out: &mut Vec<u8>) {
    match value {
        JsonValue::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(item, out);
            }
            out.push(b']');
        }
        JsonValue::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                crate::row::json::escape_into(out, k.as_str());
                out.push(b':');
                canonical(v, out);
            }
            out.push(b'}');
        }
        scalar => {
            if serde_json::to_writer(&mut *out, scalar).is_err() {
                out.extend_from_slice(b"null");
            }
        }
    }
}

/// The caller's identity for PRIVATE entries: a hash of the `Authorization` header (never the
/// header itself); `None` for an anonymous caller, whose PRIVATE data is never stored.
pub(crate) fn identity(headers: &crate::graphql::Headers) -> Option<[u8; 32]> {
    let value = headers
        .get("authorization")
        .map(str::trim)
        .filter(|value| !value.is_empty())?;
    Some(
        Sha256::new()
            .chain_update(b"fraiseql-identity")
            .chain_update(value.as_bytes())
            .finalize()
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(json: serde_json::Value) -> JsonMap {
        serde_json::from_value(json).unwrap()
    }

    fn key(vars: &JsonMap, names: &[&str], identity: Option<&[u8; 32]>) -> Key {
        let names: Vec<Name> = names.iter().map(|n| Name::new(n).unwrap()).collect();
        KeyParts {
            schema_hash: "s",
            doc_hash: &[1; 32],
            operation_name: None,
            response_key: "user",
            variables: &names,
            values: vars,
            identity,
            claims: &[],
            whole_caller: false,
            claim_values: None,
        }
        .key()
    }

    #[test]
    fn object_order_does_not_matter_and_values_do() {
        let a = values(serde_json::json!({"f": {"x": 1, "y": [1, 2]}, "id": "1"}));
        let b = values(serde_json::json!({"id": "1", "f": {"y": [1, 2], "x": 1}}));
        let c = values(serde_json::json!({"id": "2", "f": {"y": [1, 2], "x": 1}}));
        assert_eq!(key(&a, &["f", "id"], None), key(&b, &["f", "id"], None));
        assert_ne!(key(&a, &["f", "id"], None), key(&c, &["f", "id"], None));
        // A variable the field does not read is not part of its key.
        assert_eq!(key(&a, &["f"], None), key(&c, &["f"], None));
    }

    #[test]
    fn identities_separate_private_entries() {
        let v = JsonMap::new();
        let headers = crate::graphql::Headers::from_pairs;
        let alice = identity(&headers([("Authorization", "Bearer alice")])).unwrap();
        let bob = identity(&headers([("authorization", "Bearer bob")])).unwrap();
        assert_ne!(key(&v, &[], Some(&alice)), key(&v, &[], Some(&bob)));
        assert_ne!(key(&v, &[], Some(&alice)), key(&v, &[], None));
        assert_eq!(identity(&headers([("accept", "x")])), None);
    }

    #[test]
    fn filter_claims_separate_tenants() {
        let v = JsonMap::new();
        let claims = |json: serde_json::Value| match json {
            serde_json::Value::Object(map) => Claims::new(map),
            _ => Claims::default(),
        };
        let (a, a2, b) = (
            claims(serde_json::json!({"tenant": "a", "sub": "1"})),
            claims(serde_json::json!({"tenant": "a", "sub": "2"})),
            claims(serde_json::json!({"tenant": "b"})),
        );
        let key = |values: Option<&Claims>| {
            KeyParts {
                schema_hash: "s",
                doc_hash: &[1; 32],
                operation_name: None,
                response_key: "projects",
                variables: &[],
                values: &v,
                identity: None,
                claims: &["tenant"],
                claim_values: values,
                whole_caller: false,
            }
            .key()
        };
        assert_ne!(key(Some(&a)), key(Some(&b)));
        assert_eq!(key(Some(&a)), key(Some(&a2)), "same tenant, same entry");
        assert_ne!(key(Some(&a)), key(None));
        let empty = claims(serde_json::json!({"tenant": ""}));
        assert_ne!(
            key(Some(&empty)),
            key(None),
            "an empty value is not a missing claim"
        );
    }

    #[test]
    fn a_custom_resolvers_field_is_keyed_by_the_whole_caller() {
        let v = JsonMap::new();
        let claims = |json: serde_json::Value| match json {
            serde_json::Value::Object(map) => Claims::new(map),
            _ => Claims::default(),
        };
        let ann = claims(serde_json::json!({"tenant": "a", "sub": "ann", "exp": 1}));
        let ann_later = claims(serde_json::json!({"tenant": "a", "sub": "ann", "exp": 2}));
        let bob = claims(serde_json::json!({"tenant": "a", "sub": "bob", "exp": 1}));
        let key = |values: Option<&Claims>| {
            KeyParts {
                schema_hash: "s",
                doc_hash: &[1; 32],
                operation_name: None,
                response_key: "myTasks",
                variables: &[],
                values: &v,
                identity: None,
                claims: &[],
                claim_values: values,
                whole_caller: true,
            }
            .key()
        };
        assert_ne!(key(Some(&ann)), key(Some(&bob)), "one tenant, two callers");
        assert_eq!(key(Some(&ann)), key(Some(&ann_later)), "a fresh token");
        assert_ne!(key(Some(&ann)), key(None));
    }
}
