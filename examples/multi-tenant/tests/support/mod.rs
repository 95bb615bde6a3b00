//! The multi-tenant app served in-process on a database of its own (a SQLite file, or a
//! PostgreSQL database on the test server), with two tenants' rows, HS256 tokens signed with
//! the test secret, and each request's statements counted as the sessions ran them.

#![allow(dead_code)] // each test file uses its own part

use std::process::Command;
use std::sync::Arc;

use fraiseql_runtime::auth::{AuthSettings, Authenticator};
use fraiseql_runtime::cache::{CacheSettings, ResultCache};
use fraiseql_runtime::db::stats::observe_request;
use fraiseql_runtime::db::{migrate::migrate, Database, DatabaseUrl, PoolSettings};
use fraiseql_runtime::graphql::{GraphqlRequest, GraphqlService, Headers, Outcome, Transport};
use fraiseql_runtime::metrics::Metrics;
use fraiseql_runtime::schema::ApiSchema;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use multi_tenant::schema::SCHEMA;
use serde_json::{json, Value};

pub const SECRET: &str = "multi-tenant-test-secret";

/// An HS256 token for `claims`, valid for an hour unless `claims` sets `exp`.
pub fn token(mut claims: Value) -> String {
    if claims.get("exp").is_none() {
        claims["exp"] = json!(jsonwebtoken::get_current_timestamp() + 3600);
    }
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign")
}

/// A caller of `tenant` named `sub`, with `roles`.
pub fn caller(tenant: &str, sub: &str, roles: &[&str]) -> String {
    token(json!({"tenant": tenant, "sub": sub, "roles": roles}))
}

/// What a request came back as.
#[derive(Debug)]
pub struct Answer {
    /// `true` when the token was refused (HTTP 401).
    pub unauthenticated: bool,
    pub body: Value,
    /// Statements the request's sessions ran.
    pub statements: usize,
}

impl Answer {
    /// `data`, asserting there are no errors.
    pub fn data(&self) -> &Value {
        assert!(self.body.get("errors").is_none(), "{}", self.body);
        &self.body["data"]
    }

    /// The first error's `extensions.code`.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
    }
}

pub struct App {
    pub service: GraphqlService,
    pub db: Database,
    pub metrics: Arc<Metrics>,
    /// The PostgreSQL database to drop, if any.
    pg: Option<String>,
}

pub const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

impl App {
    /// On a new SQLite file.
    pub async fn sqlite(tag: &str, cache: bool) -> App {
        let dir =
            std::env::temp_dir().join(format!("fraiseql-tenants-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = DatabaseUrl::Sqlite {
            path: dir.join("app.db"),
        };
        App::start(url, None, cache).await
    }

    /// On a new PostgreSQL database (dropped on drop).
    pub async fn postgres(tag: &str, cache: bool) -> App {
        let name = format!("fraiseql_tenants_{tag}_{}", std::process::id());
        psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        psql(&format!("CREATE DATABASE {name}"));
        let url = DatabaseUrl::Postgres {
            url: format!("{PG_SERVER}/{name}"),
        };
        App::start(url, Some(name), cache).await
    }

    async fn start(url: DatabaseUrl, pg: Option<String>, cache: bool) -> App {
        let db = Database::connect(&url, &PoolSettings::default())
            .await
            .expect("connect");
        migrate(&SCHEMA, &db, false).await.expect("migrate");
        let api = Arc::new(ApiSchema::load(&SCHEMA).expect("api schema"));
        let metrics = Arc::new(Metrics::new().expect("metrics"));
        let auth = Authenticator::from_settings(&AuthSettings {
            secret: Some(SECRET.into()),
            ..AuthSettings::default()
        })
        .expect("auth");
        let mut service = GraphqlService::new(api, db.clone(), metrics.clone()).with_auth(auth);
        if cache {
            let results = ResultCache::start(CacheSettings::default(), &SCHEMA, metrics.clone())
                .await
                .expect("result cache");
            service = service.with_cache(results);
        }
        let app = App {
            service,
            db,
            metrics,
            pg,
        };
        app.seed().await;
        app
    }

    /// Two tenants, `acme` (projects 1, 2) and `globex` (projects 3, 4), two tasks per
    /// project; task 9 is globex's but points at acme's project 1 (a foreign key across
    /// tenants, as a bug or an attacker could leave it): acme must not see it under project 1.
    async fn seed(&self) {
        let mut session = self.db.session().await.expect("session");
        let mut sql = String::from(
            "INSERT INTO projects (id, tenant_id, name, budget) VALUES \
             (1, 'acme', 'Rocket', 100), (2, 'acme', 'Anvil', 200), \
             (3, 'globex', 'Widget', 300), (4, 'globex', 'Gizmo', 400);\n",
        );
        for project in 1..=4 {
            let tenant = if project <= 2 { "acme" } else { "globex" };
            let who = if project <= 2 { "ann" } else { "gus" };
            for n in 0..2 {
                let id = (project - 1) * 2 + n + 1;
                sql.push_str(&format!(
                    "INSERT INTO tasks (id, tenant_id, title, assignee, project_id) VALUES \
                     ({id}, '{tenant}', '{tenant} task {id}', '{who}', {project});\n"
                ));
            }
        }
        sql.push_str(
            "INSERT INTO tasks (id, tenant_id, title, assignee, project_id) VALUES \
             (9, 'globex', 'globex intruder', 'gus', 1);\n\
             INSERT INTO audit_entries (id, message) VALUES (1, 'created');\n",
        );
        if self.pg.is_some() {
            // Explicit ids do not move PostgreSQL's key sequences: start them past the seed.
            for table in ["projects", "tasks", "audit_entries"] {
                sql.push_str(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100);\n"
                ));
            }
        }
        session.execute_batch(&sql).await.expect("seed");
    }

    /// Runs `query` as the caller of `token` (`None`: anonymous).
    pub async fn run(&self, token: Option<&str>, query: &str, variables: Value) -> Answer {
        let headers = token
            .map(|t| vec![("Authorization".to_string(), format!("Bearer {t}"))])
            .unwrap_or_default();
        self.run_with_headers(headers, query, variables).await
    }

    pub async fn run_with_headers(
        &self,
        headers: Vec<(String, String)>,
        query: &str,
        variables: Value,
    ) -> Answer {
        let request = GraphqlRequest {
            query: query.to_string(),
            persisted: None,
            variables: serde_json::from_value(variables).expect("variables"),
            operation_name: None,
            headers: Headers::from_pairs(headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
        };
        let (outcome, statements) =
            observe_request(self.service.handle(request, Transport::Post)).await;
        let (unauthenticated, body) = match outcome {
            Outcome::Executed(outcome) => (false, outcome.body),
            Outcome::Unauthenticated(b) => (true, b),
            Outcome::BadRequest(b)
            | Outcome::MethodNotAllowed(b)
            | Outcome::NotExecuted(b)
            | Outcome::PersistedQueryNotFound(b) => (false, b),
        };
        Answer {
            unauthenticated,
            body: serde_json::from_slice(&body).expect("JSON body"),
            statements: statements.timings.len(),
        }
    }

    /// L1 hits so far.
    pub fn l1_hits(&self) -> u64 {
        self.metrics.cache.hits.with_label_values(&["l1"]).get()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(name) = &self.pg {
            psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn psql(sql: &str) {
    psql_on("postgres", sql);
}

/// Runs `sql` with psql on `database` of the test server.
pub fn psql_on(database: &str, sql: &str) {
    let url = format!("{PG_SERVER}/{database}");
    let out = Command::new("psql")
        .args(["-X", "-q", "-d", &url, "-c", sql])
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql failed: {sql}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The ids in a list of objects.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_string())
        .collect()
}

pub mod scenarios;
