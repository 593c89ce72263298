//! Where messages went: destinations, attempts, resend, recover, stats.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use hookline_core::clock::now_ms;
use hookline_core::{AttemptId, EndpointId, MessageId};
use serde::Deserialize;

use super::apps::ListQuery;
use super::endpoints::app_and_endpoint;
use super::messages::{message_id, message_in};
use super::model::{parse_time, ListResponse};
use super::send_model::{AttemptOut, DestinationOut, EndpointStatsOut};
use super::ApiJson;
use crate::actions::{app_of, endpoint_of};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// `GET …/msg/{msg}/endpoint`: where the message went and how it stands there.
#[utoipa::path(
    get,
    path = "/app/{app_id}/msg/{msg_id}/endpoint",
    tag = "Message Attempt",
    summary = "Where a message went and its status there",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("msg_id" = String, Path, description = "The message's id (msg_…)")),
    responses((status = 200, body = ListResponse<DestinationOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn destinations(
    State(state): State<AppState>,
    Path((app, msg)): Path<(String, String)>,
) -> Result<Json<ListResponse<DestinationOut>>, ApiError> {
    let app = app_of(&state, &app).await?;
    let msg = message_in(&state, &app.id, &msg).await?;
    let deliveries = state.store.list_deliveries(&app.id, &msg).await?;
    let mut data = Vec::with_capacity(deliveries.len());
    for d in &deliveries {
        if let Some(e) = state
            .store
            .get_endpoint(&app.id, d.endpoint_id.as_str())
            .await?
        {
            data.push(DestinationOut::new(&e, d));
        }
    }
    Ok(Json(ListResponse {
        data,
        iterator: None,
        prev_iterator: None,
        done: true,
    }))
}

/// `GET …/attempt/msg/{msg}`.
#[utoipa::path(
    get,
    path = "/app/{app_id}/attempt/msg/{msg_id}",
    tag = "Message Attempt",
    summary = "List a message's attempts",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("msg_id" = String, Path, description = "The message's id (msg_…)"), ListQuery),
    responses((status = 200, body = ListResponse<AttemptOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn attempts_by_message(
    State(state): State<AppState>,
    Path((app, msg)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListResponse<AttemptOut>>, ApiError> {
    let app = app_of(&state, &app).await?;
    let msg = message_in(&state, &app.id, &msg).await?;
    let page = state
        .store
        .list_attempts(&app.id, Some(&msg), None, &q.page())
        .await?;
    Ok(Json(ListResponse::from_page(page, |a| {
        AttemptOut::from(&a)
    })))
}

/// `GET …/attempt/endpoint/{endpoint}`.
#[utoipa::path(
    get,
    path = "/app/{app_id}/attempt/endpoint/{endpoint_id}",
    tag = "Message Attempt",
    summary = "List an endpoint's attempts",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid"), ListQuery),
    responses((status = 200, body = ListResponse<AttemptOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn attempts_by_endpoint(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListResponse<AttemptOut>>, ApiError> {
    let app = app_of(&state, &app).await?;
    let endpoint = state
        .store
        .get_endpoint(&app.id, &ep)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no endpoint `{ep}`")))?;
    let id: EndpointId = endpoint.id;
    let page = state
        .store
        .list_attempts(&app.id, None, Some(&id), &q.page())
        .await?;
    Ok(Json(ListResponse::from_page(page, |a| {
        AttemptOut::from(&a)
    })))
}

/// `POST …/msg/{msg}/endpoint/{ep}/resend`: one more try, with a fresh schedule.
#[utoipa::path(
    post,
    path = "/app/{app_id}/msg/{msg_id}/endpoint/{endpoint_id}/resend",
    tag = "Message Attempt",
    summary = "Try a message again at an endpoint",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("msg_id" = String, Path, description = "The message's id (msg_…)"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    responses((status = 202, description = "Queued (an empty JSON object)"), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn resend(
    State(state): State<AppState>,
    Path((app, msg, ep)): Path<(String, String, String)>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let app = app_of(&state, &app).await?;
    let endpoint = endpoint_of(&state, &app, &ep).await?;
    let n = state
        .store
        .requeue(&app.id, &endpoint.id, Some(&message_id(&msg)?), 0, now_ms())
        .await?;
    if n == 0 {
        return Err(ApiError::not_found(format!("no message `{msg}`")));
    }
    state.config.waker.wake();
    // Svix's `EmptyResponse`: its clients parse a JSON body.
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({}))))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct RecoverIn {
    /// RFC 3339: failed deliveries of messages created since then are retried.
    since: String,
}

/// Svix's `RecoverOut`: the (already finished) background task.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecoverOut {
    id: String,
    status: &'static str,
    task: &'static str,
    updated_at: String,
}

/// `POST …/endpoint/{ep}/recover`: every failed delivery since `since`, again.
#[utoipa::path(
    post,
    path = "/app/{app_id}/endpoint/{endpoint_id}/recover",
    tag = "Endpoint",
    summary = "Retry every failed delivery to the endpoint since a time",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    request_body = RecoverIn,
    responses((status = 202, body = RecoverOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn recover(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
    ApiJson(input): ApiJson<RecoverIn>,
) -> Result<impl IntoResponse, ApiError> {
    let app = app_of(&state, &app).await?;
    let endpoint = endpoint_of(&state, &app, &ep).await?;
    let since = parse_time(&input.since).map_err(ApiError::validation)?;
    let n = state
        .store
        .requeue(&app.id, &endpoint.id, None, since, now_ms())
        .await?;
    state.config.waker.wake();
    tracing::info!(endpoint = %endpoint.id, requeued = n, "recover");
    let task = format!(
        "qtask_{}",
        MessageId::new().as_str().trim_start_matches("msg_")
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(RecoverOut {
            id: task,
            status: "finished",
            task: "endpoint.recover",
            updated_at: hookline_core::clock::rfc3339(now_ms()),
        }),
    ))
}

/// `GET …/msg/{msg}/attempt/{attempt}`: one attempt.
#[utoipa::path(
    get,
    path = "/app/{app_id}/msg/{msg_id}/attempt/{attempt_id}",
    tag = "Message Attempt",
    summary = "Get one attempt",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("msg_id" = String, Path, description = "The message's id (msg_…)"), ("attempt_id" = String, Path, description = "The attempt's id (atmpt_…)")),
    responses((status = 200, body = AttemptOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn attempt(
    State(state): State<AppState>,
    Path((app, msg, attempt)): Path<(String, String, String)>,
) -> Result<Json<AttemptOut>, ApiError> {
    let app = app_of(&state, &app).await?;
    let missing = || ApiError::not_found(format!("no attempt `{attempt}` of message `{msg}`"));
    let id: AttemptId = attempt.parse().map_err(|_| missing())?;
    let a = state
        .store
        .get_attempt(&app.id, &message_id(&msg)?, &id)
        .await?
        .ok_or_else(missing)?;
    Ok(Json(AttemptOut::from(&a)))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    since: Option<String>,
    until: Option<String>,
}

/// `GET …/endpoint/{ep}/stats`: the endpoint's deliveries by status, of
/// messages created in `[since, until)` (default: all).
#[utoipa::path(
    get,
    path = "/app/{app_id}/endpoint/{endpoint_id}/stats",
    tag = "Endpoint",
    summary = "Count the endpoint's deliveries by status",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid"), StatsQuery),
    responses((status = 200, body = EndpointStatsOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn stats(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
    Query(q): Query<StatsQuery>,
) -> Result<Json<EndpointStatsOut>, ApiError> {
    let (app, e) = app_and_endpoint(&state, &app, &ep).await?;
    let time = |t: Option<String>, default: i64| {
        t.filter(|t| !t.is_empty())
            .map_or(Ok(default), |t| parse_time(&t))
            .map_err(ApiError::validation)
    };
    let since = time(q.since, 0)?;
    let until = time(q.until, i64::MAX)?;
    let stats = state
        .store
        .endpoint_stats(&app.id, &e.id, since, until)
        .await?;
    Ok(Json(stats.into()))
}
