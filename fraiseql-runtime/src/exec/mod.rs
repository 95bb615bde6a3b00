//! The executor: runs an [`OperationPlan`] (one statement per root field and per relation field
//! per level, each on the server its route picks: the primary, or a read replica), then writes
//! the response JSON straight from the typed rows. Introspection fields are answered by
//! apollo-compiler's introspection executor and merged in at the root.
//!
//! Read-your-writes: a committed mutation (with replicas configured) answers with the
//! primary's WAL position as a consistency token, in `extensions.consistency` and (set by the
//! HTTP layer from [`ExecOutcome::consistency`]) the `FraiseQL-Consistency` header; a query
//! that sends the header back reads only from replicas that have replayed that position.

mod access;
pub mod analyze;
mod custom;
mod load;
mod mutate;
mod shards;
mod write;

use apollo_compiler::executable::Operation;
use apollo_compiler::introspection;
use apollo_compiler::response::{GraphQLError, JsonMap, JsonValue, ResponseDataPathSegment};
use apollo_compiler::validation::Valid;
use apollo_compiler::ExecutableDocument;

use std::sync::Arc;

use crate::auth::Claims;
use crate::db::{Database, DbError, Lsn, RequestSessions};
use crate::graphql::internal;
use crate::model::Returns;
use crate::plan::{OperationPlan, RootEntry, RootKind};
use crate::row::json;
use crate::schema::ApiSchema;
pub(crate) use load::{complete, load, LoadContext, LoadError, Loaded};
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
    /// The HTTP request's headers, for custom resolvers.
    pub headers: &'a crate::graphql::Headers,
    /// The caller's verified token claims (`None`: anonymous), for `@auth`, row filters and
    /// custom resolvers.
    pub claims: Option<Arc<Claims>>,
}

/// What the executor does with one root entry of the plan (the result cache decides; see
/// `crate::cache`).
#[derive(Clone, Copy, Debug)]
pub enum RootSource<'a> {
    /// Run it.
    Run,
    /// Run it and hand its part of the response back in [`ExecOutcome::parts`].
    Keep,
    /// Write this JSON value (a cached part) instead of running it.
    Cached(&'a [u8]),
}

/// One root field's part of a response, as the result cache stores it.
#[derive(Debug)]
pub struct RootPart {
    /// The value written after the root field's `"key":`.
    pub json: Vec<u8>,
    /// Whether the field reported errors (a part with errors is never cached).
    pub has_errors: bool,
}

/// A table a mutation wrote: a row by key, or rows it cannot name (a custom mutation's
/// `@writes`). Reported whether or not the mutation committed, so caches invalidate on the
/// safe side when a commit's outcome is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// Index into the model's types.
    pub type_index: usize,
    /// The row's key, when known.
    pub key: Option<i64>,
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
    /// A committed mutation's consistency token (also in the body's `extensions.consistency`),
    /// for the `FraiseQL-Consistency` response header.
    pub consistency: Option<String>,
    /// Per plan root entry: its part of the response when it was run as [`RootSource::Keep`].
    pub parts: Vec<Option<RootPart>>,
    /// What a mutation wrote (empty for a query).
    pub written: Vec<Written>,
}

/// A root field's failure, as the client sees it.
pub(crate) struct RootFailure {
    pub message: String,
    pub code: &'static str,
    /// The argument path at fault (`input.email`), for `extensions.field`.
    pub field: Option<String>,
    /// The primary answered "read-only": a failover happened behind its URL, so a mutation
    /// may run once more on a fresh connection.
    pub read_only: bool,
    /// An internal error's id (`extensions.errorId`), logged with its cause.
    pub error_id: Option<String>,
}

impl RootFailure {
    fn new(message: impl Into<String>, code: &'static str) -> RootFailure {
        RootFailure {
            message: message.into(),
            code,
            field: None,
            read_only: false,
            error_id: None,
        }
    }

    /// An internal error: `cause` is logged under a fresh id, the client sees only the id.
    pub(crate) fn internal(context: &str, cause: &dyn std::fmt::Display) -> RootFailure {
        RootFailure {
            error_id: Some(internal::report(context, cause)),
            ..RootFailure::new(internal::INTERNAL_MESSAGE, internal::INTERNAL_SERVER_ERROR)
        }
    }

    /// The client's view of a database error; one no client code describes is internal.
    fn from_db(error: &DbError) -> RootFailure {
        if error.code() == internal::INTERNAL_SERVER_ERROR {
            return RootFailure::internal("a statement failed", error);
        }
        RootFailure {
            read_only: error.is_read_only(),
            ..RootFailure::new(error.public_message(), error.code())
        }
    }
}

/// What a root field produced.
pub(crate) enum RootValue {
    Rows(Loaded),
    Boolean(bool),
}

/// Per root entry: `None` when skipped (or not a database field).
pub(crate) type RootResults = Vec<Option<Result<RootValue, RootFailure>>>;

/// Runs the plan.
pub async fn execute(request: ExecRequest<'_>) -> ExecOutcome {
    execute_with(request, &[]).await
}

/// Runs the plan with one [`RootSource`] per root entry (missing ones: [`RootSource::Run`]):
/// cached parts are written as given and run no SQL.
pub async fn execute_with(request: ExecRequest<'_>, sources: &[RootSource<'_>]) -> ExecOutcome {
    let ExecRequest {
        api,
        document,
        operation,
        plan,
        variables,
        database,
        headers,
        claims,
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
        default_limit: plan.default_limit,
        operation,
        variables,
        claims: claims.as_deref(),
    };
    let run = Run {
        ctx: &ctx,
        plan,
        database,
        headers,
        claims: claims.clone(),
        sources,
        written: std::sync::Mutex::new(Vec::new()),
    };
    let (results, database_unavailable, all_failed, token) = if plan.mutation {
        let outcome = mutate::run(&run).await;
        (
            outcome.results,
            outcome.unavailable,
            outcome.failed,
            outcome.token,
        )
    } else {
        let (results, unavailable) = run.queries().await;
        (results, unavailable, false, None)
    };
    let consistency = token.map(Lsn::token);

    let mut writer = Writer {
        model: api.model,
        variables,
        errors: Vec::new(),
        path: Vec::new(),
    };
    // `data` is written straight into the body (`{"data":…`); errors, when there are any, go
    // first, so only then is it copied behind them.
    let size_hint = plan
        .last_body_len
        .load(std::sync::atomic::Ordering::Relaxed);
    // Capped: one very large answer must not make every later one reserve as much.
    const MAX_RESERVED: usize = 256 * 1024;
    let mut body = Vec::with_capacity((size_hint + size_hint / 8).clamp(1024, MAX_RESERVED));
    body.extend_from_slice(b"{\"data\":");
    let data_offset = body.len();
    let data = &mut body;
    let mut data_is_null = all_failed;
    // Only a request with parts to keep pays for the slots.
    let mut parts: Vec<Option<RootPart>> = if sources.iter().any(|s| matches!(s, RootSource::Keep))
    {
        plan.roots.iter().map(|_| None).collect()
    } else {
        Vec::new()
    };
    data.push(b'{');
    let mut first = true;
    for (index, (root, result)) in plan.roots.iter().zip(&results).enumerate() {
        if !root.inclusion.holds(variables) {
            continue;
        }
        if !first {
            data.push(b',');
        }
        first = false;
        json::key(data, root.key.as_str());
        let source = sources.get(index).copied().unwrap_or(RootSource::Run);
        // A cached part is written as stored, unless the caller may not read it (`@auth`).
        if let (RootSource::Cached(json), false) = (source, matches!(result, Some(Err(_)))) {
            data.extend_from_slice(json);
            continue;
        }
        let (data_start, errors_start) = (data.len(), writer.errors.len());
        let values = RootWriter {
            operation,
            introspected: introspected.as_ref(),
        };
        data_is_null |= values.value(&mut writer, data, root, result.as_ref());
        if let (RootSource::Keep, Some(slot)) = (source, parts.get_mut(index)) {
            *slot = Some(RootPart {
                json: data[data_start..].to_vec(),
                has_errors: writer.errors.len() > errors_start,
            });
        }
    }
    data.push(b'}');
    errors.extend(writer.errors);

    if data_is_null {
        body.truncate(data_offset);
        json::null(&mut body);
    }
    if !errors.is_empty() {
        let mut with_errors = Vec::with_capacity(body.len() + 256);
        with_errors.extend_from_slice(b"{\"errors\":");
        write_errors(&mut with_errors, &errors);
        with_errors.extend_from_slice(b",\"data\":");
        with_errors.extend_from_slice(&body[data_offset..]);
        body = with_errors;
    }
    if let Some(token) = &consistency {
        body.extend_from_slice(b",\"extensions\":{\"consistency\":");
        json::escape_into(&mut body, token);
        body.push(b'}');
    }
    body.push(b'}');
    plan.last_body_len
        .store(body.len(), std::sync::atomic::Ordering::Relaxed);
    let mut written = run.written.into_inner().unwrap_or_else(|e| e.into_inner());
    written.dedup();
    ExecOutcome {
        body,
        has_errors: !errors.is_empty(),
        request_error: false,
        data_is_null,
        database_unavailable,
        consistency,
        parts,
        written,
    }
}

/// Writes one root field's value.
struct RootWriter<'a> {
    operation: &'a Operation,
    introspected: Option<&'a JsonMap>,
}

impl RootWriter<'_> {
    /// Writes `root`'s value from `result`; returns whether its failure nulls `data`.
    fn value(
        &self,
        writer: &mut Writer<'_>,
        data: &mut Vec<u8>,
        root: &RootEntry,
        result: Option<&Result<RootValue, RootFailure>>,
    ) -> bool {
        if let Some(Err(failure)) = result {
            json::null(data);
            writer.root_error(&root.key, failure);
            return root.kind.non_null();
        }
        let value = result.and_then(|r| r.as_ref().ok());
        writer.path = vec![ResponseDataPathSegment::Field(root.key.clone())];
        match (&root.kind, value) {
            (RootKind::Typename, _) => {
                json::escape_into(data, self.operation.object_type().as_str())
            }
            (RootKind::Introspection, _) => {
                match self.introspected.and_then(|d| d.get(root.key.as_str())) {
                    Some(value) => write_json_value(data, value),
                    None => json::null(data),
                }
            }
            (RootKind::Fetch { node, many }, Some(RootValue::Rows(loaded))) => {
                if *many {
                    writer.root_list(data, node, loaded);
                } else {
                    writer.root_single(data, node, loaded);
                }
            }
            (RootKind::Custom { node, returns, .. }, Some(RootValue::Rows(loaded))) => {
                if *returns == Returns::List {
                    writer.root_list(data, node, loaded);
                } else {
                    writer.root_single(data, node, loaded);
                }
            }
            (
                RootKind::Write {
                    node: Some(node), ..
                },
                Some(RootValue::Rows(loaded)),
            ) => writer.root_single(data, node, loaded),
            (_, Some(RootValue::Boolean(b))) => {
                data.extend_from_slice(if *b { b"true" } else { b"false" })
            }
            _ => json::null(data),
        }
        false
    }
}

/// One execution's shared inputs.
pub(crate) struct Run<'a> {
    pub ctx: &'a LoadContext<'a>,
    pub plan: &'a OperationPlan,
    pub database: &'a Database,
    pub headers: &'a crate::graphql::Headers,
    /// The caller's claims, handed to custom resolvers.
    pub claims: Option<Arc<Claims>>,
    /// Per root entry; a cached one runs nothing.
    pub sources: &'a [RootSource<'a>],
    /// What a mutation wrote, for the result cache's invalidation.
    pub written: std::sync::Mutex<Vec<Written>>,
}

impl Run<'_> {
    /// Notes a table (or row) a mutation wrote.
    pub(crate) fn wrote(&self, written: Written) {
        let mut all = self.written.lock().unwrap_or_else(|e| e.into_inner());
        all.push(written);
    }

    /// A query: each root field on the server its route picks, sessions taken when first
    /// needed. Returns the results and whether the database was unavailable.
    async fn queries(&self) -> (RootResults, bool) {
        let mut sessions = RequestSessions::new(self.database, self.consistency_token());
        let mut database_unavailable = false;
        let mut results: RootResults = Vec::with_capacity(self.plan.roots.len());
        for (index, root) in self.plan.roots.iter().enumerate() {
            if !root.kind.uses_database() || !root.inclusion.holds(self.ctx.variables) {
                results.push(None);
                continue;
            }
            // Before the cache's part is used and before any SQL: `@auth` holds for every
            // node the field reads.
            if let Err(denied) = self.allowed(root) {
                results.push(Some(Err(denied)));
                continue;
            }
            if matches!(self.sources.get(index), Some(RootSource::Cached(_))) {
                results.push(None);
                continue;
            }
            let result = self.root(&mut sessions, root).await;
            if let Err(failure) = &result {
                database_unavailable |= failure.code == "SERVICE_UNAVAILABLE";
            }
            results.push(Some(result));
        }
        (results, database_unavailable)
    }

    /// The position the client's `FraiseQL-Consistency` header asks replicas to have replayed.
    /// A header that does not read as a token asks for the newest data there is: only the
    /// primary qualifies (never stale, never an error).
    fn consistency_token(&self) -> Option<Lsn> {
        let value = self
            .headers
            .get_named(&crate::cache::request::CONSISTENCY_HEADER_NAME)?;
        match Lsn::from_token(value) {
            Ok(lsn) => Some(lsn),
            Err(error) => {
                tracing::debug!(%error, "unreadable consistency token; reading from the primary");
                Some(Lsn(u64::MAX))
            }
        }
    }

    /// Whether the caller passes every `@auth` guard of `root`.
    fn allowed(&self, root: &RootEntry) -> Result<(), RootFailure> {
        access::check_root(self.ctx.model, self.ctx.claims, root, self.ctx.variables)
    }

    /// Runs one root field of a query or a mutation (`@auth` first: a denied field runs no
    /// SQL).
    pub(crate) async fn root(
        &self,
        sessions: &mut RequestSessions<'_>,
        root: &RootEntry,
    ) -> Result<RootValue, RootFailure> {
        self.allowed(root)?;
        match &root.kind {
            RootKind::Fetch { node, .. } => load(sessions, self.ctx, node, None)
                .await
                .map(RootValue::Rows)
                .map_err(|e| failure(&e, &node.path)),
            RootKind::Custom {
                resolver,
                field,
                node,
                ..
            } => custom::run(self, sessions, *resolver, field, node).await,
            RootKind::Write { write, node } => {
                mutate::write(self, sessions, write, node.as_deref(), None).await
            }
            RootKind::Typename | RootKind::Introspection => Err(RootFailure::internal(
                "root field without SQL reached the executor",
                &root.key,
            )),
        }
    }
}

pub(crate) fn failure(error: &LoadError, path: &str) -> RootFailure {
    match error {
        LoadError::Input(message) => RootFailure::new(message.clone(), "BAD_USER_INPUT"),
        LoadError::Database(e) if e.code() == internal::INTERNAL_SERVER_ERROR => {
            RootFailure::internal(&format!("a statement failed at {path}"), e)
        }
        LoadError::Database(e) => {
            tracing::error!(error = %e, path, "statement failed");
            RootFailure::from_db(e)
        }
        LoadError::Internal(what) => {
            RootFailure::internal(&format!("plan and execution disagree at {path}"), what)
        }
    }
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
        consistency: None,
        parts: Vec::new(),
        written: Vec::new(),
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
