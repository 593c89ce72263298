//! Forwarding: a [`Route`] hands a source's accepted, non-duplicate events on
//! to a destination URL, and a [`Forward`] is one event's way down one route,
//! run by the same delivery engine as outbound messages.
//!
//! - `spec`: [`RouteSpec`], a route as people write it (file or API), validated.

mod spec;

pub use spec::{RouteError, RouteSpec};

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_signature::Secret;
use serde_json::{Map, Value};

use crate::filter::Filter;
use crate::id::{EventId, RouteId};
use crate::inbound::InboundEvent;
use crate::outbound::{DeliveryStatus, EndpointPolicy, RetryPolicy};

/// Where a source's events go on to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub id: RouteId,
    /// Unique; usable wherever `route_…` is.
    pub name: String,
    /// The source's name.
    pub source: String,
    pub url: String,
    /// Only events whose `{"body", "headers", "query", "path"}` match.
    pub filter: Option<Filter>,
    /// Retry schedule, timeout, attempts in flight at once.
    pub policy: EndpointPolicy,
    /// Forwards per second, enforced.
    pub rate_limit: Option<u16>,
    /// One at a time, in arrival order: the next waits until the head is
    /// delivered or has failed for good.
    pub ordered: bool,
    /// Held: nothing is sent until resumed (a `410` answer pauses too).
    pub paused: bool,
    /// Extra headers sent with every forward.
    pub headers: BTreeMap<String, String>,
    /// Also sign with Standard Webhooks headers under this secret.
    pub sign: Option<Secret>,
    /// Written in `hookline.toml`: the operator's own, so it may reach its
    /// URL's address even where the outbound guard would refuse it.
    pub trusted: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Route {
    /// Whether an event whose filter document is `doc` goes down this route.
    pub fn takes(&self, doc: &Value) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(doc))
    }

    /// The routes `e` goes down: every one without a filter, and those
    /// whose filter matches (the filter document is built once, and only
    /// when some route filters).
    pub fn matching<'a>(routes: &'a [Route], e: &InboundEvent) -> Vec<&'a Route> {
        let doc = routes
            .iter()
            .any(|r| r.filter.is_some())
            .then(|| filter_document(e));
        routes
            .iter()
            .filter(|r| doc.as_ref().is_none_or(|d| r.takes(d)))
            .collect()
    }

    /// Whether a forward down this route may be handed straight to the
    /// engine: not while paused, and not on an ordered route (its next one
    /// waits for the head).
    pub fn hands_off(&self) -> bool {
        !self.paused && !self.ordered
    }

    /// Everything but the id, name, source, URL, `ordered`, `paused` and
    /// times, as one JSON document (how the stores keep it).
    pub fn options_json(&self) -> String {
        let stored = Stored {
            filter: self.filter.as_ref().map(|f| f.as_json().clone()),
            retry_ms: self.policy.retry.as_ref().map(|r| {
                r.schedule
                    .iter()
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                    .collect()
            }),
            timeout_ms: self
                .policy
                .timeout
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            max_concurrency: self.policy.max_concurrency,
            rate_limit: self.rate_limit,
            headers: self.headers.clone(),
            sign: self.sign.as_ref().map(|s| s.expose().to_string()),
            trusted: self.trusted,
        };
        serde_json::to_string(&stored).unwrap_or_else(|_| "{}".into())
    }

    /// Reads back what [`Route::options_json`] wrote.
    pub fn set_options_json(&mut self, json: &str) -> Result<(), String> {
        let s: Stored = serde_json::from_str(json).map_err(|e| e.to_string())?;
        self.filter = s
            .filter
            .map(|f| Filter::parse(&f))
            .transpose()
            .map_err(|e| e.to_string())?;
        self.policy = EndpointPolicy {
            retry: s.retry_ms.map(|ms| RetryPolicy {
                schedule: ms.into_iter().map(Duration::from_millis).collect(),
            }),
            timeout: s.timeout_ms.map(Duration::from_millis),
            max_concurrency: s.max_concurrency,
        };
        self.rate_limit = s.rate_limit;
        self.headers = s.headers;
        self.sign = s.sign.map(Secret::new);
        self.trusted = s.trusted;
        Ok(())
    }
}

/// A route's options as stored.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Stored {
    filter: Option<Value>,
    retry_ms: Option<Vec<u64>>,
    timeout_ms: Option<u64>,
    max_concurrency: Option<u16>,
    rate_limit: Option<u16>,
    headers: BTreeMap<String, String>,
    sign: Option<String>,
    trusted: bool,
}

/// A forward to store with a new event: pending, due at once; or already
/// handed to this node's engine, stored in flight under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewForward {
    pub route: RouteId,
    /// Handed off: in flight (at version 1) until this time (ms).
    pub leased_until: Option<i64>,
}

impl NewForward {
    pub fn pending(route: RouteId) -> NewForward {
        NewForward {
            route,
            leased_until: None,
        }
    }
}

/// One event's forward down one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub route_id: RouteId,
    pub event_id: EventId,
    /// The source's name.
    pub source: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When the next try is due (ms); none once finished.
    pub next_attempt_at: Option<i64>,
    /// The next try was asked for by hand (resend, recover).
    pub manual: bool,
    /// Bumped by every claim, resend and recover (as a delivery's).
    pub version: i64,
    /// What the last try got: HTTP status (0: no answer), response or error, when.
    pub last: Option<ForwardTry>,
}

/// One HTTP try of a forward, as kept on the forward itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardTry {
    pub status_code: u16,
    /// The response body (truncated) or the transport error.
    pub response: String,
    pub duration_ms: u64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
}

/// A due forward claimed by one worker, with what it needs to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedForward {
    pub forward: Forward,
    pub route: Route,
    pub event: InboundEvent,
}

/// The document a route's filter is matched against: `body` (the JSON body,
/// a form's fields, or the text), `headers` (lower-case names; a repeated
/// header's first value), `query` (its fields) and `path`.
pub fn filter_document(e: &InboundEvent) -> Value {
    let text = String::from_utf8_lossy(&e.body);
    let is_form = e.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type") && v.starts_with("application/x-www-form-urlencoded")
    });
    let body = match serde_json::from_slice::<Value>(&e.body) {
        Ok(v) => v,
        Err(_) if is_form => Value::Object(fields(&text)),
        Err(_) => Value::String(text.into_owned()),
    };
    let mut headers = Map::new();
    for (k, v) in &e.headers {
        headers
            .entry(k.to_ascii_lowercase())
            .or_insert_with(|| Value::String(v.clone()));
    }
    serde_json::json!({
        "body": body,
        "headers": headers,
        "query": fields(e.query.as_deref().unwrap_or("")),
        "path": e.path,
    })
}

/// `a=1&b=2` as `{"a": "1", "b": "2"}` (the first of repeated keys).
fn fields(s: &str) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in url::form_urlencoded::parse(s.as_bytes()) {
        m.entry(k.into_owned())
            .or_insert_with(|| Value::String(v.into_owned()));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::Verdict;

    fn event(body: &str, content_type: &str, query: Option<&str>) -> InboundEvent {
        InboundEvent {
            id: EventId::new(),
            source: "s".into(),
            event_type: None,
            method: "POST".into(),
            path: "/in/s".into(),
            query: query.map(str::to_string),
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("x-a".into(), "1".into()),
                ("x-a".into(), "2".into()),
            ],
            body: body.as_bytes().to_vec(),
            remote_addr: None,
            received_at: 0,
            verdict: Verdict::Unverified,
            verdict_reason: None,
            dedup_key: None,
        }
    }

    #[test]
    fn options_round_trip_through_their_json() {
        let mut r = Route {
            id: RouteId::new(),
            name: "app".into(),
            source: "s".into(),
            url: "http://127.0.0.1:1/".into(),
            filter: Some(Filter::parse(&serde_json::json!({"body": {"a": 1}})).unwrap()),
            policy: EndpointPolicy {
                retry: Some(RetryPolicy {
                    schedule: vec![Duration::from_secs(1)],
                }),
                timeout: Some(Duration::from_secs(3)),
                max_concurrency: Some(2),
            },
            rate_limit: Some(5),
            ordered: true,
            paused: false,
            headers: BTreeMap::from([("x-k".to_string(), "v".to_string())]),
            sign: Some(Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
            trusted: true,
            created_at: 1,
            updated_at: 2,
        };
        let json = r.options_json();
        let want = r.clone();
        r.filter = None;
        r.policy = EndpointPolicy::default();
        r.rate_limit = None;
        r.headers.clear();
        r.sign = None;
        r.trusted = false;
        r.set_options_json(&json).unwrap();
        assert_eq!(r, want);
    }

    #[test]
    fn the_document_holds_json_body_lowercase_headers_query_and_path() {
        let d = filter_document(&event(r#"{"type":"a"}"#, "application/json", Some("x=1")));
        assert_eq!(d["body"]["type"], "a");
        assert_eq!(d["headers"]["content-type"], "application/json");
        assert_eq!(d["headers"]["x-a"], "1");
        assert_eq!(d["query"]["x"], "1");
        assert_eq!(d["path"], "/in/s");
    }

    #[test]
    fn a_form_body_becomes_its_fields_and_other_text_a_string() {
        let form = filter_document(&event(
            "a=1&b=two",
            "application/x-www-form-urlencoded",
            None,
        ));
        assert_eq!(form["body"]["b"], "two");
        let text = filter_document(&event("hello", "text/plain", None));
        assert_eq!(text["body"], "hello");
    }
}
