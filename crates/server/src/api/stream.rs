//! `GET /api/v1/source/{name}/event/stream`: a source's events as
//! Server-Sent Events, after a cursor (`Last-Event-ID` or `?after=evt_…`),
//! then live, with keep-alives; and `POST /api/v1/source/{name}/token`, a
//! token that only reads and streams that source's events.
//!
//! The stream follows the store (`actions::tail`), so an event received by
//! any node reaches it. A client that resumes asks from a little before its
//! cursor and skips what it has seen, as `hookline listen` does.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::{Stream, StreamExt};
use hookline_core::clock::rfc3339;
use hookline_core::{EventId, StreamedEvent};
use serde::{Deserialize, Serialize};

use super::model::ExpiryIn;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Send events after this one (`evt_…`); `Last-Event-ID` wins if both are given.
    after: Option<String>,
}

#[utoipa::path(
    get,
    path = "/source/{source}/event/stream",
    tag = "Inbox",
    summary = "A source's events as Server-Sent Events: after a cursor, then live",
    description = "Each `webhook` event's `id` is the event id (resume with `Last-Event-ID` or `?after=`); its data holds the method, path, query, headers in order and the body as base64. Opens to the admin token or the source's own token.",
    params(("source" = String, Path, description = "The source's name or id (src_…)"), StreamQuery),
    responses((status = 200, description = "text/event-stream"), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 403, description = "Another source's token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "The cursor is not an event id", body = ErrorBody))
)]
pub async fn stream(
    State(state): State<AppState>,
    Path(source): Path<String>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let source = super::sources::source_of(&state, &source).await?.name;
    let given = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(q.after)
        .filter(|s| !s.is_empty());
    let last = match given {
        Some(s) => Some(
            s.parse::<EventId>()
                .map_err(|_| ApiError::validation(format!("`{s}` is not an event id (evt_…)")))?,
        ),
        None => None,
    };
    let events = crate::actions::tail::follow(&state, source, last).map(|e| {
        let data = serde_json::to_string(&StreamedEvent::of(&e)).unwrap_or_default();
        Ok(Event::default()
            .id(e.id.as_str())
            .event("webhook")
            .data(data))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceTokenOut {
    /// Shown once; only its hash is stored.
    pub token: String,
    pub expires_at: String,
}

#[utoipa::path(
    post,
    path = "/source/{source}/token",
    tag = "Source",
    summary = "Issue a token that only reads and streams this source's events",
    params(("source" = String, Path, description = "The source's name or id (src_…)")),
    request_body = Option<ExpiryIn>,
    responses((status = 201, body = SourceTokenOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn token(
    State(state): State<AppState>,
    Path(source): Path<String>,
    body: axum::body::Bytes,
) -> Result<(axum::http::StatusCode, Json<SourceTokenOut>), ApiError> {
    let source = super::sources::source_of(&state, &source).await?.name;
    let expires_at = ExpiryIn::read(&body)?.expires_at(30 * 24 * 3600);
    let token = crate::auth::issue_source_token(state.store.as_ref(), &source, expires_at).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(SourceTokenOut {
            token,
            expires_at: rfc3339(expires_at),
        }),
    ))
}
