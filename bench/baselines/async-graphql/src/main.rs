//! Baseline B of `bench/run.sh`: the Rust GraphQL peer. async-graphql served by
//! async-graphql-actix-web, written the way its book recommends: resolvers per field, a
//! `DataLoader` per relation in the schema's data (so each level is one batched statement), and
//! sqlx for the database. The relations use the statement shape `/work/shared/PERF-NOTES.md`
//! measured fastest (`unnest` + `CROSS JOIN LATERAL … LIMIT`), selecting only the columns the
//! types have.
//!
//! The schema is the part of the blog's API the benchmark queries:
//! `users(limit, offset)`, `user(id)`, `User.posts(limit)`, `Post.comments(limit)`.
//!
//! Settings (the same knobs FraiseQL has): `DATABASE_URL`, `BENCH_BIND` (127.0.0.1:18092),
//! `FRAISEQL_POOL_MAX` (16 connections), `BENCH_WORKERS` (default: the number of cores).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix_web::{web, App, HttpServer};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    ComplexObject, Context, EmptyMutation, EmptySubscription, Object, Result, Schema, SimpleObject,
    ID,
};
use async_graphql_actix_web::{GraphQLRequest, GraphQLResponse};
use sqlx::postgres::{PgPool, PgPoolOptions};

type BlogSchema = Schema<Query, EmptyMutation, EmptySubscription>;

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
struct User {
    id: ID,
    name: String,
    #[graphql(skip)]
    key: i64,
}

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
struct Post {
    id: ID,
    title: String,
    #[graphql(skip)]
    key: i64,
}

#[derive(SimpleObject, Clone)]
struct Comment {
    id: ID,
    body: String,
}

struct Query;

#[Object]
impl Query {
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] limit: i32,
        #[graphql(default = 0)] offset: i32,
    ) -> Result<Vec<User>> {
        let pool = ctx.data_unchecked::<PgPool>();
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM users ORDER BY id LIMIT $1 OFFSET $2")
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(pool)
                .await?;
        Ok(rows.into_iter().map(user).collect())
    }

    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        let key: i64 = id.parse()?;
        let pool = ctx.data_unchecked::<PgPool>();
        let row: Option<(i64, String)> = sqlx::query_as("SELECT id, name FROM users WHERE id = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?;
        Ok(row.map(user))
    }
}

fn user((key, name): (i64, String)) -> User {
    User {
        id: ID(key.to_string()),
        name,
        key,
    }
}

#[ComplexObject]
impl User {
    async fn posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] limit: i32,
    ) -> Result<Vec<Post>> {
        let loader = ctx.data_unchecked::<DataLoader<PostsOfUser>>();
        let key = Parent {
            key: self.key,
            limit,
        };
        Ok(loader.load_one(key).await?.unwrap_or_default())
    }
}

#[ComplexObject]
impl Post {
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] limit: i32,
    ) -> Result<Vec<Comment>> {
        let loader = ctx.data_unchecked::<DataLoader<CommentsOfPost>>();
        let key = Parent {
            key: self.key,
            limit,
        };
        Ok(loader.load_one(key).await?.unwrap_or_default())
    }
}

/// A DataLoader key: the parent row and the field's `limit` (rows per parent).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Parent {
    key: i64,
    limit: i32,
}

/// Keys grouped by limit: one statement per distinct limit (one in the benchmark).
fn by_limit(keys: &[Parent]) -> BTreeMap<i32, Vec<i64>> {
    let mut groups: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for k in keys {
        groups.entry(k.limit).or_default().push(k.key);
    }
    groups
}

struct PostsOfUser {
    pool: PgPool,
}

impl Loader<Parent> for PostsOfUser {
    type Value = Vec<Post>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Parent]) -> Result<HashMap<Parent, Vec<Post>>, Self::Error> {
        let mut out: HashMap<Parent, Vec<Post>> = HashMap::with_capacity(keys.len());
        for (limit, parents) in by_limit(keys) {
            let rows: Vec<(i64, i64, String)> = sqlx::query_as(
                "SELECT p.k, t.id, t.title FROM unnest($1::bigint[]) AS p(k) \
                 CROSS JOIN LATERAL (SELECT id, title FROM posts WHERE user_id = p.k \
                 ORDER BY id LIMIT $2) AS t ORDER BY p.k, t.id",
            )
            .bind(&parents)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
            for (parent, key, title) in rows {
                out.entry(Parent { key: parent, limit })
                    .or_default()
                    .push(Post {
                        id: ID(key.to_string()),
                        title,
                        key,
                    });
            }
        }
        Ok(out)
    }
}

struct CommentsOfPost {
    pool: PgPool,
}

impl Loader<Parent> for CommentsOfPost {
    type Value = Vec<Comment>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Parent]) -> Result<HashMap<Parent, Vec<Comment>>, Self::Error> {
        let mut out: HashMap<Parent, Vec<Comment>> = HashMap::with_capacity(keys.len());
        for (limit, parents) in by_limit(keys) {
            let rows: Vec<(i64, i64, String)> = sqlx::query_as(
                "SELECT p.k, t.id, t.body FROM unnest($1::bigint[]) AS p(k) \
                 CROSS JOIN LATERAL (SELECT id, body FROM comments WHERE post_id = p.k \
                 ORDER BY id LIMIT $2) AS t ORDER BY p.k, t.id",
            )
            .bind(&parents)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
            for (parent, key, body) in rows {
                out.entry(Parent { key: parent, limit })
                    .or_default()
                    .push(Comment {
                        id: ID(key.to_string()),
                        body,
                    });
            }
        }
        Ok(out)
    }
}

async fn graphql(schema: web::Data<BlogSchema>, request: GraphQLRequest) -> GraphQLResponse {
    schema.execute(request.into_inner()).await.into()
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn main() -> std::io::Result<()> {
    let url = env_or(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/fraiseql_bench",
    );
    let bind = env_or("BENCH_BIND", "127.0.0.1:18092");
    let pool_max: u32 = env_or("FRAISEQL_POOL_MAX", "16")
        .parse()
        .expect("FRAISEQL_POOL_MAX");
    let workers: usize = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    actix_web::rt::System::new().block_on(async move {
        let pool = PgPoolOptions::new()
            .max_connections(pool_max)
            .connect(&url)
            .await
            .map_err(std::io::Error::other)?;
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .data(DataLoader::new(
                PostsOfUser { pool: pool.clone() },
                tokio::spawn,
            ))
            .data(DataLoader::new(
                CommentsOfPost { pool: pool.clone() },
                tokio::spawn,
            ))
            .data(pool)
            .finish();
        let schema = web::Data::new(schema);
        HttpServer::new(move || {
            App::new()
                .app_data(schema.clone())
                .route("/graphql", web::post().to(graphql))
        })
        .workers(workers)
        .bind(bind)?
        .run()
        .await
    })
}
