//! `GET /api/v1/source/{name}/event/stream`: a source's events as
//! Server-Sent Events, after a cursor (`Last-Event-ID` or `?after=evt_…`),
//! then live, with keep-alives; and `POST /api/v1/source/{name}/token`, a
//! token that only reads and streams that source's events.
//!
//! The stream reads the store, not this node's memory, so an event received
//! by any node reaches it: this node's own arrivals wake it at once, other
//! nodes' are found by a check every 250 ms. It is pulled: the next page is
//! read only when the client has taken the last, so a slow client never
//! makes the server buffer more than one page. Ids sort by the time a
//! request arrived, which is not quite commit order, so each check looks
//! back a few seconds before the newest event sent (never before the
//! client's cursor) and skips what this connection has already sent: an
//! event that committed late is still sent, once. A client that resumes
//! asks from a little before its cursor and skips what it has seen, as
//! `hookline listen` does.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::{Stream, StreamExt};
use hookline_core::clock::rfc3339;
use hookline_core::{EventId, InboundEvent, StreamedEvent};
use serde::{Deserialize, Serialize};

use super::model::ExpiryIn;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Events read per page.
const PAGE: usize = 100;
/// How far before the cursor each check looks for late commits.
const LOOK_BACK_MS: i64 = 3_000;
/// How often other nodes' arrivals are looked for.
const CHECK: Duration = Duration::from_millis(250);

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Send events after this one (`evt_…`); `Last-Event-ID` wins if both are given.
    after: Option<String>,
}

/// Where a stream stands: the cursor, what it has sent lately, what it read
/// but has not sent yet.
struct Cursor {
    state: AppState,
    source: String,
    /// The cursor the client gave: nothing at or before it is sent.
    start: Option<EventId>,
    last: Option<EventId>,
    sent: HashSet<EventId>,
    ready: VecDeque<InboundEvent>,
    live: tokio::sync::broadcast::Receiver<crate::ui::LiveEvent>,
}

impl Cursor {
    /// Reads what is new since the cursor (looking back for late commits)
    /// into `ready`; false if the store failed.
    async fn fill(&mut self) -> bool {
        let look_back = self
            .last
            .as_ref()
            .and_then(EventId::time_ms)
            .map(|t| EventId::floor(t - LOOK_BACK_MS));
        // Never before the client's own cursor.
        let floor = match (look_back, &self.start) {
            (Some(l), Some(s)) => Some(l.max(s.clone())),
            (l, s) => l.or_else(|| s.clone()),
        };
        let mut from = floor.clone();
        loop {
            let page = match self
                .state
                .store
                .events_after(&self.source, from.as_ref(), PAGE)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(source = %self.source, error = %e, "the event stream cannot read the inbox; retrying");
                    return false;
                }
            };
            let full = page.len() == PAGE;
            from = page.last().map(|e| e.id.clone()).or(from);
            for e in page {
                if !self.sent.contains(&e.id) {
                    self.ready.push_back(e);
                }
            }
            if !self.ready.is_empty() || !full {
                break;
            }
        }
        // Forget what is now too old to come again.
        if let Some(floor) = floor {
            self.sent.retain(|id| *id >= floor);
        }
        true
    }

    async fn next(mut self) -> Option<(Result<Event, Infallible>, Cursor)> {
        loop {
            if let Some(e) = self.ready.pop_front() {
                self.sent.insert(e.id.clone());
                if self.last.as_ref().is_none_or(|l| e.id > *l) {
                    self.last = Some(e.id.clone());
                }
                let data = serde_json::to_string(&StreamedEvent::of(&e)).unwrap_or_default();
                let event = Event::default()
                    .id(e.id.as_str())
                    .event("webhook")
                    .data(data);
                return Some((Ok(event), self));
            }
            if self.fill().await && !self.ready.is_empty() {
                continue;
            }
            tokio::select! {
                r = self.live.recv() => {
                    if let Err(tokio::sync::broadcast::error::RecvError::Closed) = r {
                        tokio::time::sleep(CHECK).await;
                    }
                }
                () = tokio::time::sleep(CHECK) => {}
            }
        }
    }
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
    let cursor = Cursor {
        live: state.live.subscribe(),
        state,
        source,
        start: last.clone(),
        last,
        sent: HashSet::new(),
        ready: VecDeque::new(),
    };
    let closed = cursor.state.closed();
    let events = futures_util::stream::unfold(cursor, Cursor::next).take_until(closed);
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
