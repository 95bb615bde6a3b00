//! Field collection (GraphQL's CollectFields) done once per document, not per request.
//!
//! `@skip` / `@include` with a literal are decided here; with a variable they become
//! [`Condition`]s carried down to every field under them, so one plan serves every set of
//! variable values. A response key selected several times (through fragments) is included when
//! any of its occurrences is, and each occurrence's sub-fields keep that occurrence's conditions.

use apollo_compiler::executable::{DirectiveList, Field, Selection, SelectionSet};
use apollo_compiler::response::JsonMap;
use apollo_compiler::{ExecutableDocument, Name, Node};

/// `variable` must equal `when` for the field to be included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Condition {
    pub variable: Name,
    pub when: bool,
}

/// When a field is included: always, or when every condition of any one alternative holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Inclusion {
    Always,
    AnyOf(Vec<Vec<Condition>>),
}

impl Inclusion {
    /// Evaluates against the request's coerced variables (a missing variable is `false`).
    pub fn holds(&self, variables: &JsonMap) -> bool {
        match self {
            Inclusion::Always => true,
            Inclusion::AnyOf(alternatives) => alternatives.iter().any(|conditions| {
                conditions.iter().all(|c| {
                    let value = variables
                        .get(c.variable.as_str())
                        .and_then(|v| v.as_bool())
                        .unwrap_or(false);
                    value == c.when
                })
            }),
        }
    }

    fn from_occurrences(occurrences: &[Occurrence<'_>]) -> Inclusion {
        if occurrences.iter().any(|o| o.conditions.is_empty()) {
            Inclusion::Always
        } else {
            Inclusion::AnyOf(occurrences.iter().map(|o| o.conditions.clone()).collect())
        }
    }
}

/// One place a response key was selected, with the conditions on the way to it.
#[derive(Clone)]
pub(crate) struct Occurrence<'d> {
    pub field: &'d Node<Field>,
    pub conditions: Vec<Condition>,
}

/// All selections of one response key, in first-appearance order.
pub(crate) struct Collected<'d> {
    pub key: Name,
    pub occurrences: Vec<Occurrence<'d>>,
}

impl Collected<'_> {
    /// The field (every occurrence names the same field with the same arguments: validation's
    /// "fields can merge" rule guarantees it).
    pub fn field(&self) -> &Node<Field> {
        self.occurrences[0].field
    }

    pub fn inclusion(&self) -> Inclusion {
        Inclusion::from_occurrences(&self.occurrences)
    }
}

/// Collects the fields of `selection_set` (no occurrence = excluded by a literal condition).
pub(crate) fn collect_fields<'d>(
    document: &'d ExecutableDocument,
    selection_set: &'d SelectionSet,
) -> Vec<Collected<'d>> {
    let mut out = Vec::new();
    collect_into(document, selection_set, &[], &mut out, &mut Vec::new());
    out
}

/// Collects the merged sub-fields of every occurrence of a composite field.
pub(crate) fn collect_sub_fields<'d>(
    document: &'d ExecutableDocument,
    collected: &Collected<'d>,
) -> Vec<Collected<'d>> {
    let mut out = Vec::new();
    for occurrence in &collected.occurrences {
        collect_into(
            document,
            &occurrence.field.selection_set,
            &occurrence.conditions,
            &mut out,
            &mut Vec::new(),
        );
    }
    out
}

fn collect_into<'d>(
    document: &'d ExecutableDocument,
    selection_set: &'d SelectionSet,
    conditions: &[Condition],
    out: &mut Vec<Collected<'d>>,
    visiting: &mut Vec<&'d Name>,
) {
    for selection in &selection_set.selections {
        let Some(own) = conditions_of(selection.directives()) else {
            continue; // excluded by a literal @skip/@include
        };
        let mut all = conditions.to_vec();
        all.extend(own);
        match selection {
            Selection::Field(field) => {
                let key = field.response_key();
                let occurrence = Occurrence {
                    field,
                    conditions: all,
                };
                match out.iter_mut().find(|c| &c.key == key) {
                    Some(existing) => existing.occurrences.push(occurrence),
                    None => out.push(Collected {
                        key: key.clone(),
                        occurrences: vec![occurrence],
                    }),
                }
            }
            Selection::InlineFragment(inline) => {
                // Every type is an object type, so a valid inline fragment always applies.
                collect_into(document, &inline.selection_set, &all, out, visiting);
            }
            Selection::FragmentSpread(spread) => {
                // Validation rejects cycles; the guard keeps a bug from recursing forever.
                if visiting.contains(&&spread.fragment_name) {
                    continue;
                }
                if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                    visiting.push(&spread.fragment_name);
                    collect_into(document, &fragment.selection_set, &all, out, visiting);
                    visiting.pop();
                }
            }
        }
    }
}

/// The variable conditions of `@skip` / `@include`; `None` when a literal excludes the selection.
fn conditions_of(directives: &DirectiveList) -> Option<Vec<Condition>> {
    let mut conditions = Vec::new();
    for (name, included_when) in [("skip", false), ("include", true)] {
        let Some(directive) = directives.get(name) else {
            continue;
        };
        match directive.specified_argument_by_name("if").map(|v| &**v) {
            Some(apollo_compiler::ast::Value::Boolean(b)) if *b != included_when => return None,
            Some(apollo_compiler::ast::Value::Variable(variable)) => conditions.push(Condition {
                variable: variable.clone(),
                // @skip(if: $v) includes when $v is false; @include(if: $v) when it is true.
                when: included_when,
            }),
            _ => {}
        }
    }
    Some(conditions)
}
