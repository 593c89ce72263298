//! Inbox search, for the API and the UI alike: the store answers the text
//! match from its index; a structured `filter` (the routes' JSON dialect) is
//! then applied to what it returns, page by page, examining at most
//! [`SCAN`] events per page asked for.

use hookline_core::filter::Filter;
use hookline_core::route::filter_document;
use hookline_core::search::search_text;
use hookline_core::{EventFilter, InboundEvent, Page, PageRequest};

use crate::error::ApiError;
use crate::state::AppState;

/// Most events one page of a structured search examines; past that the page
/// ends early (possibly empty) with an iterator to go on from.
pub(crate) const SCAN: usize = 5_000;

/// What to look for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Search {
    /// What the store narrows by (its text match through the index).
    pub filter: EventFilter,
    /// A structured match on body, headers, query and path.
    pub matching: Option<Filter>,
}

/// A `filter=` value: a JSON filter, validated; the error names where it is wrong.
pub(crate) fn parse_filter(s: &str) -> Result<Filter, ApiError> {
    let v: serde_json::Value = serde_json::from_str(s)
        .map_err(|e| ApiError::validation(format!("filter is not JSON: {e}")))?;
    Filter::parse(&v).map_err(|e| ApiError::validation(e.to_string()))
}

/// One page of the events of `source` (every source's with `None`) that match.
pub(crate) async fn events(
    state: &AppState,
    source: Option<&str>,
    s: &Search,
    page: &PageRequest,
) -> Result<Page<InboundEvent>, ApiError> {
    let Some(matching) = &s.matching else {
        return Ok(state.store.list_events(source, &s.filter, page).await?);
    };
    let mut data = Vec::new();
    let mut iterator = page.iterator.clone();
    let mut examined = 0;
    loop {
        let chunk = PageRequest::new(Some(PageRequest::MAX_LIMIT), iterator.clone());
        let batch = state.store.list_events(source, &s.filter, &chunk).await?;
        for e in batch.data {
            examined += 1;
            iterator = Some(e.id.to_string());
            if matching.matches(&filter_document(&e)) {
                data.push(e);
                if data.len() == page.limit {
                    return Ok(Page {
                        data,
                        iterator,
                        done: false,
                    });
                }
            }
        }
        if batch.done || examined >= SCAN {
            return Ok(Page {
                data,
                iterator,
                done: batch.done,
            });
        }
    }
}

impl Search {
    /// Whether one event matches, exactly as the store's search would find
    /// it (the text as a substring of its `search_text`): for events
    /// followed live, which no query has read yet.
    pub(crate) fn matches(&self, e: &InboundEvent) -> bool {
        let f = &self.filter;
        f.event_type
            .as_ref()
            .is_none_or(|t| e.event_type.as_ref() == Some(t))
            && f.verdict.is_none_or(|v| e.verdict == v)
            && f.after.is_none_or(|t| e.received_at >= t)
            && f.before.is_none_or(|t| e.received_at < t)
            && f.text
                .as_ref()
                .is_none_or(|q| search_text(&e.body, &e.headers).contains(q.as_str()))
            && self
                .matching
                .as_ref()
                .is_none_or(|m| m.matches(&filter_document(e)))
    }
}
