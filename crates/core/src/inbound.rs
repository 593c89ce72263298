//! Inbound events: every request that reached a source, stored byte-exact.

use serde::{Deserialize, Serialize};

use crate::id::EventId;

/// What verification concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The signature matched one of the source's secrets.
    Verified,
    /// The source has no secret, so nothing was checked.
    Unverified,
    /// Verification failed; the event is kept for inspection but was answered 401.
    Rejected,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Unverified => "unverified",
            Verdict::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "verified" => Some(Verdict::Verified),
            "unverified" => Some(Verdict::Unverified),
            "rejected" => Some(Verdict::Rejected),
            _ => None,
        }
    }

    /// Whether the request was accepted (answered 2xx).
    pub fn accepted(self) -> bool {
        self != Verdict::Rejected
    }
}

/// One received request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEvent {
    pub id: EventId,
    /// The source's name.
    pub source: String,
    pub event_type: Option<String>,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names (lower case) and values in arrival order; values are
    /// visible ASCII in practice (anything else is kept lossily).
    pub headers: Vec<(String, String)>,
    /// The raw body, exactly as received.
    pub body: Vec<u8>,
    pub remote_addr: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub received_at: i64,
    pub verdict: Verdict,
    /// Why verification failed (machine code and message), when it did.
    pub verdict_reason: Option<String>,
    /// The delivery id duplicates are recognised by.
    pub dedup_key: Option<String>,
}

impl InboundEvent {
    /// The first header of this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Headers that describe one hop, not the message (and `Host`,
/// `Content-Length`, which the sender of a copy sets itself): never carried
/// over when a received request is sent on (forwards, replays, `listen`).
pub const HOP_BY_HOP: &[&str] = &[
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
    "expect",
];

/// Whether a received header is carried over when the request is sent on.
pub fn carried(name: &str) -> bool {
    !HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
}

/// A received event as a stream sends it (`/event/stream`): everything
/// needed to send it on byte-exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamedEvent {
    pub id: EventId,
    pub source: String,
    pub event_type: Option<String>,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// In arrival order, repeats kept.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes.
    pub body_base64: String,
    pub verdict: Verdict,
    pub verdict_reason: Option<String>,
    /// RFC 3339.
    pub received_at: String,
}

impl StreamedEvent {
    pub fn of(e: &InboundEvent) -> StreamedEvent {
        use base64::Engine as _;
        StreamedEvent {
            id: e.id.clone(),
            source: e.source.clone(),
            event_type: e.event_type.clone(),
            method: e.method.clone(),
            path: e.path.clone(),
            query: e.query.clone(),
            headers: e.headers.clone(),
            body_base64: base64::engine::general_purpose::STANDARD.encode(&e.body),
            verdict: e.verdict,
            verdict_reason: e.verdict_reason.clone(),
            received_at: crate::clock::rfc3339(e.received_at),
        }
    }

    /// The body's bytes; `None` if `body_base64` is not base64.
    pub fn body(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(&self.body_base64)
            .ok()
    }
}

/// Filters for listing events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events whose body or header values contain this text.
    pub text: Option<crate::search::TextQuery>,
    pub event_type: Option<String>,
    pub verdict: Option<Verdict>,
    /// Received at or after (ms).
    pub after: Option<i64>,
    /// Received before (ms).
    pub before: Option<i64>,
}
