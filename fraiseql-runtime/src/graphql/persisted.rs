//! Persisted operations in the service: a request's `documentId` or APQ hash turned into a
//! prepared operation (a trusted document's, planned at startup, or a registered text's), and
//! the refusals of `FRAISEQL_PERSISTED_ONLY`. The stores themselves live in `persisted/`.

use std::sync::Arc;

use super::{errors, GraphqlRequest, GraphqlService, Outcome, PreparedOperation, Transport};
use crate::model::TrustedOperation;
use crate::persisted::{self, ApqStore, PersistedRef, TrustedDocuments};

impl GraphqlService {
    /// The same service serving the schema's trusted documents, each parsed, validated and
    /// planned now (so after [`GraphqlService::with_limits`]: the planner applies the page
    /// size), registering APQ texts in `apq`, and with `persisted_only` refusing every other
    /// document. A trusted document that cannot be planned is an error: the server must not
    /// start without one its clients rely on.
    pub fn with_persisted(
        mut self,
        apq: ApqStore,
        persisted_only: bool,
    ) -> Result<GraphqlService, persisted::trusted::TrustedError> {
        self.trusted = TrustedDocuments::build(self.api.model.operations, |operation| {
            let request = GraphqlRequest {
                query: operation.document.to_owned(),
                persisted: None,
                variables: Default::default(),
                operation_name: Some(operation.id.to_owned()),
                headers: Default::default(),
            };
            self.build(&request, Transport::Post)
                .map_err(|outcome| outcome_messages(&outcome))
        })?;
        self.apq = apq;
        self.persisted_only = persisted_only;
        Ok(self)
    }

    /// How many trusted documents are served.
    pub fn trusted_documents(&self) -> usize {
        self.trusted.len()
    }

    /// The prepared operation the request names or sends: a trusted document's (planned at
    /// startup), or that of a text (sent, or registered earlier under an APQ hash) from the plan
    /// cache or built now. Registers an APQ text once it has validated.
    pub(super) async fn resolve(
        &self,
        request: &mut GraphqlRequest,
        transport: Transport,
    ) -> Result<Arc<PreparedOperation>, Outcome> {
        let hash = match request.persisted.take() {
            None if self.persisted_only => return Err(persisted_required()),
            None => return self.prepare(request, transport),
            Some(PersistedRef::DocumentId(id)) => {
                let found = match id.strip_prefix(persisted::SHA256_PREFIX) {
                    Some(hash) => self.trusted.by_hash(hash),
                    None => self.trusted.by_id(&id),
                };
                let Some((operation, prepared)) = found else {
                    return Err(unknown_document(&id));
                };
                return self.trusted_operation(request, operation, prepared);
            }
            Some(PersistedRef::Apq(hash)) => hash,
        };
        let text_sent = !request.query.is_empty();
        // Apollo's check: a text sent with a hash must be the text of that hash.
        if text_sent && persisted::sha256_hex(&request.query) != hash {
            return Err(Outcome::BadRequest(errors::body(&[errors::plain(
                "provided sha does not match query",
                errors::BAD_REQUEST,
            )])));
        }
        if let Some((operation, prepared)) = self.trusted.by_hash(&hash) {
            return self.trusted_operation(request, operation, prepared);
        }
        if self.persisted_only {
            // Registering a text is sending an ad-hoc document.
            return Err(if text_sent {
                persisted_required()
            } else {
                persisted_query_not_found()
            });
        }
        if !text_sent {
            let Some(text) = self.apq.get(&hash).await else {
                return Err(persisted_query_not_found());
            };
            request.query = text.to_string();
            return self.prepare(request, transport);
        }
        // Only a text that parses, validates and plans is registered.
        let prepared = self.prepare(request, transport)?;
        self.apq.put(&hash, &request.query).await;
        Ok(prepared)
    }

    /// A trusted document's prepared operation: it was planned at startup, so nothing is
    /// parsed or planned now. An `operationName`, if sent, must be the operation's.
    fn trusted_operation(
        &self,
        request: &GraphqlRequest,
        operation: &'static TrustedOperation,
        prepared: Arc<PreparedOperation>,
    ) -> Result<Arc<PreparedOperation>, Outcome> {
        if let Some(name) = request.operation_name.as_deref() {
            if name != operation.id {
                return Err(Outcome::BadRequest(errors::body(&[errors::plain(
                    format!(
                        "the trusted document {} has no operation named \"{name}\"",
                        operation.id
                    ),
                    errors::BAD_REQUEST,
                )])));
            }
        }
        self.metrics.plan_cache_hits.inc();
        Ok(prepared)
    }
}

/// A text sent while only trusted documents may run: a request error like a validation error
/// (the document is not allowed), nothing executed.
fn persisted_required() -> Outcome {
    Outcome::NotExecuted(errors::body(&[errors::plain(
        "this server only runs trusted documents: send {\"documentId\": \"<operation name>\"} \
         instead of the query text",
        persisted::REQUIRED,
    )]))
}

/// A `documentId` no trusted document has.
fn unknown_document(id: &str) -> Outcome {
    Outcome::NotExecuted(errors::body(&[errors::plain(
        format!("no trusted document has the id \"{id}\""),
        persisted::NOT_FOUND,
    )]))
}

/// Apollo's answer to a hash it does not know.
fn persisted_query_not_found() -> Outcome {
    Outcome::PersistedQueryNotFound(errors::body(&[errors::plain(
        persisted::NOT_FOUND_MESSAGE,
        persisted::NOT_FOUND,
    )]))
}

/// The messages in a refused outcome's body, for a startup error.
fn outcome_messages(outcome: &Outcome) -> String {
    let body = match outcome {
        Outcome::BadRequest(body)
        | Outcome::MethodNotAllowed(body)
        | Outcome::NotExecuted(body)
        | Outcome::PersistedQueryNotFound(body)
        | Outcome::Unauthenticated(body) => body.as_slice(),
        Outcome::Executed(result) => result.body.as_slice(),
    };
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let messages: Vec<&str> = parsed["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect()
        })
        .unwrap_or_default();
    if messages.is_empty() {
        "it was refused".to_owned()
    } else {
        messages.join("; ")
    }
}
