//! `/api/v1/source`: create, read, update, delete sources.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use hookline_core::{SourceSpec, StoreError};

use super::model::{ListResponse, SourceOut};
use super::ApiJson;
use crate::error::ApiError;
use crate::state::AppState;

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::validation(e.to_string())
}

pub async fn list(
    State(state): State<AppState>,
) -> Result<Json<ListResponse<SourceOut>>, ApiError> {
    let all = state.store.list_sources().await.map_err(ApiError::store)?;
    Ok(Json(ListResponse {
        data: all.iter().map(SourceOut::from).collect(),
        iterator: None,
        prev_iterator: None,
        done: true,
    }))
}

pub async fn create(
    State(state): State<AppState>,
    ApiJson(spec): ApiJson<SourceSpec>,
) -> Result<impl IntoResponse, ApiError> {
    let source = spec.into_source(None).map_err(invalid)?;
    state
        .store
        .create_source(&source)
        .await
        .map_err(ApiError::store)?;
    state.put_source(source.clone());
    Ok((StatusCode::CREATED, Json(SourceOut::from(&source))))
}

pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<SourceOut>, ApiError> {
    match state
        .store
        .get_source(&name)
        .await
        .map_err(ApiError::store)?
    {
        Some(s) => Ok(Json(SourceOut::from(&s))),
        None => Err(ApiError::not_found(format!("no source named `{name}`"))),
    }
}

pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(mut spec): ApiJson<SourceSpec>,
) -> Result<Json<SourceOut>, ApiError> {
    let existing = state
        .store
        .get_source(&name)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found(format!("no source named `{name}`")))?;
    if spec.name.is_empty() {
        spec.name.clone_from(&name);
    }
    if spec.name != name {
        return Err(ApiError::validation(
            "a source cannot be renamed; create a new one",
        ));
    }
    let source = spec.into_source(Some(&existing)).map_err(invalid)?;
    state
        .store
        .update_source(&source)
        .await
        .map_err(ApiError::store)?;
    state.put_source(source.clone());
    Ok(Json(SourceOut::from(&source)))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
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
        Err(e) => Err(ApiError::store(e)),
    }
}
