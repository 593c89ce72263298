//! `/api/v1/app/{app}/endpoint`: endpoints, their secrets and headers.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use base64::Engine as _;
use hookline_core::clock::now_ms;
use hookline_core::outbound::EndpointSecret;
use hookline_core::{App, Endpoint, RetryPolicy};
use hookline_signature::Secret;
use rand::RngCore;
use serde_json::json;

use super::apps::{app_of, ListQuery};
use super::model::ListResponse;
use super::send_model::{
    check_token, EndpointIn, EndpointOut, HeadersIn, HeadersOut, RotateIn, SecretOut,
};
use super::ApiJson;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// How long a rotated-out secret keeps signing, so receivers can switch over.
const GRACE: Duration = Duration::from_secs(24 * 3600);

/// A fresh `whsec_` secret: 24 random bytes, base64.
pub(crate) fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut key);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// Svix's secret pattern: optional `whsec_`, then 32-100 base64 characters that decode.
fn check_secret(s: &str) -> Result<(), ApiError> {
    let body = s.strip_prefix("whsec_").unwrap_or(s);
    let ok = (32..=100).contains(&body.len())
        && base64::engine::general_purpose::STANDARD
            .decode(body)
            .is_ok_and(|k| !k.is_empty());
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(
            "secret must be whsec_ followed by 32-100 characters of base64",
        ))
    }
}

pub(crate) fn check_url(url: &str) -> Result<(), ApiError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(ApiError::validation(format!(
            "url `{url}` must be an absolute http:// or https:// URL"
        ))),
    }
}

fn check_list(field: &str, list: &Option<Vec<String>>) -> Result<(), ApiError> {
    list.iter()
        .flatten()
        .try_for_each(|v| check_token(field, v))
}

fn apply(e: &mut Endpoint, input: EndpointIn, replace: bool) -> Result<(), ApiError> {
    match input.url {
        Some(u) => {
            check_url(&u)?;
            e.url = u;
        }
        None if replace => return Err(ApiError::validation("url is required")),
        None => {}
    }
    if let Some(uid) = &input.uid {
        check_token("uid", uid)?;
    }
    check_list("eventTypes", &input.event_types)?;
    check_list("channels", &input.channels)?;
    if replace || input.uid.is_some() {
        e.uid = input.uid;
    }
    if replace || input.description.is_some() {
        e.description = input.description.unwrap_or_default();
    }
    if replace || input.event_types.is_some() {
        e.event_types = input.event_types.filter(|l| !l.is_empty());
    }
    if replace || input.channels.is_some() {
        e.channels = input.channels.filter(|l| !l.is_empty());
    }
    if replace || input.disabled.is_some() {
        e.disabled = input.disabled.unwrap_or(false);
    }
    if replace || input.throttle_rate.is_some() || input.rate_limit.is_some() {
        e.throttle_rate = input.throttle_rate.or(input.rate_limit);
    }
    if replace || input.metadata.is_some() {
        e.metadata = input.metadata.unwrap_or_default();
    }
    if replace || input.retry_schedule.is_some() {
        e.policy.retry = input.retry_schedule.map(schedule).transpose()?;
    }
    if replace || input.timeout.is_some() {
        e.policy.timeout = input
            .timeout
            .map(|t| seconds("timeout", t, 0.1, 300.0))
            .transpose()?;
    }
    if replace || input.max_concurrency.is_some() {
        e.policy.max_concurrency = match input.max_concurrency {
            Some(0) => return Err(ApiError::validation("maxConcurrency must be at least 1")),
            other => other,
        };
    }
    e.updated_at = now_ms();
    Ok(())
}

/// A number of seconds within `[min, max]`.
fn seconds(field: &str, s: f64, min: f64, max: f64) -> Result<Duration, ApiError> {
    if s.is_finite() && (min..=max).contains(&s) {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(ApiError::validation(format!(
            "{field} must be between {min} and {max} seconds, not {s}"
        )))
    }
}

/// `retrySchedule`: 1-20 delays in seconds, each from 0.01 s to 7 days.
fn schedule(delays: Vec<f64>) -> Result<RetryPolicy, ApiError> {
    if delays.is_empty() || delays.len() > 20 {
        return Err(ApiError::validation(
            "retrySchedule must list 1 to 20 delays (seconds after each failed try)",
        ));
    }
    let schedule = delays
        .into_iter()
        .map(|d| seconds("each retrySchedule delay", d, 0.01, 7.0 * 86_400.0))
        .collect::<Result<_, _>>()?;
    Ok(RetryPolicy { schedule })
}

/// Tells the operational webhook endpoint about a change to `e`.
pub(crate) async fn report(state: &AppState, event: &str, e: &Endpoint) {
    let data = json!({ "appId": e.app_id, "endpointId": e.id, "endpointUid": e.uid });
    state.config.operational.emit(&e.app_id, event, data).await;
}

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

pub(crate) async fn endpoint_of(
    state: &AppState,
    app: &App,
    key: &str,
) -> Result<Endpoint, ApiError> {
    state
        .store
        .get_endpoint(&app.id, key)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| {
            ApiError::not_found(format!("no endpoint `{key}` in application {}", app.id))
        })
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
    let page = state
        .store
        .list_endpoints(&app.id, &q.page())
        .await
        .map_err(ApiError::store)?;
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
    state
        .store
        .create_endpoint(&e)
        .await
        .map_err(ApiError::store)?;
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
    state
        .store
        .update_endpoint(&e)
        .await
        .map_err(ApiError::store)?;
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
    state
        .store
        .delete_endpoint(&app.id, &e.id)
        .await
        .map_err(ApiError::store)?;
    report(&state, "endpoint.deleted", &e).await;
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
    state
        .store
        .update_endpoint(&e)
        .await
        .map_err(ApiError::store)?;
    // Svix's reference document says 204; its current clients read the new
    // secret from the answer. A body satisfies both.
    Ok(Json(SecretOut { key }))
}

/// Makes `key` the endpoint's current secret; the others still in use keep
/// signing until the grace period ends (24 h from now at most).
pub(crate) fn rotate_to(e: &mut Endpoint, key: String, now: i64) {
    let grace_end = now + i64::try_from(GRACE.as_millis()).unwrap_or(i64::MAX);
    let mut secrets = vec![EndpointSecret {
        key: Secret::new(key),
        expires_at: None,
    }];
    secrets.extend(
        std::mem::take(&mut e.secrets)
            .into_iter()
            .filter(|s| s.expires_at.is_none_or(|t| t > now))
            .map(|s| EndpointSecret {
                expires_at: Some(s.expires_at.unwrap_or(grace_end).min(grace_end)),
                ..s
            }),
    );
    e.secrets = secrets;
    e.updated_at = now;
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
    state
        .store
        .update_endpoint(&e)
        .await
        .map_err(ApiError::store)?;
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
