//! Where tokens are checked against: `FRAISEQL_JWT_SECRET` (HS256), `FRAISEQL_JWKS_FILE` (RS256
//! public keys from a JWKS JSON file, picked by the token's `kid`), and the optional
//! `FRAISEQL_JWT_ISSUER` / `FRAISEQL_JWT_AUDIENCE`. Read once at start; a bad file is a
//! configuration error (exit 2), never a per-request surprise.

use std::path::PathBuf;

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::DecodingKey;

/// The variables.
pub const SECRET_ENV: &str = "FRAISEQL_JWT_SECRET";
/// A JWKS file of RS256 public keys.
pub const JWKS_FILE_ENV: &str = "FRAISEQL_JWKS_FILE";
/// The `iss` every token must carry, when set.
pub const ISSUER_ENV: &str = "FRAISEQL_JWT_ISSUER";
/// An `aud` every token must carry, when set.
pub const AUDIENCE_ENV: &str = "FRAISEQL_JWT_AUDIENCE";

/// Authentication as configured (nothing set: [`AuthSettings::default`], no verifier).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthSettings {
    /// The HS256 shared secret.
    pub secret: Option<String>,
    /// The JWKS file of RS256 keys.
    pub jwks_file: Option<PathBuf>,
    /// Required `iss`.
    pub issuer: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
}

/// Why the authentication settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// The JWKS file cannot be read.
    #[error("{JWKS_FILE_ENV}={path}: cannot read it: {reason}")]
    JwksUnreadable {
        /// The path given.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The JWKS file is not a JWK set.
    #[error("{JWKS_FILE_ENV}={path}: not a JWK set ({reason}); expected {{\"keys\": [{{\"kty\": \"RSA\", \"kid\": …, \"n\": …, \"e\": …}}]}}")]
    JwksInvalid {
        /// The path given.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An empty secret would accept tokens anyone can sign.
    #[error("{SECRET_ENV} is empty; give the shared HS256 secret, or unset it")]
    EmptySecret,
}

impl AuthSettings {
    /// Reads the variables through `lookup` (an empty one counts as unset, except the secret:
    /// an empty secret is refused).
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, AuthConfigError> {
        let set = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let secret = match lookup(SECRET_ENV) {
            Some(s) if s.is_empty() => return Err(AuthConfigError::EmptySecret),
            other => other,
        };
        Ok(AuthSettings {
            secret,
            jwks_file: set(JWKS_FILE_ENV).map(PathBuf::from),
            issuer: set(ISSUER_ENV),
            audience: set(AUDIENCE_ENV),
        })
    }

    /// Whether any verifier is configured.
    pub fn configured(&self) -> bool {
        self.secret.is_some() || self.jwks_file.is_some()
    }
}

/// One RS256 key of the JWKS file.
pub(crate) struct RsaKey {
    pub kid: Option<String>,
    pub key: DecodingKey,
}

/// The RSA keys of a JWKS file (keys of other types are skipped: only RS256 is accepted).
pub(crate) fn load_jwks(path: &std::path::Path) -> Result<Vec<RsaKey>, AuthConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| AuthConfigError::JwksUnreadable {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let invalid = |reason: String| AuthConfigError::JwksInvalid {
        path: shown.clone(),
        reason,
    };
    let set: JwkSet = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_)) {
            continue;
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(e.to_string()))?;
        keys.push(RsaKey {
            kid: jwk.common.key_id.clone(),
            key,
        });
    }
    if keys.is_empty() {
        return Err(invalid("it holds no RSA key".into()));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_variables() {
        let vars = |name: &str| match name {
            SECRET_ENV => Some("s3cret".to_string()),
            AUDIENCE_ENV => Some(" api ".to_string()),
            ISSUER_ENV => Some(String::new()),
            _ => None,
        };
        let s = AuthSettings::from_lookup(&vars).expect("settings");
        assert_eq!(s.secret.as_deref(), Some("s3cret"));
        assert_eq!(s.audience.as_deref(), Some("api"));
        assert_eq!(s.issuer, None);
        assert!(s.configured());
        assert!(!AuthSettings::default().configured());
        let empty = |name: &str| (name == SECRET_ENV).then(String::new);
        assert!(matches!(
            AuthSettings::from_lookup(&empty),
            Err(AuthConfigError::EmptySecret)
        ));
    }
}
