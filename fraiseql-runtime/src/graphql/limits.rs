//! Request limits checked before a document is validated or planned, so a hostile document
//! (10,000 nested braces, a fragment cycle, 1,000 aliased lookups, 10,000 `__typename`) is
//! refused fast, without deep recursion, and without reaching the database.
//!
//! Two layers: the parser itself stops at a token count and a nesting depth (apollo-parser's
//! own limits, so its recursive descent never overflows the stack), then [`check`] walks the
//! selected operation with an explicit stack, expanding fragment spreads, and counts depth,
//! aliases, root fields and selections.

use std::collections::HashMap;
use std::time::Duration;

use apollo_compiler::ast;

/// `extensions.code` of a request refused by a limit.
pub const LIMIT_EXCEEDED: &str = "LIMIT_EXCEEDED";

/// The limits a request must stay within (see README, "Limits").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body in bytes (`FRAISEQL_MAX_BODY_BYTES`); larger is HTTP 413.
    pub max_body_bytes: usize,
    /// Most lexical tokens in a document as apollo-parser counts them, whitespace and commas
    /// included (`FRAISEQL_MAX_TOKENS`).
    pub max_tokens: usize,
    /// Deepest field nesting, root fields at depth 1 (`FRAISEQL_MAX_DEPTH`).
    pub max_depth: usize,
    /// Most aliased fields in the operation, fragments expanded (`FRAISEQL_MAX_ALIASES`).
    pub max_aliases: usize,
    /// Most root fields, `__typename` included (`FRAISEQL_MAX_ROOT_FIELDS`).
    pub max_root_fields: usize,
    /// Largest `limit` argument, as a literal or a variable's value (`FRAISEQL_MAX_PAGE_SIZE`);
    /// a larger one is refused, not clamped, so a client never silently gets fewer rows than
    /// it asked for.
    pub max_page_size: u64,
    /// Most rows an operation's estimate may reach (`FRAISEQL_MAX_COST`, see [`super::cost`]).
    pub max_cost: u64,
    /// Most requests in one JSON batch (`FRAISEQL_MAX_BATCH`); 0: batches are refused.
    pub max_batch: usize,
    /// Whether `__schema` and `__type` may be queried; `FRAISEQL_ENV=production` turns it off.
    pub introspection: bool,
    /// Whether error messages may suggest a fix ("Did you mean …?"), which can reveal the
    /// schema; `FRAISEQL_ENV=production` turns it off.
    pub suggestions: bool,
    /// Most `/graphql` requests in flight (`FRAISEQL_MAX_IN_FLIGHT`); beyond it a request is
    /// answered 503 with `Retry-After` at once instead of queueing.
    pub max_in_flight: usize,
    /// Longest a `/graphql` request may take (`FRAISEQL_REQUEST_TIMEOUT_MS`); then it is
    /// answered 503 with `Retry-After`.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_tokens: 15_000,
            max_depth: 15,
            max_aliases: 30,
            max_root_fields: 20,
            max_page_size: 1000,
            // Two unlimited list levels (a page of 1,000, and 1,000 per parent under it: about
            // 10^6, a few times that with to-one objects beside them) pass, as
            // `{ users { posts { author { name } } } }` should; a third unlimited list level
            // (about 10^9) is refused until it asks for fewer rows.
            max_cost: 10_000_000,
            max_batch: 0,
            introspection: true,
            suggestions: true,
            max_in_flight: 256,
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl Limits {
    /// The parser's nesting bound: every field level costs the parser a selection set and a
    /// field, and values (lists, objects) nest too; four per allowed level leaves room for
    /// arguments while a 10,000-deep document stops long before the stack is at risk.
    pub fn parser_recursion(&self) -> usize {
        self.max_depth.saturating_mul(4).clamp(32, 4096)
    }

    /// Most selections visited once fragments are expanded: a document within the token limit
    /// can still multiply through fragments spread many times over (each level doubling).
    fn max_expanded(&self) -> usize {
        self.max_tokens.saturating_mul(10)
    }
}

/// A refused request: which limit and why, in words for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LimitError(pub String);

/// Checks the operation `operation_name` selects (or the only one) within `document`, and
/// returns the variables given to `limit` arguments (their values are checked per request by
/// [`check_page_sizes`]). An operation it cannot find is left for validation to report.
pub fn check(
    document: &ast::Document,
    operation_name: Option<&str>,
    limits: &Limits,
) -> Result<Vec<apollo_compiler::Name>, LimitError> {
    let mut limit_variables: Vec<apollo_compiler::Name> = Vec::new();
    let mut fragments: HashMap<&str, &[ast::Selection]> = HashMap::new();
    let mut operation = None;
    for definition in &document.definitions {
        match definition {
            ast::Definition::FragmentDefinition(f) => {
                fragments.insert(f.name.as_str(), &f.selection_set);
            }
            ast::Definition::OperationDefinition(op) => {
                let wanted = match operation_name {
                    Some(name) => op.name.as_deref() == Some(name),
                    None => operation.is_none(),
                };
                if wanted {
                    operation = Some(op);
                }
            }
            _ => {}
        }
    }
    let Some(operation) = operation else {
        return Ok(limit_variables);
    };
    // (selection, field depth of its parent, fragments spread on the way here).
    let mut stack: Vec<(&ast::Selection, usize, usize)> =
        operation.selection_set.iter().map(|s| (s, 0, 0)).collect();
    let (mut aliases, mut root_fields, mut visited) = (0usize, 0usize, 0usize);
    while let Some((selection, depth, spread)) = stack.pop() {
        visited += 1;
        if visited > limits.max_expanded() {
            return Err(LimitError(format!(
                "the operation selects more than {} fields once its fragments are expanded",
                limits.max_expanded()
            )));
        }
        match selection {
            ast::Selection::Field(field) => {
                let depth = depth + 1;
                if depth > limits.max_depth {
                    return Err(LimitError(format!(
                        "the operation nests fields deeper than the limit of {}",
                        limits.max_depth
                    )));
                }
                if depth == 1 {
                    let name = field.name.as_str();
                    if !limits.introspection && (name == "__schema" || name == "__type") {
                        return Err(LimitError(format!(
                            "introspection ({name}) is turned off on this server"
                        )));
                    }
                    root_fields += 1;
                    if root_fields > limits.max_root_fields {
                        return Err(LimitError(format!(
                            "the operation selects more than {} root fields",
                            limits.max_root_fields
                        )));
                    }
                }
                if field.alias.is_some() {
                    aliases += 1;
                    if aliases > limits.max_aliases {
                        return Err(LimitError(format!(
                            "the operation uses more than {} aliases",
                            limits.max_aliases
                        )));
                    }
                }
                for argument in field.arguments.iter().filter(|a| a.name == "limit") {
                    match &*argument.value {
                        // A negative one is the planner's to refuse, with its own message.
                        ast::Value::Int(n) if !n.as_str().starts_with('-') => {
                            let within = n
                                .as_str()
                                .parse::<u64>()
                                .is_ok_and(|n| n <= limits.max_page_size);
                            if !within {
                                return Err(page_too_large(n.as_str(), limits));
                            }
                        }
                        ast::Value::Variable(name) if !limit_variables.contains(name) => {
                            limit_variables.push(name.clone());
                        }
                        _ => {}
                    }
                }
                stack.extend(field.selection_set.iter().map(|s| (s, depth, spread)));
            }
            ast::Selection::InlineFragment(inline) => {
                stack.extend(inline.selection_set.iter().map(|s| (s, depth, spread)));
            }
            ast::Selection::FragmentSpread(named) => {
                // A chain of spreads longer than there are fragments must revisit one: a cycle.
                if spread >= fragments.len() {
                    return Err(LimitError(format!(
                        "fragment \"{}\" spreads itself (a fragment cycle)",
                        named.fragment_name
                    )));
                }
                if let Some(selections) = fragments.get(named.fragment_name.as_str()) {
                    stack.extend(selections.iter().map(|s| (s, depth, spread + 1)));
                }
            }
        }
    }
    Ok(limit_variables)
}

/// The values of the variables given to `limit` arguments, within the page size limit.
pub fn check_page_sizes(
    names: &[apollo_compiler::Name],
    variables: &apollo_compiler::response::JsonMap,
    limits: &Limits,
) -> Result<(), LimitError> {
    for name in names {
        if let Some(value) = variables.get(name.as_str()) {
            // Null means "no limit argument"; a negative number is left for the planner.
            if value.is_null() || value.as_i64().is_some_and(|n| n < 0) {
                continue;
            }
            if value.as_u64().is_none_or(|n| n > limits.max_page_size) {
                return Err(page_too_large(&value.to_string(), limits));
            }
        }
    }
    Ok(())
}

fn page_too_large(asked: &str, limits: &Limits) -> LimitError {
    LimitError(format!(
        "limit: {asked} is more than the largest page of {} rows",
        limits.max_page_size
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(query: &str) -> Result<(), LimitError> {
        let document = ast::Document::parse(query, "q.graphql").expect("parses");
        check(&document, None, &Limits::default()).map(|_| ())
    }

    #[test]
    fn production_turns_introspection_off() {
        let document =
            ast::Document::parse("{ __typename t: __type(name: \"User\") { name } }", "q")
                .expect("parses");
        let production = Limits {
            introspection: false,
            ..Limits::default()
        };
        let e = check(&document, None, &production).expect_err("introspection");
        assert!(e.0.contains("introspection (__type) is turned off"), "{e}");
        assert!(check(&document, None, &Limits::default()).is_ok());
        let plain = ast::Document::parse("{ __typename }", "q").expect("parses");
        assert!(check(&plain, None, &production).is_ok());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(checked("{ users(limit: 1000) { id } }"), Ok(()));
        let e = checked("{ users { posts(limit: 1001) { id } } }").expect_err("1001");
        assert!(
            e.0.contains("limit: 1001 is more than the largest page of 1000"),
            "{e}"
        );
        assert!(checked("{ users(limit: 99999999999999999999999) { id } }").is_err());
        assert_eq!(checked("{ users(limit: -1) { id } }"), Ok(()));
        let document =
            ast::Document::parse("query Q($n: Int) { users(limit: $n) { id } }", "q").expect("ok");
        let names = check(&document, None, &Limits::default()).expect("within");
        assert_eq!(names, ["n"]);
        let vars = |v: serde_json::Value| serde_json::from_value(v).expect("a map");
        let limits = Limits::default();
        assert!(check_page_sizes(&names, &vars(serde_json::json!({"n": 10})), &limits).is_ok());
        assert!(check_page_sizes(&names, &vars(serde_json::json!({"n": null})), &limits).is_ok());
        assert!(check_page_sizes(&names, &vars(serde_json::json!({})), &limits).is_ok());
        let e = check_page_sizes(&names, &vars(serde_json::json!({"n": 5000})), &limits);
        assert!(e.is_err());
    }

    #[test]
    fn ordinary_documents_pass() {
        assert_eq!(checked("{ users(limit: 2) { id posts { id } } }"), Ok(()));
        assert_eq!(
            checked("{ ...F } fragment F on Query { a: users { ...G } } fragment G on User { id }"),
            Ok(())
        );
    }

    #[test]
    fn depth_counts_fields_through_fragments() {
        let deep = format!("{}{}", "{ a ".repeat(16), "}".repeat(16));
        let e = checked(&deep).expect_err("16 levels");
        assert!(e.0.contains("deeper than the limit of 15"), "{e}");
        let fifteen = format!("{}{}", "{ a ".repeat(15), "}".repeat(15));
        assert_eq!(checked(&fifteen), Ok(()));
        let via = format!(
            "{{ ...F }} fragment F on Query {{ {} a {} }}",
            "a { ".repeat(15),
            "}".repeat(15)
        );
        assert!(checked(&via).is_err());
    }

    #[test]
    fn aliases_root_fields_and_cycles_are_counted() {
        let aliases: String = (0..31).map(|i| format!("a{i}: a ")).collect();
        let e = checked(&format!("{{ x {{ {aliases} }} }}")).expect_err("31 aliases");
        assert!(e.0.contains("more than 30 aliases"), "{e}");
        let roots = "__typename ".repeat(21);
        let e = checked(&format!("{{ {roots} }}")).expect_err("21 root fields");
        assert!(e.0.contains("more than 20 root fields"), "{e}");
        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        let e = checked(cycle).expect_err("cycle");
        assert!(e.0.contains("fragment cycle"), "{e}");
    }

    #[test]
    fn fragment_fan_out_is_bounded() {
        let mut doc = String::from("{ users { ...F0 } }");
        for i in 0..20 {
            doc.push_str(&format!(
                " fragment F{i} on User {{ ...F{n} ...F{n} }}",
                n = i + 1
            ));
        }
        doc.push_str(" fragment F20 on User { id }");
        let e = checked(&doc).expect_err("2^20 selections");
        assert!(e.0.contains("once its fragments are expanded"), "{e}");
    }
}
