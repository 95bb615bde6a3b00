//! Every `/graphql` request passes here: it is counted and timed by operation and status, the
//! in-flight gauge follows it, its SQL statements are counted and timed by route (collected by
//! `db::stats` while it runs), and while the server drains each response says
//! `Connection: close` so clients and load balancers move to other instances.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{web, Error};

use super::AppState;
use crate::db::stats::observe_request;

/// The operation a `/graphql` response answered (the request's `operationName`), set by the
/// GraphQL handlers for the metrics.
pub(crate) struct OperationName(pub Option<String>);

/// The middleware (`middleware::from_fn`).
pub(crate) async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(request).await;
    };
    let graphql = request.path() == "/graphql";
    if !graphql {
        return next.call(request).await;
    }
    let started = Instant::now();
    let _in_flight = state.metrics.requests.started();
    let (response, statements) = observe_request(next.call(request)).await;
    state.metrics.requests.statements(&statements);
    let mut response = response?;
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
