//! The schema as it moves through the compiler. Validation is a type change:
//! `Schema<Unvalidated>` holds parsed documents, `Schema<Validated>` holds the checked
//! [`Model`], and only the latter can be turned into code.

use graphql_parser::schema::Document;
use graphql_parser::Pos;
use sha2::{Digest, Sha256};

use crate::error::{Errors, SchemaError};
use crate::model::Model;

/// Parsed, not yet checked: the documents, one per source file.
pub struct Unvalidated {
    pub(crate) documents: Vec<(String, Document<'static, String>)>,
    pub(crate) hash: String,
}

/// Checked and resolved.
pub struct Validated {
    pub(crate) model: Model,
}

/// A schema in state `S` (see the module docs).
pub struct Schema<S> {
    pub(crate) state: S,
}

impl Schema<Unvalidated> {
    /// Parses every source (`(path relative to the crate, text)`, in any order; they are
    /// sorted by path). Reports every file's syntax error, not just the first.
    pub fn parse(sources: &[(String, String)]) -> Result<Self, Errors> {
        let mut sorted: Vec<&(String, String)> = sources.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut errors = Vec::new();
        let mut documents = Vec::new();
        for (path, text) in &sorted {
            match graphql_parser::parse_schema::<String>(text) {
                Ok(doc) => documents.push((path.clone(), doc.into_static())),
                Err(e) => errors.push(syntax_error(path, &e.to_string())),
            }
        }
        if !errors.is_empty() {
            return Err(Errors::sorted(errors));
        }
        Ok(Schema {
            state: Unvalidated {
                documents,
                hash: schema_hash(&sorted),
            },
        })
    }

    /// Checks everything and resolves names; returns every error found.
    pub fn validate(self) -> Result<Schema<Validated>, Errors> {
        let Unvalidated { documents, hash } = self.state;
        let model = crate::validate::validate(&documents, hash).map_err(Errors::sorted)?;
        Ok(Schema {
            state: Validated { model },
        })
    }
}

impl Schema<Validated> {
    /// The checked model.
    pub fn model(&self) -> &Model {
        &self.state.model
    }
}

/// SHA-256 hex over each source's path and text, in path order. A NUL separates the parts so
/// moving text between a name and a body changes the hash.
pub fn schema_hash(sorted: &[&(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (path, text) in sorted {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// graphql-parser reports `Parse error at L:C` followed by lines of detail; this turns that into
/// our `file:line:col: message` form.
fn syntax_error(path: &str, text: &str) -> SchemaError {
    let mut pos = Pos { line: 1, column: 1 };
    let mut details = Vec::new();
    for line in text.lines() {
        if let Some(at) = line.split("Parse error at ").nth(1) {
            let mut parts = at.trim().split(':').map(|p| p.trim().parse::<usize>());
            if let (Some(Ok(l)), Some(Ok(c))) = (parts.next(), parts.next()) {
                pos = Pos { line: l, column: c };
            }
        } else if !line.trim().is_empty() {
            details.push(line.trim().to_owned());
        }
    }
    let detail = if details.is_empty() {
        String::new()
    } else {
        format!(": {}", details.join("; "))
    };
    SchemaError::new(path, pos, format!("syntax error{detail}"))
}
