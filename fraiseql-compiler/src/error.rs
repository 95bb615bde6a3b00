//! Schema errors: every problem the compiler finds, with the file and position it came from.
//!
//! A message reads `schema/blog.graphql:12:5: <what is wrong>` and, when the compiler can
//! guess the fix, ends with ` (<hint>)`, e.g. `(did you mean "user_id"?)`. Validation collects
//! all of them before failing, so one `cargo build` shows every mistake.

use std::fmt;

use graphql_parser::Pos;

/// One problem in the schema sources.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct SchemaError {
    /// Path relative to the crate, e.g. `schema/blog.graphql`.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when the compiler can tell.
    pub hint: Option<String>,
}

impl SchemaError {
    /// An error at `pos` in `file`.
    pub fn new(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        SchemaError {
            file: file.to_owned(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint (printed in parentheses after the message).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a hint only when there is one (e.g. a "did you mean" that found nothing).
    pub fn with_hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Every error validation found, in source order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Errors(pub Vec<SchemaError>);

impl Errors {
    /// Sorts errors by file and position, so messages read top to bottom.
    pub(crate) fn sorted(mut errors: Vec<SchemaError>) -> Self {
        errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        errors.dedup();
        Errors(errors)
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}
