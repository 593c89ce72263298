//! The inbox: received events, newest first, filtered by source, event type,
//! verdict and text (searched through the store's index), with new ones pushed live over Server-Sent Events; one event
//! in full (headers, raw and pretty body, verdict and why); replay.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Form;
use base64::Engine as _;
use futures_util::{Stream, StreamExt};
use hookline_core::clock::rfc3339;
use hookline_core::source::DEFAULT_SOURCE;
use hookline_core::{EventFilter, InboundEvent, PageRequest, TextQuery, Verdict};
use hookline_signature::Scheme;
use serde::{Deserialize, Serialize};

use super::session::Session;
use super::views;
use crate::actions::replay::{find, perform_replay};
use crate::actions::route::forwards_of;
use crate::actions::search::{self, Search};
use crate::api::model::{ReplayIn, ReplayMode};
use crate::state::AppState;

/// What the live inbox is told about each stored event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveEvent {
    pub id: String,
    pub source: String,
    pub event_type: Option<String>,
    pub verdict: &'static str,
    pub received_at: String,
    pub size: usize,
    pub remote: Option<String>,
}

impl LiveEvent {
    pub fn of(e: &InboundEvent) -> LiveEvent {
        LiveEvent {
            id: e.id.to_string(),
            source: e.source.clone(),
            event_type: e.event_type.clone(),
            verdict: e.verdict.as_str(),
            received_at: rfc3339(e.received_at),
            size: e.body.len(),
            remote: e.remote_addr.clone(),
        }
    }
}

#[derive(Deserialize, Serialize, Default)]
pub struct Filter {
    #[serde(default)]
    source: String,
    #[serde(default, rename = "type")]
    event_type: String,
    #[serde(default)]
    verdict: String,
    /// Text the body or a header value contains.
    #[serde(default)]
    q: String,
    #[serde(default, skip_serializing)]
    iterator: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    s: Session,
    Query(mut f): Query<Filter>,
) -> Result<Response, Response> {
    s.require_admin()?;
    if f.source.is_empty() {
        f.source = DEFAULT_SOURCE.to_string();
    }
    let all = state
        .store
        .list_sources()
        .await
        .map_err(|e| s.failed(e.into()))?;
    // A source that checks neither a signature nor credentials accepts anything: say so.
    let unchecked = all
        .iter()
        .any(|x| x.name == f.source && !x.verifies() && x.name != DEFAULT_SOURCE);
    let sources: Vec<String> = all.into_iter().map(|s| s.name).collect();
    let search = Search {
        filter: EventFilter {
            text: TextQuery::new(&f.q),
            event_type: Some(f.event_type.clone()).filter(|t| !t.is_empty()),
            verdict: Verdict::parse(&f.verdict),
            after: None,
            before: None,
        },
        matching: None,
    };
    let page = PageRequest::new(Some(50), f.iterator.clone());
    let page = search::events(&state, Some(&f.source), &search, &page)
        .await
        .map_err(|e| s.failed(e))?;
    let events: Vec<LiveEvent> = page.data.iter().map(LiveEvent::of).collect();
    let more = (!page.done).then_some(page.iterator).flatten();
    Ok(views::page(
        "inbox.html",
        minijinja::context! {
            nav => "inbox", csrf => s.csrf, admin => true,
            sources, filter => f, events, more, unchecked,
        },
    ))
}

#[derive(Deserialize)]
pub struct StreamQuery {
    source: Option<String>,
}

/// `GET /ui/inbox/stream?source=…`: an event named `received` per stored webhook.
pub async fn stream(
    State(state): State<AppState>,
    s: Session,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Response> {
    s.require_admin()?;
    let source = q.source.unwrap_or_else(|| DEFAULT_SOURCE.to_string());
    let rx = state.live.subscribe();
    let closed = state.closed();
    let events = futures_util::stream::unfold((rx, source), |(mut rx, source)| async move {
        loop {
            match rx.recv().await {
                Ok(e) if e.source == source => {
                    let data = serde_json::to_string(&e).unwrap_or_default();
                    return Some((
                        Ok(Event::default().event("received").data(data)),
                        (rx, source),
                    ));
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .take_until(closed);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// An event as the detail page shows it.
#[derive(Serialize)]
struct Shown {
    id: String,
    source: String,
    event_type: Option<String>,
    verdict: &'static str,
    reason: Option<String>,
    method: String,
    path: String,
    query: Option<String>,
    received_at: String,
    remote: Option<String>,
    size: usize,
    dedup_key: Option<String>,
    headers: Vec<(String, String)>,
    utf8: bool,
    raw: String,
    pretty: Option<String>,
    base64: String,
}

fn shown(e: InboundEvent) -> Shown {
    let utf8 = std::str::from_utf8(&e.body).is_ok();
    let pretty = serde_json::from_slice::<serde_json::Value>(&e.body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok());
    Shown {
        id: e.id.to_string(),
        verdict: e.verdict.as_str(),
        reason: e.verdict_reason,
        received_at: rfc3339(e.received_at),
        size: e.body.len(),
        utf8,
        raw: String::from_utf8_lossy(&e.body).into_owned(),
        pretty,
        base64: base64::engine::general_purpose::STANDARD.encode(&e.body),
        source: e.source,
        event_type: e.event_type,
        method: e.method,
        path: e.path,
        query: e.query,
        remote: e.remote_addr,
        dedup_key: e.dedup_key,
        headers: e.headers,
    }
}

fn schemes() -> Vec<&'static str> {
    Scheme::ALL.iter().map(|s| s.name()).collect()
}

async fn detail(
    state: &AppState,
    s: &Session,
    source: &str,
    id: &str,
    replay: Option<(&str, Result<crate::api::model::ReplayOut, String>)>,
) -> Result<Response, Response> {
    let event = find(state, source, id).await.map_err(|e| s.failed(e))?;
    let (replay_url, replayed, replay_error) = match replay {
        Some((url, Ok(out))) => (
            url.to_string(),
            Some(minijinja::context! {
                ok => (200..300).contains(&out.status),
                status => out.status, status_text => out.status_text,
                ms => format!("{:.1}", out.duration_ms), body => out.response_body,
            }),
            None,
        ),
        Some((url, Err(e))) => (url.to_string(), None, Some(e)),
        None => (String::new(), None, None),
    };
    let forwards = forwards_of(state, &event.source, &event.id)
        .await
        .map_err(|e| s.failed(e))?;
    Ok(views::page(
        "event.html",
        minijinja::context! {
            nav => "inbox", csrf => s.csrf, admin => true, forwards,
            e => shown(event), schemes => schemes(), replay_url, replayed, replay_error,
        },
    ))
}

pub async fn event(
    State(state): State<AppState>,
    s: Session,
    Path((source, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    s.require_admin()?;
    detail(&state, &s, &source, &id, None).await
}

#[derive(Deserialize)]
pub struct ReplayForm {
    csrf: String,
    url: String,
    mode: String,
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    secret: String,
}

pub async fn replay(
    State(state): State<AppState>,
    s: Session,
    Path((source, id)): Path<(String, String)>,
    Form(form): Form<ReplayForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let event = find(&state, &source, &id).await.map_err(|e| s.failed(e))?;
    let resign = form.mode == "resign";
    let input = ReplayIn {
        url: form.url.trim().to_string(),
        mode: if resign {
            ReplayMode::Resign
        } else {
            ReplayMode::Exact
        },
        scheme: resign.then(|| form.scheme.clone()),
        secret: resign.then(|| form.secret.clone()),
        timeout: Some(10.0),
    };
    let result = perform_replay(&state, &event, &input)
        .await
        .map_err(|e| e.detail);
    let resp = detail(&state, &s, &source, &id, Some((&input.url, result))).await?;
    Ok(resp.into_response())
}
