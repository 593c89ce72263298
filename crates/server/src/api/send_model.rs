//! Bodies of the sending API, field for field as Svix's v1 API.

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_core::{App, Attempt, Delivery, Endpoint, EndpointStats, Message};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::rfc3339;
use crate::error::ApiError;

/// Svix's id pattern for `uid`, `eventType`, `eventId` and channels.
pub fn check_token(field: &str, v: &str) -> Result<(), ApiError> {
    let ok = (1..=256).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        let shown: String = v.chars().take(64).collect();
        let cut = if shown.len() < v.len() { "…" } else { "" };
        Err(ApiError::validation(format!(
            "{field} `{shown}{cut}` must be 1-256 characters of a-z, A-Z, 0-9, '-', '_' or '.'"
        )))
    }
}

/// An id people choose (a uid, an event type, a channel): Svix's rule.
#[derive(utoipa::ToSchema)]
#[schema(pattern = r"^[a-zA-Z0-9._-]{1,256}$")]
pub struct IdToken(#[allow(dead_code)] String);

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppIn {
    /// Required to create or replace; optional in a `PATCH`.
    #[schema(required = true, min_length = 1, max_length = 256)]
    pub name: Option<String>,
    #[schema(pattern = r"^[a-zA-Z0-9._-]{1,256}$")]
    pub uid: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    #[schema(maximum = 65535)]
    pub throttle_rate: Option<u16>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppOut {
    pub id: String,
    pub uid: Option<String>,
    pub name: String,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub throttle_rate: Option<u16>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&App> for AppOut {
    fn from(a: &App) -> Self {
        AppOut {
            id: a.id.to_string(),
            uid: a.uid.clone(),
            name: a.name.clone(),
            metadata: a.metadata.clone(),
            throttle_rate: a.throttle_rate,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointIn {
    /// Required to create or replace; optional in a `PATCH`.
    #[schema(required = true, pattern = r"^https?://[^/?#\s]+")]
    pub url: Option<String>,
    #[schema(pattern = r"^[a-zA-Z0-9._-]{1,256}$")]
    pub uid: Option<String>,
    pub description: Option<String>,
    /// `whsec_` and 24 to 75 bytes of base64.
    #[schema(pattern = r"^whsec_[a-zA-Z0-9+/=]{32,100}$")]
    pub secret: Option<String>,
    #[schema(inline, value_type = Option<Vec<IdToken>>)]
    pub event_types: Option<Vec<String>>,
    #[schema(inline, value_type = Option<Vec<IdToken>>)]
    pub channels: Option<Vec<String>>,
    pub disabled: Option<bool>,
    #[schema(maximum = 65535)]
    pub throttle_rate: Option<u16>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Svix's deprecated name for `throttleRate`.
    #[schema(maximum = 65535)]
    pub rate_limit: Option<u16>,
    /// hookline: delays in seconds after the first try (overrides the default schedule).
    pub retry_schedule: Option<Vec<f64>>,
    /// hookline: seconds one attempt may take.
    pub timeout: Option<f64>,
    /// hookline: attempts in flight to this endpoint at once.
    #[schema(maximum = 65535)]
    pub max_concurrency: Option<u16>,
    /// hookline: only messages whose `{"body": payload}` matches this JSON
    /// filter (the Hookdeck/Convoy dialect); `{}` clears it.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointOut {
    pub id: String,
    pub uid: Option<String>,
    pub url: String,
    pub description: String,
    pub event_types: Option<Vec<String>>,
    pub channels: Option<Vec<String>>,
    pub disabled: bool,
    pub throttle_rate: Option<u16>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub retry_schedule: Option<Vec<f64>>,
    pub timeout: Option<f64>,
    pub max_concurrency: Option<u16>,
    /// hookline: the endpoint's JSON filter, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    pub version: u32,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Endpoint> for EndpointOut {
    fn from(e: &Endpoint) -> Self {
        EndpointOut {
            id: e.id.to_string(),
            uid: e.uid.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e.event_types.clone(),
            channels: e.channels.clone(),
            disabled: e.disabled,
            throttle_rate: e.throttle_rate,
            metadata: e.metadata.clone(),
            retry_schedule: e
                .policy
                .retry
                .as_ref()
                .map(|r| r.schedule.iter().map(Duration::as_secs_f64).collect()),
            timeout: e.policy.timeout.as_ref().map(Duration::as_secs_f64),
            max_concurrency: e.policy.max_concurrency,
            filter: e.filter.as_ref().map(|f| f.as_json().clone()),
            version: 1,
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        }
    }
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeadersIn {
    pub headers: BTreeMap<String, String>,
}

/// Svix's `EndpointSecretOut`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SecretOut {
    pub key: String,
}

/// Svix's `EndpointHeadersOut`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HeadersOut {
    pub headers: BTreeMap<String, String>,
    /// Names of headers whose values are hidden (none: hookline shows them all).
    pub sensitive: Vec<String>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotateIn {
    pub key: Option<String>,
}

/// Other Svix fields (`payloadRetentionPeriod`, `application`, …) are accepted
/// and ignored, as unknown fields are everywhere in this API.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageIn {
    #[schema(pattern = r"^[a-zA-Z0-9._-]{1,256}$")]
    pub event_type: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    #[schema(pattern = r"^[a-zA-Z0-9._-]{1,256}$")]
    pub event_id: Option<String>,
    #[schema(inline, value_type = Option<Vec<IdToken>>)]
    pub channels: Option<Vec<String>>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageOut {
    pub id: String,
    pub event_type: String,
    pub event_id: Option<String>,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub channels: Option<Vec<String>>,
    pub timestamp: String,
}

impl From<&Message> for MessageOut {
    fn from(m: &Message) -> Self {
        MessageOut {
            id: m.id.to_string(),
            event_type: m.event_type.clone(),
            event_id: m.event_id.clone(),
            // Past retention the payload is gone: `{}`, as Svix shows it.
            payload: serde_json::from_str(&m.payload).unwrap_or_else(|_| Value::Object(Map::new())),
            channels: m.channels.clone(),
            timestamp: rfc3339(m.created_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptOut {
    pub id: String,
    pub msg_id: String,
    pub endpoint_id: String,
    pub url: String,
    pub response: String,
    pub response_status_code: u16,
    pub response_duration_ms: u64,
    pub status: u8,
    pub status_text: &'static str,
    pub trigger_type: u8,
    pub timestamp: String,
}

impl From<&Attempt> for AttemptOut {
    fn from(a: &Attempt) -> Self {
        AttemptOut {
            id: a.id.to_string(),
            msg_id: a.message_id.to_string(),
            endpoint_id: a.endpoint_id.to_string(),
            url: a.url.clone(),
            response: a.response.clone(),
            response_status_code: a.response_status_code,
            response_duration_ms: a.duration_ms,
            status: a.status.code(),
            status_text: a.status.text(),
            trigger_type: a.trigger as u8,
            timestamp: rfc3339(a.created_at),
        }
    }
}

/// A message's delivery to one endpoint (Svix's `MessageEndpointOut`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationOut {
    #[serde(flatten)]
    pub endpoint: EndpointOut,
    pub status: u8,
    pub status_text: &'static str,
    pub next_attempt: Option<String>,
}

impl DestinationOut {
    pub fn new(e: &Endpoint, d: &Delivery) -> Self {
        DestinationOut {
            endpoint: EndpointOut::from(e),
            status: d.status.code(),
            status_text: d.status.text(),
            next_attempt: d.next_attempt_at.map(rfc3339),
        }
    }
}

/// Svix's `EndpointStats`: an endpoint's deliveries by status.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointStatsOut {
    pub success: u64,
    pub pending: u64,
    pub sending: u64,
    pub fail: u64,
    /// Svix counts canceled deliveries; hookline never cancels one.
    pub canceled: u64,
}

impl From<EndpointStats> for EndpointStatsOut {
    fn from(s: EndpointStats) -> Self {
        EndpointStatsOut {
            success: s.success,
            pending: s.pending,
            sending: s.sending,
            fail: s.fail,
            canceled: 0,
        }
    }
}

/// Svix's `EventExampleIn`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventExampleIn {
    pub event_type: String,
}
