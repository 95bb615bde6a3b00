//! JSON batches (`FRAISEQL_MAX_BATCH`, off by default): a POST body that is an array of
//! requests is answered with an array of responses in the same order, each entry run as if it
//! had come alone (its own errors; a mutation its own transaction). A batch is one HTTP request
//! to the in-flight cap and the request timeout; its entries run one after another, so a batch
//! never takes more database sessions at once than a single request.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use super::graphql_route::{bad_request, caught, respond, timed_out, with_headers};
use super::AppState;
use crate::graphql::{errors, GraphqlRequest, Outcome, Transport};

/// Answers a POST body starting with `[`.
pub(super) async fn answer(
    state: &AppState,
    request: &HttpRequest,
    body: &[u8],
    media: &'static str,
) -> HttpResponse {
    let max = state.service.limits().max_batch;
    if max == 0 {
        let message = "batches (a JSON array of requests) are turned off on this server; \
                       send one request per POST";
        return bad_request(state, media, message.to_string());
    }
    let entries: Vec<serde_json::Value> = match serde_json::from_slice(body) {
        Ok(entries) => entries,
        Err(e) => return bad_request(state, media, format!("malformed JSON: {e}")),
    };
    if entries.is_empty() {
        return bad_request(state, media, "the batch is empty".to_string());
    }
    if entries.len() > max {
        let message = format!(
            "the batch has {} requests, more than the limit of {max}",
            entries.len()
        );
        return bad_request(state, media, message);
    }
    let timeout = state.service.limits().request_timeout;
    let run_all = async {
        let mut out = b"[".to_vec();
        for (i, entry) in entries.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&entry_body(state, request, entry).await);
        }
        out.push(b']');
        out
    };
    let Ok(out) = actix_web::rt::time::timeout(timeout, run_all).await else {
        return timed_out(timeout);
    };
    let mut response = respond(state, StatusCode::OK, media, out);
    // Entries are not cached by HTTP caches: one may be a mutation, and an ETag over the
    // whole array would say nothing useful.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// One entry's response object: its result, or the error that stopped it.
async fn entry_body(state: &AppState, request: &HttpRequest, entry: serde_json::Value) -> Vec<u8> {
    let params = match GraphqlRequest::from_value(entry) {
        Ok(params) => with_headers(params, request),
        Err(e) => return errors::body(&[errors::plain(e.to_string(), errors::BAD_REQUEST)]),
    };
    let body = match caught(state, params, Transport::Post).await {
        Ok(handled) => match handled.outcome {
            Outcome::BadRequest(body)
            | Outcome::MethodNotAllowed(body)
            | Outcome::NotExecuted(body)
            | Outcome::PersistedQueryNotFound(body)
            | Outcome::Unauthenticated(body) => body,
            Outcome::Executed(result) => result.body,
        },
        Err(body) => body,
    };
    // `respond` counts the errors of a body that is one response, not of an array: count
    // each entry's here.
    state.metrics.requests.count_errors(&body);
    body
}
