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

/// `GET /health/ready`: 200 when the primary answers within a second, else 503. Read replicas
/// do not decide readiness (reads fall back to the primary); the body reports each one:
/// `"ok"`, `"lagging"` (answers, but further behind than `FRAISEQL_REPLICA_MAX_LAG_MS`) or
/// `"degraded"` (out of rotation: failed its probe). 503 at once while the server drains
/// after a shutdown signal. The schema hash makes instances running different schemas visible
/// during a rollout. A cache backend that is down (Redis, NATS) only makes it "degraded":
/// requests still succeed.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.draining.is_set() {
        return HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "status": "draining",
            "schema": state.schema_hash,
        }));
    }
    let database = state.service.database();
    let replicas = database.replica_set().map(|set| {
        let bound = set.routing().default_max_lag;
        set.statuses()
            .into_iter()
            .map(|r| {
                let state = match (r.healthy, r.lag) {
                    (true, Some(lag)) if lag <= bound => "ok",
                    (true, _) => "lagging",
                    (false, _) => "degraded",
                };
                (r.label, serde_json::Value::from(state))
            })
            .collect::<serde_json::Map<_, _>>()
    });
    let (status, mut body) = match database.ping(READY_TIMEOUT).await {
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
            (
                actix_web::http::StatusCode::OK,
                serde_json::json!({
                    "status": status,
                    "schema": state.schema_hash,
                    "database": "ok",
                    "cache": cache,
                }),
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database not answering");
            (
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({
                    "status": "unavailable",
                    "schema": state.schema_hash,
                    "database": "down",
                }),
            )
        }
    };
    if let (Some(replicas), Some(object)) = (replicas, body.as_object_mut()) {
        object.insert("replicas".into(), serde_json::Value::Object(replicas));
    }
    let mut response = HttpResponse::build(status);
    if !status.is_success() {
        response.insert_header((
            actix_web::http::header::RETRY_AFTER,
            super::graphql_route::RETRY_AFTER_SECONDS,
        ));
    }
    response.json(body)
}
