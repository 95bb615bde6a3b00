//! HTTP settings beside the request limits: CORS origins (`FRAISEQL_CORS_ORIGINS`), response
//! compression (`FRAISEQL_COMPRESSION`) and per-client rate limits (`FRAISEQL_RATE_LIMIT`,
//! `FRAISEQL_RATE_LIMIT_BURST`), read by `config.rs`.

pub use super::rate_limit::RateLimit;

/// What the HTTP layer does beyond answering GraphQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    /// Origins browsers may call from (`FRAISEQL_CORS_ORIGINS`); `None`: no CORS headers.
    pub cors: Option<CorsOrigins>,
    /// Whether responses are compressed for clients that accept it (`FRAISEQL_COMPRESSION`).
    pub compression: bool,
    /// Requests per client (`FRAISEQL_RATE_LIMIT`); `None`: unlimited.
    pub rate_limit: Option<RateLimit>,
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            cors: None,
            compression: true,
            rate_limit: None,
        }
    }
}

/// The origins of `FRAISEQL_CORS_ORIGINS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `*`: any origin (answered with `Access-Control-Allow-Origin: *`).
    Any,
    /// These origins, as browsers send them (`https://app.example.com`, a port when not the
    /// scheme's default).
    List(Vec<String>),
}

/// One origin as a browser sends it in `Origin` (`scheme://host[:port]`, lower case, the
/// scheme's default port left out), or why `text` is not one.
pub fn origin(text: &str) -> Result<String, &'static str> {
    let url = url::Url::parse(text.trim()).map_err(|_| "not a URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("not http or https");
    }
    if url.host_str().is_none() {
        return Err("no host");
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("an origin has no path, query or fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("an origin has no user");
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_read_as_browsers_send_them() {
        assert_eq!(
            origin("https://App.Example.com:443").as_deref(),
            Ok("https://app.example.com")
        );
        assert_eq!(
            origin(" http://localhost:3000/ ").as_deref(),
            Ok("http://localhost:3000")
        );
        assert!(origin("app.example.com").is_err());
        assert!(origin("ftp://example.com").is_err());
        assert!(origin("https://example.com/graphql").is_err());
    }
}
