//! `@auth` at run time: before a root field runs any SQL (or is served from the result cache),
//! every guard of the nodes it reads — its type's `@auth`, and `@auth` on each selected field,
//! nested relations included — must hold for the caller. A failed guard fails the whole root
//! field with `FORBIDDEN` (a token without the role) or `UNAUTHENTICATED` (no token), naming
//! what was guarded; nothing of it is read.

use apollo_compiler::response::JsonMap;

use super::RootFailure;
use crate::auth::{Claims, FORBIDDEN, UNAUTHENTICATED};
use crate::model::{SchemaModel, AUTHENTICATED};
use crate::plan::{FetchNode, Guard, OutputField, RootEntry, RootKind};

/// Whether the caller may run `root`; the failure to report when not.
pub(crate) fn check_root(
    model: &SchemaModel,
    claims: Option<&Claims>,
    root: &RootEntry,
    variables: &JsonMap,
) -> Result<(), RootFailure> {
    match &root.kind {
        RootKind::Fetch { node, .. } | RootKind::Custom { node, .. } => {
            check_node(claims, node, variables)
        }
        RootKind::Write { write, node } => {
            // A delete re-reads nothing, but still needs the type's own `@auth`.
            let ty = &model.types[write.type_index];
            if let Some(requires) = ty.access.requires {
                check(claims, ty.name, requires)?;
            }
            match node {
                Some(node) => check_node(claims, node, variables),
                None => Ok(()),
            }
        }
        RootKind::Typename | RootKind::Introspection => Ok(()),
    }
}

fn check_node(
    claims: Option<&Claims>,
    node: &FetchNode,
    variables: &JsonMap,
) -> Result<(), RootFailure> {
    for Guard {
        subject,
        requires,
        inclusion,
    } in &node.guards
    {
        if inclusion.holds(variables) {
            check(claims, subject, requires)?;
        }
    }
    for field in &node.fields {
        if let OutputField::Relation {
            inclusion, node, ..
        } = field
        {
            if inclusion.holds(variables) {
                check_node(claims, node, variables)?;
            }
        }
    }
    Ok(())
}

/// One requirement against the caller.
fn check(claims: Option<&Claims>, subject: &str, requires: &str) -> Result<(), RootFailure> {
    match claims {
        None => Err(RootFailure::new(
            format!("{subject} needs an authenticated caller: send Authorization: Bearer <token>"),
            UNAUTHENTICATED,
        )),
        Some(_) if requires == AUTHENTICATED => Ok(()),
        Some(claims) if claims.has_role(requires) => Ok(()),
        Some(_) => Err(RootFailure::new(
            format!("{subject} needs the role \"{requires}\""),
            FORBIDDEN,
        )),
    }
}
