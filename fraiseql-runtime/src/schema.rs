//! The API schema as apollo-compiler sees it, built once at start from the model's SDL; used
//! for validating documents, coercing variables and answering introspection.

use apollo_compiler::collections::HashMap;
use apollo_compiler::schema::Implementers;
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

use crate::model::SchemaModel;

/// The compiled model plus its parsed, validated GraphQL schema.
pub struct ApiSchema {
    /// The compiled model.
    pub model: &'static SchemaModel,
    /// The API schema (generated arguments and input types included).
    pub schema: Valid<Schema>,
    /// Computed once for introspection.
    pub implementers: HashMap<Name, Implementers>,
}

/// The model's SDL did not parse or validate: a compiler bug, reported at start.
#[derive(Debug, thiserror::Error)]
#[error("the compiled API schema is invalid (a fraiseql-compiler bug): {0}")]
pub struct InvalidApiSchema(String);

impl ApiSchema {
    /// Parses and validates the model's API SDL.
    pub fn load(model: &'static SchemaModel) -> Result<ApiSchema, InvalidApiSchema> {
        let schema = Schema::parse_and_validate(model.api_sdl, "api-schema.graphql")
            .map_err(|e| InvalidApiSchema(e.errors.to_string()))?;
        let implementers = schema.implementers_map();
        Ok(ApiSchema {
            model,
            schema,
            implementers,
        })
    }
}
