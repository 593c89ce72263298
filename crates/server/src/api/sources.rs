//! `/api/v1/source`: create, read, update, delete sources.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use hookline_core::SourceSpec;

use super::model::{ListResponse, SourceOut};
use super::ApiJson;
use crate::actions;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/source",
    tag = "Source",
    summary = "List sources",
    responses((status = 200, body = ListResponse<SourceOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
) -> Result<Json<ListResponse<SourceOut>>, ApiError> {
    let all = state.store.list_sources().await?;
    Ok(Json(ListResponse {
        data: all.iter().map(SourceOut::from).collect(),
        iterator: None,
        prev_iterator: None,
        done: true,
    }))
}

#[utoipa::path(
    post,
    path = "/source",
    tag = "Source",
    summary = "Create a source",
    request_body = SourceSpec,
    responses((status = 201, body = SourceOut), (status = 409, description = "The name or the path is taken", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(spec): ApiJson<SourceSpec>,
) -> Result<impl IntoResponse, ApiError> {
    let source = actions::source::save(&state, spec, None).await?;
    Ok((StatusCode::CREATED, Json(SourceOut::from(&source))))
}

#[utoipa::path(
    get,
    path = "/source/{source}",
    tag = "Source",
    summary = "Get a source",
    params(("source" = String, Path, description = "The source's name or id (src_…)")),
    responses((status = 200, body = SourceOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<SourceOut>, ApiError> {
    Ok(Json(SourceOut::from(&source_of(&state, &key).await?)))
}

/// A source by name, else by id (`src_…`, as the API shows it).
pub(super) async fn source_of(
    state: &AppState,
    key: &str,
) -> Result<hookline_core::Source, ApiError> {
    if let Some(s) = state.store.get_source(key).await? {
        return Ok(s);
    }
    let sources = if key.starts_with("src_") {
        state.store.list_sources().await?
    } else {
        Vec::new()
    };
    sources
        .into_iter()
        .find(|s| s.id.to_string() == key)
        .ok_or_else(|| ApiError::not_found(format!("no source named `{key}`")))
}

#[utoipa::path(
    put,
    path = "/source/{source}",
    tag = "Source",
    summary = "Replace a source",
    params(("source" = String, Path, description = "The source's name or id (src_…)")),
    request_body = SourceSpec,
    responses((status = 200, body = SourceOut), (status = 409, description = "The path is taken", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn update(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiJson(mut spec): ApiJson<SourceSpec>,
) -> Result<Json<SourceOut>, ApiError> {
    let existing = source_of(&state, &key).await?;
    if spec.name.is_empty() {
        spec.name.clone_from(&existing.name);
    }
    let source = actions::source::save(&state, spec, Some(&existing)).await?;
    Ok(Json(SourceOut::from(&source)))
}

#[utoipa::path(
    delete,
    path = "/source/{source}",
    tag = "Source",
    summary = "Delete a source",
    params(("source" = String, Path, description = "The source's name or id (src_…)")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    let name = source_of(&state, &key).await?.name;
    actions::source::delete(&state, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
