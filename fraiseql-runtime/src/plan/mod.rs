//! The planner: a validated operation + the compiled model -> an [`OperationPlan`] of SQL
//! statements (one per root field and per relation field per level) with their bound-parameter
//! sources. OWNER: lead.

use apollo_compiler::executable::Operation;
use apollo_compiler::response::GraphQLError;
use apollo_compiler::validation::Valid;
use apollo_compiler::ExecutableDocument;

use crate::model::Dialect;
use crate::schema::ApiSchema;

/// The plan of one operation; cached, reused for every request with the same document.
pub struct OperationPlan {
    _private: (),
}

impl OperationPlan {
    /// Plans `operation` of `document` for `dialect`.
    pub fn build(
        api: &ApiSchema,
        document: &Valid<ExecutableDocument>,
        operation: &Operation,
        dialect: Dialect,
    ) -> Result<OperationPlan, Vec<GraphQLError>> {
        let _ = (api, document, operation, dialect);
        Err(vec![GraphQLError::new(
            "planner not built yet",
            None,
            &Default::default(),
        )])
    }

    /// `explain`: the statements in order, each with its route and cache policy.
    pub fn explain(&self) -> String {
        String::new()
    }
}
