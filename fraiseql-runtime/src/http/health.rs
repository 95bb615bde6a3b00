//! Health endpoints for load balancers and orchestrators. Liveness never touches the database
//! (a database outage must not restart every instance); readiness does.

use std::time::Duration;

use actix_web::{web, HttpResponse};

use super::AppState;
use crate::cache::BackendStatus;

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

/// `GET /health/live`: the process is up and serving.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "live"}))
}

/// `GET /health/ready`: 200 when the database answers within a second, else 503. A cache
/// backend that is down (Redis, NATS) only makes it "degraded": requests still succeed.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.service.database().ping(READY_TIMEOUT).await {
        Ok(()) => {
            let (status, cache) = match state.service.cache() {
                None => ("ready", serde_json::Value::Null),
                Some(cache) => {
                    let (redis, nats) = (cache.redis_status(), cache.nats_status());
                    let down = [redis, nats].contains(&BackendStatus::Down);
                    (
                        if down { "degraded" } else { "ready" },
                        serde_json::json!({
                            "region": cache.region(),
                            "redis": redis.as_str(),
                            "nats": nats.as_str(),
                        }),
                    )
                }
            };
            HttpResponse::Ok().json(serde_json::json!({
                "status": status,
                "schema": state.schema_hash,
                "database": "ok",
                "cache": cache,
            }))
        }
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
