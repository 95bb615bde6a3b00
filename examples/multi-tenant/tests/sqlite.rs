//! Authentication and row filters on SQLite: see `support/scenarios.rs`.

mod support;

use support::{scenarios, App};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_never_see_each_others_rows() {
    scenarios::isolation(&App::sqlite("isolation", false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_cache_keeps_tenants_apart() {
    scenarios::cache(&App::sqlite("cache", true).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tokens_and_denied_fields_run_no_sql() {
    scenarios::auth_errors(&App::sqlite("auth", false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resolvers_read_the_claims() {
    scenarios::resolver_claims(&App::sqlite("resolver", false).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_touch_only_the_callers_rows() {
    scenarios::mutations(&App::sqlite("mutations", false).await).await;
}
