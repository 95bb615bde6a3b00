//! Any text as a GraphQL request document against the blog schema: parse, validate, coerce
//! the variables (any JSON object the input carries after a NUL byte), plan for both dialects
//! and explain. Nothing may panic; every bad input must come back as an error value.
#![no_main]

use std::sync::OnceLock;

use apollo_compiler::ExecutableDocument;
use fraiseql_runtime::model::Dialect;
use fraiseql_runtime::plan::OperationPlan;
use fraiseql_runtime::schema::ApiSchema;
use libfuzzer_sys::fuzz_target;

mod schema {
    fraiseql_macros::schema!("../schema");
}

fn api() -> &'static ApiSchema {
    static API: OnceLock<ApiSchema> = OnceLock::new();
    API.get_or_init(|| match ApiSchema::load(&schema::SCHEMA) {
        Ok(api) => api,
        Err(e) => panic!("the blog API schema does not load: {e}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (query, variables) = text.split_once('\0').unwrap_or((text, "{}"));
    let api = api();
    let Ok(document) = ExecutableDocument::parse_and_validate(&api.schema, query, "fuzz.graphql")
    else {
        return;
    };
    let variables: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(variables).unwrap_or_default();
    let Ok(variables) = serde_json::from_value(serde_json::Value::Object(variables)) else {
        return;
    };
    for operation in document.operations.iter() {
        let _ = apollo_compiler::request::coerce_variable_values(&api.schema, operation, &variables);
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            if let Ok(plan) = OperationPlan::build(api, &document, operation, dialect) {
                let _ = plan.explain();
            }
        }
    }
});
