//! The executor: runs an [`OperationPlan`] (one statement per root field and per relation field
//! per level, on one pooled connection), then writes the response JSON straight from the typed
//! rows. Introspection fields are answered by apollo-compiler's introspection executor and
//! merged in at the root.

mod load;
mod write;

use apollo_compiler::executable::Operation;
use apollo_compiler::introspection;
use apollo_compiler::response::{GraphQLError, JsonMap, JsonValue, ResponseDataPathSegment};
use apollo_compiler::validation::Valid;
use apollo_compiler::ExecutableDocument;

use crate::db::{Database, DbError, Session};
use crate::plan::{OperationPlan, RootKind};
use crate::row::json;
use crate::schema::ApiSchema;
use load::{load, LoadContext, LoadError, Loaded};
use write::Writer;

/// Everything one execution reads.
pub struct ExecRequest<'a> {
    /// The schema.
    pub api: &'a ApiSchema,
    /// The validated document the plan was built from.
    pub document: &'a Valid<ExecutableDocument>,
    /// The operation being run.
    pub operation: &'a Operation,
    /// The plan.
    pub plan: &'a OperationPlan,
    /// Coerced variable values.
    pub variables: &'a Valid<JsonMap>,
    /// Where to run the statements.
    pub database: &'a Database,
}

/// The response of one execution.
pub struct ExecOutcome {
    /// The complete GraphQL response object (`{"data":…}`, with `"errors"` first when any).
    pub body: Vec<u8>,
    /// Whether `errors` is present.
    pub has_errors: bool,
    /// Whether the response has no `data` at all (a request error, e.g. introspection too deep).
    pub request_error: bool,
    /// Whether `data` is `null` (a non-null root field failed) or absent.
    pub data_is_null: bool,
    /// Whether a database was unavailable or out of connections (the HTTP layer may answer 503).
    pub database_unavailable: bool,
}

/// A root field's failure, as the client sees it.
struct RootFailure {
    message: String,
    code: &'static str,
}

/// Runs the plan.
pub async fn execute(request: ExecRequest<'_>) -> ExecOutcome {
    let ExecRequest {
        api,
        document,
        operation,
        plan,
        variables,
        database,
    } = request;
    let mut errors: Vec<GraphQLError> = Vec::new();

    let introspected = if plan.has_schema_introspection {
        let response = introspection::check_max_depth(document, operation).and_then(|()| {
            introspection::partial_execute(
                &api.schema,
                &api.implementers,
                document,
                operation,
                variables,
            )
        });
        match response {
            Ok(response) => {
                errors.extend(response.errors);
                response.data
            }
            Err(error) => return request_error(error.to_graphql_error(&document.sources)),
        }
    } else {
        None
    };

    let ctx = LoadContext {
        model: api.model,
        dialect: plan.dialect,
        operation,
        variables,
    };
    let mut session: Option<Session> = None;
    let mut session_error: Option<DbError> = None;
    let mut database_unavailable = false;
    let mut results: Vec<Option<Result<Loaded, RootFailure>>> =
        Vec::with_capacity(plan.roots.len());
    for root in &plan.roots {
        let RootKind::Fetch { node, .. } = &root.kind else {
            results.push(None);
            continue;
        };
        if !root.inclusion.holds(variables) {
            results.push(None);
            continue;
        }
        if session.is_none() && session_error.is_none() {
            match database.session().await {
                Ok(s) => session = Some(s),
                Err(e) => {
                    tracing::error!(error = %e, "no database session for the request");
                    session_error = Some(e);
                }
            }
        }
        let result = match (&mut session, &session_error) {
            (Some(session), _) => load(session, &ctx, node, None).await.map_err(|e| {
                let failure = failure(&e, &node.path);
                database_unavailable |= failure.code == "SERVICE_UNAVAILABLE";
                failure
            }),
            (None, Some(e)) => {
                database_unavailable |= unavailable(e);
                Err(RootFailure {
                    message: e.public_message().to_string(),
                    code: code_of(e),
                })
            }
            (None, None) => Err(RootFailure {
                message: "internal error".into(),
                code: "INTERNAL_SERVER_ERROR",
            }),
        };
        results.push(Some(result));
    }
    drop(session); // back to the pool before the (CPU-only) writing

    let mut writer = Writer {
        model: api.model,
        variables,
        errors: Vec::new(),
        path: Vec::new(),
    };
    let mut data = Vec::with_capacity(8 * 1024);
    let mut data_is_null = false;
    data.push(b'{');
    let mut first = true;
    for (root, result) in plan.roots.iter().zip(&results) {
        if !root.inclusion.holds(variables) {
            continue;
        }
        if !first {
            data.push(b',');
        }
        first = false;
        json::escape_into(&mut data, root.key.as_str());
        data.push(b':');
        match (&root.kind, result) {
            (RootKind::Typename, _) => {
                json::escape_into(&mut data, operation.object_type().as_str())
            }
            (RootKind::Introspection, _) => {
                match introspected.as_ref().and_then(|d| d.get(root.key.as_str())) {
                    Some(value) => write_json_value(&mut data, value),
                    None => json::null(&mut data),
                }
            }
            (RootKind::Fetch { node, many }, Some(Ok(loaded))) => {
                writer.path = vec![ResponseDataPathSegment::Field(root.key.clone())];
                if *many {
                    writer.root_list(&mut data, node, loaded);
                } else {
                    writer.root_single(&mut data, node, loaded);
                }
            }
            (RootKind::Fetch { many, .. }, Some(Err(failure))) => {
                json::null(&mut data);
                writer.root_error(&root.key, &failure.message, failure.code);
                // A non-null list field that failed nulls the whole `data`.
                data_is_null |= *many;
            }
            (RootKind::Fetch { .. }, None) => json::null(&mut data),
        }
    }
    data.push(b'}');
    errors.extend(writer.errors);

    let mut body = Vec::with_capacity(data.len() + 64);
    if !errors.is_empty() {
        body.extend_from_slice(b"{\"errors\":");
        write_errors(&mut body, &errors);
        body.extend_from_slice(b",\"data\":");
    } else {
        body.extend_from_slice(b"{\"data\":");
    }
    if data_is_null {
        json::null(&mut body);
    } else {
        body.extend_from_slice(&data);
    }
    body.push(b'}');
    ExecOutcome {
        body,
        has_errors: !errors.is_empty(),
        request_error: false,
        data_is_null,
        database_unavailable,
    }
}

fn failure(error: &LoadError, path: &str) -> RootFailure {
    match error {
        LoadError::Input(message) => RootFailure {
            message: message.clone(),
            code: "BAD_USER_INPUT",
        },
        LoadError::Database(e) => {
            tracing::error!(error = %e, path, "statement failed");
            RootFailure {
                message: e.public_message().to_string(),
                code: code_of(e),
            }
        }
    }
}

fn unavailable(error: &DbError) -> bool {
    matches!(error, DbError::PoolTimeout(_) | DbError::Connect(_))
}

fn code_of(error: &DbError) -> &'static str {
    error.code()
}

fn request_error(error: GraphQLError) -> ExecOutcome {
    let mut body = b"{\"errors\":".to_vec();
    write_errors(&mut body, std::slice::from_ref(&error));
    body.push(b'}');
    ExecOutcome {
        body,
        has_errors: true,
        request_error: true,
        data_is_null: true,
        database_unavailable: false,
    }
}

fn write_errors(out: &mut Vec<u8>, errors: &[GraphQLError]) {
    if serde_json::to_writer(&mut *out, errors).is_err() {
        // Serializing owned strings and maps cannot fail; keep the body valid regardless.
        out.extend_from_slice(b"[{\"message\":\"internal error\"}]");
    }
}

fn write_json_value(out: &mut Vec<u8>, value: &JsonValue) {
    if serde_json::to_writer(&mut *out, value).is_err() {
        json::null(out);
    }
}
