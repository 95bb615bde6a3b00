//! `myTasks`: the caller's own tasks. A resolver's SQL is the app's own, so row filters do not
//! apply to it: it binds the tenant itself, from the verified claims, next to the subject.

use fraiseql::{Bind, Context, ResolverError};

use crate::schema::TaskRow;

/// `myTasks: [Task!]!`, kept for a minute per caller: the resolver cache and the result cache
/// key a custom resolver's answer by the caller's claims, so one caller's tasks never reach
/// another (tests/support/scenarios.rs, `cache`).
#[fraiseql::query(cache(ttl = 60))]
pub async fn my_tasks(ctx: &Context) -> Result<Vec<TaskRow>, ResolverError> {
    let (Some(tenant), Some(subject)) = (ctx.claim_str("tenant"), ctx.claim_str("sub")) else {
        return Err(ResolverError::new(
            "UNAUTHENTICATED",
            "myTasks needs a token with `tenant` and `sub` claims",
        ));
    };
    ctx.rows(
        "SELECT * FROM tasks WHERE tenant_id = $1 AND assignee = $2 ORDER BY id",
        &[
            Bind::Text(tenant.to_owned()),
            Bind::Text(subject.to_owned()),
        ],
    )
    .await
}
