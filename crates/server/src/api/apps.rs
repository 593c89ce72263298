//! `/api/v1/app`: applications.

use super::model::{ExpiryIn, ListResponse};
use super::send_model::{AppIn, AppOut};
use super::ApiJson;
use crate::actions::app_of;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use hookline_core::PageRequest;
use serde::Deserialize;

/// `limit` and `iterator`, as every Svix list takes them.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(minimum = 1, maximum = 250)]
    pub limit: Option<usize>,
    pub iterator: Option<String>,
}

impl ListQuery {
    pub fn page(self) -> PageRequest {
        PageRequest::new(self.limit, self.iterator)
    }
}

#[utoipa::path(
    get,
    path = "/app",
    tag = "Application",
    summary = "List applications",
    params(ListQuery),
    responses((status = 200, body = ListResponse<AppOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListResponse<AppOut>>, ApiError> {
    let page = state.store.list_apps(&q.page()).await?;
    Ok(Json(ListResponse::from_page(page, |a| AppOut::from(&a))))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "snake_case")]
pub struct CreateQuery {
    /// Svix's `get_if_exists`: answer with the app of the same uid instead of 409.
    pub get_if_exists: Option<bool>,
}

#[utoipa::path(
    post,
    path = "/app",
    tag = "Application",
    summary = "Create an application",
    params(CreateQuery),
    request_body = AppIn,
    responses((status = 201, body = AppOut), (status = 200, description = "get_if_exists found one", body = AppOut), (status = 409, description = "The uid is taken", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    Query(q): Query<CreateQuery>,
    ApiJson(input): ApiJson<AppIn>,
) -> Result<impl IntoResponse, ApiError> {
    if let (Some(true), Some(uid)) = (q.get_if_exists, &input.uid) {
        if let Some(existing) = state.store.get_app(uid).await? {
            return Ok((StatusCode::OK, Json(AppOut::from(&existing))));
        }
    }
    let app = crate::actions::app::create(&state, input).await?;
    Ok((StatusCode::CREATED, Json(AppOut::from(&app))))
}

#[utoipa::path(
    get,
    path = "/app/{app_id}",
    tag = "Application",
    summary = "Get an application",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid")),
    responses((status = 200, body = AppOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Path(app): Path<String>,
) -> Result<Json<AppOut>, ApiError> {
    Ok(Json(AppOut::from(&app_of(&state, &app).await?)))
}

async fn change(
    state: AppState,
    key: String,
    input: AppIn,
    replace: bool,
) -> Result<Json<AppOut>, ApiError> {
    let app = crate::actions::app::change(&state, &key, input, replace).await?;
    Ok(Json(AppOut::from(&app)))
}

#[utoipa::path(
    put,
    path = "/app/{app_id}",
    tag = "Application",
    summary = "Replace an application",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid")),
    request_body = AppIn,
    responses((status = 200, body = AppOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn put(
    State(state): State<AppState>,
    Path(app): Path<String>,
    ApiJson(input): ApiJson<AppIn>,
) -> Result<Json<AppOut>, ApiError> {
    change(state, app, input, true).await
}

#[utoipa::path(
    patch,
    path = "/app/{app_id}",
    tag = "Application",
    summary = "Update an application",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid")),
    request_body = AppIn,
    responses((status = 200, body = AppOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn patch(
    State(state): State<AppState>,
    Path(app): Path<String>,
    ApiJson(input): ApiJson<AppIn>,
) -> Result<Json<AppOut>, ApiError> {
    change(state, app, input, false).await
}

#[utoipa::path(
    delete,
    path = "/app/{app_id}",
    tag = "Application",
    summary = "Delete an application with its endpoints and messages",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(app): Path<String>,
) -> Result<StatusCode, ApiError> {
    let app = app_of(&state, &app).await?;
    crate::actions::app::delete(&state, &app).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Svix's `AppPortalAccessOut`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PortalAccessOut {
    pub token: String,
    pub url: String,
}

/// `POST /api/v1/auth/app-portal-access/{app}` (admin only): a token that sees
/// only this application.
#[utoipa::path(
    post,
    path = "/auth/app-portal-access/{app_id}",
    tag = "Authentication",
    summary = "Issue a token that opens only this application",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid")),
    request_body = Option<ExpiryIn>,
    responses((status = 200, body = PortalAccessOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn portal_access(
    State(state): State<AppState>,
    Path(app): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<PortalAccessOut>, ApiError> {
    let app = app_of(&state, &app).await?;
    // The body is optional: none means the defaults (7 days).
    let expires_at = ExpiryIn::read(&body)?.expires_at(7 * 24 * 3600);
    let token = crate::auth::issue_app_token(state.store.as_ref(), &app.id, expires_at).await?;
    Ok(Json(PortalAccessOut {
        url: format!("/ui/app/{}", app.id),
        token,
    }))
}
