//! CORS (`FRAISEQL_CORS_ORIGINS`) with actix-cors: browsers on the listed origins may call
//! `/graphql`; preflight `OPTIONS` requests are answered here, before routing, the in-flight
//! cap or rate limits (they never reach GraphQL). A request from an origin not listed is served
//! as before, without CORS headers, so the browser withholds the answer while the playground
//! (same origin) and non-browser clients keep working.

use actix_cors::Cors;
use actix_web::http::{header, Method};

use super::settings::CorsOrigins;

/// Seconds browsers may cache a preflight answer: one round trip per hour rather than one
/// before every POST.
const PREFLIGHT_MAX_AGE: usize = 3600;

/// The middleware for `origins`.
pub(super) fn middleware(origins: &CorsOrigins) -> Cors {
    let cors = match origins {
        CorsOrigins::Any => Cors::default().allow_any_origin().send_wildcard(),
        CorsOrigins::List(list) => list
            .iter()
            .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin)),
    };
    cors.allowed_methods([Method::GET, Method::POST])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            header::HeaderName::from_static("apollo-require-preflight"),
            header::HeaderName::from_static("x-apollo-operation-name"),
            header::HeaderName::from_static(crate::db::CONSISTENCY_HEADER),
        ])
        // What a script may read of a response beyond the basic headers.
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            header::HeaderName::from_static(crate::db::CONSISTENCY_HEADER),
        ])
        .max_age(PREFLIGHT_MAX_AGE)
}
