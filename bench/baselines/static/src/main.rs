//! Baseline C of `bench/run.sh`: the ceiling for a cache hit. An actix-web handler that reads
//! the request body and answers every `POST /graphql` with the same bytes: the body in the file
//! `BENCH_BODY_FILE` (the script saves FraiseQL's answer to Q1 there) and the headers FraiseQL
//! sends with a cached Q1 (`Cache-Control`, `ETag`, `Vary`) as constants from `BENCH_ETAG`.
//!
//! Settings: `BENCH_BIND` (127.0.0.1:18093), `BENCH_WORKERS` (default: the number of cores).

use actix_web::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG, VARY};
use actix_web::{web, App, HttpResponse, HttpServer};

struct Answer {
    body: web::Bytes,
    etag: HeaderValue,
}

async fn graphql(_body: web::Bytes, answer: web::Data<Answer>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        ))
        .insert_header((
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        ))
        .insert_header((ETAG, answer.etag.clone()))
        .insert_header((
            VARY,
            HeaderValue::from_static("Accept, FraiseQL-Consistency"),
        ))
        .body(answer.body.clone())
}

fn main() -> std::io::Result<()> {
    let bind = std::env::var("BENCH_BIND").unwrap_or_else(|_| "127.0.0.1:18093".into());
    let path = std::env::var("BENCH_BODY_FILE").expect("BENCH_BODY_FILE names the answer's file");
    let body = web::Bytes::from(std::fs::read(&path)?);
    let etag = std::env::var("BENCH_ETAG").unwrap_or_else(|_| "\"0\"".into());
    let etag = HeaderValue::from_str(&etag).expect("BENCH_ETAG is a header value");
    let workers: usize = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let answer = web::Data::new(Answer { body, etag });
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(answer.clone())
                .app_data(web::PayloadConfig::new(1024 * 1024))
                .route("/graphql", web::post().to(graphql))
        })
        .workers(workers)
        .bind(bind)?
        .run()
        .await
    })
}
