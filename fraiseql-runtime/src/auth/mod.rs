//! Authentication: the `Authorization: Bearer <JWT>` header of a request becomes verified
//! [`Claims`] before anything else runs (no parsing, planning or SQL for a refused token).
//! HS256 with `FRAISEQL_JWT_SECRET`, RS256 with the keys of `FRAISEQL_JWKS_FILE` (by `kid`);
//! `exp` is required and checked, `nbf` checked when present, `iss` / `aud` when configured.
//!
//! Without either variable nothing is verified and the header is ignored (every caller is
//! anonymous to `@auth` and `@filter`; it still names the caller of PRIVATE cache entries as
//! before), so deployments that never configured tokens keep working.
//!
//! What the claims allow is decided elsewhere: `@auth` by `exec/access.rs`, `@filter` by the
//! planner (a bound parameter per filter, resolved per request from the claims).

mod claims;
mod settings;

use std::sync::Arc;

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

pub use claims::{Claims, ROLES_CLAIM};
use settings::{load_jwks, RsaKey};
pub use settings::{AuthConfigError, AuthSettings};

/// `extensions.code` of a request whose token was refused (HTTP 401), and of a field that
/// needs a token the anonymous caller does not have.
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// `extensions.code` of a field or type whose `@auth` the caller's token does not satisfy.
pub const FORBIDDEN: &str = "FORBIDDEN";

/// Clock skew allowed on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 30;

/// Why a request's token was refused. The messages name what is wrong, never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Not `Bearer <token>`.
    #[error("the Authorization header must be \"Bearer <token>\"")]
    NotBearer,
    /// The token has expired.
    #[error("the token has expired")]
    Expired,
    /// The token is not valid yet (`nbf`).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// Bad signature, unknown key, wrong algorithm, wrong issuer or audience, malformed.
    #[error("the token is not valid: {0}")]
    Invalid(&'static str),
}

/// Verifies bearer tokens with the configured keys.
pub struct Authenticator {
    hs256: Option<DecodingKey>,
    rsa: Vec<RsaKey>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl Default for Authenticator {
    fn default() -> Self {
        Authenticator::disabled()
    }
}

impl Authenticator {
    /// No verifier: the Authorization header is ignored.
    pub fn disabled() -> Authenticator {
        Authenticator {
            hs256: None,
            rsa: Vec::new(),
            issuer: None,
            audience: None,
        }
    }

    /// The verifier `settings` describe (reads the JWKS file).
    pub fn from_settings(settings: &AuthSettings) -> Result<Authenticator, AuthConfigError> {
        let rsa = match &settings.jwks_file {
            Some(path) => load_jwks(path)?,
            None => Vec::new(),
        };
        Ok(Authenticator {
            hs256: settings
                .secret
                .as_ref()
                .map(|s| DecodingKey::from_secret(s.as_bytes())),
            rsa,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        })
    }

    /// Whether tokens are verified at all.
    pub fn enabled(&self) -> bool {
        self.hs256.is_some() || !self.rsa.is_empty()
    }

    /// The caller of a request: `None` (anonymous) without an Authorization header or when
    /// nothing is configured; the verified claims of its bearer token; or why it is refused.
    pub fn authenticate(
        &self,
        headers: &crate::graphql::Headers,
    ) -> Result<Option<Arc<Claims>>, AuthError> {
        if !self.enabled() {
            return Ok(None);
        }
        let Some(value) = headers.get("authorization") else {
            return Ok(None);
        };
        let value = value.trim();
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(AuthError::NotBearer),
        };
        if token.is_empty() {
            return Err(AuthError::NotBearer);
        }
        self.verify(token).map(|claims| Some(Arc::new(claims)))
    }

    /// Verifies one token.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Invalid("malformed"))?;
        let key = match header.alg {
            Algorithm::HS256 => self
                .hs256
                .as_ref()
                .ok_or(AuthError::Invalid("HS256 tokens are not accepted"))?,
            Algorithm::RS256 => self.rsa_key(header.kid.as_deref())?,
            _ => return Err(AuthError::Invalid("only HS256 and RS256 are accepted")),
        };
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        match &self.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                validation.set_required_spec_claims(&["exp", "iss"]);
            }
            None => validation.set_required_spec_claims(&["exp"]),
        }
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                let mut required = validation.required_spec_claims.clone();
                required.insert("aud".to_owned());
                validation.required_spec_claims = required;
            }
            // A token for some audience is fine when none is required.
            None => validation.validate_aud = false,
        }
        let data = decode::<Map<String, Value>>(token, key, &validation).map_err(refusal)?;
        Ok(Claims::new(data.claims))
    }

    /// The RS256 key named by `kid`; without a `kid`, the only key there is.
    fn rsa_key(&self, kid: Option<&str>) -> Result<&DecodingKey, AuthError> {
        if self.rsa.is_empty() {
            return Err(AuthError::Invalid("RS256 tokens are not accepted"));
        }
        let found = match kid {
            Some(kid) => self.rsa.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if self.rsa.len() == 1 => self.rsa.first(),
            None => None,
        };
        found
            .map(|k| &k.key)
            .ok_or(AuthError::Invalid("no key with the token's kid"))
    }
}

/// The public reason for a failed decode (never the token or the key).
fn refusal(error: jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidSignature => AuthError::Invalid("bad signature"),
        ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer"),
        ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience"),
        ErrorKind::MissingRequiredClaim(_) => AuthError::Invalid("a required claim is missing"),
        ErrorKind::InvalidAlgorithm => AuthError::Invalid("wrong algorithm for the key"),
        _ => AuthError::Invalid("malformed"),
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{encode, EncodingKey, Header};

    use super::*;

    fn hs(secret: &str) -> Authenticator {
        Authenticator::from_settings(&AuthSettings {
            secret: Some(secret.into()),
            ..AuthSettings::default()
        })
        .expect("settings")
    }

    fn token(secret: &str, claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encode")
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn bearer(token: &str) -> crate::graphql::Headers {
        crate::graphql::Headers::from_pairs([("Authorization", format!("Bearer {token}").as_str())])
    }

    #[test]
    fn hs256_tokens_verify_and_bad_ones_are_refused() {
        let auth = hs("k");
        let good = token("k", serde_json::json!({"sub": "u", "exp": now() + 60}));
        let claims = auth
            .authenticate(&bearer(&good))
            .expect("ok")
            .expect("claims");
        assert_eq!(claims.subject(), Some("u"));
        assert_eq!(auth.authenticate(&Default::default()), Ok(None));
        let forged = token("other", serde_json::json!({"sub": "u", "exp": now() + 60}));
        assert_eq!(
            auth.authenticate(&bearer(&forged)),
            Err(AuthError::Invalid("bad signature"))
        );
        let expired = token("k", serde_json::json!({"exp": now() - 3600}));
        assert_eq!(
            auth.authenticate(&bearer(&expired)),
            Err(AuthError::Expired)
        );
        let early = token(
            "k",
            serde_json::json!({"exp": now() + 7200, "nbf": now() + 3600}),
        );
        assert_eq!(
            auth.authenticate(&bearer(&early)),
            Err(AuthError::NotYetValid)
        );
        let no_exp = token("k", serde_json::json!({"sub": "u"}));
        assert!(auth.authenticate(&bearer(&no_exp)).is_err());
        let basic = crate::graphql::Headers::from_pairs([("authorization", "Basic dTpw")]);
        assert_eq!(auth.authenticate(&basic), Err(AuthError::NotBearer));
        assert!(auth.authenticate(&bearer("not.a.jwt")).is_err());
    }

    #[test]
    fn issuer_and_audience_are_required_when_configured() {
        let auth = Authenticator::from_settings(&AuthSettings {
            secret: Some("k".into()),
            issuer: Some("idp".into()),
            audience: Some("api".into()),
            ..AuthSettings::default()
        })
        .expect("settings");
        let exp = now() + 60;
        let ok = token(
            "k",
            serde_json::json!({"exp": exp, "iss": "idp", "aud": "api"}),
        );
        assert!(auth.verify(&ok).is_ok());
        let wrong_iss = token(
            "k",
            serde_json::json!({"exp": exp, "iss": "x", "aud": "api"}),
        );
        assert!(auth.verify(&wrong_iss).is_err());
        let no_aud = token("k", serde_json::json!({"exp": exp, "iss": "idp"}));
        assert!(auth.verify(&no_aud).is_err());
    }

    #[test]
    fn without_configuration_the_header_is_ignored() {
        let auth = Authenticator::disabled();
        assert_eq!(auth.authenticate(&bearer("anything")), Ok(None));
    }

    #[test]
    fn errors_never_echo_the_token() {
        let auth = hs("k");
        let secretish = "eyJhbGciOiJIUzI1NiJ9.eyJ0b3Atc2VjcmV0Ijp0cnVlfQ.c2ln";
        let error = auth.authenticate(&bearer(secretish)).expect_err("refused");
        assert!(!error.to_string().contains("eyJ"), "{error}");
    }
}
