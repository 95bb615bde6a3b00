//! The command line of every FraiseQL server binary: `serve` (the default), `migrate`, `seed`,
//! `check`, `explain` and `print-schema`. A user's `main` is one call to [`main`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use apollo_compiler::ExecutableDocument;
use clap::{Parser, Subcommand};

use crate::cache::ResultCache;
use crate::config::{self, Config};
use crate::db::shard::{ShardMap, ShardSettings};
use crate::db::{self, Database, DatabaseUrl, PoolSettings};
use crate::graphql::GraphqlService;
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::model::SchemaModel;
use crate::persisted::{apq::ApqRedis, ApqStore};
use crate::plan::OperationPlan;
use crate::schema::ApiSchema;

/// Exit code for configuration the server cannot use.
const EXIT_CONFIG: u8 = 2;

#[derive(Parser)]
#[command(
    about = "A FraiseQL GraphQL server compiled from schema/*.graphql",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve GraphQL over HTTP (the default). Configuration: DATABASE_URL, FRAISEQL_BIND,
    /// FRAISEQL_POOL_*, FRAISEQL_STATEMENT_*, DATABASE_URL_REPLICA, FRAISEQL_READS,
    /// FRAISEQL_REPLICA_*, DATABASE_URL_SHARDS, FRAISEQL_SHARD_RANGES, REDIS_URL, NATS_URL,
    /// FRAISEQL_REGION, FRAISEQL_CACHE_*, FRAISEQL_DRAIN_S, FRAISEQL_SHUTDOWN_TIMEOUT_S, RUST_LOG
    /// (see the README).
    Serve,
    /// Add missing tables, columns and indexes (never drops anything; safe to re-run), on the
    /// primary and on every shard.
    Migrate {
        /// Print the DDL instead of running it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Insert the deterministic demo data into empty tables.
    Seed {
        /// Multiply every type's demo row count (benchmarks use 10).
        #[arg(long, default_value_t = 1)]
        scale: u32,
    },
    /// Check that the database has every table and column the schema needs.
    Check,
    /// Show the SQL statements a query document runs, with routes (as FRAISEQL_READS and
    /// FRAISEQL_REPLICA_MAX_LAG_MS resolve them) and cache policies.
    Explain {
        /// A file holding one GraphQL query document.
        file: PathBuf,
        /// Variables as a JSON object (checked against the operation's variable types).
        #[arg(long)]
        variables: Option<String>,
        /// The operation to explain when the document has several.
        #[arg(long)]
        operation: Option<String>,
        /// Run the statements on the database (DATABASE_URL) and show how it executed each
        /// (PostgreSQL EXPLAIN ANALYZE, rolled back; SQLite EXPLAIN QUERY PLAN), flagging full
        /// scans of large tables with the index that would help. Queries only.
        #[arg(long)]
        analyze: bool,
    },
    /// Print the API schema (SDL with the generated arguments and input types).
    PrintSchema,
    /// Print which database holds the row of a type with this shard key (`shard-<n>`, or
    /// `primary` for a type without @shard), as DATABASE_URL_SHARDS and FRAISEQL_SHARD_RANGES
    /// place it.
    ShardOf {
        /// The GraphQL type, e.g. `User`.
        #[arg(value_name = "TYPE")]
        type_name: String,
        /// The value of its shard key (an integer).
        key: String,
    },
}

/// Runs the command line for `model`; the whole `main` of a FraiseQL server binary.
pub fn main(model: &'static SchemaModel) -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = init_logging() {
        return config_error(e);
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::PrintSchema => {
            print!("{}", model.api_sdl);
            ExitCode::SUCCESS
        }
        Command::Explain {
            file,
            variables,
            operation,
            analyze,
        } => explain(
            model,
            &file,
            variables.as_deref(),
            operation.as_deref(),
            analyze,
        ),
        Command::ShardOf { type_name, key } => shard_of(model, &type_name, &key),
        Command::Serve => with_runtime(serve(model)),
        Command::Migrate { dry_run } => with_runtime(migrate(model, dry_run)),
        Command::Seed { scale } => with_runtime(seed(model, scale)),
        Command::Check => with_runtime(check(model)),
    }
}

/// Logs to stderr (stdout carries command output such as DDL and plans), filtered by `RUST_LOG`.
fn init_logging() -> Result<(), config::ConfigError> {
    let lookup = |name: &str| std::env::var(name).ok();
    let filter = config::log_filter(&lookup)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Fails only if a subscriber is already set (an embedding program did it); keep theirs.
    let _ = match config::log_format(&lookup)? {
        config::LogFormat::Json => builder.json().try_init(),
        // Colour codes only help a person at a terminal; in files and log collectors they are noise.
        config::LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
    Ok(())
}

/// Runs a command on actix's default system runtime (a current-thread tokio runtime).
///
/// Why not `System::with_tokio_rt` and a multi-thread runtime: `HttpServer` starts each worker
/// on an arbiter with its own current-thread runtime whatever the system runtime is, so that
/// choice would not change where handlers run. What matters is the PostgreSQL pool: a
/// tokio-postgres connection's socket task lives on the runtime that opened it, and a statement
/// driven from another runtime is a cross-thread hand-off (or hangs once that runtime idles).
/// `db::postgres` keeps one pool per runtime under one process-wide session limit, so each
/// worker drives its own connections on its own thread, with no hand-off at all, and a one-shot
/// command's runtime works the same way (tested in `tests/http_health.rs`: concurrent clients
/// on PostgreSQL across both workers). Current-thread workers also keep actix's `!Send`
/// handler futures cheap.
fn with_runtime(future: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match actix_web::rt::System::new().block_on(async { Ok::<_, std::io::Error>(future.await) }) {
        Ok(code) => code,
        Err(e) => fail(format!("cannot start the runtime: {e}")),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn config_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_CONFIG)
}

/// How long a command waits for the database to answer its first ping.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens the pool and proves the database answers, so an unreachable server is reported as
/// such and never as schema drift.
async fn connect(url: &DatabaseUrl, pool: &PoolSettings) -> Result<Database, ExitCode> {
    let database = Database::connect(url, pool)
        .await
        .map_err(|e| fail(format!("{e}")))?;
    database
        .ping(CONNECT_TIMEOUT)
        .await
        .map_err(|e| fail(format!("the database does not answer: {e}")))?;
    Ok(database)
}

async fn database_from_env(model: &SchemaModel) -> Result<Database, ExitCode> {
    let url = url_from_env()?;
    let shards = shards_from_env(model, &url)?;
    let pool = pool_from_env()?;
    attach_shards(connect(&url, &pool).await?, &shards, &pool).await
}

fn url_from_env() -> Result<DatabaseUrl, ExitCode> {
    config::database_url(&|name| std::env::var(name).ok()).map_err(config_error)
}

/// The shards as the environment configures them for `primary` (checked against `model`:
/// `RANGE` types need ranges).
fn shards_from_env(model: &SchemaModel, primary: &DatabaseUrl) -> Result<ShardSettings, ExitCode> {
    let settings = db::shard::shard_settings(&|name| std::env::var(name).ok(), primary)
        .map_err(config_error)?;
    check_ranges(model, &settings)?;
    Ok(settings)
}

fn check_ranges(model: &SchemaModel, settings: &ShardSettings) -> Result<(), ExitCode> {
    if let Some(type_name) = ShardMap::new(settings).and_then(|m| m.missing_ranges(model)) {
        return Err(config_error(config::ConfigError::MissingShardRanges {
            type_name,
        }));
    }
    Ok(())
}

/// `database` with its shards (`settings`), each proven to answer.
async fn attach_shards(
    database: Database,
    settings: &ShardSettings,
    pool: &PoolSettings,
) -> Result<Database, ExitCode> {
    let database = database
        .with_shards(settings, pool)
        .await
        .map_err(|e| fail(format!("cannot set up the shards: {e}")))?;
    if let Some(router) = database.shard_router() {
        for (label, shard) in router.databases() {
            shard
                .ping(CONNECT_TIMEOUT)
                .await
                .map_err(|e| fail(format!("{label} does not answer: {e}")))?;
        }
    }
    Ok(database)
}

/// The pool settings every command connects with (`FRAISEQL_STATEMENT_CACHE=off` matters to
/// `migrate` behind PgBouncer as much as to `serve`).
fn pool_from_env() -> Result<PoolSettings, ExitCode> {
    config::pool_settings(&|name| std::env::var(name).ok()).map_err(config_error)
}

/// The SQLite file `url` names when it does not exist yet. Read-only commands (`check`,
/// `migrate --dry-run`) must not create it: `serve` treats a missing file as new (creates,
/// migrates and seeds it) but an existing empty one as drift.
fn missing_sqlite_file(url: &DatabaseUrl) -> Option<&std::path::Path> {
    match url {
        DatabaseUrl::Sqlite { path } if !path.exists() => Some(path),
        _ => None,
    }
}

async fn serve(model: &'static SchemaModel) -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return config_error(e),
    };
    let shutdown =
        match http::lifecycle::ShutdownSettings::from_lookup(&|name| std::env::var(name).ok()) {
            Ok(s) => s,
            Err(e) => return config_error(e),
        };
    // Before connecting: a JWKS file that cannot be used stops the server at once.
    let auth = match crate::auth::AuthSettings::from_lookup(&|name| std::env::var(name).ok())
        .and_then(|settings| crate::auth::Authenticator::from_settings(&settings))
    {
        Ok(auth) => auth,
        Err(e) => return config_error(e),
    };
    if !auth.enabled() && model.types.iter().any(|t| !t.access.filters.is_empty()) {
        tracing::warn!(
            "the schema has @filter types but neither FRAISEQL_JWT_SECRET nor FRAISEQL_JWKS_FILE \
             is set: every caller is anonymous and reads no rows of them"
        );
    }
    let api = match ApiSchema::load(model) {
        Ok(api) => Arc::new(api),
        Err(e) => return fail(e),
    };
    let new_sqlite_file =
        matches!(&config.database_url, DatabaseUrl::Sqlite { path } if !path.exists());
    if matches!(config.database_url, DatabaseUrl::Sqlite { .. })
        && (config.pool.statement_timeout.is_some()
            || config.pool.idle_in_transaction_timeout.is_some())
    {
        // SQLite has no server to cancel a statement; its busy timeout already bounds how
        // long a statement waits for the write lock.
        tracing::warn!(
            "FRAISEQL_STATEMENT_TIMEOUT_MS and FRAISEQL_IDLE_IN_TRANSACTION_TIMEOUT_MS apply to \
             PostgreSQL only; ignored for SQLite"
        );
    }
    if let Err(code) = check_ranges(model, &config.shards) {
        return code;
    }
    let database = match connect(&config.database_url, &config.pool).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let database = match attach_shards(database, &config.shards, &config.pool).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    if config.replicas.urls.is_empty() && config.replicas.routing.reads == db::Reads::Replica {
        tracing::warn!(
            "FRAISEQL_READS=replica without DATABASE_URL_REPLICA: every read goes to the primary"
        );
    }
    if new_sqlite_file {
        // The embedded default: a new file is created, migrated and seeded.
        if let Err(e) = db::migrate::migrate(model, &database, false).await {
            return fail(format!("cannot migrate the new database: {e}"));
        }
        if let Err(e) = db::migrate::migrate_shards(model, &database, false).await {
            return fail(format!("cannot migrate the shards: {e}"));
        }
        if database.shard_router().is_none() {
            match db::seed::seed_if_empty(model, &database, 1).await {
                Ok(Some(report)) => tracing::info!("new database: {report}"),
                Ok(None) => {}
                Err(e) => return fail(format!("cannot seed the new database: {e}")),
            }
        }
    } else if let Err(drift) = check_all(model, &database).await {
        eprintln!("error: the database does not match the schema:");
        for line in drift.to_string().lines() {
            eprintln!("  - {line}");
        }
        eprintln!(
            "hint: run \"{} migrate\" to add what is missing",
            binary_name()
        );
        return ExitCode::FAILURE;
    }
    // After the schema check (on the primary): replicas are its copies. Replicas that do not
    // answer yet are logged, not fatal: reads go to the primary until they do.
    let database = match database.with_replicas(&config.replicas, &config.pool).await {
        Ok(db) => db,
        Err(e) => return fail(format!("cannot set up the read replicas: {e}")),
    };
    let metrics = match Metrics::new() {
        Ok(m) => Arc::new(m),
        Err(e) => return fail(e),
    };
    let cache = match ResultCache::start(config.cache.clone(), model, metrics.clone()).await {
        Ok(cache) => cache,
        Err(e) => return config_error(e),
    };
    let rate_limiter = match rate_limiter(&config) {
        Ok(limiter) => limiter,
        Err(e) => return fail(format!("cannot set up rate limits: {e}")),
    };
    let apq = match apq_store(&config.cache) {
        Ok(apq) => apq,
        Err(code) => return code,
    };
    let service = GraphqlService::new(api, database, metrics.clone())
        .with_cache(cache)
        .with_limits(config.limits)
        .with_auth(auth)
        .with_persisted(apq, config.persisted_only);
    let service = match service {
        Ok(service) => service,
        // The compiler validated it, so what refuses it is a configured limit: exit 2.
        Err(e) => return config_error(e),
    };
    if config.persisted_only {
        tracing::info!(
            trusted = service.trusted_documents(),
            "FRAISEQL_PERSISTED_ONLY: only trusted documents run"
        );
    }
    let state = AppState {
        service,
        metrics,
        schema_hash: model.hash,
        draining: http::lifecycle::Draining::default(),
        http: config.http.clone(),
        rate_limiter,
    };
    match http::serve(&config, shutdown, state).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("cannot serve on {}: {e}", config.bind)),
    }
}

/// The rate limiter of `FRAISEQL_RATE_LIMIT`, its budget shared through the cache's Redis when
/// `REDIS_URL` is set.
fn rate_limiter(
    config: &Config,
) -> Result<Option<Arc<http::rate_limit::RateLimiter>>, redis::RedisError> {
    let Some(limit) = config.http.rate_limit else {
        return Ok(None);
    };
    let cache = &config.cache;
    let budget = cache
        .redis_url
        .as_ref()
        .map(|url| http::rate_limit::SharedBudget {
            url: url.clone(),
            prefix: cache.redis_prefix.clone(),
            timeout: cache.redis_timeout,
            retry: cache.redis_retry,
        });
    http::rate_limit::RateLimiter::new(limit, budget.as_ref()).map(|l| Some(Arc::new(l)))
}

/// APQ texts in process and, with `REDIS_URL`, in the region's Redis (the result cache's
/// prefix, timeout and retry interval).
fn apq_store(cache: &crate::cache::CacheSettings) -> Result<ApqStore, ExitCode> {
    let Some(url) = &cache.redis_url else {
        return Ok(ApqStore::new(None));
    };
    match ApqRedis::connect(
        url,
        &cache.redis_prefix,
        cache.redis_timeout,
        cache.redis_retry,
    ) {
        Ok(redis) => Ok(ApqStore::new(Some(redis))),
        Err(e) => Err(config_error(format!(
            "REDIS_URL is not a Redis URL this server can use: {e}"
        ))),
    }
}

async fn migrate(model: &'static SchemaModel, dry_run: bool) -> ExitCode {
    let mut url = match url_from_env() {
        Ok(url) => url,
        Err(code) => return code,
    };
    if dry_run && missing_sqlite_file(&url).is_some() {
        // Plan against an empty in-memory database: everything is missing, as it would be in
        // the new file, and no file is created.
        url = DatabaseUrl::Sqlite {
            path: PathBuf::from(":memory:"),
        };
    }
    let pool = match pool_from_env() {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let shards = match shards_from_env(model, &url) {
        Ok(shards) => shards,
        Err(code) => return code,
    };
    let database = match connect(&url, &pool).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let database = match attach_shards(database, &shards, &pool).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let primary = match db::migrate::migrate(model, &database, dry_run).await {
        Ok(statements) => statements,
        Err(e) => return fail(format!("migrate failed: {e}")),
    };
    // `migrate` runs on every database: the primary first, then each shard.
    let mut all = vec![(db::PRIMARY_POOL.to_string(), primary)];
    match db::migrate::migrate_shards(model, &database, dry_run).await {
        Ok(shards) => all.extend(shards),
        Err(e) => return fail(format!("migrate failed on {e}")),
    }
    let labelled = all.len() > 1;
    let mut applied = 0;
    for (label, statements) in &all {
        if labelled {
            println!("-- {label}");
        }
        if statements.is_empty() {
            println!("nothing to do: the database already has every table, column and index");
        }
        for statement in statements {
            println!("{statement};");
        }
        applied += statements.len();
    }
    if !dry_run && applied > 0 {
        eprintln!("applied {applied} statement(s)");
    }
    ExitCode::SUCCESS
}

/// `check` on the primary and every shard.
async fn check_all(model: &SchemaModel, database: &Database) -> Result<(), db::SchemaDrift> {
    let primary = db::check::check(model, database).await;
    let shards = db::check::check_shards(model, database).await;
    match (primary, shards) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(db::SchemaDrift::Differences(mut a)), Err(db::SchemaDrift::Differences(b))) => {
            a.extend(b);
            Err(db::SchemaDrift::Differences(a))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

async fn seed(model: &'static SchemaModel, scale: u32) -> ExitCode {
    let database = match database_from_env(model).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    match db::seed::seed_scaled(model, &database, scale.max(1)).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

async fn check(model: &'static SchemaModel) -> ExitCode {
    let url = match url_from_env() {
        Ok(url) => url,
        Err(code) => return code,
    };
    if let Some(path) = missing_sqlite_file(&url) {
        println!(
            "- the database file {} does not exist yet: \"{bin} serve\" creates, migrates and seeds it, \"{bin} migrate\" creates its tables",
            path.display(),
            bin = binary_name()
        );
        return ExitCode::FAILURE;
    }
    let pool = match pool_from_env() {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let shards = match shards_from_env(model, &url) {
        Ok(shards) => shards,
        Err(code) => return code,
    };
    let database = match connect(&url, &pool).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let database = match attach_shards(database, &shards, &pool).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    match check_all(model, &database).await {
        Ok(()) => {
            println!("ok: the database matches the schema");
            ExitCode::SUCCESS
        }
        Err(drift) => {
            for line in drift.to_string().lines() {
                println!("- {line}");
            }
            ExitCode::FAILURE
        }
    }
}

fn explain(
    model: &'static SchemaModel,
    file: &std::path::Path,
    variables: Option<&str>,
    operation_name: Option<&str>,
    analyze: bool,
) -> ExitCode {
    let url = match config::database_url(&|name| std::env::var(name).ok()) {
        Ok(url) => url,
        Err(e) => return config_error(e),
    };
    // The routes printed are the ones `serve` would use with the same environment.
    let routing = match config::read_routing(&|name| std::env::var(name).ok()) {
        Ok(routing) => routing,
        Err(e) => return config_error(e),
    };
    // And the shards it prints are the ones `serve` would use.
    let shards = match shards_from_env(model, &url) {
        Ok(shards) => ShardMap::new(&shards),
        Err(code) => return code,
    };
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => return fail(format!("cannot read {}: {e}", file.display())),
    };
    let api = match ApiSchema::load(model) {
        Ok(api) => api,
        Err(e) => return fail(e),
    };
    let document = match ExecutableDocument::parse_and_validate(&api.schema, text, file) {
        Ok(document) => document,
        Err(e) => return fail(format!("the document is not valid:\n{}", e.errors)),
    };
    let operation = match document.operations.get(operation_name) {
        Ok(op) => op,
        Err(e) => return fail(e.message()),
    };
    // Coerced only when given: without them, statements a variable shapes show as built per
    // request. `--analyze` runs the statements, so it needs them (an empty set when none).
    let given = variables.is_some();
    let values: apollo_compiler::response::JsonMap = match variables {
        None => Default::default(),
        Some(variables) => match serde_json::from_str(variables) {
            Ok(v) => v,
            Err(e) => return fail(format!("--variables is not a JSON object: {e}")),
        },
    };
    let coerced = if given || analyze {
        match apollo_compiler::request::coerce_variable_values(&api.schema, operation, &values) {
            Ok(coerced) => Some(coerced),
            Err(e) => return fail(format!("--variables: {}", e.message())),
        }
    } else {
        None
    };
    match OperationPlan::build(&api, &document, operation, url.dialect()) {
        Ok(plan) if analyze => with_runtime(async {
            let database = match database_from_env(model).await {
                Ok(db) => db,
                Err(code) => return code,
            };
            let variables = coerced.as_deref().cloned().unwrap_or_default();
            match crate::exec::analyze::analyze(&plan, operation, &variables, &database).await {
                Ok(statements) => {
                    print!("{}", render_analysis(&statements));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }),
        Ok(plan) => {
            print!(
                "{}",
                plan.explain_sharded(routing, shards.as_ref(), coerced.as_deref())
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in errors {
                eprintln!("error: {}", e.message);
            }
            ExitCode::FAILURE
        }
    }
}

/// `explain --analyze` output: each statement, its plan as the database ran it, findings.
fn render_analysis(statements: &[crate::exec::analyze::AnalyzedStatement]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let findings = statements.iter().filter(|s| s.finding.is_some()).count();
    let _ = writeln!(
        out,
        "{} statement(s) run; {findings} full scan(s) of large tables",
        statements.len()
    );
    for (i, s) in statements.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n#{} {}  (\"{}\")\n   sql: {}\n   plan:",
            i + 1,
            s.path,
            s.table,
            s.sql
        );
        for line in &s.plan {
            let _ = writeln!(out, "     {line}");
        }
        if let Some(finding) = &s.finding {
            let _ = writeln!(
                out,
                "   ! full scan of \"{}\" ({} rows)",
                s.table, finding.rows
            );
            match &finding.suggestion {
                Some(index) => {
                    let _ = writeln!(out, "     an index would serve its filter: {index}");
                }
                None => {
                    let _ = writeln!(
                        out,
                        "     the statement has no filter an index could serve; add `where`/`limit` to the field"
                    );
                }
            }
        }
    }
    out
}

/// `shard-of <Type> <key>`: the database holding that row, as `serve` would place it.
fn shard_of(model: &'static SchemaModel, type_name: &str, key: &str) -> ExitCode {
    let url = match url_from_env() {
        Ok(url) => url,
        Err(code) => return code,
    };
    let settings = match shards_from_env(model, &url) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let Some((_, ty)) = model.type_named(type_name) else {
        let names: Vec<&str> = model.types.iter().map(|t| t.name).collect();
        return fail(format!(
            "no type {type_name:?} in the schema; types: {}",
            names.join(", ")
        ));
    };
    let Ok(key) = key.trim().parse::<i64>() else {
        return fail(format!("{key:?} is not a shard key (a 64-bit integer)"));
    };
    let Some(map) = ShardMap::new(&settings) else {
        return config_error(format!(
            "{} is not set: without shards every row is on the primary",
            db::shard::SHARDS_ENV
        ));
    };
    match map.shard_of(ty, key) {
        None => {
            println!("{}", db::PRIMARY_POOL);
            ExitCode::SUCCESS
        }
        Some(Ok(shard)) => {
            println!("shard-{shard}");
            ExitCode::SUCCESS
        }
        Some(Err(e)) => fail(format!("{} {key}: {e}", ty.name)),
    }
}

fn binary_name() -> String {
    std::env::args()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "fraiseql".to_string())
}
