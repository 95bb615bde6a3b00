//! Argument values as the planner reads them: a literal in the document, or a variable's
//! coerced value. At plan time variable values are unknown; a variable in a scalar position
//! becomes a deferred bind, and one in a structural position (an object or list that shapes the
//! SQL) makes the statement "per request" (built from the same fragments with the values at hand).

use apollo_compiler::ast::Value;
use apollo_compiler::executable::VariableDefinition;
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::{Name, Node};

/// Why an argument could not be turned into SQL now.
#[derive(Debug)]
pub(crate) enum PlanInputError {
    /// The SQL's shape depends on a variable's value: build it per request.
    NeedsValues,
    /// The value is wrong (a bad ID, cursor, DateTime, negative limit, …): a client error.
    Invalid(String),
}

impl PlanInputError {
    /// Prefixes an `Invalid` message with where the value was (`argument \`id\``).
    pub fn in_context(self, context: &str) -> PlanInputError {
        match self {
            PlanInputError::Invalid(message) => {
                PlanInputError::Invalid(format!("{context}: {message}"))
            }
            other => other,
        }
    }
}

/// A value: from the document or from the variables; `Absent` when not given.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Input<'a> {
    Ast(&'a Value),
    Json(&'a JsonValue),
    Absent,
}

/// What the planner knows about variables: their definitions always, their values only when
/// building per request.
#[derive(Clone, Copy)]
pub(crate) struct VariableScope<'a> {
    pub definitions: &'a [Node<VariableDefinition>],
    pub values: Option<&'a JsonMap>,
}

impl<'a> VariableScope<'a> {
    /// Whether `$name` is declared non-null (so a deferred bind never sees null).
    pub fn is_non_null(&self, name: &Name) -> bool {
        self.definitions
            .iter()
            .find(|d| &d.name == name)
            .is_some_and(|d| d.ty.is_non_null())
    }

    /// Replaces a variable reference by its value; structural positions call this.
    pub fn resolve(&self, input: Input<'a>) -> Result<Input<'a>, PlanInputError> {
        match input {
            Input::Ast(Value::Variable(name)) => match self.values {
                Some(values) => Ok(values
                    .get(name.as_str())
                    .map(Input::Json)
                    .unwrap_or(Input::Absent)),
                None => Err(PlanInputError::NeedsValues),
            },
            other => Ok(other),
        }
    }
}

impl<'a> Input<'a> {
    /// `null` or not given.
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Input::Absent | Input::Ast(Value::Null) | Input::Json(JsonValue::Null)
        )
    }

    /// The variable this input refers to, if it is one.
    pub fn variable(&self) -> Option<&'a Name> {
        match self {
            Input::Ast(Value::Variable(name)) => Some(name),
            _ => None,
        }
    }

    /// Object entries, in the order given.
    pub fn entries(&self) -> Option<Vec<(&'a str, Input<'a>)>> {
        match self {
            Input::Ast(Value::Object(fields)) => Some(
                fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), Input::Ast(v)))
                    .collect(),
            ),
            Input::Json(JsonValue::Object(map)) => Some(
                map.iter()
                    .map(|(k, v)| (k.as_str(), Input::Json(v)))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// List items; a single value counts as a one-item list (GraphQL input coercion).
    pub fn items(&self) -> Vec<Input<'a>> {
        match self {
            Input::Ast(Value::List(items)) => items.iter().map(|v| Input::Ast(v)).collect(),
            Input::Json(JsonValue::Array(items)) => items.iter().map(Input::Json).collect(),
            other if other.is_null() => Vec::new(),
            other => vec![*other],
        }
    }

    /// Integer value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Input::Ast(Value::Int(i)) => i.as_str().parse().ok(),
            Input::Json(v) => v.as_i64(),
            _ => None,
        }
    }

    /// Float value (integers widen).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Input::Ast(Value::Int(i)) => i.try_to_f64().ok(),
            Input::Ast(Value::Float(f)) => f.try_to_f64().ok(),
            Input::Json(v) => v.as_f64(),
            _ => None,
        }
    }

    /// String, or enum value name.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Input::Ast(Value::String(s)) => Some(s.as_str()),
            Input::Ast(Value::Enum(e)) => Some(e.as_str()),
            Input::Json(v) => v.as_str(),
            _ => None,
        }
    }

    /// Boolean value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Input::Ast(Value::Boolean(b)) => Some(*b),
            Input::Json(v) => v.as_bool(),
            _ => None,
        }
    }

    /// The value as a client wrote it, for error messages (strings quoted, capped in length).
    pub fn describe(&self) -> String {
        let text = match self {
            Input::Absent => "nothing".to_string(),
            Input::Ast(value) => value.to_string(),
            Input::Json(value) => serde_json::to_string(value).unwrap_or_else(|_| "a value".into()),
        };
        if text.chars().count() > 64 {
            format!("{}…", text.chars().take(64).collect::<String>())
        } else {
            text
        }
    }

    /// An `ID`: an integer, or a string holding one.
    pub fn as_id(&self) -> Option<i64> {
        self.as_i64().or_else(|| self.as_str()?.trim().parse().ok())
    }
}
