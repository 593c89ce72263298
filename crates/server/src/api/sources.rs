//! `/api/v1/source`: create, read, update, delete sources.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use hookline_core::{Source, SourceSpec, StoreError};

use super::model::{ListResponse, SourceOut};
use super::ApiJson;
use crate::error::{ApiError, ErrorBody};
use crate::ingress::paths;
use crate::state::AppState;

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::validation(e.to_string())
}

/// A path that a built-in route or another source holds is a conflict.
fn check_path(state: &AppState, source: &Source) -> Result<(), ApiError> {
    let Some(path) = &source.path else {
        return Ok(());
    };
    let conflict = |m: String| ApiError::api(StatusCode::CONFLICT, "conflict", m);
    if let Some(route) = paths::clash(path) {
        return Err(conflict(paths::clash_message(&source.name, path, route)));
    }
    if let Some(other) = state.path_taken(path, &source.name) {
        return Err(conflict(paths::taken_message(&source.name, path, &other)));
    }
    Ok(())
}

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
    let source = spec.into_source(None).map_err(invalid)?;
    check_path(&state, &source)?;
    state.store.create_source(&source).await?;
    state.put_source(source.clone());
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
    let name = existing.name.clone();
    if spec.name.is_empty() {
        spec.name.clone_from(&name);
    }
    if spec.name != name {
        return Err(ApiError::validation(
            "a source cannot be renamed; create a new one",
        ));
    }
    let source = spec.into_source(Some(&existing)).map_err(invalid)?;
    check_path(&state, &source)?;
    state.store.update_source(&source).await?;
    state.put_source(source.clone());
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
    if name == hookline_core::source::DEFAULT_SOURCE {
        return Err(ApiError::validation(
            "the default source serves /webhook/{event} and cannot be deleted",
        ));
    }
    match state.store.delete_source(&name).await {
        Ok(()) => {
            state.forget_source(&name);
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("no source named `{name}`"))),
        Err(e) => Err(e.into()),
    }
}
