//! Sources: the one way a source is saved or deleted (API and UI forms
//! alike): its spec validated, its path checked against the built-in routes
//! and the other sources, stored, then re-cached for the ingress.

use axum::http::StatusCode;
use hookline_core::source::DEFAULT_SOURCE;
use hookline_core::{Source, SourceSpec, StoreError};

use crate::error::ApiError;
use crate::ingress::paths;
use crate::state::AppState;

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

/// Creates a source from `spec`, or replaces `existing` with it (whole: what
/// the spec leaves out goes back to its default). A source keeps its name.
pub(crate) async fn save(
    state: &AppState,
    spec: SourceSpec,
    existing: Option<&Source>,
) -> Result<Source, ApiError> {
    if let Some(old) = existing {
        if spec.name != old.name {
            return Err(ApiError::validation(
                "a source cannot be renamed; create a new one",
            ));
        }
    }
    let source = spec
        .into_source(existing)
        .map_err(|e| ApiError::validation(e.to_string()))?;
    check_path(state, &source)?;
    match existing {
        None => state.store.create_source(&source).await?,
        Some(_) => state.store.update_source(&source).await?,
    }
    state.put_source(source.clone());
    Ok(source)
}

/// Deletes the source `name` (never the default one, which serves `/webhook/{event}`).
pub(crate) async fn delete(state: &AppState, name: &str) -> Result<(), ApiError> {
    if name == DEFAULT_SOURCE {
        return Err(ApiError::validation(
            "the default source serves /webhook/{event} and cannot be deleted",
        ));
    }
    match state.store.delete_source(name).await {
        Ok(()) => {
            state.forget_source(name);
            Ok(())
        }
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("no source named `{name}`"))),
        Err(e) => Err(e.into()),
    }
}
