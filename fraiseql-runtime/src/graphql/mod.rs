//! The GraphQL service: request parameters -> (plan cache | parse, validate, plan) -> coerce
//! variables -> execute. A document seen before (same text, same operationName) is neither
//! parsed, validated nor planned again: its prepared operation comes from the plan cache.

pub mod errors;
pub mod request;

use std::sync::Arc;

use apollo_compiler::ast;
use apollo_compiler::executable::OperationType;
use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::GraphQLError;
use apollo_compiler::validation::Valid;
use apollo_compiler::ExecutableDocument;
use sha2::{Digest, Sha256};

use crate::db::Database;
use crate::exec::{execute, ExecOutcome, ExecRequest};
use crate::metrics::Metrics;
use crate::plan::OperationPlan;
use crate::schema::ApiSchema;
pub use request::{GraphqlRequest, RequestParamsError};

/// Most prepared operations kept; least recently used ones are dropped first.
const PLAN_CACHE_CAPACITY: u64 = 10_000;

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
    /// Malformed request, syntax error, unknown operation: HTTP 400 whatever the media type.
    BadRequest(Vec<u8>),
    /// A mutation over GET: HTTP 405 with `Allow: POST`.
    MethodNotAllowed(Vec<u8>),
    /// Validation or variable-coercion errors, nothing executed: 400 for
    /// `application/graphql-response+json`, 200 for legacy `application/json`.
    NotExecuted(Vec<u8>),
    /// Executed (the body may still carry field errors).
    Executed(ExecOutcome),
}

/// A parsed, validated and planned operation.
pub struct PreparedOperation {
    document: Valid<ExecutableDocument>,
    operation_name: Option<String>,
    operation_type: OperationType,
    plan: OperationPlan,
}

/// The service shared by every HTTP worker.
pub struct GraphqlService {
    api: Arc<ApiSchema>,
    database: Database,
    plans: moka::sync::Cache<[u8; 32], Arc<PreparedOperation>>,
    metrics: Arc<Metrics>,
}

impl GraphqlService {
    /// A service over `database`.
    pub fn new(api: Arc<ApiSchema>, database: Database, metrics: Arc<Metrics>) -> GraphqlService {
        GraphqlService {
            api,
            database,
            plans: moka::sync::Cache::new(PLAN_CACHE_CAPACITY),
            metrics,
        }
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
        let prepared = match self.prepare(&request, transport) {
            Ok(prepared) => prepared,
            Err(outcome) => return outcome,
        };
        if transport == Transport::Get && prepared.operation_type != OperationType::Query {
            return method_not_allowed();
        }
        let Ok(operation) = prepared
            .document
            .operations
            .get(prepared.operation_name.as_deref())
        else {
            return Outcome::BadRequest(errors::body(&[errors::plain(
                "the selected operation is missing",
                errors::BAD_REQUEST,
            )]));
        };
        let variables =
            match coerce_variable_values(&self.api.schema, operation, &request.variables) {
                Ok(v) => v,
                Err(e) => {
                    let error = errors::with_code(
                        e.to_graphql_error(&prepared.document.sources),
                        errors::BAD_USER_INPUT,
                    );
                    return Outcome::NotExecuted(errors::body(&[error]));
                }
            };
        Outcome::Executed(
            execute(ExecRequest {
                api: &self.api,
                document: &prepared.document,
                operation,
                plan: &prepared.plan,
                variables: &variables,
                database: &self.database,
            })
            .await,
        )
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
        let ast = ast::Document::parse(request.query.as_str(), "query.graphql").map_err(|e| {
            Outcome::BadRequest(diagnostics_body(
                e.errors.iter().map(|d| d.to_json()),
                errors::BAD_REQUEST,
            ))
        })?;
        let name = request.operation_name.as_deref();
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
            Outcome::NotExecuted(diagnostics_body(
                e.errors.iter().map(|d| d.to_json()),
                errors::VALIDATION_FAILED,
            ))
        })?;
        let operation = document.operations.get(name).map_err(|e| {
            Outcome::BadRequest(errors::body(&[errors::with_code(
                e.to_graphql_error(&document.sources),
                errors::BAD_REQUEST,
            )]))
        })?;
        let plan = OperationPlan::build(&self.api, &document, operation, self.database.dialect())
            .map_err(|errs| {
            Outcome::NotExecuted(diagnostics_body(errs.into_iter(), errors::BAD_USER_INPUT))
        })?;
        Ok(PreparedOperation {
            operation_name: request.operation_name.clone(),
            operation_type,
            plan,
            document,
        })
    }
}

fn method_not_allowed() -> Outcome {
    Outcome::MethodNotAllowed(errors::body(&[errors::plain(
        "only queries may be sent with GET; send mutations with POST",
        errors::METHOD_NOT_ALLOWED,
    )]))
}

fn diagnostics_body(errors: impl Iterator<Item = GraphQLError>, code: &str) -> Vec<u8> {
    let errors: Vec<GraphQLError> = errors.map(|e| errors::with_code(e, code)).collect();
    errors::body(&errors)
}

/// sha256 of the document text and the operation name (a 0xff byte keeps `("ab", None)` and
/// `("a", Some("b"))` apart).
fn cache_key(query: &str, operation_name: Option<&str>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(query.as_bytes());
    hasher.update([0xff]);
    if let Some(name) = operation_name {
        hasher.update(name.as_bytes());
    }
    hasher.finalize().into()
}
