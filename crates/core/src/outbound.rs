//! Sending: applications, their endpoints, messages, deliveries and attempts.

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_signature::Secret;
use serde_json::{Map, Value};

use crate::id::{AppId, AttemptId, EndpointId, MessageId};

/// One consumer of webhooks (Svix: an application).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: AppId,
    /// An optional id of the caller's choosing, usable wherever `app_…` is.
    pub uid: Option<String>,
    pub name: String,
    pub metadata: Map<String, Value>,
    /// Default messages per second for the app's endpoints.
    pub throttle_rate: Option<u16>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A signing secret; one being rotated out carries its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSecret {
    pub key: Secret,
    /// Milliseconds; after it the secret no longer signs.
    pub expires_at: Option<i64>,
}

/// A URL that receives an app's webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: EndpointId,
    pub app_id: AppId,
    pub uid: Option<String>,
    pub url: String,
    pub description: String,
    /// The current secret first, then any in their grace period.
    pub secrets: Vec<EndpointSecret>,
    /// Only these event types (none: every type).
    pub event_types: Option<Vec<String>>,
    /// Only messages on these channels (none: every message).
    pub channels: Option<Vec<String>>,
    /// Extra headers sent with every delivery.
    pub headers: BTreeMap<String, String>,
    pub disabled: bool,
    /// Messages per second, enforced.
    pub throttle_rate: Option<u16>,
    /// Overrides of the engine's retry schedule, timeout and concurrency.
    pub policy: EndpointPolicy,
    /// Only messages whose `{"body": payload}` matches (hookline's extension).
    pub filter: Option<crate::filter::Filter>,
    pub metadata: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Per-endpoint overrides of the engine's defaults; `None` keeps the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// Delays after the first try.
    pub retry: Option<RetryPolicy>,
    /// Time allowed for one attempt.
    pub timeout: Option<Duration>,
    /// Attempts in flight to this endpoint at once, enforced.
    pub max_concurrency: Option<u16>,
}

impl Endpoint {
    /// A new, enabled endpoint of `app` at `url`, signing with `secret`, with
    /// the app's rate limit, no filters and the engine's default policy.
    pub fn new(app: &App, url: String, secret: Secret, now: i64) -> Endpoint {
        Endpoint {
            id: EndpointId::at(now),
            app_id: app.id.clone(),
            uid: None,
            url,
            description: String::new(),
            secrets: vec![EndpointSecret {
                key: secret,
                expires_at: None,
            }],
            event_types: None,
            channels: None,
            headers: BTreeMap::new(),
            disabled: false,
            throttle_rate: app.throttle_rate,
            policy: EndpointPolicy::default(),
            filter: None,
            metadata: Map::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether `m` goes to this endpoint: its type, channels and filter.
    pub fn takes(&self, m: &Message) -> bool {
        self.wants(&m.event_type, m.channels.as_deref())
            && self.filter.as_ref().is_none_or(|f| {
                // A payload is a JSON object by the time it is stored.
                serde_json::from_str::<Value>(&m.payload)
                    .is_ok_and(|body| f.matches(&serde_json::json!({ "body": body })))
            })
    }

    /// Whether a message of `event_type` on `channels` goes to this endpoint.
    pub fn wants(&self, event_type: &str, channels: Option<&[String]>) -> bool {
        if self.disabled {
            return false;
        }
        let type_ok = match &self.event_types {
            Some(types) if !types.is_empty() => types.iter().any(|t| t == event_type),
            _ => true,
        };
        let channel_ok = match (&self.channels, channels) {
            (Some(mine), Some(theirs)) if !mine.is_empty() => {
                mine.iter().any(|c| theirs.contains(c))
            }
            (Some(mine), None) if !mine.is_empty() => false,
            _ => true,
        };
        type_ok && channel_ok
    }

    /// The secrets that sign at `now` (ms): the current one and any still in grace.
    pub fn signing_secrets(&self, now: i64) -> Vec<Secret> {
        self.secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|t| t > now))
            .map(|s| s.key.clone())
            .collect()
    }
}

/// A kind of event, optionally with JSON Schemas (by version) that payloads
/// must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventType {
    pub name: String,
    pub description: String,
    /// `{"1": {…JSON Schema…}, …}`; payloads are checked against the highest version.
    pub schemas: Option<Map<String, Value>>,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl EventType {
    /// The schema of the highest version, if any.
    pub fn latest_schema(&self) -> Option<&Value> {
        let schemas = self.schemas.as_ref()?;
        schemas
            .iter()
            .max_by_key(|(v, _)| (v.parse::<u64>().unwrap_or(0), v.to_string()))
            .map(|(_, s)| s)
    }
}

/// One event to deliver to every matching endpoint of an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub app_id: AppId,
    pub event_type: String,
    /// The caller's id for the event, unique per app.
    pub event_id: Option<String>,
    /// The JSON payload, exactly the bytes that are sent (compact, key order kept).
    pub payload: String,
    pub channels: Option<Vec<String>>,
    pub created_at: i64,
}

/// Where a delivery stands; the numbers are Svix's `MessageStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    Success = 0,
    Pending = 1,
    /// Retries exhausted: the dead-letter state, kept and resendable.
    Failed = 2,
    Sending = 3,
}

impl DeliveryStatus {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(c: i64) -> Option<Self> {
        match c {
            0 => Some(DeliveryStatus::Success),
            1 => Some(DeliveryStatus::Pending),
            2 => Some(DeliveryStatus::Failed),
            3 => Some(DeliveryStatus::Sending),
            _ => None,
        }
    }

    /// Svix's `statusText`.
    pub fn text(self) -> &'static str {
        match self {
            DeliveryStatus::Success => "success",
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Failed => "fail",
            DeliveryStatus::Sending => "sending",
        }
    }
}

/// A message's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub message_id: MessageId,
    pub endpoint_id: EndpointId,
    pub app_id: AppId,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (ms); none once finished.
    pub next_attempt_at: Option<i64>,
    /// The next attempt was asked for by hand (resend, recover).
    pub manual: bool,
    /// Bumped by every claim and every resend or recover. A try's outcome is
    /// applied only if the delivery is still at the version it was claimed
    /// at, so a try that outlived its lease, or was overtaken by a resend,
    /// cannot overwrite what came after it.
    pub version: i64,
}

impl Delivery {
    /// A new delivery of `m` to `e`: pending, due at once, or (`handed`)
    /// already claimed, in flight until `lease_until`.
    pub fn new_for(m: &Message, e: &Endpoint, handed: bool, lease_until: i64) -> Delivery {
        Delivery {
            message_id: m.id.clone(),
            endpoint_id: e.id.clone(),
            app_id: m.app_id.clone(),
            status: match handed {
                true => DeliveryStatus::Sending,
                false => DeliveryStatus::Pending,
            },
            attempts: 0,
            next_attempt_at: Some(if handed { lease_until } else { m.created_at }),
            manual: false,
            version: i64::from(handed),
        }
    }
}

/// What started an attempt; the numbers are Svix's `MessageAttemptTriggerType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Scheduled = 0,
    Manual = 1,
}

/// One HTTP try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: AttemptId,
    pub message_id: MessageId,
    pub endpoint_id: EndpointId,
    pub app_id: AppId,
    pub url: String,
    /// `Success` or `Failed` for this one try.
    pub status: DeliveryStatus,
    /// 0 when no HTTP answer came (connection refused, timeout, …).
    pub response_status_code: u16,
    /// The response body (truncated) or the transport error.
    pub response: String,
    pub duration_ms: u64,
    pub trigger: Trigger,
    pub created_at: i64,
}

/// A due delivery claimed by one worker until `lease_until`, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub delivery: Delivery,
    pub message: Message,
    pub endpoint: Endpoint,
}

/// How many of a publish's deliveries go straight to this node's engine:
/// up to `slots` of them are stored already claimed (`Sending`, version 1,
/// due again at `lease_until`, as a claim leaves them) and handed back, so
/// the engine sends them without claiming or reading them again. The rest
/// are stored pending, due at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HandOut {
    pub slots: usize,
    pub lease_until: i64,
}

/// What a publish made: how many deliveries, and the claimed ones handed out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    pub made: usize,
    pub handed: Vec<Claimed>,
}

impl Published {
    /// Whether some delivery was stored pending (the engine should look).
    pub fn left_pending(&self) -> bool {
        self.made > self.handed.len()
    }
}

/// An endpoint's deliveries by status (Svix's `EndpointStats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    pub success: u64,
    pub pending: u64,
    pub sending: u64,
    pub fail: u64,
}

impl EndpointStats {
    /// Counts `n` deliveries in `status`.
    pub fn add(&mut self, status: DeliveryStatus, n: u64) {
        match status {
            DeliveryStatus::Success => self.success += n,
            DeliveryStatus::Pending => self.pending += n,
            DeliveryStatus::Sending => self.sending += n,
            DeliveryStatus::Failed => self.fail += n,
        }
    }
}

/// How many deliveries wait, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Due now (or leased and in flight).
    pub due: u64,
    /// Waiting for a later retry.
    pub scheduled: u64,
    /// Failed for good (dead letters).
    pub failed: u64,
}

/// What happens after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Delivered.
    Success,
    /// Try again at this time (ms).
    RetryAt(i64),
    /// No tries left: the delivery fails (dead letter).
    Failed,
}

/// When to retry: delays after the first try, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub schedule: Vec<Duration>,
}

impl Default for RetryPolicy {
    /// After the first try: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    fn default() -> Self {
        let s = Duration::from_secs;
        RetryPolicy {
            schedule: vec![
                s(5),
                s(300),
                s(1800),
                s(7200),
                s(18_000),
                s(36_000),
                s(36_000),
            ],
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt number `attempts + 1`, after `attempts` tries
    /// failed; `None` when the schedule is exhausted.
    pub fn delay_after(&self, attempts: u32) -> Option<Duration> {
        let i = usize::try_from(attempts).ok()?.checked_sub(1)?;
        self.schedule.get(i).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(types: Option<&[&str]>, channels: Option<&[&str]>) -> Endpoint {
        let list = |v: Option<&[&str]>| v.map(|v| v.iter().map(|s| s.to_string()).collect());
        Endpoint {
            id: EndpointId::new(),
            app_id: AppId::new(),
            uid: None,
            url: "http://x".into(),
            description: String::new(),
            secrets: vec![],
            event_types: list(types),
            channels: list(channels),
            headers: BTreeMap::new(),
            disabled: false,
            throttle_rate: None,
            policy: EndpointPolicy::default(),
            filter: None,
            metadata: Map::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn filters_by_type_and_channel() {
        let ch = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(endpoint(None, None).wants("a", None));
        assert!(endpoint(Some(&[]), None).wants("a", Some(&ch(&["x"]))));
        assert!(endpoint(Some(&["a", "b"]), None).wants("b", None));
        assert!(!endpoint(Some(&["a"]), None).wants("c", None));
        assert!(endpoint(None, Some(&["x"])).wants("a", Some(&ch(&["y", "x"]))));
        assert!(!endpoint(None, Some(&["x"])).wants("a", Some(&ch(&["y"]))));
        assert!(!endpoint(None, Some(&["x"])).wants("a", None));
        let mut off = endpoint(None, None);
        off.disabled = true;
        assert!(!off.wants("a", None));
    }

    #[test]
    fn retry_schedule() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay_after(0),
            None,
            "before the first try there is no retry delay"
        );
        assert_eq!(p.delay_after(1), Some(Duration::from_secs(5)));
        assert_eq!(p.delay_after(7), Some(Duration::from_secs(36_000)));
        assert_eq!(p.delay_after(8), None, "8 tries in all, then failed");
    }

    #[test]
    fn grace_period_secrets() {
        let mut e = endpoint(None, None);
        e.secrets = vec![
            EndpointSecret {
                key: Secret::new("new"),
                expires_at: None,
            },
            EndpointSecret {
                key: Secret::new("old"),
                expires_at: Some(100),
            },
        ];
        assert_eq!(e.signing_secrets(50).len(), 2);
        assert_eq!(e.signing_secrets(100), vec![Secret::new("new")]);
    }
}
