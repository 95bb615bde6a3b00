//! The estimated cost of an operation: how many rows it can return. Each field that returns
//! objects contributes the rows it can return for every row of its parent (a list: its `limit`
//! argument, or the page size when it has none; an object: one), multiplied down the nested
//! levels and summed over the fields. `{ users(limit: 50) { posts(limit: 5) { id } } }` costs
//! 50 + 50 × 5 = 300. `@skip`/`@include` are ignored (a field counts as selected): an estimate
//! must be an upper bound.
//!
//! Like the page size, the estimate is split in two: what literals fix is worked out once with
//! the plan, and a `limit: $n` stays a factor to fill in per request, once the variables'
//! values are known, still before any SQL runs.

use std::collections::BTreeMap;

use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::response::JsonMap;
use apollo_compiler::{ast, ExecutableDocument, Name};

/// `extensions.code` of an operation refused for its estimated cost.
pub const COST_LIMIT_EXCEEDED: &str = "COST_LIMIT_EXCEEDED";

/// An operation's rows as a sum of products: per set of `limit` variables (sorted, repeated
/// when a variable limits several levels), the rows that set multiplies. The empty set holds
/// what literals alone fix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CostEstimate {
    terms: BTreeMap<Vec<String>, u64>,
}

/// A factor of one level: known now, or a variable's value.
enum Factor {
    Rows(u64),
    Variable(Name),
}

impl CostEstimate {
    /// The estimate of `operation` in `document`, a list without a `limit` counting
    /// `page_size` rows per parent. Walks the selections with an explicit stack, fragments
    /// expanded (the document already passed the limits on depth and expanded selections).
    pub fn of(
        document: &ExecutableDocument,
        operation: &Operation,
        page_size: u64,
    ) -> CostEstimate {
        let mut estimate = CostEstimate::default();
        // (selections, rows of the parent level as a product: a constant and variables).
        let mut stack: Vec<(&SelectionSet, u64, Vec<String>)> =
            vec![(&operation.selection_set, 1, Vec::new())];
        while let Some((set, constant, variables)) = stack.pop() {
            for selection in &set.selections {
                match selection {
                    Selection::Field(field) => {
                        // Scalars are columns of a row already counted; introspection reads
                        // the schema, not rows.
                        if field.selection_set.selections.is_empty() || field.name.starts_with("__")
                        {
                            continue;
                        }
                        let (mut constant, mut variables) = (constant, variables.clone());
                        match factor(field, page_size) {
                            Factor::Rows(n) => constant = constant.saturating_mul(n),
                            Factor::Variable(name) => {
                                variables.push(name.to_string());
                                variables.sort();
                            }
                        }
                        let term = estimate.terms.entry(variables.clone()).or_insert(0);
                        *term = term.saturating_add(constant);
                        stack.push((&field.selection_set, constant, variables));
                    }
                    Selection::InlineFragment(inline) => {
                        stack.push((&inline.selection_set, constant, variables.clone()));
                    }
                    Selection::FragmentSpread(spread) => {
                        if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                            stack.push((&fragment.selection_set, constant, variables.clone()));
                        }
                    }
                }
            }
        }
        estimate
    }

    /// What literals alone fix: the whole estimate when no `limit` is a variable, else a lower
    /// bound of it.
    pub fn fixed(&self) -> u64 {
        self.terms.get(&[][..]).copied().unwrap_or(0)
    }

    /// Whether a `limit` variable is a factor, so the estimate is only known per request.
    pub fn has_variables(&self) -> bool {
        self.terms.keys().any(|k| !k.is_empty())
    }

    /// The estimate with the request's (coerced) `variables`: a null or absent limit counts
    /// `page_size` rows, as the planner then fetches that many.
    pub fn rows(&self, variables: &JsonMap, page_size: u64) -> u64 {
        let value = |name: &String| match variables.get(name.as_str()) {
            None => page_size,
            Some(v) if v.is_null() => page_size,
            // A negative limit is refused by the planner; it returns no rows.
            Some(v) => v.as_u64().unwrap_or(if v.is_i64() { 0 } else { page_size }),
        };
        self.terms.iter().fold(0u64, |total, (names, constant)| {
            let term = names
                .iter()
                .fold(*constant, |rows, name| rows.saturating_mul(value(name)));
            total.saturating_add(term)
        })
    }
}

/// The rows `field` returns per parent row.
fn factor(field: &apollo_compiler::executable::Field, page_size: u64) -> Factor {
    if !field.ty().is_list() {
        return Factor::Rows(1);
    }
    let limit = field.arguments.iter().find(|a| a.name == "limit");
    match limit.map(|a| &*a.value) {
        Some(ast::Value::Int(n)) => {
            // Beyond u64 is beyond any limit; a negative one returns nothing (the planner
            // refuses it).
            let rows = if n.as_str().starts_with('-') {
                0
            } else {
                n.as_str().parse::<u64>().unwrap_or(u64::MAX)
            };
            Factor::Rows(rows)
        }
        Some(ast::Value::Variable(name)) => Factor::Variable(name.clone()),
        // No limit, `limit: null` (or a resolver list without one): the page size bounds it.
        _ => Factor::Rows(page_size),
    }
}

/// An operation whose estimate is beyond the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the operation could return up to {estimate} rows, more than the limit of {limit}; ask for fewer (smaller `limit` arguments, fewer nested lists)")]
pub struct CostError {
    /// The estimate, in rows.
    pub estimate: u64,
    /// `FRAISEQL_MAX_COST`.
    pub limit: u64,
}

/// `estimate` within `limit`.
pub fn check(estimate: u64, limit: u64) -> Result<(), CostError> {
    if estimate > limit {
        return Err(CostError { estimate, limit });
    }
    Ok(())
}

/// A request refused for its estimated cost, with the estimate and the limit in `extensions`.
pub(super) fn refused(error: CostError) -> super::Outcome {
    let mut graphql_error = super::errors::plain(error.to_string(), COST_LIMIT_EXCEEDED);
    graphql_error.extensions.insert(
        "cost",
        apollo_compiler::response::JsonValue::from(error.estimate),
    );
    graphql_error.extensions.insert(
        "maxCost",
        apollo_compiler::response::JsonValue::from(error.limit),
    );
    super::Outcome::NotExecuted(super::errors::body(&[graphql_error]))
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use apollo_compiler::Schema;

    use super::*;

    const SDL: &str = "type Query { users(limit: Int): [User!]! user(id: ID!): User }
        type User { id: ID! name: String posts(limit: Int): [Post!]! best: Post }
        type Post { id: ID! title: String comments(limit: Int): [Comment!]! }
        type Comment { id: ID! }";

    fn schema() -> &'static apollo_compiler::validation::Valid<Schema> {
        static SCHEMA: OnceLock<apollo_compiler::validation::Valid<Schema>> = OnceLock::new();
        SCHEMA.get_or_init(|| Schema::parse_and_validate(SDL, "s.graphql").expect("valid"))
    }

    fn estimate(query: &str) -> CostEstimate {
        let document =
            ExecutableDocument::parse_and_validate(schema(), query, "q.graphql").expect("valid");
        let operation = document.operations.get(None).expect("one operation");
        CostEstimate::of(&document, operation, 1000)
    }

    #[test]
    fn rows_multiply_down_lists_and_add_up_over_fields() {
        let e =
            estimate("{ users(limit: 50) { id posts(limit: 5) { comments(limit: 3) { id } } } }");
        assert_eq!(e.fixed(), 50 + 250 + 750);
        assert!(!e.has_variables());
        // Objects count one row per parent; scalars and __typename nothing.
        let e = estimate("{ user(id: 1) { __typename best { title } posts(limit: 2) { id } } }");
        assert_eq!(e.fixed(), 1 + 1 + 2);
        // No limit: the page size.
        assert_eq!(
            estimate("{ users { posts { id } } }").fixed(),
            1000 + 1_000_000
        );
        assert_eq!(estimate("{ users(limit: null) { id } }").fixed(), 1000);
        // Fragments are expanded.
        let e = estimate(
            "{ users(limit: 10) { ...P ... on User { best { id } } } } fragment P on User { posts(limit: 4) { id } }",
        );
        assert_eq!(e.fixed(), 10 + 40 + 10);
        // Each selection counts, aliased or not.
        let deep =
            "{ users { posts { comments { id } } } users2: users { posts { comments { id } } } }";
        assert_eq!(
            estimate(deep).fixed(),
            2 * (1000 + 1_000_000 + 1_000_000_000)
        );
    }

    #[test]
    fn variables_are_filled_in_per_request() {
        let e = estimate(
            "query Q($n: Int, $m: Int) { users(limit: $n) { posts(limit: $m) { id } } user(id: 1) { id } }",
        );
        assert!(e.has_variables());
        assert_eq!(e.fixed(), 1);
        let vars = |v: serde_json::Value| -> JsonMap { serde_json::from_value(v).expect("a map") };
        assert_eq!(
            e.rows(&vars(serde_json::json!({"n": 10, "m": 3})), 1000),
            1 + 10 + 30
        );
        assert_eq!(
            e.rows(&vars(serde_json::json!({"n": null})), 1000),
            1 + 1000 + 1_000_000
        );
        assert_eq!(check(41, 41), Ok(()));
        assert_eq!(
            check(42, 41),
            Err(CostError {
                estimate: 42,
                limit: 41
            })
        );
    }
}
