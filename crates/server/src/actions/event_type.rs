//! Event types: the one check of a new event type (API and UI forms alike):
//! its name, and schemas that compile.

use hookline_core::clock::now_ms;
use hookline_core::EventType;
use serde_json::{Map, Value};

use crate::api::event_types::EventTypeIn;
use crate::api::send_model::check_token;
use crate::error::ApiError;
use crate::state::AppState;

/// Every schema must compile, so a bad one is refused when it is saved.
pub(crate) fn check_schemas(schemas: &Option<Map<String, Value>>) -> Result<(), ApiError> {
    for (version, schema) in schemas.iter().flatten() {
        // Before compiling: a schema that recurses in place would never stop.
        hookline_core::schema::check_recursion(schema)
            .map_err(|e| ApiError::validation(format!("schema version {version}: {e}")))?;
        jsonschema::validator_for(schema).map_err(|e| {
            ApiError::validation(format!(
                "schema version {version} is not a valid JSON Schema: {e}"
            ))
        })?;
    }
    Ok(())
}

/// Creates an event type from `input` (a name is required).
pub(crate) async fn create(state: &AppState, input: EventTypeIn) -> Result<EventType, ApiError> {
    let name = input
        .name
        .ok_or_else(|| ApiError::validation("name is required"))?;
    check_token("name", &name)?;
    check_schemas(&input.schemas)?;
    let now = now_ms();
    let t = EventType {
        name,
        description: input.description.unwrap_or_default(),
        schemas: input.schemas,
        archived: input.archived.unwrap_or(false),
        created_at: now,
        updated_at: now,
    };
    state.store.create_event_type(&t).await?;
    Ok(t)
}
