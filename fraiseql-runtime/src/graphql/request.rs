//! A GraphQL-over-HTTP request's parameters, from a POST JSON body or a GET query string, with
//! the malformed cases turned into clear 400 messages.

use apollo_compiler::response::JsonMap;

/// The parameters of one GraphQL request.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphqlRequest {
    /// The document text.
    pub query: String,
    /// Variable values (empty when none were sent).
    pub variables: JsonMap,
    /// `operationName`.
    pub operation_name: Option<String>,
    /// The HTTP request's headers, for custom resolvers (`Context::header`).
    pub headers: Vec<(String, String)>,
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
    /// `query` is missing.
    #[error("the request has no \"query\"")]
    MissingQuery,
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
            None | Some(serde_json::Value::Null) => return Err(RequestParamsError::MissingQuery),
            Some(serde_json::Value::String(q)) => q,
            Some(_) => return Err(RequestParamsError::QueryNotString),
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
        // No extension is understood yet, but a malformed one is still a malformed request.
        match map.remove("extensions") {
            None | Some(serde_json::Value::Null | serde_json::Value::Object(_)) => {}
            Some(_) => return Err(RequestParamsError::BadExtensions),
        }
        Ok(GraphqlRequest {
            headers: Vec::new(),
            query,
            variables,
            operation_name,
        })
    }

    /// From a GET query string (`query`, `variables` as JSON text, `operationName`).
    pub fn from_query_string(query_string: &str) -> Result<GraphqlRequest, RequestParamsError> {
        let mut query = None;
        let mut variables = JsonMap::new();
        let mut operation_name = None;
        for (key, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
            match key.as_ref() {
                "query" => query = Some(value.into_owned()),
                // `variables=null` means none, as `"variables": null` does in a POST body.
                "variables" if !value.is_empty() && value != "null" => {
                    variables = serde_json::from_str(&value)
                        .map_err(|_| RequestParamsError::BadVariables)?
                }
                "operationName" if !value.is_empty() => operation_name = Some(value.into_owned()),
                "extensions" if !value.is_empty() => {
                    match serde_json::from_str::<serde_json::Value>(&value) {
                        Ok(serde_json::Value::Object(_) | serde_json::Value::Null) => {}
                        _ => return Err(RequestParamsError::BadExtensions),
                    }
                }
                _ => {}
            }
        }
        Ok(GraphqlRequest {
            headers: Vec::new(),
            query: query.ok_or(RequestParamsError::MissingQuery)?,
            variables,
            operation_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
