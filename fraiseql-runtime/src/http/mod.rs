//! The HTTP surface (actix-web): `POST/GET /graphql` (GraphQL over HTTP, with the playground for
//! browsers), `/playground/*` assets, `/health/live`, `/health/ready` and `/metrics`.

mod accept;
mod batch;
mod caching;
mod compression;
mod cors;
mod graphql_route;
mod health;
pub mod lifecycle;
mod observe;
pub mod rate_limit;
pub mod settings;

use std::sync::Arc;

use actix_web::middleware::Condition;
use actix_web::{web, App, HttpResponse, HttpServer};

use crate::config::Config;
use crate::graphql::GraphqlService;
use crate::metrics::Metrics;

/// What every handler shares.
pub struct AppState {
    /// The GraphQL service.
    pub service: GraphqlService,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// Schema hash reported by `/health/ready`.
    pub schema_hash: &'static str,
    /// Set once a shutdown signal arrived (readiness is then 503).
    pub draining: lifecycle::Draining,
    /// CORS and compression (`FRAISEQL_CORS_ORIGINS`, `FRAISEQL_COMPRESSION`).
    pub http: settings::HttpSettings,
    /// Per-client rate limits (`FRAISEQL_RATE_LIMIT`), when configured.
    pub rate_limiter: Option<Arc<rate_limit::RateLimiter>>,
}

/// Serves until SIGINT/SIGTERM, then drains (see [`lifecycle`]), stops accepting and finishes
/// in-flight requests.
pub async fn serve(
    config: &Config,
    shutdown: lifecycle::ShutdownSettings,
    state: AppState,
) -> std::io::Result<()> {
    let draining = state.draining.clone();
    let max_body_bytes = state.service.limits().max_body_bytes;
    let http = state.http.clone();
    let state = web::Data::new(state);
    tracing::info!(bind = %config.bind, "serving GraphQL at http://{}/graphql", config.bind);
    let server = HttpServer::new(move || {
        // Outermost last: CORS answers preflights before anything else sees them; compression
        // encodes whatever the handlers (and the overload answers) wrote.
        let cors = http
            .cors
            .as_ref()
            .map_or_else(actix_cors::Cors::default, cors::middleware);
        App::new()
            .app_data(state.clone())
            // Inside `observe`, so refused requests are counted by status like any other.
            // Only when configured: even a pass-through `from_fn` boxes every request's future.
            .wrap(Condition::new(
                state.rate_limiter.is_some(),
                actix_web::middleware::from_fn(rate_limit::limit),
            ))
            .wrap(actix_web::middleware::from_fn(observe::observe))
            .wrap(Condition::new(
                http.compression,
                compression::CompressWhenAccepted,
            ))
            .wrap(Condition::new(http.cors.is_some(), cors))
            .app_data(web::PayloadConfig::new(max_body_bytes))
            .route("/graphql", web::post().to(graphql_route::post))
            .route("/graphql", web::get().to(graphql_route::get))
            .route("/graphql", web::route().to(graphql_route::other_method))
            .route(
                "/playground/{file}",
                web::get().to(graphql_route::playground_asset),
            )
            .route("/health/live", web::get().to(health::live))
            .route("/health/ready", web::get().to(health::ready))
            .route("/metrics", web::get().to(metrics))
    })
    .bind(config.bind)?
    // Signals are ours: readiness must turn 503 and the drain run before accepting stops.
    .disable_signals()
    .shutdown_timeout(shutdown.shutdown_timeout.as_secs())
    .run();
    actix_web::rt::spawn(lifecycle::on_signal(server.handle(), draining, shutdown));
    server.await
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    if let Some(cache) = state.service.cache() {
        cache.observe();
    }
    let database = state.service.database();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(
            state
                .metrics
                .render(&database.pool_statuses(), &database.replica_statuses()),
        )
}
