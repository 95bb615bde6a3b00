//! Baseline A of `bench/run.sh`: the practical ceiling for the benchmark's queries. A
//! hand-written actix-web handler that reads the GraphQL request's JSON, recognises the three
//! benchmark documents by their exact text, runs the same SQL statements FraiseQL runs (the
//! text `fraiseql-blog explain` prints, prepared once per connection) with tokio-postgres, and
//! writes the same JSON bytes. No GraphQL parsing, validation or planning: what is left is the
//! HTTP server, the pool, the database round trips and the JSON writing every server pays.
//!
//! Settings (the same knobs FraiseQL has, so the script can give both the same values):
//! `DATABASE_URL`, `BENCH_BIND` (127.0.0.1:18091), `FRAISEQL_POOL_MAX` (16 sessions in all),
//! `BENCH_WORKERS` (actix workers; default: the number of cores, actix's own default).
//!
//! The pool: like FraiseQL's, one per worker runtime (a tokio-postgres connection's socket task
//! lives on the runtime that opened it), the process-wide limit split evenly between workers.

use std::borrow::Cow;
use std::collections::HashMap;

use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::{web, App, HttpResponse, HttpServer};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::Deserialize;
use tokio_postgres::NoTls;

const Q1: &str = "{ users(limit: 50) { id name } }";
const Q2: &str = "query ($id: ID!) { user(id: $id) { id name } }";
const Q3: &str =
    "{ users(limit: 50) { id name posts(limit: 5) { id title comments(limit: 3) { id body } } } }";

/// FraiseQL's statements for the three documents, byte for byte.
const USERS_SQL: &str = "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, t.\"id\" AS \"id\", t.\"name\" AS \"name\", NULL AS \"email\", NULL AS \"bio\", NULL AS \"created_at\" FROM \"users\" AS t WHERE 1 = 1 ORDER BY t.\"id\" ASC LIMIT $1 OFFSET $2";
const USER_SQL: &str = "SELECT CAST(0 AS BIGINT) AS __fraiseql_parent, t.\"id\" AS \"id\", t.\"name\" AS \"name\", NULL AS \"email\", NULL AS \"bio\", NULL AS \"created_at\" FROM \"users\" AS t WHERE t.\"id\" = $1";
const POSTS_SQL: &str = "SELECT p.k AS __fraiseql_parent, t.\"id\" AS \"id\", t.\"title\" AS \"title\", NULL AS \"body\", NULL AS \"published\", NULL AS \"status\", NULL AS \"rating\", NULL AS \"views\", NULL AS \"metadata\", NULL AS \"created_at\", NULL AS \"user_id\" FROM unnest($1::bigint[]) AS p(k) CROSS JOIN LATERAL (SELECT t.* FROM \"posts\" AS t WHERE t.\"user_id\" = p.k ORDER BY t.\"id\" ASC LIMIT $2 OFFSET $3) AS t ORDER BY p.k, t.\"id\" ASC";
const COMMENTS_SQL: &str = "SELECT p.k AS __fraiseql_parent, t.\"id\" AS \"id\", t.\"body\" AS \"body\", NULL AS \"created_at\", NULL AS \"post_id\", NULL AS \"user_id\" FROM unnest($1::bigint[]) AS p(k) CROSS JOIN LATERAL (SELECT t.* FROM \"comments\" AS t WHERE t.\"post_id\" = p.k ORDER BY t.\"id\" ASC LIMIT $2 OFFSET $3) AS t ORDER BY p.k, t.\"id\" ASC";

#[derive(Deserialize)]
struct GraphqlRequest<'a> {
    #[serde(borrow)]
    query: Cow<'a, str>,
    #[serde(default, borrow)]
    variables: Option<Variables<'a>>,
}

#[derive(Deserialize)]
struct Variables<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
}

enum Failure {
    BadRequest(&'static str),
    Database(String),
}

impl From<deadpool_postgres::PoolError> for Failure {
    fn from(e: deadpool_postgres::PoolError) -> Failure {
        Failure::Database(e.to_string())
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Failure {
        Failure::Database(e.to_string())
    }
}

async fn graphql(body: web::Bytes, pool: web::Data<Pool>) -> HttpResponse {
    let request: GraphqlRequest<'_> = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => return HttpResponse::BadRequest().body("malformed request"),
    };
    let mut out = Vec::with_capacity(4096);
    let result = match request.query.as_ref() {
        Q1 => users(&pool, &mut out).await,
        Q2 => {
            let id = request
                .variables
                .and_then(|v| v.id)
                .and_then(|id| id.parse::<i64>().ok());
            match id {
                Some(id) => user(&pool, id, &mut out).await,
                None => Err(Failure::BadRequest("$id must be an integer ID")),
            }
        }
        Q3 => nested(&pool, &mut out).await,
        _ => Err(Failure::BadRequest("unknown document")),
    };
    match result {
        Ok(()) => HttpResponse::Ok()
            .insert_header((
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            ))
            .body(out),
        Err(Failure::BadRequest(message)) => HttpResponse::BadRequest().body(message),
        Err(Failure::Database(message)) => HttpResponse::InternalServerError().body(message),
    }
}

/// Q1: `{"data":{"users":[{"id":"1","name":"…"},…]}}`.
async fn users(pool: &Pool, out: &mut Vec<u8>) -> Result<(), Failure> {
    let client = pool.get().await?;
    let statement = client.prepare_cached(USERS_SQL).await?;
    let rows = client.query(&statement, &[&50i64, &0i64]).await?;
    out.extend_from_slice(b"{\"data\":{\"users\":[");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"id\":");
        id(out, row.get(1));
        out.extend_from_slice(b",\"name\":");
        string(out, row.get(2));
        out.push(b'}');
    }
    out.extend_from_slice(b"]}}");
    Ok(())
}

/// Q2: `{"data":{"user":{"id":"7","name":"…"}}}` or `{"data":{"user":null}}`.
async fn user(pool: &Pool, key: i64, out: &mut Vec<u8>) -> Result<(), Failure> {
    let client = pool.get().await?;
    let statement = client.prepare_cached(USER_SQL).await?;
    let row = client.query_opt(&statement, &[&key]).await?;
    out.extend_from_slice(b"{\"data\":{\"user\":");
    match row {
        Some(row) => {
            out.extend_from_slice(b"{\"id\":");
            id(out, row.get(1));
            out.extend_from_slice(b",\"name\":");
            string(out, row.get(2));
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}}");
    Ok(())
}

/// Q3: users → 5 posts each → 3 comments each; one statement per level, children grouped by
/// their parent's key.
async fn nested(pool: &Pool, out: &mut Vec<u8>) -> Result<(), Failure> {
    let client = pool.get().await?;
    let users_statement = client.prepare_cached(USERS_SQL).await?;
    let posts_statement = client.prepare_cached(POSTS_SQL).await?;
    let comments_statement = client.prepare_cached(COMMENTS_SQL).await?;

    let users = client.query(&users_statement, &[&50i64, &0i64]).await?;
    let user_ids: Vec<i64> = users.iter().map(|r| r.get::<_, i64>(1)).collect();
    let posts = client
        .query(&posts_statement, &[&user_ids, &5i64, &0i64])
        .await?;
    let post_ids: Vec<i64> = posts.iter().map(|r| r.get::<_, i64>(1)).collect();
    let comments = client
        .query(&comments_statement, &[&post_ids, &3i64, &0i64])
        .await?;
    drop(client);

    let posts_of = group(&posts);
    let comments_of = group(&comments);
    out.extend_from_slice(b"{\"data\":{\"users\":[");
    for (i, u) in users.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let user_id: i64 = u.get(1);
        out.extend_from_slice(b"{\"id\":");
        id(out, user_id);
        out.extend_from_slice(b",\"name\":");
        string(out, u.get(2));
        out.extend_from_slice(b",\"posts\":[");
        for (j, &p) in posts_of
            .get(&user_id)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .enumerate()
        {
            if j > 0 {
                out.push(b',');
            }
            let post = &posts[p];
            let post_id: i64 = post.get(1);
            out.extend_from_slice(b"{\"id\":");
            id(out, post_id);
            out.extend_from_slice(b",\"title\":");
            string(out, post.get(2));
            out.extend_from_slice(b",\"comments\":[");
            for (k, &c) in comments_of
                .get(&post_id)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .enumerate()
            {
                if k > 0 {
                    out.push(b',');
                }
                let comment = &comments[c];
                out.extend_from_slice(b"{\"id\":");
                id(out, comment.get(1));
                out.extend_from_slice(b",\"body\":");
                string(out, comment.get(2));
                out.push(b'}');
            }
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}}");
    Ok(())
}

/// Row indexes by parent key (column 0), in statement order.
fn group(rows: &[tokio_postgres::Row]) -> HashMap<i64, Vec<usize>> {
    let mut groups: HashMap<i64, Vec<usize>> = HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        groups.entry(row.get::<_, i64>(0)).or_default().push(i);
    }
    groups
}

/// An `ID`: the integer as a JSON string.
fn id(out: &mut Vec<u8>, value: i64) {
    out.push(b'"');
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    out.push(b'"');
}

/// An escaped JSON string (serde_json's escaping).
fn string(out: &mut Vec<u8>, value: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn pool(url: &str, size: usize) -> Pool {
    let config: tokio_postgres::Config = url.parse().expect("DATABASE_URL is a PostgreSQL URL");
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .build()
        .expect("pool settings are valid")
}

fn main() -> std::io::Result<()> {
    let url = env_or(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/fraiseql_bench",
    );
    let bind = env_or("BENCH_BIND", "127.0.0.1:18091");
    let pool_max: usize = env_or("FRAISEQL_POOL_MAX", "16")
        .parse()
        .expect("FRAISEQL_POOL_MAX");
    let workers: usize = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let per_worker = (pool_max / workers).max(1);
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            // Called on each worker's own runtime: its connections are driven there.
            App::new()
                .app_data(web::Data::new(pool(&url, per_worker)))
                .app_data(web::PayloadConfig::new(1024 * 1024))
                .route("/graphql", web::post().to(graphql))
        })
        .workers(workers)
        .bind(bind)?
        .run()
        .await
    })
}
