//! The GraphQL service: request parameters -> (plan cache | parse, validate, plan) -> coerce
//! variables -> execute. A document seen before (same text, same operationName) is neither
//! parsed, validated nor planned again: its prepared operation comes from the plan cache. A
//! trusted document (`persisted/`) was planned at startup and is served from there; an APQ hash
//! is turned back into its registered text first.

pub mod cost;
pub mod errors;
pub mod internal;
pub mod limits;
mod persisted;
pub mod request;

use std::sync::Arc;

use apollo_compiler::executable::OperationType;
use apollo_compiler::parser::Parser;
use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::GraphQLError;
use apollo_compiler::validation::Valid;
use apollo_compiler::ExecutableDocument;
use sha2::{Digest, Sha256};

use crate::auth::{Authenticator, UNAUTHENTICATED};
use crate::cache::request::{capped_extension, evaluate, http_caching, Inputs};
use crate::cache::{DocumentCache, HttpCaching, ResultCache};
use crate::db::Database;
use crate::exec::{execute, execute_with, ExecOutcome, ExecRequest};
use crate::metrics::Metrics;
use crate::persisted::{ApqStore, TrustedDocuments};
use crate::plan::OperationPlan;
use crate::schema::ApiSchema;
use cost::CostEstimate;
pub use limits::Limits;
pub use request::{GraphqlRequest, Headers, RequestParamsError};

/// Bytes of document text the plan cache may hold (each entry weighs its document's length
/// plus a fixed overhead), so a flood of distinct large documents cannot exhaust memory; least
/// recently used entries go first.
const PLAN_CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// Rough bytes an entry costs beyond its text (the syntax tree, the plan's SQL and bindings).
const PLAN_ENTRY_OVERHEAD: u32 = 4 * 1024;

/// How the request arrived; GET may only read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `GET /graphql?query=…`
    Get,
    /// `POST /graphql`
    Post,
}

/// What became of a request.
pub enum Outcome {
    /// Malformed request, unknown operation: HTTP 400 whatever the media type.
    BadRequest(Vec<u8>),
    /// A mutation over GET: HTTP 405 with `Allow: POST`.
    MethodNotAllowed(Vec<u8>),
    /// Syntax, validation or variable-coercion errors, nothing executed: 400 for
    /// `application/graphql-response+json`, 200 for legacy `application/json`.
    NotExecuted(Vec<u8>),
    /// Apollo's `PersistedQueryNotFound`: HTTP 200 whatever the media type, as Apollo's
    /// servers answer it and its clients expect (they then send the text with the hash).
    PersistedQueryNotFound(Vec<u8>),
    /// Executed (the body may still carry field errors).
    Executed(ExecOutcome),
    /// The bearer token was refused (bad signature, expired, …): HTTP 401 with
    /// `extensions.code = "UNAUTHENTICATED"`; nothing was parsed or run.
    Unauthenticated(Vec<u8>),
}

/// A parsed, validated and planned operation.
pub struct PreparedOperation {
    document: Valid<ExecutableDocument>,
    /// Length of the document text, the entry's weight in the cache.
    query_len: usize,
    operation_name: Option<String>,
    operation_type: OperationType,
    plan: OperationPlan,
    /// Each root field's cache policy, tables and variables.
    cache: DocumentCache,
    /// Variables given to `limit` arguments, checked against the page size per request.
    limit_variables: Vec<apollo_compiler::Name>,
    /// The rows it can return, filled in per request when a `limit` is a variable.
    cost: CostEstimate,
}

/// An executed (or refused) request and how HTTP caches may keep its response.
pub struct Handled {
    /// What became of it.
    pub outcome: Outcome,
    /// `Cache-Control` and `Vary` for the response.
    pub caching: HttpCaching,
}

/// The service shared by every HTTP worker.
pub struct GraphqlService {
    api: Arc<ApiSchema>,
    database: Database,
    plans: moka::sync::Cache<[u8; 32], Arc<PreparedOperation>>,
    metrics: Arc<Metrics>,
    results: Option<Arc<ResultCache>>,
    limits: Limits,
    /// Trusted documents, planned at startup ([`GraphqlService::with_persisted`]).
    trusted: TrustedDocuments<PreparedOperation>,
    /// Texts registered by APQ clients.
    apq: ApqStore,
    /// `FRAISEQL_PERSISTED_ONLY`: only trusted documents run.
    persisted_only: bool,
    /// Bearer-token verification (`crate::auth`); disabled unless configured.
    auth: Authenticator,
}

impl GraphqlService {
    /// A service over `database`.
    pub fn new(api: Arc<ApiSchema>, database: Database, metrics: Arc<Metrics>) -> GraphqlService {
        GraphqlService {
            api,
            database,
            plans: moka::sync::Cache::builder()
                .max_capacity(PLAN_CACHE_BYTES)
                .weigher(|_key, prepared: &Arc<PreparedOperation>| {
                    // Documents are at most the body limit (1 GiB at most), so this never saturates.
                    u32::try_from(prepared.query_len)
                        .unwrap_or(u32::MAX)
                        .saturating_mul(2)
                        .saturating_add(PLAN_ENTRY_OVERHEAD)
                })
                .build(),
            metrics,
            results: None,
            limits: Limits::default(),
            trusted: TrustedDocuments::default(),
            apq: ApqStore::new(None),
            persisted_only: false,
            auth: Authenticator::disabled(),
        }
    }

    /// The same service verifying bearer tokens with `auth` (see `crate::auth`).
    pub fn with_auth(mut self, auth: Authenticator) -> GraphqlService {
        self.auth = auth;
        self
    }

    /// The same service refusing documents beyond `limits`.
    pub fn with_limits(mut self, limits: Limits) -> GraphqlService {
        self.limits = limits;
        self
    }

    /// The limits requests must stay within.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The same service answering from `cache` where policies allow.
    pub fn with_cache(mut self, cache: Arc<ResultCache>) -> GraphqlService {
        self.results = Some(cache);
        self
    }

    /// The result cache, if any.
    pub fn cache(&self) -> Option<&ResultCache> {
        self.results.as_deref()
    }

    /// The schema served.
    pub fn api(&self) -> &ApiSchema {
        &self.api
    }

    /// The database queried.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Runs one request.
    pub async fn handle(&self, request: GraphqlRequest, transport: Transport) -> Outcome {
        self.respond(request, transport).await.outcome
    }

    /// Runs one request, with the HTTP caching of its response: a query's root fields come
    /// from the result cache where their policies allow, the rest run; a mutation invalidates
    /// what it wrote.
    pub async fn respond(&self, mut request: GraphqlRequest, transport: Transport) -> Handled {
        let not_cached = |outcome| Handled {
            outcome,
            caching: HttpCaching::no_store(),
        };
        // First: a refused token costs no parsing, planning or SQL.
        let claims = match self.auth.authenticate(&request.headers) {
            Ok(claims) => claims,
            Err(refused) => {
                tracing::debug!(reason = %refused, "bearer token refused");
                let body = errors::body(&[errors::plain(refused.to_string(), UNAUTHENTICATED)]);
                return not_cached(Outcome::Unauthenticated(body));
            }
        };
        let prepared = match self.resolve(&mut request, transport).await {
            Ok(prepared) => prepared,
            Err(outcome) => return not_cached(outcome),
        };
        if transport == Transport::Get && prepared.operation_type != OperationType::Query {
            return not_cached(method_not_allowed());
        }
        let Ok(operation) = prepared
            .document
            .operations
            .get(prepared.operation_name.as_deref())
        else {
            return not_cached(Outcome::BadRequest(errors::body(&[errors::plain(
                "the selected operation is missing",
                errors::BAD_REQUEST,
            )])));
        };
        let variables =
            match coerce_variable_values(&self.api.schema, operation, &request.variables) {
                Ok(v) => v,
                Err(e) => {
                    let error = errors::with_code(
                        e.to_graphql_error(&prepared.document.sources),
                        errors::BAD_USER_INPUT,
                    );
                    return not_cached(Outcome::NotExecuted(errors::body(&[error])));
                }
            };
        if let Err(e) =
            limits::check_page_sizes(&prepared.limit_variables, &variables, &self.limits)
        {
            return not_cached(limit_exceeded(e.0));
        }
        if prepared.cost.has_variables() {
            let rows = prepared.cost.rows(&variables, self.limits.max_page_size);
            if let Err(e) = cost::check(rows, self.limits.max_cost) {
                return not_cached(cost::refused(e));
            }
        }
        let exec = ExecRequest {
            api: &self.api,
            document: &prepared.document,
            operation,
            plan: &prepared.plan,
            variables: &variables,
            database: &self.database,
            headers: &request.headers,
            claims: claims.clone(),
        };
        if prepared.operation_type != OperationType::Query {
            let outcome = execute(exec).await;
            if let Some(cache) = &self.results {
                cache.invalidate(&outcome.written).await;
            }
            return not_cached(Outcome::Executed(outcome));
        }
        let inputs = Inputs {
            model: self.api.model,
            doc: &prepared.cache,
            plan: &prepared.plan,
            operation_name: prepared.operation_name.as_deref(),
            variables: &variables,
            headers: &request.headers,
            claims: claims.as_deref(),
        };
        let off = self.results.as_ref().is_none_or(|c| !c.enabled());
        let mut roots = evaluate(&inputs, off);
        if let Some(cache) = &self.results {
            cache.lookup(&mut roots).await;
        }
        let sources = crate::cache::sources(&roots);
        let mut outcome = execute_with(exec, &sources).await;
        drop(sources);
        if let Some(cache) = &self.results {
            cache.store(&mut roots, &outcome).await;
        }
        let caching = if outcome.request_error {
            HttpCaching::no_store()
        } else {
            http_caching(&roots, outcome.has_errors, &request.headers)
        };
        if let Some(extensions) = capped_extension(&roots) {
            append_extensions(&mut outcome.body, &extensions);
        }
        Handled {
            outcome: Outcome::Executed(outcome),
            caching,
        }
    }

    /// The prepared operation for this document and operationName, from the cache or built now.
    fn prepare(
        &self,
        request: &GraphqlRequest,
        transport: Transport,
    ) -> Result<Arc<PreparedOperation>, Outcome> {
        let key = cache_key(&request.query, request.operation_name.as_deref());
        if let Some(prepared) = self.plans.get(&key) {
            self.metrics.plan_cache_hits.inc();
            return Ok(prepared);
        }
        self.metrics.plan_cache_misses.inc();
        self.metrics.documents_parsed.inc();
        let prepared = Arc::new(self.build(request, transport)?);
        self.plans.insert(key, prepared.clone());
        Ok(prepared)
    }

    fn build(
        &self,
        request: &GraphqlRequest,
        transport: Transport,
    ) -> Result<PreparedOperation, Outcome> {
        // A syntax error is a GraphQL request error like a validation error: 200 under legacy
        // application/json, 400 under graphql-response+json (the spec's SHOULDs for both).
        let limits = &self.limits;
        let mut parser = Parser::new()
            .token_limit(limits.max_tokens)
            .recursion_limit(limits.parser_recursion());
        let parsed = parser.parse_ast(request.query.as_str(), "query.graphql");
        // The parser stops at either limit; say which rather than pass on its syntax errors. Past
        // the nesting limit it may read on, so that limit is the one to report.
        if parser.recursion_reached() > limits.parser_recursion() {
            return Err(limit_exceeded(format!(
                "the document nests deeper than the limit of {} fields",
                limits.max_depth
            )));
        }
        if parser.tokens_reached() > limits.max_tokens {
            return Err(limit_exceeded(format!(
                "the document has more than {} tokens",
                limits.max_tokens
            )));
        }
        let ast = parsed.map_err(|e| {
            Outcome::NotExecuted(diagnostics_body(
                e.errors.iter().map(|d| d.to_json()),
                errors::BAD_REQUEST,
            ))
        })?;
        let name = request.operation_name.as_deref();
        let limit_variables = limits::check(&ast, name, limits).map_err(|e| limit_exceeded(e.0))?;
        // The operation's type is read before validation so a mutation over GET gets 405
        // even while the schema has no Mutation type to validate it against.
        let operation_type = ast
            .definitions
            .iter()
            .filter_map(|d| d.as_operation_definition())
            .find(|op| match name {
                Some(name) => op.name.as_deref() == Some(name),
                None => true,
            })
            .map(|op| op.operation_type);
        let Some(operation_type) = operation_type else {
            let message = match name {
                Some(name) => format!("the document has no operation named \"{name}\""),
                None => "the document has no operation".to_string(),
            };
            return Err(Outcome::BadRequest(errors::body(&[errors::plain(
                message,
                errors::BAD_REQUEST,
            )])));
        };
        if transport == Transport::Get && operation_type != OperationType::Query {
            return Err(method_not_allowed());
        }
        let document = ast.to_executable_validate(&self.api.schema).map_err(|e| {
            Outcome::NotExecuted(diagnostics(
                e.errors.iter().map(|d| d.to_json()),
                errors::VALIDATION_FAILED,
                limits.suggestions,
            ))
        })?;
        let operation = document.operations.get(name).map_err(|e| {
            Outcome::BadRequest(errors::body(&[errors::with_code(
                e.to_graphql_error(&document.sources),
                errors::BAD_REQUEST,
            )]))
        })?;
        // What literals fix is checked now, before planning; a `limit: $n` per request.
        let cost = CostEstimate::of(&document, operation, limits.max_page_size);
        cost::check(cost.fixed(), limits.max_cost).map_err(cost::refused)?;
        let dialect = self.database.dialect();
        let page_size = Some(limits.max_page_size);
        let plan = OperationPlan::build_paged(&self.api, &document, operation, dialect, page_size)
            .map_err(|errs| {
                Outcome::NotExecuted(diagnostics_body(errs.into_iter(), errors::BAD_USER_INPUT))
            })?;
        let cache = DocumentCache::build(self.api.model, &document, &plan);
        Ok(PreparedOperation {
            cache,
            query_len: request.query.len(),
            operation_name: request.operation_name.clone(),
            operation_type,
            plan,
            document,
            limit_variables,
            cost,
        })
    }
}

/// Adds `"extensions":…` as the response object's last member.
fn append_extensions(body: &mut Vec<u8>, extensions: &serde_json::Value) {
    if body.last() != Some(&b'}') {
        return;
    }
    body.pop();
    body.extend_from_slice(b",\"extensions\":");
    if serde_json::to_writer(&mut *body, extensions).is_err() {
        body.extend_from_slice(b"{}");
    }
    body.push(b'}');
}

/// A request refused by a limit: a request error like a validation error, nothing executed.
fn limit_exceeded(message: String) -> Outcome {
    Outcome::NotExecuted(errors::body(&[errors::plain(
        message,
        limits::LIMIT_EXCEEDED,
    )]))
}

fn method_not_allowed() -> Outcome {
    Outcome::MethodNotAllowed(errors::body(&[errors::plain(
        "only queries may be sent with GET; send mutations with POST",
        errors::METHOD_NOT_ALLOWED,
    )]))
}

fn diagnostics_body(errors: impl Iterator<Item = GraphQLError>, code: &str) -> Vec<u8> {
    diagnostics(errors, code, true)
}

/// [`diagnostics_body`], with "Did you mean …?" hints cut when `suggestions` is off.
fn diagnostics(
    errors: impl Iterator<Item = GraphQLError>,
    code: &str,
    suggestions: bool,
) -> Vec<u8> {
    let mut out: Vec<GraphQLError> = Vec::new();
    for mut error in errors.map(|e| errors::with_code(e, code)) {
        if !suggestions {
            if let Some(at) = error.message.find(" Did you mean") {
                error.message.truncate(at);
            }
        }
        // The parser reports each unclosed brace at the same end-of-file spot; one is enough.
        if !out.contains(&error) {
            out.push(error);
        }
    }
    errors::body(&out)
}

/// sha256 of the document text and the operation name. A 0xff byte (never part of UTF-8 text)
/// ends the text, so `("ab", None)` and `("a", Some("b"))` differ; a tag byte tells an absent
/// name from an empty one, which selects no operation.
fn cache_key(query: &str, operation_name: Option<&str>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(query.as_bytes());
    hasher.update([0xff]);
    match operation_name {
        None => hasher.update([0]),
        Some(name) => {
            hasher.update([1]);
            hasher.update(name.as_bytes());
        }
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use apollo_compiler::ast;

    use super::*;

    #[test]
    fn cache_keys_separate_text_and_operation_name() {
        assert_eq!(cache_key("{ a }", None), cache_key("{ a }", None));
        assert_ne!(cache_key("{ a }", None), cache_key("{ a }", Some("")));
        assert_ne!(cache_key("ab", None), cache_key("a", Some("b")));
        assert_ne!(cache_key("{ a }", Some("A")), cache_key("{ a }", Some("B")));
    }

    #[test]
    fn identical_diagnostics_are_reported_once() {
        let parse =
            ast::Document::parse("{ a { b ", "query.graphql").expect_err("two unclosed braces");
        assert!(parse.errors.len() > 1);
        let body = diagnostics_body(
            parse.errors.iter().map(|d| d.to_json()),
            errors::BAD_REQUEST,
        );
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let errors = body["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(errors[0]["extensions"]["code"], "BAD_REQUEST");
        assert!(errors[0]["locations"][0]["line"].is_number(), "{body}");
    }

    #[test]
    fn suggestions_can_be_cut() {
        let error = GraphQLError::new(
            "Field \"user\" must have a selection of subfields. Did you mean \"user { ... }\"?",
            None,
            &Default::default(),
        );
        let body = diagnostics(std::iter::once(error), errors::VALIDATION_FAILED, false);
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            body["errors"][0]["message"],
            "Field \"user\" must have a selection of subfields."
        );
    }
}
