//! Trusted documents, planned once at startup: every `SchemaModel.operations` entry is parsed,
//! validated and planned before the server accepts requests, and kept here for the process's
//! life (never evicted, unlike the plan cache), so a request naming one is neither parsed nor
//! planned.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::TrustedOperation;

/// Why a trusted document could not be planned at startup (the server then refuses to start:
/// the compiler validated it against the schema, so this is a runtime limit it exceeds, such as
/// `FRAISEQL_MAX_DEPTH`).
#[derive(Debug, thiserror::Error)]
#[error("trusted operation {id} ({file}:{line}:{column}) cannot be served: {reason}")]
pub struct TrustedError {
    /// The operation's id.
    pub id: &'static str,
    /// Its file in `schema/operations/`.
    pub file: &'static str,
    /// Where the operation starts.
    pub line: u32,
    /// Where the operation starts.
    pub column: u32,
    /// What the planner said.
    pub reason: String,
}

/// Prepared trusted documents by id and by hash.
pub struct TrustedDocuments<P> {
    prepared: Vec<(&'static TrustedOperation, Arc<P>)>,
    by_id: HashMap<&'static str, usize>,
    by_hash: HashMap<&'static str, usize>,
}

impl<P> Default for TrustedDocuments<P> {
    fn default() -> Self {
        TrustedDocuments {
            prepared: Vec::new(),
            by_id: HashMap::new(),
            by_hash: HashMap::new(),
        }
    }
}

impl<P> TrustedDocuments<P> {
    /// Prepares each operation with `prepare`; the first failure stops (and is returned).
    pub fn build(
        operations: &'static [TrustedOperation],
        mut prepare: impl FnMut(&'static TrustedOperation) -> Result<P, String>,
    ) -> Result<TrustedDocuments<P>, TrustedError> {
        let mut documents = TrustedDocuments::default();
        for operation in operations {
            let prepared = prepare(operation).map_err(|reason| TrustedError {
                id: operation.id,
                file: operation.source.file,
                line: operation.source.line,
                column: operation.source.column,
                reason,
            })?;
            let index = documents.prepared.len();
            documents.prepared.push((operation, Arc::new(prepared)));
            documents.by_id.insert(operation.id, index);
            documents.by_hash.insert(operation.sha256, index);
        }
        Ok(documents)
    }

    /// By id (the operation's name).
    pub fn by_id(&self, id: &str) -> Option<(&'static TrustedOperation, Arc<P>)> {
        self.get(self.by_id.get(id))
    }

    /// By SHA-256 of the text (hex, either case).
    pub fn by_hash(&self, hash: &str) -> Option<(&'static TrustedOperation, Arc<P>)> {
        if hash.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.get(self.by_hash.get(hash.to_ascii_lowercase().as_str()));
        }
        self.get(self.by_hash.get(hash))
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.prepared.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.prepared.is_empty()
    }

    fn get(&self, index: Option<&usize>) -> Option<(&'static TrustedOperation, Arc<P>)> {
        let (operation, prepared) = self.prepared.get(*index?)?;
        Some((operation, prepared.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OperationKind, SourcePos};

    static OPS: [TrustedOperation; 1] = [TrustedOperation {
        id: "UsersPage",
        sha256: "ab12",
        kind: OperationKind::Query,
        document: "query UsersPage { users { id } }",
        source: SourcePos {
            file: "schema/operations/users.graphql",
            line: 1,
            column: 1,
        },
    }];

    #[test]
    fn found_by_id_and_by_hash_in_either_case() {
        let docs = TrustedDocuments::build(&OPS, |op| Ok(op.document.len())).expect("builds");
        assert_eq!(docs.by_id("UsersPage").map(|(_, p)| *p), Some(32));
        assert!(docs.by_hash("AB12").is_some());
        assert!(docs.by_id("Other").is_none());
    }

    #[test]
    fn a_document_that_cannot_be_planned_names_itself() {
        let error = TrustedDocuments::<()>::build(&OPS, |_| Err("too deep".into()))
            .err()
            .expect("refused");
        assert_eq!(
            error.to_string(),
            "trusted operation UsersPage (schema/operations/users.graphql:1:1) cannot be served: too deep"
        );
    }
}
