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

/// Filters for listing a source's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub event_type: Option<String>,
    pub verdict: Option<Verdict>,
    /// Received at or after (ms).
    pub after: Option<i64>,
    /// Received before (ms).
    pub before: Option<i64>,
}
