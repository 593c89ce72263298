//! `/api/v1/app/{app}/msg`: publishing, messages, example messages, health.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use hookline_core::clock::now_ms;
use hookline_core::{EndpointId, HandOut, Message, MessageId};
use hookline_engine::Job;

use super::apps::ListQuery;
use super::model::ListResponse;
use super::send_model::{check_token, EventExampleIn, MessageIn, MessageOut};
use super::ApiJson;
use crate::actions::{app_of, endpoint_of};
use crate::error::{ApiError, ErrorBody, Shape};
use crate::state::AppState;

pub(super) fn message_id(s: &str) -> Result<MessageId, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("no message `{s}`")))
}

/// The id of a message of `app`: another application's message is a 404, as
/// an unknown one is.
pub(super) async fn message_in(
    state: &AppState,
    app: &hookline_core::AppId,
    s: &str,
) -> Result<MessageId, ApiError> {
    let id = message_id(s)?;
    match state.store.get_message(app, &id).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::not_found(format!(
            "no message `{s}` in this application"
        ))),
    }
}

/// `POST …/msg`: stores the message with its deliveries, wakes the engine, `202`.
#[utoipa::path(
    post,
    path = "/app/{app_id}/msg",
    tag = "Message",
    summary = "Publish a message to every matching endpoint",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid")),
    request_body = MessageIn,
    responses((status = 202, body = MessageOut), (status = 409, description = "The eventId was used", body = ErrorBody), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
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
    publish(&state, &message, None).await?;
    Ok((StatusCode::ACCEPTED, Json(MessageOut::from(&message))))
}

/// Stores the message (to every endpoint that wants it, or to `only`) and
/// gets it to the engine, as one unit that a client hanging up cannot split:
/// the task runs to the end even if this request is dropped. Deliveries for
/// which this node's engine has room are stored claimed and handed to it;
/// it is woken only to claim the rest.
async fn publish(
    state: &AppState,
    message: &Message,
    only: Option<EndpointId>,
) -> Result<(), ApiError> {
    let (store, waker, handoff, m) = (
        state.store.clone(),
        state.config.waker.clone(),
        state.config.handoff.clone(),
        message.clone(),
    );
    let published = tokio::spawn(async move {
        if let Some(ep) = &only {
            store.publish_to(&m, ep).await?;
            waker.wake();
            return Ok(());
        }
        let slots = handoff.reserve_for(&m.app_id);
        let hand = HandOut {
            slots: slots.len(),
            lease_until: handoff.lease_until(now_ms()),
        };
        let published = store.publish_handing(&m, hand).await?;
        handoff.learn(&m.app_id, published.made);
        if published.left_pending() {
            waker.wake();
        }
        for (slot, claimed) in slots.into_iter().zip(published.handed) {
            slot.send(Job::Delivery(claimed));
        }
        Ok::<_, hookline_core::StoreError>(())
    })
    .await
    .map_err(|e| ApiError::internal(Shape::Api, e))?;
    published.map_err(ApiError::from)
}

/// `POST …/endpoint/{ep}/send-example`: a message built from the event
/// type's schema example (`svix.ping` sends `{"success": true}`), delivered to
/// this endpoint only.
#[utoipa::path(
    post,
    path = "/app/{app_id}/endpoint/{endpoint_id}/send-example",
    tag = "Endpoint",
    summary = "Send an example message of an event type to this endpoint",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("endpoint_id" = String, Path, description = "The endpoint's id (ep_…) or uid")),
    request_body = EventExampleIn,
    responses((status = 202, body = MessageOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn send_example(
    State(state): State<AppState>,
    Path((app, ep)): Path<(String, String)>,
    ApiJson(input): ApiJson<EventExampleIn>,
) -> Result<impl IntoResponse, ApiError> {
    let app = app_of(&state, &app).await?;
    let endpoint = endpoint_of(&state, &app, &ep).await?;
    check_token("eventType", &input.event_type)?;
    let payload = if input.event_type == "svix.ping" {
        serde_json::json!({ "success": true })
    } else {
        let t = state
            .store
            .get_event_type(&input.event_type)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no event type `{}`", input.event_type)))?;
        example_of(&t).ok_or_else(|| {
            ApiError::validation(format!(
                "event type `{}` has no example: add `examples` (a list of JSON objects) to its schema",
                t.name
            ))
        })?
    };
    let now = now_ms();
    let message = Message {
        id: MessageId::at(now),
        app_id: app.id,
        event_type: input.event_type,
        event_id: None,
        payload: serde_json::to_string(&payload).map_err(|e| ApiError::internal(Shape::Api, e))?,
        channels: None,
        created_at: now,
    };
    publish(&state, &message, Some(endpoint.id)).await?;
    Ok((StatusCode::ACCEPTED, Json(MessageOut::from(&message))))
}

/// The first object in the latest schema's `examples` (or its `example`).
fn example_of(t: &hookline_core::EventType) -> Option<serde_json::Value> {
    let schema = t.latest_schema()?;
    schema
        .get("examples")
        .and_then(|e| e.as_array())
        .and_then(|e| e.first())
        .or_else(|| schema.get("example"))
        .filter(|e| e.is_object())
        .cloned()
}

#[utoipa::path(
    get,
    path = "/app/{app_id}/msg",
    tag = "Message",
    summary = "List messages, newest first",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ListQuery),
    responses((status = 200, body = ListResponse<MessageOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Path(app): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ListResponse<MessageOut>>, ApiError> {
    let app = app_of(&state, &app).await?;
    let page = state.store.list_messages(&app.id, &q.page()).await?;
    Ok(Json(ListResponse::from_page(page, |m| {
        MessageOut::from(&m)
    })))
}

#[utoipa::path(
    get,
    path = "/app/{app_id}/msg/{msg_id}",
    tag = "Message",
    summary = "Get a message",
    params(("app_id" = String, Path, description = "The application's id (app_…) or uid"), ("msg_id" = String, Path, description = "The message's id (msg_…)")),
    responses((status = 200, body = MessageOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Path((app, msg)): Path<(String, String)>,
) -> Result<Json<MessageOut>, ApiError> {
    let app = app_of(&state, &app).await?;
    let m = state
        .store
        .get_message(&app.id, &message_id(&msg)?)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no message `{msg}`")))?;
    Ok(Json(MessageOut::from(&m)))
}

/// `GET /api/v1/health`.
#[utoipa::path(
    get,
    path = "/health",
    tag = "Health",
    summary = "Check that the server and its store answer",
    responses((status = 204, description = "Healthy"), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn health(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::internal(Shape::Api, e))?;
    Ok(StatusCode::NO_CONTENT)
}
