//! `/graphql` over HTTP: parameters from POST JSON or a GET query string, the response media type
//! from `Accept`, and status codes per the GraphQL-over-HTTP specification. Browsers asking for
//! HTML get the playground.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

use super::accept::{self, GRAPHQL_RESPONSE_JSON, JSON};
use super::caching::cached;
use super::AppState;
use crate::graphql::{errors, internal, GraphqlRequest, Outcome, Transport};
use crate::playground;

/// `Retry-After` on a 503: one second.
pub(super) const RETRY_AFTER_SECONDS: &str = "1";

/// `POST /graphql`.
pub async fn post(
    request: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let media = response_media(&request);
    let body = match body {
        Ok(body) => body,
        Err(e) => return unreadable_body(&state, media, &e),
    };
    let content_type = header_text(&request, header::CONTENT_TYPE);
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(JSON) {
        let body = errors::body(&[errors::plain(
            "send the request as Content-Type: application/json",
            errors::BAD_REQUEST,
        )]);
        return respond(
            &state,
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            body,
        );
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return super::batch::answer(&state, &request, &body, media).await;
    }
    match GraphqlRequest::from_json(&body) {
        Ok(params) => {
            let operation = params.operation_name.clone();
            let handled = match run(&state, with_headers(params, &request), Transport::Post).await {
                Ok(handled) => handled,
                Err(refused) => return refused,
            };
            named(
                cached(&request, handled, state.http.compression, |o| {
                    respond_to(&state, o, media)
                }),
                operation,
            )
        }
        Err(e) => bad_request(&state, media, e.to_string()),
    }
}

/// Runs one GraphQL request within `FRAISEQL_REQUEST_TIMEOUT_MS`. A panic anywhere under it is
/// caught here and answered like any internal error (500, a generic message and an
/// `errorId` logged with the panic's text): actix would otherwise drop the connection with no
/// answer at all.
pub(super) async fn run(
    state: &AppState,
    params: GraphqlRequest,
    transport: Transport,
) -> Result<crate::graphql::Handled, HttpResponse> {
    let timeout = state.service.limits().request_timeout;
    match actix_web::rt::time::timeout(timeout, caught(state, params, transport)).await {
        Ok(Ok(handled)) => Ok(handled),
        Ok(Err(body)) => Err(respond(
            state,
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            JSON,
            body,
        )),
        Err(_) => Err(timed_out(timeout)),
    }
}

/// Runs one GraphQL request (one entry of a batch) under its operation's name for the slow
/// statement log; a panic under it becomes an internal error's body (its text logged under an
/// error id, the client given the id).
pub(super) async fn caught(
    state: &AppState,
    params: GraphqlRequest,
    transport: Transport,
) -> Result<crate::graphql::Handled, Vec<u8>> {
    use futures_util::FutureExt;
    crate::db::stats::set_operation(params.operation_name.as_deref());
    let respond = std::panic::AssertUnwindSafe(state.service.respond(params, transport));
    respond
        .catch_unwind()
        .await
        .map_err(|panic| internal::body("a request panicked", &internal::panic_text(&*panic)))
}

/// A request past `FRAISEQL_REQUEST_TIMEOUT_MS`: 503 with `Retry-After`. Its future is dropped
/// here; a statement already handed to the database runs on until the database's own
/// statement timeout (`FRAISEQL_STATEMENT_TIMEOUT_MS`).
pub(super) fn timed_out(timeout: std::time::Duration) -> HttpResponse {
    let message = format!(
        "the request took longer than the limit of {} ms",
        timeout.as_millis()
    );
    super::observe::unavailable(errors::body(&[errors::plain(message, errors::TIMEOUT)]))
}

/// A body over the limit is 413 with a GraphQL error body (actix would answer in plain text);
/// any other failure to read it is 400.
fn unreadable_body(
    state: &AppState,
    media: &'static str,
    error: &actix_web::Error,
) -> HttpResponse {
    let status = error.as_response_error().status_code();
    if status == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
        let limit = state.service.limits().max_body_bytes;
        let body = errors::body(&[errors::plain(
            format!("the request body is larger than the limit of {limit} bytes"),
            crate::graphql::limits::LIMIT_EXCEEDED,
        )]);
        return respond(state, status, media, body);
    }
    bad_request(
        state,
        media,
        "the request body could not be read".to_string(),
    )
}

/// `GET /graphql`: a query in the query string, or the playground for a browser.
pub async fn get(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query_string = request.query_string();
    let has_query = url::form_urlencoded::parse(query_string.as_bytes())
        .any(|(k, _)| matches!(k.as_ref(), "query" | "documentId" | "id" | "extensions"));
    if !has_query && accept::prefers_html(header_text(&request, header::ACCEPT)) {
        return HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(playground::PAGE_HTML);
    }
    let media = response_media(&request);
    match GraphqlRequest::from_query_string(query_string) {
        Ok(params) => {
            let operation = params.operation_name.clone();
            let handled = match run(&state, with_headers(params, &request), Transport::Get).await {
                Ok(handled) => handled,
                Err(refused) => return refused,
            };
            named(
                cached(&request, handled, state.http.compression, |o| {
                    respond_to(&state, o, media)
                }),
                operation,
            )
        }
        Err(e) => bad_request(&state, media, e.to_string()),
    }
}

/// The request's headers (values that are not visible ASCII are left out), for custom
/// resolvers.
pub(super) fn with_headers(mut params: GraphqlRequest, request: &HttpRequest) -> GraphqlRequest {
    params.headers = crate::graphql::Headers::new(request.headers().clone());
    params
}

/// Any other method on `/graphql`.
pub async fn other_method(state: web::Data<AppState>) -> HttpResponse {
    let body = errors::body(&[errors::plain("use GET or POST", errors::METHOD_NOT_ALLOWED)]);
    let mut response = respond(
        &state,
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        JSON,
        body,
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

/// `GET /playground/{file}`: the playground's own assets, embedded in the binary.
pub async fn playground_asset(file: web::Path<String>) -> HttpResponse {
    match playground::asset(&file) {
        Some((content_type, bytes)) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

/// Tags a response with the operation it answered, for the request metrics (an anonymous
/// operation needs no tag: a missing one reads as anonymous, and skipping it saves the
/// response's extension map).
fn named(mut response: HttpResponse, operation: Option<String>) -> HttpResponse {
    if operation.is_some() {
        response
            .extensions_mut()
            .insert(super::observe::OperationName(operation));
    }
    response
}

/// The response for `outcome`, with a committed mutation's consistency token in the
/// `FraiseQL-Consistency` header (read replicas: see `db/replica/lsn.rs`).
fn respond_to(state: &AppState, outcome: Outcome, media: &'static str) -> HttpResponse {
    let token = match &outcome {
        Outcome::Executed(result) => result.consistency.clone(),
        _ => None,
    };
    let mut response = outcome_response(state, outcome, media);
    if let Some(value) = token.and_then(|t| HeaderValue::from_str(&t).ok()) {
        response.headers_mut().insert(
            header::HeaderName::from_static(crate::db::CONSISTENCY_HEADER),
            value,
        );
    }
    response
}

fn outcome_response(state: &AppState, outcome: Outcome, media: &'static str) -> HttpResponse {
    use actix_web::http::StatusCode;
    let modern = media == GRAPHQL_RESPONSE_JSON;
    match outcome {
        Outcome::BadRequest(body) => respond(state, StatusCode::BAD_REQUEST, media, body),
        Outcome::MethodNotAllowed(body) => {
            let mut response = respond(state, StatusCode::METHOD_NOT_ALLOWED, media, body);
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            response
        }
        // The spec: a request error is 4xx with graphql-response+json; legacy application/json
        // clients get 200 with the errors in the body.
        Outcome::NotExecuted(body) if modern => {
            respond(state, StatusCode::BAD_REQUEST, media, body)
        }
        Outcome::NotExecuted(body) | Outcome::PersistedQueryNotFound(body) => {
            respond(state, StatusCode::OK, media, body)
        }
        // The token was refused whatever the media type: 401, so clients renew it. No
        // WWW-Authenticate challenge details: the body says what is wrong.
        Outcome::Unauthenticated(body) => {
            let mut response = respond(state, StatusCode::UNAUTHORIZED, media, body);
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
        // The database was down or out of connections and no data came back: a server-side
        // failure, so clients and load balancers see that a retry may help. With partial data
        // the spec requires 2xx. The executor writes `data` last, so a null one ends the body.
        // `Retry-After` (seconds): the pool frees up or the server comes back within moments,
        // and a client that honours it spreads its retries instead of hammering at once.
        Outcome::Executed(result) if result.database_unavailable && result.data_is_null => {
            let mut response = respond(state, StatusCode::SERVICE_UNAVAILABLE, media, result.body);
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
            response
        }
        Outcome::Executed(result) if result.request_error && modern => {
            respond(state, StatusCode::BAD_REQUEST, media, result.body)
        }
        Outcome::Executed(result) => respond(state, StatusCode::OK, media, result.body),
    }
}

pub(super) fn bad_request(state: &AppState, media: &'static str, message: String) -> HttpResponse {
    let body = errors::body(&[errors::plain(message, errors::BAD_REQUEST)]);
    respond(state, actix_web::http::StatusCode::BAD_REQUEST, media, body)
}

pub(super) fn respond(
    state: &AppState,
    status: actix_web::http::StatusCode,
    media: &'static str,
    body: Vec<u8>,
) -> HttpResponse {
    state.metrics.requests.count_errors(&body);
    // Static header values: no formatting or allocation per response.
    let content_type = if media == GRAPHQL_RESPONSE_JSON {
        HeaderValue::from_static("application/graphql-response+json; charset=utf-8")
    } else {
        HeaderValue::from_static("application/json; charset=utf-8")
    };
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, content_type))
        .body(body)
}

/// The response media type the client prefers (see [`accept::graphql_media`]).
fn response_media(request: &HttpRequest) -> &'static str {
    accept::graphql_media(header_text(request, header::ACCEPT))
}

/// A header's text, or "" when absent or not visible ASCII.
fn header_text(request: &HttpRequest, name: header::HeaderName) -> &str {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[test]
    fn a_caught_panic_reads_as_an_internal_error_without_its_text() {
        let caught = std::panic::AssertUnwindSafe(async {
            panic!("index out of bounds in SELECT * FROM users at /src/exec/load.rs:12")
        })
        .catch_unwind()
        .now_or_never()
        .expect("ready");
        let Err(payload) = caught else {
            panic!("the future did not panic")
        };
        let body = internal::body("a request panicked", &internal::panic_text(&*payload));
        let text = String::from_utf8(body).expect("UTF-8");
        let body: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "INTERNAL_SERVER_ERROR"
        );
        assert!(
            body["errors"][0]["extensions"]["errorId"].is_string(),
            "{body}"
        );
        for leak in ["panicked", "/src/", "SELECT", "index out of bounds"] {
            assert!(!text.contains(leak), "{text}");
        }
    }
}
