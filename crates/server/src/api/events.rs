//! The inbox: list and search (a source's or every source's), get one, replay.

use super::model::{parse_time, EventOut, EventQuery, ListResponse, ReplayIn, ReplayOut};
use super::ApiJson;
use crate::actions::replay::{find, perform_replay};
use crate::actions::search::{self, Search};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use hookline_core::{EventFilter, PageRequest, TextQuery, Verdict};

#[utoipa::path(
    get,
    path = "/source/{source}/event",
    tag = "Inbox",
    summary = "List or search a source's received events, newest first",
    params(("source" = String, Path, description = "The source's name"), EventQuery),
    responses((status = 200, body = ListResponse<EventOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<EventQuery>,
) -> Result<Json<ListResponse<EventOut>>, ApiError> {
    listed(&state, Some(&name), q).await
}

#[utoipa::path(
    get,
    path = "/event",
    tag = "Inbox",
    summary = "List or search every source's received events, newest first",
    params(EventQuery),
    responses((status = 200, body = ListResponse<EventOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn list_all(
    State(state): State<AppState>,
    Query(q): Query<EventQuery>,
) -> Result<Json<ListResponse<EventOut>>, ApiError> {
    listed(&state, None, q).await
}

async fn listed(
    state: &AppState,
    source: Option<&str>,
    q: EventQuery,
) -> Result<Json<ListResponse<EventOut>>, ApiError> {
    let page = PageRequest::new(q.limit, q.iterator.clone());
    let found = search::events(state, source, &search_of(q)?, &page).await?;
    Ok(Json(ListResponse::from_page(found, |e| {
        EventOut::new(e, false)
    })))
}

/// The query's filters, each validated.
fn search_of(q: EventQuery) -> Result<Search, ApiError> {
    let verdict = match q.verdict.as_deref() {
        None | Some("") => None,
        Some(v) => Some(Verdict::parse(v).ok_or_else(|| {
            ApiError::validation(format!(
                "verdict `{v}` must be verified, unverified or rejected"
            ))
        })?),
    };
    let time = |s: Option<String>| {
        s.map(|s| parse_time(&s))
            .transpose()
            .map_err(ApiError::validation)
    };
    Ok(Search {
        filter: EventFilter {
            text: q.q.as_deref().and_then(TextQuery::new),
            event_type: q.event_type.filter(|s| !s.is_empty()),
            verdict,
            after: time(q.after)?,
            before: time(q.before)?,
        },
        matching: match q.filter.as_deref() {
            None | Some("") => None,
            Some(f) => Some(search::parse_filter(f)?),
        },
    })
}

#[utoipa::path(
    get,
    path = "/source/{source}/event/{event_id}",
    tag = "Inbox",
    summary = "Get one received event with its exact bytes",
    params(("source" = String, Path, description = "The source's name"), ("event_id" = String, Path, description = "The inbound event's id (evt_…)")),
    responses((status = 200, body = EventOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<EventOut>, ApiError> {
    Ok(Json(EventOut::new(find(&state, &name, &id).await?, true)))
}

#[utoipa::path(
    post,
    path = "/source/{source}/event/{event_id}/replay",
    tag = "Inbox",
    summary = "Replay a received event to a URL",
    params(("source" = String, Path, description = "The source's name"), ("event_id" = String, Path, description = "The inbound event's id (evt_…)")),
    request_body = ReplayIn,
    responses((status = 200, body = ReplayOut), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn replay(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<ReplayIn>,
) -> Result<Json<ReplayOut>, ApiError> {
    let event = find(&state, &name, &id).await?;
    perform_replay(&state, &event, &input).await.map(Json)
}
