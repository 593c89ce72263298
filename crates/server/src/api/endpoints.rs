//! `/api/v1/app/{app}/endpoint`: endpoints, their secrets and headers.

use super::apps::ListQuery;
use super::model::ListResponse;
use super::send_model::{EndpointIn, EndpointOut, HeadersIn, HeadersOut, RotateIn, SecretOut};
use super::ApiJson;
use crate::actions::endpoint::{apply, check_secret, new_secret, report, rotate_to};
use crate::actions::{app_of, endpoint_of};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use hookline_core::clock::now_ms;
use hookline_core::{App, Endpoint};
use hookline_signature::Secret;

/// The app and the endpoint a path names, or 404.
pub(super) async fn app_and_endpoint(
    state: &AppState,
    app: &str,
    ep: &str,
) -> Result<(App, Endpoint), ApiError> {
    let app = app_of(state, app).await?;
    let e = endpoint_of(state, &app, ep).await?;
    Ok((app, e))
}

#[utoipa::path(
    get,
    path = "/app/{app_id}/endpoint",
    tag = "Endpoint",
    summary = "List endpoints",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ListQuery),
    responses((status = 200, body = ListResponse<EndpointOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Path(app): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListResponse<EndpointOut>>, ApiError> {
    let app = app_of(&state, &app).await?;
    let page = state.store.list_endpoints(&app.id, &q.page()).await?;
    Ok(Json(ListResponse::from_page(page, |e| {
        EndpointOut::from(&e)
    })))
}

#[utoipa::path(
    post,
    path = "/app/{app_id}/endpoint",
    tag = "Endpoint",
    summary = "Create an endpoint",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid")),
    request_body = EndpointIn,
    responses((status = 201, body = EndpointOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    Path(app): Path<String>,
    ApiJson(mut input): ApiJson<EndpointIn>,
) -> Result<impl IntoResponse, ApiError> {
    let app = app_of(&state, &app).await?;
    let secret = match input.secret.take() {
        Some(s) => {
            check_secret(&s)?;
            s
        }
        None => new_secret(),
    };
    let mut e = Endpoint::new(&app, String::new(), Secret::new(secret), now_ms());
    apply(&mut e, input, true)?;
    state.store.create_endpoint(&e).await?;
    report(&state, "endpoint.created", &e).await;
    Ok((StatusCode::CREATED, Json(EndpointOut::from(&e))))
}

#[utoipa::path(
    get,
    path = "/app/{app_id}/endpoint/{endpoint_id}",
    tag = "Endpoint",
    summary = "Get an endpoint",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    responses((status = 200, body = EndpointOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
) -> Result<Json<EndpointOut>, ApiError> {
    let app = app_of(&state, &app).await?;
    Ok(Json(EndpointOut::from(
        &endpoint_of(&state, &app, &ep).await?,
    )))
}

async fn change(
    state: AppState,
    app: String,
    ep: String,
    input: EndpointIn,
    replace: bool,
) -> Result<Json<EndpointOut>, ApiError> {
    let (_, mut e) = app_and_endpoint(&state, &app, &ep).await?;
    apply(&mut e, input, replace)?;
    state.store.update_endpoint(&e).await?;
    report(&state, "endpoint.updated", &e).await;
    Ok(Json(EndpointOut::from(&e)))
}

#[utoipa::path(
    put,
    path = "/app/{app_id}/endpoint/{endpoint_id}",
    tag = "Endpoint",
    summary = "Replace an endpoint",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    request_body = EndpointIn,
    responses((status = 200, body = EndpointOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn put(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
    ApiJson(input): ApiJson<EndpointIn>,
) -> Result<Json<EndpointOut>, ApiError> {
    change(state, app, ep, input, true).await
}

#[utoipa::path(
    patch,
    path = "/app/{app_id}/endpoint/{endpoint_id}",
    tag = "Endpoint",
    summary = "Update an endpoint",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    request_body = EndpointIn,
    responses((status = 200, body = EndpointOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn patch(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
    ApiJson(input): ApiJson<EndpointIn>,
) -> Result<Json<EndpointOut>, ApiError> {
    change(state, app, ep, input, false).await
}

#[utoipa::path(
    delete,
    path = "/app/{app_id}/endpoint/{endpoint_id}",
    tag = "Endpoint",
    summary = "Delete an endpoint",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (app, e) = app_and_endpoint(&state, &app, &ep).await?;
    crate::actions::endpoint::delete(&state, &app, &e).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET …/secret`: the current signing secret.
#[utoipa::path(
    get,
    path = "/app/{app_id}/endpoint/{endpoint_id}/secret",
    tag = "Endpoint",
    summary = "Get the endpoint's signing secret",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    responses((status = 200, body = SecretOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn secret(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
) -> Result<Json<SecretOut>, ApiError> {
    let (_, e) = app_and_endpoint(&state, &app, &ep).await?;
    let key = e
        .secrets
        .first()
        .map(|s| s.key.expose().to_string())
        .unwrap_or_default();
    Ok(Json(SecretOut { key }))
}

/// `POST …/secret/rotate`: a new current secret; the old one keeps signing
/// for 24 hours so receivers can switch over.
#[utoipa::path(
    post,
    path = "/app/{app_id}/endpoint/{endpoint_id}/secret/rotate",
    tag = "Endpoint",
    summary = "Rotate the signing secret (the old one signs for 24 h more)",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    request_body = RotateIn,
    responses((status = 200, description = "Rotated: the new secret", body = SecretOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn rotate(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
    ApiJson(input): ApiJson<RotateIn>,
) -> Result<Json<SecretOut>, ApiError> {
    let (_, mut e) = app_and_endpoint(&state, &app, &ep).await?;
    let key = match input.key {
        Some(k) => {
            check_secret(&k)?;
            k
        }
        None => new_secret(),
    };
    rotate_to(&mut e, key.clone(), now_ms());
    state.store.update_endpoint(&e).await?;
    // Svix's reference document says 204; its current clients read the new
    // secret from the answer. A body satisfies both.
    Ok(Json(SecretOut { key }))
}

/// `GET …/headers`.
#[utoipa::path(
    get,
    path = "/app/{app_id}/endpoint/{endpoint_id}/headers",
    tag = "Endpoint",
    summary = "Get the extra headers sent with each delivery",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    responses((status = 200, body = HeadersOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn headers(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
) -> Result<Json<HeadersOut>, ApiError> {
    let (_, e) = app_and_endpoint(&state, &app, &ep).await?;
    Ok(Json(HeadersOut {
        headers: e.headers,
        sensitive: Vec::new(),
    }))
}

async fn set_headers(
    state: AppState,
    app: String,
    ep: String,
    input: HeadersIn,
    replace: bool,
) -> Result<StatusCode, ApiError> {
    let (_, mut e) = app_and_endpoint(&state, &app, &ep).await?;
    for (k, v) in &input.headers {
        let bad_name = http::HeaderName::from_bytes(k.as_bytes()).is_err();
        let reserved = k.to_ascii_lowercase().starts_with("webhook-")
            || k.eq_ignore_ascii_case("content-type");
        if bad_name || reserved || http::HeaderValue::from_str(v).is_err() {
            return Err(ApiError::validation(format!(
                "header `{k}` cannot be set on deliveries"
            )));
        }
    }
    if replace {
        e.headers = input.headers;
    } else {
        e.headers.extend(input.headers);
    }
    e.updated_at = now_ms();
    state.store.update_endpoint(&e).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/app/{app_id}/endpoint/{endpoint_id}/headers",
    tag = "Endpoint",
    summary = "Replace the extra headers",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    request_body = HeadersIn,
    responses((status = 204, description = "Saved"), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn put_headers(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
    ApiJson(input): ApiJson<HeadersIn>,
) -> Result<StatusCode, ApiError> {
    set_headers(state, app, ep, input, true).await
}

#[utoipa::path(
    patch,
    path = "/app/{app_id}/endpoint/{endpoint_id}/headers",
    tag = "Endpoint",
    summary = "Add or change extra headers",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    request_body = HeadersIn,
    responses((status = 204, description = "Saved"), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn patch_headers(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
    ApiJson(input): ApiJson<HeadersIn>,
) -> Result<StatusCode, ApiError> {
    set_headers(state, app, ep, input, false).await
}
