//! A GraphQL-over-HTTP request's parameters, from a POST JSON body or a GET query string, with
//! the malformed cases turned into clear 400 messages. A request may name a persisted document
//! instead of sending its text: `documentId` (or its alias `id`), or Apollo's
//! `extensions.persistedQuery` (see `persisted/`).

use apollo_compiler::response::JsonMap;

use crate::persisted::{is_sha256_hex, PersistedRef};

/// The parameters of one GraphQL request.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphqlRequest {
    /// The document text; empty when the request names a persisted document without sending
    /// its text.
    pub query: String,
    /// The persisted document the request names, if any.
    pub persisted: Option<PersistedRef>,
    /// Variable values (empty when none were sent).
    pub variables: JsonMap,
    /// `operationName`.
    pub operation_name: Option<String>,
    /// The HTTP request's headers: the bearer token, the consistency token, and custom
    /// resolvers' `Context::header`.
    pub headers: Headers,
}

/// A request's headers. Kept as actix's map, whose values share the request's buffer, so
/// handing them to the executor copies no header text (copying each into owned strings was a
/// dozen allocations per request).
#[derive(Clone, Debug, Default)]
pub struct Headers(actix_web::http::header::HeaderMap);

impl Headers {
    /// The headers of an HTTP request.
    pub fn new(map: actix_web::http::header::HeaderMap) -> Headers {
        Headers(map)
    }

    /// Headers from `(name, value)` pairs; pairs that are not valid headers are left out.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Headers {
        use actix_web::http::header::{HeaderName, HeaderValue};
        let mut map = actix_web::http::header::HeaderMap::new();
        for (name, value) in pairs {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                map.append(name, value);
            }
        }
        Headers(map)
    }

    /// The first value of header `name` (case-insensitive), when it is visible ASCII.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|value| value.to_str().ok())
    }

    /// Whether the request sent header `name` (case-insensitive).
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The first value of a header named by a constant (no name to parse, so no allocation
    /// for names outside the standard set), when it is visible ASCII.
    pub fn get_named(&self, name: &actix_web::http::header::HeaderName) -> Option<&str> {
        self.0.get(name).and_then(|value| value.to_str().ok())
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .all(|(name, value)| other.0.get_all(name).any(|v| v == value))
    }
}

/// Why the parameters are unusable (always HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestParamsError {
    /// The body is not JSON.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but not an object.
    #[error("the request body must be a JSON object with a \"query\" string")]
    NotAnObject,
    /// `query` is missing (and no persisted document is named).
    #[error("the request has no \"query\" (nor a \"documentId\")")]
    MissingQuery,
    /// `documentId` / `id` is not a non-empty string.
    #[error("\"documentId\" must be a non-empty string")]
    BadDocumentId,
    /// Both a document text and a `documentId`.
    #[error("send either \"query\" or \"documentId\", not both")]
    QueryAndDocumentId,
    /// `extensions.persistedQuery` is not `{"version": 1, "sha256Hash": "<64 hex digits>"}`.
    #[error("\"extensions.persistedQuery\" must be {{\"version\": 1, \"sha256Hash\": \"<64 hex digits>\"}}")]
    BadPersistedQuery,
    /// `query` is not a string.
    #[error("\"query\" must be a string")]
    QueryNotString,
    /// `variables` is neither an object nor null.
    #[error("\"variables\" must be a JSON object")]
    BadVariables,
    /// `extensions` is neither an object nor null.
    #[error("\"extensions\" must be a JSON object")]
    BadExtensions,
    /// `operationName` is neither a string nor null.
    #[error("\"operationName\" must be a string")]
    BadOperationName,
}

impl GraphqlRequest {
    /// From a POST body.
    pub fn from_json(body: &[u8]) -> Result<GraphqlRequest, RequestParamsError> {
        // A well-formed body is read straight into its fields; anything the typed read refuses
        // (a wrong type, a duplicate key, bad JSON) is read again as a JSON tree, which tells
        // exactly what is wrong.
        if let Ok(body) = serde_json::from_slice::<PostBody>(body) {
            return body.into_request();
        }
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| RequestParamsError::MalformedJson(e.to_string()))?;
        GraphqlRequest::from_value(value)
    }

    /// From a POST body already read as JSON (one entry of a batch).
    pub fn from_value(value: serde_json::Value) -> Result<GraphqlRequest, RequestParamsError> {
        let serde_json::Value::Object(mut map) = value else {
            return Err(RequestParamsError::NotAnObject);
        };
        let query = match map.remove("query") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(q)) => Some(q),
            Some(_) => return Err(RequestParamsError::QueryNotString),
        };
        let document_id = match map.remove("documentId").or_else(|| map.remove("id")) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(id)) if !id.is_empty() => Some(id),
            Some(_) => return Err(RequestParamsError::BadDocumentId),
        };
        let variables = match map.remove("variables") {
            None | Some(serde_json::Value::Null) => JsonMap::new(),
            Some(v @ serde_json::Value::Object(_)) => {
                serde_json::from_value(v).map_err(|_| RequestParamsError::BadVariables)?
            }
            Some(_) => return Err(RequestParamsError::BadVariables),
        };
        let operation_name = match map.remove("operationName") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(name)) => Some(name),
            Some(_) => return Err(RequestParamsError::BadOperationName),
        };
        let apq = match map.remove("extensions") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Object(extensions)) => persisted_query(&extensions)?,
            Some(_) => return Err(RequestParamsError::BadExtensions),
        };
        assemble(query, document_id, apq, variables, operation_name)
    }

    /// From a GET query string (`query`, `variables` as JSON text, `operationName`).
    pub fn from_query_string(query_string: &str) -> Result<GraphqlRequest, RequestParamsError> {
        let mut query = None;
        let mut variables = JsonMap::new();
        let mut operation_name = None;
        let mut document_id = None;
        let mut apq = None;
        for (key, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
            match key.as_ref() {
                "query" => query = Some(value.into_owned()),
                // `variables=null` means none, as `"variables": null` does in a POST body.
                "variables" if !value.is_empty() && value != "null" => {
                    variables = serde_json::from_str(&value)
                        .map_err(|_| RequestParamsError::BadVariables)?
                }
                "operationName" if !value.is_empty() => operation_name = Some(value.into_owned()),
                "documentId" | "id" if !value.is_empty() => {
                    document_id.get_or_insert(value.into_owned());
                }
                "extensions" if !value.is_empty() => {
                    match serde_json::from_str::<serde_json::Value>(&value) {
                        Ok(serde_json::Value::Null) => {}
                        Ok(serde_json::Value::Object(extensions)) => {
                            apq = persisted_query(&extensions)?;
                        }
                        _ => return Err(RequestParamsError::BadExtensions),
                    }
                }
                _ => {}
            }
        }
        assemble(query, document_id, apq, variables, operation_name)
    }
}

/// A POST body whose fields all have the expected types: the common case, read without
/// building a JSON tree first. Unknown keys are ignored, as in [`GraphqlRequest::from_value`].
#[derive(serde::Deserialize)]
struct PostBody {
    query: Option<String>,
    /// `Some(None)` for an explicit `null`: a null `documentId` hides `id`, as in `from_value`.
    #[serde(rename = "documentId", default, deserialize_with = "present")]
    document_id: Option<Option<String>>,
    id: Option<String>,
    variables: Option<JsonMap>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A key that is present, even with a `null` value.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

impl PostBody {
    fn into_request(self) -> Result<GraphqlRequest, RequestParamsError> {
        let document_id = match self.document_id {
            Some(id) => id,
            None => self.id,
        };
        if document_id.as_deref() == Some("") {
            return Err(RequestParamsError::BadDocumentId);
        }
        let apq = match &self.extensions {
            Some(extensions) => persisted_query(extensions)?,
            None => None,
        };
        assemble(
            self.query,
            document_id,
            apq,
            self.variables.unwrap_or_default(),
            self.operation_name,
        )
    }
}

/// The request from its parts: a text, a persisted document, or (APQ registration) both.
fn assemble(
    query: Option<String>,
    document_id: Option<String>,
    apq: Option<String>,
    variables: JsonMap,
    operation_name: Option<String>,
) -> Result<GraphqlRequest, RequestParamsError> {
    let persisted = match (document_id, apq) {
        (Some(_), _) if query.is_some() => return Err(RequestParamsError::QueryAndDocumentId),
        // A documentId names the document; a persistedQuery hash beside it adds nothing.
        (Some(id), _) => Some(PersistedRef::DocumentId(id)),
        (None, Some(hash)) => Some(PersistedRef::Apq(hash)),
        (None, None) => None,
    };
    if query.is_none() && persisted.is_none() {
        return Err(RequestParamsError::MissingQuery);
    }
    Ok(GraphqlRequest {
        headers: Headers::default(),
        query: query.unwrap_or_default(),
        persisted,
        variables,
        operation_name,
    })
}

/// Apollo's `extensions.persistedQuery`: `None` when absent; its hash in lowercase otherwise.
/// Other extensions are ignored.
fn persisted_query(
    extensions: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<String>, RequestParamsError> {
    let Some(persisted) = extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let serde_json::Value::Object(persisted) = persisted else {
        return Err(RequestParamsError::BadPersistedQuery);
    };
    let version = persisted.get("version").and_then(serde_json::Value::as_u64);
    match (version, persisted.get("sha256Hash")) {
        (Some(1), Some(serde_json::Value::String(hash))) if is_sha256_hex(hash) => {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(RequestParamsError::BadPersistedQuery),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typed_read_agrees_with_the_json_tree() {
        for body in [
            r#"{"query":"{ a }"}"#,
            r#"{"query":"{ a }","variables":{"x":[1,{"y":null}]},"operationName":"Op"}"#,
            r#"{"query":"{ a }","variables":null,"operationName":null,"extensions":null}"#,
            r#"{"documentId":"UsersPage","other":1}"#,
            r#"{"documentId":null,"id":"X","query":"{ a }"}"#,
            r#"{"id":"sha256:ab"}"#,
            r#"{"documentId":""}"#,
            r#"{"query":"{a}","documentId":"X"}"#,
            r#"{"variables":{}}"#,
            r#"{"query":"{a}","extensions":{"persistedQuery":{"version":2}}}"#,
        ] {
            let typed = serde_json::from_slice::<PostBody>(body.as_bytes())
                .expect("typed")
                .into_request();
            let tree = GraphqlRequest::from_value(serde_json::from_str(body).expect("JSON"));
            assert_eq!(typed, tree, "{body}");
        }
    }

    #[test]
    fn post_bodies() {
        let r = GraphqlRequest::from_json(
            br#"{"query":"{ a }","variables":{"x":1},"operationName":null}"#,
        )
        .unwrap();
        assert_eq!(r.query, "{ a }");
        assert_eq!(r.variables.len(), 1);
        assert!(matches!(
            GraphqlRequest::from_json(b"{"),
            Err(RequestParamsError::MalformedJson(_))
        ));
        assert_eq!(
            GraphqlRequest::from_json(b"[]"),
            Err(RequestParamsError::NotAnObject)
        );
        assert_eq!(
            GraphqlRequest::from_json(b"{}"),
            Err(RequestParamsError::MissingQuery)
        );
        assert_eq!(
            GraphqlRequest::from_json(br#"{"query":1}"#),
            Err(RequestParamsError::QueryNotString)
        );
        assert_eq!(
            GraphqlRequest::from_json(br#"{"query":"{a}","variables":[1]}"#),
            Err(RequestParamsError::BadVariables)
        );
        assert_eq!(
            GraphqlRequest::from_json(br#"{"query":"{a}","operationName":3}"#),
            Err(RequestParamsError::BadOperationName)
        );
        assert_eq!(
            GraphqlRequest::from_json(br#"{"query":"{a}","extensions":"x"}"#),
            Err(RequestParamsError::BadExtensions)
        );
        assert!(GraphqlRequest::from_json(br#"{"query":"{a}","extensions":{"k":1}}"#).is_ok());
    }

    #[test]
    fn persisted_documents() {
        let hash = "A".repeat(64);
        let r = GraphqlRequest::from_json(br#"{"documentId":"UsersPage"}"#).unwrap();
        assert_eq!(
            r.persisted,
            Some(PersistedRef::DocumentId("UsersPage".into()))
        );
        assert_eq!(r.query, "");
        let r = GraphqlRequest::from_json(br#"{"id":"sha256:ab"}"#).unwrap();
        assert_eq!(
            r.persisted,
            Some(PersistedRef::DocumentId("sha256:ab".into()))
        );
        let apq = format!(
            r#"{{"extensions":{{"persistedQuery":{{"version":1,"sha256Hash":"{hash}"}}}}}}"#
        );
        let r = GraphqlRequest::from_json(apq.as_bytes()).unwrap();
        assert_eq!(r.persisted, Some(PersistedRef::Apq("a".repeat(64))));
        assert_eq!(
            GraphqlRequest::from_json(br#"{"query":"{a}","documentId":"X"}"#),
            Err(RequestParamsError::QueryAndDocumentId)
        );
        assert_eq!(
            GraphqlRequest::from_json(br#"{"documentId":3}"#),
            Err(RequestParamsError::BadDocumentId)
        );
        assert_eq!(
            GraphqlRequest::from_json(
                br#"{"extensions":{"persistedQuery":{"version":2,"sha256Hash":"ab"}}}"#
            ),
            Err(RequestParamsError::BadPersistedQuery)
        );
        let get = format!(
            "extensions={}",
            url::form_urlencoded::byte_serialize(
                format!(r#"{{"persistedQuery":{{"version":1,"sha256Hash":"{hash}"}}}}"#).as_bytes()
            )
            .collect::<String>()
        );
        let r = GraphqlRequest::from_query_string(&get).unwrap();
        assert_eq!(r.persisted, Some(PersistedRef::Apq("a".repeat(64))));
        let r = GraphqlRequest::from_query_string("documentId=UserById").unwrap();
        assert_eq!(
            r.persisted,
            Some(PersistedRef::DocumentId("UserById".into()))
        );
    }

    #[test]
    fn get_query_strings() {
        let r = GraphqlRequest::from_query_string(
            "query=%7B%20a%20%7D&variables=%7B%22x%22%3A1%7D&operationName=Q",
        )
        .unwrap();
        assert_eq!(r.query, "{ a }");
        assert_eq!(r.operation_name.as_deref(), Some("Q"));
        assert_eq!(
            GraphqlRequest::from_query_string("variables=%7B"),
            Err(RequestParamsError::BadVariables)
        );
        assert_eq!(
            GraphqlRequest::from_query_string("query=%7Ba%7D&extensions=%5B%5D"),
            Err(RequestParamsError::BadExtensions)
        );
        assert_eq!(
            GraphqlRequest::from_query_string(""),
            Err(RequestParamsError::MissingQuery)
        );
        let r = GraphqlRequest::from_query_string("query=%7Ba%7D&variables=null").unwrap();
        assert!(r.variables.is_empty());
    }
}
