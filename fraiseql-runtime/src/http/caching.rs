//! HTTP caching of GraphQL responses: `Cache-Control` from the response's policy (see
//! `crate::cache`), a strong `ETag` of the body, `304 Not Modified` when `If-None-Match`
//! names it, and `Vary` for the headers the answer depends on (`Accept` picks the media type,
//! `FraiseQL-Consistency` bypasses the cache, `Authorization` keys PRIVATE data).
//!
//! The ETag is computed here, over the uncompressed body, before the compression middleware
//! encodes it. A strong ETag promises byte-identical representations, which a gzip and an
//! identity answer are not, so a response that may be compressed carries the same tag as a weak
//! one (`W/"…"`); `If-None-Match` compares weakly, so either form gets its 304.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};

use crate::graphql::{Handled, Outcome};

const VARY_PUBLIC: &str = "Accept, FraiseQL-Consistency";
const VARY_PRIVATE: &str = "Accept, FraiseQL-Consistency, Authorization";

/// The response to a handled `/graphql` request (built by `respond`) with the caching
/// headers; a cacheable 200 whose ETag the client already has becomes a 304 without a body.
pub(super) fn cached(
    request: &HttpRequest,
    handled: Handled,
    compression: bool,
    respond: impl FnOnce(Outcome) -> HttpResponse,
) -> HttpResponse {
    let caching = handled.caching;
    let weak = compression && accepts_compression(request);
    let etag = match &handled.outcome {
        Outcome::Executed(result) if caching.cache_control.cacheable() => {
            let tag = etag(&result.body);
            Some(if weak { format!("W/{tag}") } else { tag })
        }
        _ => None,
    };
    let mut response = respond(handled.outcome);
    let vary = if caching.vary_authorization {
        VARY_PRIVATE
    } else {
        VARY_PUBLIC
    };
    let control = if response.status() == StatusCode::OK {
        caching.cache_control.header_value()
    } else {
        "no-store".to_owned()
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static(vary));
    // The header values take the strings' buffers (`from_str` would copy them).
    if let Ok(value) = HeaderValue::from_maybe_shared(Bytes::from(control)) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    if response.status() != StatusCode::OK || !caching.cache_control.cacheable() {
        return response;
    }
    let Some(etag) = etag else {
        return response;
    };
    let opaque = etag.strip_prefix("W/").unwrap_or(&etag);
    let not_modified = if_none_match(request, opaque);
    let Ok(etag_value) = HeaderValue::from_maybe_shared(Bytes::from(etag)) else {
        return response;
    };
    if not_modified {
        let mut not_modified = HttpResponse::NotModified().finish();
        let out = not_modified.headers_mut();
        for name in [header::CACHE_CONTROL, header::VARY, header::CONTENT_TYPE] {
            if let Some(value) = response.headers().get(&name) {
                out.insert(name, value.clone());
            }
        }
        out.insert(header::ETAG, etag_value);
        return not_modified;
    }
    response.headers_mut().insert(header::ETAG, etag_value);
    response
}

/// Whether the client accepts an encoding the compression middleware may choose (gzip or
/// brotli, not refused with `q=0`).
fn accepts_compression(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("").to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            matches!(coding.as_str(), "gzip" | "br" | "*") && !refused
        })
}

/// A strong validator: the body's 128-bit XXH3, quoted. A validator only has to tell one
/// version of a response from another, not resist a forger (the client can read the body it
/// would forge against), and XXH3 costs a small fraction of sha256 on every cacheable response.
fn etag(body: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = xxhash_rust::xxh3::xxh3_128(body);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for shift in (0..32).rev() {
        tag.push(char::from(HEX[((hash >> (shift * 4)) & 0xf) as usize]));
    }
    tag.push('"');
    tag
}

/// Whether `If-None-Match` names `etag` (or is `*`); weak validators compare by opaque tag, as
/// RFC 9110 says for If-None-Match.
fn if_none_match(request: &HttpRequest, etag: &str) -> bool {
    request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_and_stable() {
        let a = etag(b"{\"data\":{}}");
        assert_eq!(a, etag(b"{\"data\":{}}"));
        assert_ne!(a, etag(b"{\"data\":null}"));
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 34);
    }

    #[test]
    fn compression_is_accepted_unless_refused() {
        let with = |value: &str| {
            let request = actix_web::test::TestRequest::default()
                .insert_header((header::ACCEPT_ENCODING, value.to_owned()))
                .to_http_request();
            accepts_compression(&request)
        };
        assert!(with("gzip, deflate"));
        assert!(with("br;q=0.5"));
        assert!(!with("identity"));
        assert!(!with("gzip;q=0"));
        assert!(!accepts_compression(
            &actix_web::test::TestRequest::default().to_http_request()
        ));
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let e = etag(b"x");
        let request = actix_web::test::TestRequest::default()
            .insert_header((header::IF_NONE_MATCH, format!("\"other\", W/{e}")))
            .to_http_request();
        assert!(if_none_match(&request, &e));
        let request = actix_web::test::TestRequest::default().to_http_request();
        assert!(!if_none_match(&request, &e));
    }
}
