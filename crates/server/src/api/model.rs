//! Bodies of the management API.

use std::time::UNIX_EPOCH;

use base64::Engine;
use hookline_core::{InboundEvent, Page, Source};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// RFC 3339 with milliseconds, as Svix writes timestamps.
pub use hookline_core::clock::rfc3339;

/// Parses an RFC 3339 time into milliseconds.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let t = humantime::parse_rfc3339_weak(s)
        .map_err(|e| format!("`{s}` is not an RFC 3339 time like 2026-01-31T12:00:00Z ({e})"))?;
    let d = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| format!("`{s}` is before 1970"))?;
    Ok(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    pub iterator: Option<String>,
    pub prev_iterator: Option<String>,
    pub done: bool,
}

impl<T> ListResponse<T> {
    pub fn from_page<U>(page: Page<U>, f: impl Fn(U) -> T) -> Self {
        ListResponse {
            data: page.data.into_iter().map(f).collect(),
            iterator: page.iterator,
            prev_iterator: None,
            done: page.done,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceOut {
    pub id: String,
    pub name: String,
    pub scheme: &'static str,
    /// How many secrets are active (their values are never returned).
    pub secret_count: usize,
    pub tolerance: u64,
    pub dedup: String,
    pub dedup_window: u64,
    pub allow_ips: Vec<String>,
    pub rate_limit: Option<u32>,
    /// Where senders post.
    pub url: String,
    /// The exact path the source also answers at.
    pub path: Option<String>,
    /// Whether a request must prove anything (a signature or credentials):
    /// `false` means the source accepts every request.
    pub verifies: bool,
    /// Where the event type comes from: `auto`, `header:NAME` or `json:/pointer`.
    pub event_type: String,
    /// Request authentication: its kind and how many values are active
    /// (the values are never returned).
    #[schema(value_type = Option<Object>)]
    pub auth: Option<serde_json::Value>,
    /// The configured replies per outcome (`received`, `duplicate`, `rejected`).
    #[schema(value_type = Object)]
    pub reply: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Source> for SourceOut {
    fn from(s: &Source) -> Self {
        SourceOut {
            id: s.id.to_string(),
            name: s.name.clone(),
            scheme: s.scheme.name(),
            secret_count: s.secrets.len(),
            tolerance: s.tolerance.as_secs(),
            dedup: s.dedup.to_config(),
            dedup_window: s.dedup_window.as_secs(),
            allow_ips: s.allow_ips.iter().map(ToString::to_string).collect(),
            rate_limit: s.rate_limit,
            url: format!("/in/{}", s.name),
            path: s.path.clone(),
            verifies: s.verifies(),
            event_type: s.event_type.to_config(),
            auth: s
                .auth
                .as_ref()
                .map(|a| serde_json::json!({ "kind": a.describe(), "valueCount": a.values.len() })),
            reply: serde_json::to_value(&s.reply).unwrap_or_default(),
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventOut {
    pub id: String,
    pub source: String,
    pub event_type: Option<String>,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Headers in arrival order, as `[name, value]` pairs (names repeat).
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: Vec<(String, String)>,
    /// The body as text when it is UTF-8 (omitted in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub body: Option<Value>,
    /// The exact bytes, base64 (omitted in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    pub body_size: usize,
    pub remote_addr: Option<String>,
    pub received_at: String,
    pub verdict: &'static str,
    pub verdict_reason: Option<String>,
    pub dedup_key: Option<String>,
}

impl EventOut {
    pub fn new(e: InboundEvent, with_body: bool) -> Self {
        let (body, body_base64) = if with_body {
            let text = std::str::from_utf8(&e.body)
                .ok()
                .map(|s| Value::String(s.to_string()));
            (
                Some(text.unwrap_or(Value::Null)),
                Some(base64::engine::general_purpose::STANDARD.encode(&e.body)),
            )
        } else {
            (None, None)
        };
        EventOut {
            id: e.id.to_string(),
            source: e.source,
            event_type: e.event_type,
            method: e.method,
            path: e.path,
            query: e.query,
            headers: e.headers,
            body,
            body_base64,
            body_size: e.body.len(),
            remote_addr: e.remote_addr,
            received_at: rfc3339(e.received_at),
            verdict: e.verdict.as_str(),
            verdict_reason: e.verdict_reason,
            dedup_key: e.dedup_key,
        }
    }
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct EventQuery {
    #[param(minimum = 1, maximum = 250)]
    pub limit: Option<usize>,
    pub iterator: Option<String>,
    /// Text the body or a header value contains (case-insensitive; indexed).
    pub q: Option<String>,
    /// A JSON filter over `body`, `headers`, `query` and `path`, as a route's.
    pub filter: Option<String>,
    pub event_type: Option<String>,
    #[param(inline, value_type = Option<VerdictName>)]
    pub verdict: Option<String>,
    /// Received at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub after: Option<String>,
    /// Received before this time (RFC 3339).
    #[param(format = DateTime)]
    pub before: Option<String>,
}

/// A verdict filter's values.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum VerdictName {
    Verified,
    Unverified,
    Rejected,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplayMode {
    /// The original bytes with the original headers.
    #[default]
    Exact,
    /// The original bytes, signed afresh with `scheme` and `secret`.
    Resign,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayIn {
    pub url: String,
    #[serde(default)]
    pub mode: ReplayMode,
    pub scheme: Option<String>,
    pub secret: Option<String>,
    /// Seconds to wait for the answer (default 15).
    pub timeout: Option<f64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayOut {
    pub url: String,
    pub status: u16,
    pub status_text: String,
    pub duration_ms: f64,
    #[schema(value_type = Vec<Vec<String>>)]
    pub request_headers: Vec<(String, String)>,
    #[schema(value_type = Vec<Vec<String>>)]
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
}

/// A token request's optional body: `{"expiry": SECS}`, or nothing (or `null`) for the default.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ExpiryIn {
    /// Seconds the token lives (at most a year).
    pub expiry: Option<u64>,
}

impl ExpiryIn {
    /// Reads an optional JSON body (empty: the defaults).
    pub fn read(body: &[u8]) -> Result<ExpiryIn, crate::error::ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(ExpiryIn::default());
        }
        serde_json::from_slice::<Option<ExpiryIn>>(body)
            .map(Option::unwrap_or_default)
            .map_err(|e| crate::error::ApiError::validation(e.to_string()))
    }

    /// When a token issued now expires (ms): `expiry`, else `default_secs`,
    /// between a second and a year.
    pub fn expires_at(&self, default_secs: u64) -> i64 {
        let secs = self
            .expiry
            .unwrap_or(default_secs)
            .clamp(1, 365 * 24 * 3600);
        hookline_core::clock::now_ms() + i64::try_from(secs).unwrap_or(0) * 1000
    }
}
