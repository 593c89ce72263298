//! `/api/v1/event-type`: event types and the JSON Schemas payloads must match.
//! (Svix stores schemas but does not check payloads; hookline checks them.)

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use hookline_core::{EventType, PageRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::apps::ListQuery;
use super::model::{rfc3339, ListResponse};
use super::ApiJson;
use crate::actions::event_type::{self, event_type_of};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeIn {
    /// Required to create (the path names it otherwise).
    #[schema(required = true, pattern = r"^[a-zA-Z0-9._-]{1,256}$")]
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub schemas: Option<Map<String, Value>>,
    pub archived: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeOut {
    pub name: String,
    pub description: String,
    #[schema(value_type = Option<Object>)]
    pub schemas: Option<Map<String, Value>>,
    pub archived: bool,
    pub deprecated: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&EventType> for EventTypeOut {
    fn from(t: &EventType) -> Self {
        EventTypeOut {
            name: t.name.clone(),
            description: t.description.clone(),
            schemas: t.schemas.clone(),
            archived: t.archived,
            deprecated: false,
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

/// Checks a payload against its event type's latest schema, when there is one.
pub async fn check_payload(
    state: &AppState,
    event_type: &str,
    payload: &Value,
) -> Result<(), ApiError> {
    let Some(t) = state.store.get_event_type(event_type).await? else {
        return Ok(());
    };
    let Some(schema) = t.latest_schema() else {
        return Ok(());
    };
    // A schema stored before this check existed (or written around the API)
    // is checked again, so it can fail this publish but never the process.
    hookline_core::schema::check_recursion(schema).map_err(|e| {
        ApiError::validation(format!(
            "the schema of `{event_type}` cannot be used: {e}; fix the event type"
        ))
    })?;
    let validator = jsonschema::validator_for(schema).map_err(|e| {
        ApiError::validation(format!(
            "the schema of `{event_type}` does not compile: {e}"
        ))
    })?;
    let problems: Vec<String> = validator
        .iter_errors(payload)
        .take(5)
        .map(|e| {
            let at = e.instance_path.to_string();
            format!("{}: {e}", if at.is_empty() { "/" } else { at.as_str() })
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "payload does not match the schema of `{event_type}`: {}",
            problems.join("; ")
        )))
    }
}

#[utoipa::path(
    get,
    path = "/event-type",
    tag = "Event Type",
    summary = "List event types",
    params(ListQuery),
    responses((status = 200, body = ListResponse<EventTypeOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListResponse<EventTypeOut>>, ApiError> {
    let page: PageRequest = q.page();
    let found = state.store.list_event_types(&page).await?;
    Ok(Json(ListResponse::from_page(found, |t| {
        EventTypeOut::from(&t)
    })))
}

#[utoipa::path(
    post,
    path = "/event-type",
    tag = "Event Type",
    summary = "Create an event type",
    request_body = EventTypeIn,
    responses((status = 201, body = EventTypeOut), (status = 409, description = "The name is taken", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<EventTypeIn>,
) -> Result<impl IntoResponse, ApiError> {
    let t = crate::actions::event_type::create(&state, input).await?;
    Ok((StatusCode::CREATED, Json(EventTypeOut::from(&t))))
}

#[utoipa::path(
    get,
    path = "/event-type/{event_type_name}",
    tag = "Event Type",
    summary = "Get an event type",
    params(("event_type_name" = String, Path, description = "The event type's name")),
    responses((status = 200, body = EventTypeOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<EventTypeOut>, ApiError> {
    Ok(Json(EventTypeOut::from(
        &event_type_of(&state, &name).await?,
    )))
}

async fn change(
    state: AppState,
    name: String,
    input: EventTypeIn,
    replace: bool,
) -> Result<Json<EventTypeOut>, ApiError> {
    let t = event_type::change(&state, &name, input, replace).await?;
    Ok(Json(EventTypeOut::from(&t)))
}

#[utoipa::path(
    put,
    path = "/event-type/{event_type_name}",
    tag = "Event Type",
    summary = "Replace an event type",
    params(("event_type_name" = String, Path, description = "The event type's name")),
    request_body = EventTypeIn,
    responses((status = 200, body = EventTypeOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<EventTypeIn>,
) -> Result<Json<EventTypeOut>, ApiError> {
    change(state, name, input, true).await
}

#[utoipa::path(
    patch,
    path = "/event-type/{event_type_name}",
    tag = "Event Type",
    summary = "Update an event type",
    params(("event_type_name" = String, Path, description = "The event type's name")),
    request_body = EventTypeIn,
    responses((status = 200, body = EventTypeOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn patch(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<EventTypeIn>,
) -> Result<Json<EventTypeOut>, ApiError> {
    change(state, name, input, false).await
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete for good instead of archiving (Svix's `expunge`).
    pub expunge: Option<bool>,
}

/// Archives (Svix's default) or, with `?expunge=true`, deletes.
#[utoipa::path(
    delete,
    path = "/event-type/{event_type_name}",
    tag = "Event Type",
    summary = "Archive (or with expunge=true delete) an event type",
    params(("event_type_name" = String, Path, description = "The event type's name"), DeleteQuery),
    responses((status = 204, description = "Archived or deleted"), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    event_type::delete(&state, &name, q.expunge == Some(true)).await?;
    Ok(StatusCode::NO_CONTENT)
}
