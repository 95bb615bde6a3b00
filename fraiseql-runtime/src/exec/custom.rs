//! `@resolver` fields at run time: the field's arguments as JSON (variables substituted,
//! schema defaults applied), the user's function called with a [`Context`] that owns the
//! request's session on the primary (a mutation's: its transaction), then the relations
//! selected under its rows loaded batched, one statement per relation field per level, exactly
//! as under a generated field (and routed as their routes say).

use apollo_compiler::ast::Value;
use apollo_compiler::executable::Field;
use apollo_compiler::Node;

use super::{complete, failure, RootFailure, RootValue, Run};
use crate::db::RequestSessions;
use crate::model::ResolverFn;
use crate::plan::{ast_to_json, FetchNode};
use crate::resolver::{Arguments, Context};

/// Calls `resolver` on the primary's session and completes its rows.
pub(super) async fn run(
    run: &Run<'_>,
    sessions: &mut RequestSessions<'_>,
    resolver: ResolverFn,
    field: &Node<Field>,
    node: &FetchNode,
) -> Result<RootValue, RootFailure> {
    let arguments = arguments(field, run);
    let session = sessions
        .take_primary()
        .await
        .map_err(|e| RootFailure::from_db(&e))?;
    let context = Context::new(
        run.ctx.model,
        session,
        run.headers.clone(),
        run.claims.clone(),
    );
    let result = resolver(&context, &arguments).await;
    sessions.put_primary(context.into_session());
    let resolved = match result {
        Ok(resolved) => resolved,
        // A resolver's own internal error (or a database failure no client code describes)
        // may carry text meant for the logs only: the client gets an id instead.
        Err(error) if error.code() == crate::graphql::internal::INTERNAL_SERVER_ERROR => {
            let cause = format!("{error} ({})", error.detail().unwrap_or_default());
            return Err(RootFailure::internal(
                &format!("resolver for {} failed", field.name),
                &cause,
            ));
        }
        Err(error) => {
            tracing::warn!(
                field = %field.name,
                code = error.code(),
                detail = error.detail().unwrap_or_default(),
                "resolver failed: {error}"
            );
            return Err(RootFailure {
                read_only: error.is_read_only(),
                ..RootFailure::new(error.message(), error.code())
            });
        }
    };
    let expected = run.ctx.model.types[node.type_index].name;
    if resolved.type_name != expected {
        // The macro's type check makes this unreachable for generated shims.
        let cause = format!("expected {expected}, got {}", resolved.type_name);
        return Err(RootFailure::internal(
            &format!(
                "resolver for {} returned rows of the wrong type",
                field.name
            ),
            &cause,
        ));
    }
    complete(sessions, run.ctx, node, resolved.rows, Vec::new())
        .await
        .map(RootValue::Rows)
        .map_err(|e| failure(&e, &node.path))
}

/// The field's arguments as the resolver reads them: each given argument (a variable that was
/// not sent counts as not given), else the schema's default; absent when neither.
fn arguments(field: &Field, run: &Run<'_>) -> Arguments {
    let variables = run.ctx.variables;
    let mut out = Arguments::new();
    for definition in &field.definition.arguments {
        let given = field
            .specified_argument_by_name(&definition.name)
            .filter(|v| match v.as_ref() {
                Value::Variable(name) => variables.contains_key(name.as_str()),
                _ => true,
            });
        let value = match (given, &definition.default_value) {
            (Some(value), _) => value,
            (None, Some(default)) => default,
            (None, None) => continue,
        };
        out.insert(
            definition.name.to_string(),
            ast_to_json(value, Some(variables)),
        );
    }
    out
}
