//! `/api/v1/app/{app}/msg` and attempts: publishing and what came of it.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use hookline_core::clock::now_ms;
use hookline_core::{EndpointId, Message, MessageId};

use super::apps::{app_of, ListQuery};
use super::endpoints::endpoint_of;
use super::model::{parse_time, ListResponse};
use super::send_model::{check_token, AttemptOut, DestinationOut, MessageIn, MessageOut};
use super::ApiJson;
use crate::error::{ApiError, Shape};
use crate::state::AppState;

fn message_id(s: &str) -> Result<MessageId, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("no message `{s}`")))
}

/// `POST …/msg`: stores the message with its deliveries, wakes the engine, `202`.
pub async fn create(
    State(state): State<AppState>,
    Path(app): Path<String>,
    ApiJson(input): ApiJson<MessageIn>,
) -> Result<impl IntoResponse, ApiError> {
    let app = app_of(&state, &app).await?;
    check_token("eventType", &input.event_type)?;
    if let Some(id) = &input.event_id {
        check_token("eventId", id)?;
    }
    if let Some(channels) = &input.channels {
        if channels.len() > 10 {
            return Err(ApiError::validation("at most 10 channels"));
        }
        channels
            .iter()
            .try_for_each(|c| check_token("channels", c))?;
    }
    if !input.payload.is_object() {
        return Err(ApiError::validation("payload must be a JSON object"));
    }
    super::event_types::check_payload(&state, &input.event_type, &input.payload).await?;
    let now = now_ms();
    let message = Message {
        id: MessageId::at(now),
        app_id: app.id,
        event_type: input.event_type,
        event_id: input.event_id,
        // Compact, key order kept: exactly the bytes that are signed and sent.
        payload: serde_json::to_string(&input.payload)
            .map_err(|e| ApiError::internal(Shape::Api, e))?,
        channels: input.channels.filter(|c| !c.is_empty()),
        created_at: now,
    };
    // Store and wake as one unit that a client hanging up cannot split: the
    // task runs to the end even if this request is dropped.
    let (store, waker, m) = (
        state.store.clone(),
        state.config.waker.clone(),
        message.clone(),
    );
    let published = tokio::spawn(async move {
        let r = store.publish(&m).await;
        waker.wake();
        r
    })
    .await
    .map_err(|e| ApiError::internal(Shape::Api, e))?;
    published.map_err(ApiError::store)?;
    Ok((StatusCode::ACCEPTED, Json(MessageOut::from(&message))))
}

pub async fn list(
    State(state): State<AppState>,
    Path(app): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListResponse<MessageOut>>, ApiError> {
    let app = app_of(&state, &app).await?;
    let page = state
        .store
        .list_messages(&app.id, &q.page())
        .await
        .map_err(ApiError::store)?;
    Ok(Json(ListResponse::from_page(page, |m| {
        MessageOut::from(&m)
    })))
}

pub async fn get(
    State(state): State<AppState>,
    Path((app, msg)): Path<(String, String)>,
) -> Result<Json<MessageOut>, ApiError> {
    let app = app_of(&state, &app).await?;
    let m = state
        .store
        .get_message(&app.id, &message_id(&msg)?)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found(format!("no message `{msg}`")))?;
    Ok(Json(MessageOut::from(&m)))
}

/// `GET …/msg/{msg}/endpoint`: where the message went and how it stands there.
pub async fn destinations(
    State(state): State<AppState>,
    Path((app, msg)): Path<(String, String)>,
) -> Result<Json<ListResponse<DestinationOut>>, ApiError> {
    let app = app_of(&state, &app).await?;
    let deliveries = state
        .store
        .list_deliveries(&app.id, &message_id(&msg)?)
        .await
        .map_err(ApiError::store)?;
    let mut data = Vec::with_capacity(deliveries.len());
    for d in &deliveries {
        if let Some(e) = state
            .store
            .get_endpoint(&app.id, d.endpoint_id.as_str())
            .await
            .map_err(ApiError::store)?
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
pub async fn attempts_by_message(
    State(state): State<AppState>,
    Path((app, msg)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListResponse<AttemptOut>>, ApiError> {
    let app = app_of(&state, &app).await?;
    let page = state
        .store
        .list_attempts(&app.id, Some(&message_id(&msg)?), None, &q.page())
        .await
        .map_err(ApiError::store)?;
    Ok(Json(ListResponse::from_page(page, |a| {
        AttemptOut::from(&a)
    })))
}

/// `GET …/attempt/endpoint/{endpoint}`.
pub async fn attempts_by_endpoint(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListResponse<AttemptOut>>, ApiError> {
    let app = app_of(&state, &app).await?;
    let endpoint = state
        .store
        .get_endpoint(&app.id, &ep)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found(format!("no endpoint `{ep}`")))?;
    let id: EndpointId = endpoint.id;
    let page = state
        .store
        .list_attempts(&app.id, None, Some(&id), &q.page())
        .await
        .map_err(ApiError::store)?;
    Ok(Json(ListResponse::from_page(page, |a| {
        AttemptOut::from(&a)
    })))
}

/// `POST …/msg/{msg}/endpoint/{ep}/resend`: one more try, with a fresh schedule.
pub async fn resend(
    State(state): State<AppState>,
    Path((app, msg, ep)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = app_of(&state, &app).await?;
    let endpoint = endpoint_of(&state, &app, &ep).await?;
    let n = state
        .store
        .requeue(&app.id, &endpoint.id, Some(&message_id(&msg)?), 0, now_ms())
        .await
        .map_err(ApiError::store)?;
    if n == 0 {
        return Err(ApiError::not_found(format!("no message `{msg}`")));
    }
    state.config.waker.wake();
    Ok(StatusCode::ACCEPTED)
}

#[derive(serde::Deserialize)]
pub struct RecoverIn {
    since: String,
}

/// `POST …/endpoint/{ep}/recover`: every failed delivery since `since`, again.
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
        .await
        .map_err(ApiError::store)?;
    state.config.waker.wake();
    tracing::info!(endpoint = %endpoint.id, requeued = n, "recover");
    let task = format!(
        "qtask_{}",
        MessageId::new().as_str().trim_start_matches("msg_")
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "id": task, "status": "finished", "task": "endpoint.recover" })),
    ))
}

/// `GET /api/v1/health`.
pub async fn health(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::internal(Shape::Api, e))?;
    Ok(StatusCode::NO_CONTENT)
}
