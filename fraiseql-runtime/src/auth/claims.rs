//! A verified token's claims, as custom resolvers and row filters read them. Only a token whose
//! signature, expiry and (when configured) issuer and audience checked out becomes `Claims`.

use serde_json::{Map, Value};

/// The claim that lists the caller's roles: `"roles": ["admin", "finance"]`. A space-separated
/// string (`"roles": "admin finance"`, the OAuth `scope` style) is read the same way.
pub const ROLES_CLAIM: &str = "roles";

/// The claims of a verified token.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claims {
    map: Map<String, Value>,
}

impl Claims {
    /// Claims from a JSON object (what a verified token carries).
    pub fn new(map: Map<String, Value>) -> Claims {
        Claims { map }
    }

    /// The claims that say who the caller is — all but the per-token `exp`, `iat`, `nbf` and
    /// `jti` — as JSON with sorted keys: a cache entry whose answer may depend on any claim
    /// (a custom resolver's) is keyed by these, so a fresh token of the same caller still hits.
    pub(crate) fn caller_key(&self) -> Vec<u8> {
        const PER_TOKEN: [&str; 4] = ["exp", "iat", "nbf", "jti"];
        let caller: std::collections::BTreeMap<&String, &Value> = self
            .map
            .iter()
            .filter(|(name, _)| !PER_TOKEN.contains(&name.as_str()))
            .collect();
        serde_json::to_vec(&caller).unwrap_or_default()
    }

    /// A claim as JSON, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name)
    }

    /// A string claim (`sub`, `tenant`); `None` when absent or not a string.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(Value::as_str)
    }

    /// An integer claim, or a string claim holding an integer (identity providers write ids
    /// either way).
    pub fn claim_i64(&self, name: &str) -> Option<i64> {
        match self.map.get(name)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// `sub`, the subject.
    pub fn subject(&self) -> Option<&str> {
        self.claim_str("sub")
    }

    /// Whether [`ROLES_CLAIM`] names `role`.
    pub fn has_role(&self, role: &str) -> bool {
        match self.map.get(ROLES_CLAIM) {
            Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(role)),
            Some(Value::String(s)) => s.split_whitespace().any(|r| r == role),
            _ => false,
        }
    }

    /// The claim's value as row-filter text: strings as they are, numbers and booleans in
    /// their JSON form; `None` for anything else (absent, null, arrays, objects), which
    /// matches no row.
    pub(crate) fn filter_text(&self, name: &str) -> Option<String> {
        match self.map.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: Value) -> Claims {
        match json {
            Value::Object(map) => Claims::new(map),
            _ => Claims::default(),
        }
    }

    #[test]
    fn typed_getters() {
        let c = claims(serde_json::json!({"sub": "u1", "tenant": "a", "org": 42, "n": "7"}));
        assert_eq!(c.subject(), Some("u1"));
        assert_eq!(c.claim_str("tenant"), Some("a"));
        assert_eq!(c.claim_str("org"), None);
        assert_eq!(c.claim_i64("org"), Some(42));
        assert_eq!(c.claim_i64("n"), Some(7));
        assert_eq!(c.filter_text("org").as_deref(), Some("42"));
        assert_eq!(c.filter_text("missing"), None);
    }

    #[test]
    fn roles_as_array_or_space_separated() {
        assert!(claims(serde_json::json!({"roles": ["a", "admin"]})).has_role("admin"));
        assert!(claims(serde_json::json!({"roles": "read admin"})).has_role("admin"));
        assert!(!claims(serde_json::json!({"roles": ["administrator"]})).has_role("admin"));
        assert!(!claims(serde_json::json!({})).has_role("admin"));
    }
}
