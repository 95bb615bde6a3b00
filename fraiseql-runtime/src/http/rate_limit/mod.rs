//! Per-client rate limits (`FRAISEQL_RATE_LIMIT`, `FRAISEQL_RATE_LIMIT_BURST`; off by default).
//! A client is its bearer token (hashed: the token never sits in memory or Redis as text) or,
//! without one, its peer address. With `REDIS_URL` the budget is shared by every instance
//! through Redis (`shared.rs`); while Redis fails the in-process limiter (`gcra.rs`) decides,
//! so a dead Redis never fails a request. Over the budget: 429 with `Retry-After` and code
//! `RATE_LIMITED`, before the request is parsed or touches the database.

mod gcra;
mod shared;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};
use sha2::{Digest, Sha256};

use super::AppState;
use crate::graphql::errors;
use gcra::{ClientKey, Gcra, Local};
use shared::Shared;

/// `extensions.code` of a request over its client's rate limit.
pub const RATE_LIMITED: &str = "RATE_LIMITED";

/// A rate: `requests` per `period`, bursts of up to `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per period, sustained.
    pub requests: u32,
    /// The period (a second, a minute or an hour).
    pub period: Duration,
    /// Requests a client may send at once after being idle.
    pub burst: u32,
}

impl RateLimit {
    fn gcra(&self) -> Gcra {
        let period = u64::try_from(self.period.as_micros()).unwrap_or(u64::MAX);
        let interval = (period / u64::from(self.requests.max(1))).max(1);
        Gcra {
            interval,
            tolerance: interval.saturating_mul(u64::from(self.burst.max(1))),
        }
    }
}

/// Where the shared budget lives: the cache's Redis settings.
#[derive(Clone, Debug)]
pub struct SharedBudget {
    /// `REDIS_URL`.
    pub url: String,
    /// `FRAISEQL_CACHE_REDIS_PREFIX`; keys are `<prefix>rate:<client>`.
    pub prefix: String,
    /// `FRAISEQL_CACHE_REDIS_TIMEOUT_MS`.
    pub timeout: Duration,
    /// `FRAISEQL_CACHE_REDIS_RETRY_MS`: how long Redis is left alone after it failed.
    pub retry: Duration,
}

/// The limiter every `/graphql` request passes.
pub struct RateLimiter {
    limit: RateLimit,
    local: Local,
    shared: Option<Shared>,
    retry: Duration,
    started: Instant,
    /// Milliseconds since `started` before which Redis is not asked (it failed recently).
    redis_resting_until: AtomicU64,
    /// Whether the last Redis call failed (to log the change, not every failure).
    redis_down: AtomicBool,
}

impl RateLimiter {
    /// A limiter for `limit`, shared through `budget` when given. Call within the tokio
    /// runtime that outlives the server (Redis's connection task runs there).
    pub fn new(
        limit: RateLimit,
        budget: Option<&SharedBudget>,
    ) -> Result<RateLimiter, redis::RedisError> {
        let gcra = limit.gcra();
        let shared = budget
            .map(|b| Shared::new(&b.url, &b.prefix, gcra, b.timeout))
            .transpose()?;
        Ok(RateLimiter {
            limit,
            local: Local::new(gcra),
            shared,
            retry: budget.map_or(Duration::from_secs(1), |b| b.retry),
            started: Instant::now(),
            redis_resting_until: AtomicU64::new(0),
            redis_down: AtomicBool::new(false),
        })
    }

    /// `Ok(())` to admit the client's request, or `Err(time to wait)`.
    pub async fn check(&self, client: &ClientKey) -> Result<(), Duration> {
        if let Some(shared) = self.shared.as_ref().filter(|_| self.redis_awake()) {
            match shared.check(client).await {
                Ok(decision) => {
                    if self.redis_down.swap(false, Ordering::AcqRel) {
                        tracing::info!("Redis answers again: rate limits are shared again");
                    }
                    return decision.map_err(Duration::from_micros);
                }
                Err(error) => self.redis_failed(&error),
            }
        }
        self.local.check(client).map_err(Duration::from_micros)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn redis_awake(&self) -> bool {
        self.now_ms() >= self.redis_resting_until.load(Ordering::Acquire)
    }

    /// Falls back to the in-process budget for the retry interval, so requests do not each
    /// wait out Redis's timeout while it is down.
    fn redis_failed(&self, error: &shared::SharedError) {
        let retry = u64::try_from(self.retry.as_millis()).unwrap_or(u64::MAX);
        self.redis_resting_until
            .store(self.now_ms().saturating_add(retry), Ordering::Release);
        if !self.redis_down.swap(true, Ordering::AcqRel) {
            tracing::warn!(%error, "Redis is failing: rate limits fall back to this instance's own budget");
        }
    }

    /// The configured rate.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }
}

/// The client of a request: its bearer token's hash, else its peer address.
fn client_key(request: &ServiceRequest) -> ClientKey {
    let mut hasher = Sha256::new();
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty());
    match token {
        Some(token) => {
            hasher.update(b"token:");
            hasher.update(token.as_bytes());
        }
        None => {
            hasher.update(b"ip:");
            let ip = request.peer_addr().map(|a| a.ip().to_string());
            hasher.update(ip.as_deref().unwrap_or("unknown").as_bytes());
        }
    }
    let digest = hasher.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// The middleware (`middleware::from_fn`), inside `observe` so refused requests are counted.
pub(crate) async fn limit(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let limited = state
        .as_ref()
        .and_then(|state| Some((state, state.rate_limiter.clone()?)))
        .filter(|_| request.path() == "/graphql");
    let Some((state, limiter)) = limited else {
        return next.call(request).await.map(|r| r.map_into_left_body());
    };
    match limiter.check(&client_key(&request)).await {
        Ok(()) => next.call(request).await.map(|r| r.map_into_left_body()),
        Err(wait) => {
            let body = refusal(wait, limiter.limit());
            state.metrics.requests.count_errors(&body);
            Ok(request
                .into_response(too_many(wait, body))
                .map_into_right_body())
        }
    }
}

/// Whole seconds until `wait` has passed, at least one (`Retry-After` has no fractions).
fn retry_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The GraphQL error body of a refused request.
fn refusal(wait: Duration, limit: RateLimit) -> Vec<u8> {
    let message = format!(
        "too many requests: this client may send {} per {} s (bursts of {}); retry in {} s",
        limit.requests,
        limit.period.as_secs(),
        limit.burst,
        retry_seconds(wait)
    );
    errors::body(&[errors::plain(message, RATE_LIMITED)])
}

/// 429 with `Retry-After` and the GraphQL error body.
fn too_many(wait: Duration, body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(StatusCode::TOO_MANY_REQUESTS)
        .insert_header((header::RETRY_AFTER, retry_seconds(wait).to_string()))
        .content_type("application/json")
        .body(body)
}
