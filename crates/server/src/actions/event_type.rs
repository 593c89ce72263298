//! Event types: the one check of an event type (API and UI forms alike):
//! its name, and schemas that compile; creating, changing, archiving and
//! deleting one.

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

/// The event type `name`, or 404.
pub(crate) async fn event_type_of(state: &AppState, name: &str) -> Result<EventType, ApiError> {
    state
        .store
        .get_event_type(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no event type `{name}`")))
}

/// Changes the event type `name`: every field with `replace`, else only those given.
pub(crate) async fn change(
    state: &AppState,
    name: &str,
    input: EventTypeIn,
    replace: bool,
) -> Result<EventType, ApiError> {
    let mut t = event_type_of(state, name).await?;
    check_schemas(&input.schemas)?;
    if replace || input.description.is_some() {
        t.description = input.description.unwrap_or_default();
    }
    if replace || input.schemas.is_some() {
        t.schemas = input.schemas;
    }
    if replace || input.archived.is_some() {
        t.archived = input.archived.unwrap_or(false);
    }
    t.updated_at = now_ms();
    state.store.update_event_type(&t).await?;
    Ok(t)
}

/// Archives the event type `name` (Svix's default), or deletes it for good with `expunge`.
pub(crate) async fn delete(state: &AppState, name: &str, expunge: bool) -> Result<(), ApiError> {
    let mut t = event_type_of(state, name).await?;
    if expunge {
        state.store.delete_event_type(name).await?;
    } else {
        t.archived = true;
        t.updated_at = now_ms();
        state.store.update_event_type(&t).await?;
    }
    Ok(())
}
