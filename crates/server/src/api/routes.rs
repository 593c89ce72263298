//! `/api/v1/route`: forwarding routes (create, read, update, delete, pause,
//! resume, recover) and `/source/{s}/event/{evt}/forward`: where one
//! received event went, and resend.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use hookline_core::{EventId, RouteSpec};

use super::model::{parse_time, ListResponse};
use super::route_model::{ForwardOut, RequeuedOut, RouteOut, RouteRecoverIn};
use super::ApiJson;
use crate::actions::route::{self, route_of};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

fn event_id(s: &str) -> Result<EventId, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("no event `{s}`")))
}

#[utoipa::path(
    get,
    path = "/route",
    tag = "Route",
    summary = "List routes",
    responses((status = 200, body = ListResponse<RouteOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody))
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<ListResponse<RouteOut>>, ApiError> {
    let all = state.store.list_routes(None).await?;
    Ok(Json(ListResponse {
        data: all.iter().map(RouteOut::from).collect(),
        iterator: None,
        prev_iterator: None,
        done: true,
    }))
}

#[utoipa::path(
    post,
    path = "/route",
    tag = "Route",
    summary = "Create a route: a source's events forwarded to a URL",
    request_body = RouteSpec,
    responses((status = 201, body = RouteOut), (status = 409, description = "The name is taken", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(spec): ApiJson<RouteSpec>,
) -> Result<impl IntoResponse, ApiError> {
    let r = route::save(&state, spec, None, false).await?;
    Ok((StatusCode::CREATED, Json(RouteOut::from(&r))))
}

#[utoipa::path(
    get,
    path = "/route/{route}",
    tag = "Route",
    summary = "Get a route",
    params(("route" = String, Path, description = "The route's name or id (route_…)")),
    responses((status = 200, body = RouteOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<RouteOut>, ApiError> {
    Ok(Json(RouteOut::from(&route_of(&state, &key).await?)))
}

#[utoipa::path(
    put,
    path = "/route/{route}",
    tag = "Route",
    summary = "Replace a route",
    params(("route" = String, Path, description = "The route's name or id (route_…)")),
    request_body = RouteSpec,
    responses((status = 200, body = RouteOut), (status = 409, description = "The name is taken", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn update(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiJson(mut spec): ApiJson<RouteSpec>,
) -> Result<Json<RouteOut>, ApiError> {
    let existing = route_of(&state, &key).await?;
    if spec.name.is_empty() {
        spec.name.clone_from(&existing.name);
    }
    // Changed through the API, it is no longer only the operator's own.
    let r = route::save(&state, spec, Some(&existing), false).await?;
    Ok(Json(RouteOut::from(&r)))
}

#[utoipa::path(
    delete,
    path = "/route/{route}",
    tag = "Route",
    summary = "Delete a route and its forwards",
    params(("route" = String, Path, description = "The route's name or id (route_…)")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    let r = route_of(&state, &key).await?;
    route::delete(&state, &r).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/route/{route}/pause",
    tag = "Route",
    summary = "Pause a route: its forwards are held until it is resumed",
    params(("route" = String, Path, description = "The route's name or id (route_…)")),
    responses((status = 200, body = RouteOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody))
)]
pub async fn pause(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<RouteOut>, ApiError> {
    let r = route_of(&state, &key).await?;
    Ok(Json(RouteOut::from(
        &route::set_paused(&state, &r, true).await?,
    )))
}

#[utoipa::path(
    post,
    path = "/route/{route}/resume",
    tag = "Route",
    summary = "Resume a route: held forwards go out at its rate",
    params(("route" = String, Path, description = "The route's name or id (route_…)")),
    responses((status = 200, body = RouteOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody))
)]
pub async fn resume(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<RouteOut>, ApiError> {
    let r = route_of(&state, &key).await?;
    Ok(Json(RouteOut::from(
        &route::set_paused(&state, &r, false).await?,
    )))
}

#[utoipa::path(
    post,
    path = "/route/{route}/recover",
    tag = "Route",
    summary = "Forward again every failed forward of events received since a time",
    params(("route" = String, Path, description = "The route's name or id (route_…)")),
    request_body = RouteRecoverIn,
    responses((status = 202, body = RequeuedOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn recover(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<RouteRecoverIn>,
) -> Result<impl IntoResponse, ApiError> {
    let r = route_of(&state, &key).await?;
    let since = parse_time(&input.since).map_err(ApiError::validation)?;
    let requeued = route::requeue(&state, &r, None, since).await?;
    tracing::info!(route = %r.name, requeued, "recover");
    Ok((StatusCode::ACCEPTED, Json(RequeuedOut { requeued })))
}

#[utoipa::path(
    get,
    path = "/source/{source}/event/{event_id}/forward",
    tag = "Route",
    summary = "Where a received event was forwarded, per route",
    params(("source" = String, Path, description = "The source's name"), ("event_id" = String, Path, description = "The inbound event's id (evt_…)")),
    responses((status = 200, body = ListResponse<ForwardOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody))
)]
pub async fn forwards(
    State(state): State<AppState>,
    Path((source, evt)): Path<(String, String)>,
) -> Result<Json<ListResponse<ForwardOut>>, ApiError> {
    let id = event_id(&evt)?;
    if state.store.get_event(&source, &id).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "no event `{evt}` in source `{source}`"
        )));
    }
    let data = route::forwards_of(&state, &source, &id).await?;
    Ok(Json(ListResponse {
        data,
        iterator: None,
        prev_iterator: None,
        done: true,
    }))
}

#[utoipa::path(
    post,
    path = "/source/{source}/event/{event_id}/forward/{route}/resend",
    tag = "Route",
    summary = "Forward one received event down a route again, now",
    params(("source" = String, Path, description = "The source's name"), ("event_id" = String, Path, description = "The inbound event's id (evt_…)"), ("route" = String, Path, description = "The route's name or id (route_…)")),
    responses((status = 202, body = RequeuedOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn resend(
    State(state): State<AppState>,
    Path((source, evt, key)): Path<(String, String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let r = route_of(&state, &key).await?;
    if r.source != source {
        return Err(ApiError::validation(format!(
            "route `{}` forwards source `{}`, not `{source}`",
            r.name, r.source
        )));
    }
    let id = event_id(&evt)?;
    let requeued = route::requeue(&state, &r, Some(&id), 0).await?;
    if requeued == 0 {
        return Err(ApiError::not_found(format!(
            "no event `{evt}` in source `{source}`"
        )));
    }
    Ok((StatusCode::ACCEPTED, Json(RequeuedOut { requeued })))
}
