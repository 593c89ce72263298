//! The inbox: received events, newest first, filtered by source, event type,
//! verdict and text (searched through the store's index), beside the
//! selected event. New events that match are pushed live over Server-Sent
//! Events, followed from the store, so every node's arrivals show on every
//! node.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use futures_util::{Stream, StreamExt};
use hookline_core::clock::{now_ms, rfc3339};
use hookline_core::source::DEFAULT_SOURCE;
use hookline_core::{EventFilter, EventId, InboundEvent, PageRequest, TextQuery, Verdict};
use serde::{Deserialize, Serialize};

use super::event::{self, Selected};
use super::session::Session;
use super::views;
use crate::actions::search::{self, Search};
use crate::state::AppState;

/// Characters of the body a row shows.
const PREVIEW: usize = 96;

/// One row of the inbox list, as the page renders it and the live stream sends it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub id: String,
    pub source: String,
    pub event_type: Option<String>,
    pub verdict: &'static str,
    pub method: String,
    pub path: String,
    /// RFC 3339, and milliseconds for the relative time the script keeps fresh.
    pub received_at: String,
    pub received_ms: i64,
    /// "12 s ago", as of when it was rendered.
    pub ago: String,
    pub size: usize,
    /// The start of the body, whitespace collapsed (invalid UTF-8 replaced).
    pub preview: String,
}

impl Row {
    pub fn of(e: &InboundEvent, now: i64) -> Row {
        let text = String::from_utf8_lossy(&e.body[..e.body.len().min(PREVIEW * 4)]);
        let preview: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(PREVIEW)
            .collect();
        Row {
            id: e.id.to_string(),
            source: e.source.clone(),
            event_type: e.event_type.clone(),
            verdict: e.verdict.as_str(),
            method: e.method.clone(),
            path: e.path.clone(),
            received_at: rfc3339(e.received_at),
            received_ms: e.received_at,
            ago: ago(now - e.received_at),
            size: e.body.len(),
            preview,
        }
    }
}

/// A duration in ms as "3 s ago", "5 min ago", "2 h ago", "4 d ago".
pub(super) fn ago(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3_599 => format!("{} min ago", s / 60),
        3_600..=86_399 => format!("{} h ago", s / 3_600),
        _ => format!("{} d ago", s / 86_400),
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
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
    /// The selected event (`evt_…`), shown beside the list.
    #[serde(default)]
    event: String,
    #[serde(default, skip_serializing)]
    iterator: Option<String>,
    /// The live stream: only events after this one.
    #[serde(default, skip_serializing)]
    after: Option<String>,
}

impl Filter {
    fn search(&self) -> Search {
        Search {
            filter: EventFilter {
                text: TextQuery::new(&self.q),
                event_type: Some(self.event_type.clone()).filter(|t| !t.is_empty()),
                verdict: Verdict::parse(&self.verdict),
                after: None,
                before: None,
            },
            matching: None,
        }
    }

    fn source(&self) -> String {
        match self.source.is_empty() {
            true => DEFAULT_SOURCE.to_string(),
            false => self.source.clone(),
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    s: Session,
    Query(mut f): Query<Filter>,
) -> Result<Response, Response> {
    s.require_admin()?;
    f.source = f.source();
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
    let page = PageRequest::new(Some(50), f.iterator.clone());
    let page = search::events(&state, Some(&f.source), &f.search(), &page)
        .await
        .map_err(|e| s.failed(e))?;
    let now = now_ms();
    let events: Vec<Row> = page.data.iter().map(|e| Row::of(e, now)).collect();
    // The stream starts after the newest event listed (or now), so nothing
    // stored between this page and the stream is missed.
    let after = page
        .data
        .first()
        .filter(|_| f.iterator.is_none())
        .map(|e| e.id.clone())
        .unwrap_or_else(|| EventId::floor(now))
        .to_string();
    let chosen = match f.event.as_str() {
        "" => page.data.first().map(|e| e.id.to_string()),
        id => Some(id.to_string()),
    };
    let selected: Option<Selected> = match &chosen {
        Some(id) => event::selected(&state, &s, &f.source, id).await.ok(),
        None => None,
    };
    let more = (!page.done).then_some(page.iterator).flatten();
    Ok(views::page(
        "inbox.html",
        minijinja::context! {
            nav => "inbox", csrf => s.csrf, admin => true, wide => true, panel => true,
            sources, filter => f, events, more, unchecked, after, selected,
        },
    ))
}

/// `GET /ui/inbox/stream?source=…&type=…&verdict=…&q=…&after=evt_…`: a
/// `received` event (a [`Row`]) for each new event that matches the filters.
pub async fn stream(
    State(state): State<AppState>,
    s: Session,
    Query(f): Query<Filter>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Response> {
    s.require_admin()?;
    let after = f
        .after
        .as_deref()
        .and_then(|a| a.parse::<EventId>().ok())
        .unwrap_or_else(|| EventId::floor(now_ms()));
    let search = f.search();
    let events = crate::actions::tail::follow(&state, f.source(), Some(after))
        .filter(move |e| std::future::ready(search.matches(e)))
        .map(|e| {
            let data = serde_json::to_string(&Row::of(&e, now_ms())).unwrap_or_default();
            Ok(Event::default().event("received").data(data))
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_whole_unit() {
        assert_eq!(ago(-5), "0 s ago");
        assert_eq!(ago(59_999), "59 s ago");
        assert_eq!(ago(60_000), "1 min ago");
        assert_eq!(ago(7_200_000), "2 h ago");
        assert_eq!(ago(90_000_000), "1 d ago");
    }
}
