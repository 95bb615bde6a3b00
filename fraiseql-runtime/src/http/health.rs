//! Health endpoints for load balancers and orchestrators. Liveness never touches the database
//! (a database outage must not restart every instance); readiness does.

use std::time::Duration;

use actix_web::{web, HttpResponse};

use super::AppState;

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

/// `GET /health/live`: the process is up and serving.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "live"}))
}

/// `GET /health/ready`: 200 when the database answers within a second, else 503; 503 at once
/// while the server drains after a shutdown signal. The body names each dependency's state
/// and the schema hash (instances running different schemas are visible during a rollout).
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.draining.is_set() {
        return HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "status": "draining",
            "schema": state.schema_hash,
        }));
    }
    match state.service.database().ping(READY_TIMEOUT).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({
            "status": "ready",
            "schema": state.schema_hash,
            "database": "ok",
        })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database not answering");
            HttpResponse::ServiceUnavailable()
                .insert_header((
                    actix_web::http::header::RETRY_AFTER,
                    super::graphql_route::RETRY_AFTER_SECONDS,
                ))
                .json(serde_json::json!({
                    "status": "unavailable",
                    "schema": state.schema_hash,
                    "database": "down",
                }))
        }
    }
}
