//! A source's inbox: list, get one, replay.

use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use hookline_core::clock::now_ms;
use hookline_core::{EventFilter, EventId, InboundEvent, PageRequest, Verdict};
use hookline_signature::{Scheme, Secret, SignInput};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::model::{
    parse_time, EventOut, EventQuery, ListResponse, ReplayIn, ReplayMode, ReplayOut,
};
use super::ApiJson;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/source/{source}/event",
    tag = "Inbox",
    summary = "List a source's received events, newest first",
    params(("source" = String, Path, description = "The source's name"), EventQuery),
    responses((status = 200, body = ListResponse<EventOut>), (status = 401, description = "Missing or wrong token", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody), (status = 422, description = "Invalid input", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<EventQuery>,
) -> Result<Json<ListResponse<EventOut>>, ApiError> {
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
    let filter = EventFilter {
        event_type: q.event_type.filter(|s| !s.is_empty()),
        verdict,
        after: time(q.after)?,
        before: time(q.before)?,
    };
    let page = PageRequest::new(q.limit, q.iterator);
    let found = state
        .store
        .list_events(&name, &filter, &page)
        .await
        .map_err(ApiError::store)?;
    Ok(Json(ListResponse::from_page(found, |e| {
        EventOut::new(e, false)
    })))
}

pub(crate) async fn find(state: &AppState, name: &str, id: &str) -> Result<InboundEvent, ApiError> {
    let id: EventId = id
        .parse()
        .map_err(|e: hookline_core::id::InvalidId| ApiError::not_found(e.to_string()))?;
    state
        .store
        .get_event(name, &id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found(format!("no event {id} in source `{name}`")))
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

/// Headers that describe one hop, not the message: never replayed.
const HOP_BY_HOP: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "proxy-connection",
];

fn replay_headers(event: &InboundEvent, input: &ReplayIn) -> Result<HeaderMap, ApiError> {
    let mut out = HeaderMap::new();
    let mut put = |k: &str, v: &str| {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            out.append(k, v);
        }
    };
    match input.mode {
        ReplayMode::Exact => {
            for (k, v) in event
                .headers
                .iter()
                .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()))
            {
                put(k, v);
            }
        }
        ReplayMode::Resign => {
            let scheme: Scheme = input
                .scheme
                .as_deref()
                .unwrap_or("hmac-sha256")
                .parse()
                .map_err(|e: hookline_signature::scheme::UnknownScheme| {
                    ApiError::validation(e.to_string())
                })?;
            let secret = input
                .secret
                .as_deref()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiError::validation("mode `resign` needs a `secret`"))?;
            if let Some(ct) = event.header("content-type") {
                put("content-type", ct);
            }
            if let Some(t) = &event.event_type {
                put("x-event-type", t);
            }
            let id = event
                .dedup_key
                .clone()
                .unwrap_or_else(|| event.id.to_string());
            let signed = scheme
                .sign(
                    &Secret::new(secret),
                    &SignInput {
                        body: &event.body,
                        id: &id,
                        timestamp: now_ms() / 1000,
                        event: event.event_type.as_deref(),
                    },
                )
                .map_err(|e| ApiError::validation(format!("cannot sign: {e}")))?;
            out.extend(signed);
        }
    }
    Ok(out)
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

/// Sends a stored event's bytes to `input.url` (with its headers, or signed
/// afresh) and reports what came back. Shared by the API and the web UI.
pub(crate) async fn perform_replay(
    state: &AppState,
    event: &InboundEvent,
    input: &ReplayIn,
) -> Result<ReplayOut, ApiError> {
    let url = url::Url::parse(&input.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ApiError::validation(format!("`{}` is not an http(s) URL", input.url)))?;
    let timeout = input.timeout.unwrap_or(15.0);
    if !(timeout.is_finite() && timeout > 0.0 && timeout <= 300.0) {
        return Err(ApiError::validation(
            "timeout must be between 0 and 300 seconds",
        ));
    }
    let headers = replay_headers(event, input)?;
    let method = http::Method::from_bytes(event.method.as_bytes()).unwrap_or(http::Method::POST);
    let started = Instant::now();
    let sent = state
        .client
        .request(method, url.clone())
        .headers(headers.clone())
        .body(event.body.clone())
        .timeout(Duration::from_secs_f64(timeout))
        .send()
        .await;
    let failed = |e: reqwest::Error| {
        ApiError::api(
            StatusCode::BAD_GATEWAY,
            "replay_failed",
            format!("replay to {url} failed: {e}"),
        )
    };
    let resp = sent.map_err(failed)?;
    let status = resp.status();
    let response_headers = pairs(resp.headers());
    let body = resp.bytes().await.map_err(failed)?;
    let cap = body.len().min(64 * 1024);
    Ok(ReplayOut {
        url: url.to_string(),
        status: status.as_u16(),
        status_text: status.canonical_reason().unwrap_or("").to_string(),
        duration_ms: started.elapsed().as_secs_f64() * 1e3,
        request_headers: pairs(&headers),
        response_headers,
        response_body: String::from_utf8_lossy(&body[..cap]).into_owned(),
    })
}

fn pairs(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}
