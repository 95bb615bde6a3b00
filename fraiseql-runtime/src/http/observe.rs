//! Every `/graphql` request passes here: it is counted and timed by operation and status, the
//! in-flight gauge follows it, its SQL statements are counted and timed by route (collected by
//! `db::stats` while it runs), and while the server drains each response says
//! `Connection: close` so clients and load balancers move to other instances.
//!
//! It also protects the server from overload: beyond `FRAISEQL_MAX_IN_FLIGHT` requests in
//! flight a new one is answered 503 with `Retry-After` at once (shedding load rather than
//! queueing it into timeouts). (The request timeout lives in the handlers, which own the
//! request: answering here would need a second handle on it, which routing forbids.)

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};

use super::AppState;
use crate::db::stats::observe_request;
use crate::graphql::errors;

/// The operation a `/graphql` response answered (the request's `operationName`), set by the
/// GraphQL handlers for the metrics.
pub(crate) struct OperationName(pub Option<String>);

/// The middleware (`middleware::from_fn`).
pub(crate) async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(request).await.map(|r| r.map_into_left_body());
    };
    let graphql = request.path() == "/graphql";
    if !graphql {
        return next.call(request).await.map(|r| r.map_into_left_body());
    }
    let started = Instant::now();
    let in_flight = state.metrics.requests.started();
    let limits = *state.service.limits();
    let over = usize::try_from(in_flight.count()).is_ok_and(|n| n > limits.max_in_flight);
    if over {
        drop(in_flight);
        let message = format!(
            "the server is answering {} requests already; retry shortly",
            limits.max_in_flight
        );
        let body = errors::body(&[errors::plain(message, errors::OVERLOADED)]);
        state.metrics.requests.finished(
            None,
            StatusCode::SERVICE_UNAVAILABLE.as_str(),
            started.elapsed(),
        );
        return Ok(request
            .into_response(unavailable(body))
            .map_into_right_body());
    }
    let (response, statements) = observe_request(next.call(request)).await;
    state.metrics.requests.statements(&statements);
    let mut response = response?.map_into_left_body();
    if state.draining.is_set() {
        // actix owns the Connection header: ask its encoder to close after this response.
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    let operation = response
        .response()
        .extensions()
        .get::<OperationName>()
        .and_then(|o| o.0.clone());
    state.metrics.requests.finished(
        operation.as_deref(),
        response.status().as_str(),
        started.elapsed(),
    );
    Ok(response)
}

/// A 503 with `Retry-After` and a GraphQL error body.
pub(super) fn unavailable(body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
        .insert_header(("Retry-After", super::graphql_route::RETRY_AFTER_SECONDS))
        .content_type("application/json")
        .body(body)
}
