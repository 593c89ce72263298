//! The forwarding side's bodies: a route as the API shows it, and one
//! event's forward down one route.

use hookline_core::{Forward, Route};
use serde::Serialize;

use super::model::rfc3339;

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteOut {
    pub id: String,
    pub name: String,
    pub source: String,
    pub url: String,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// Seconds before each retry; none: the engine's schedule.
    pub retry_schedule: Option<Vec<u64>>,
    /// Seconds one try may take.
    pub timeout: Option<u64>,
    pub rate_limit: Option<u16>,
    pub max_concurrency: Option<u16>,
    pub ordered: bool,
    pub paused: bool,
    pub headers: std::collections::BTreeMap<String, String>,
    /// `none` or `standard` (the secret is never returned).
    pub sign: &'static str,
    /// Written in hookline.toml (may reach its URL's address whatever the guard says).
    pub declared: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Route> for RouteOut {
    fn from(r: &Route) -> Self {
        RouteOut {
            id: r.id.to_string(),
            name: r.name.clone(),
            source: r.source.clone(),
            url: r.url.clone(),
            filter: r.filter.as_ref().map(|f| f.as_json().clone()),
            retry_schedule: r
                .policy
                .retry
                .as_ref()
                .map(|p| p.schedule.iter().map(|d| d.as_secs()).collect()),
            timeout: r.policy.timeout.map(|d| d.as_secs()),
            rate_limit: r.rate_limit,
            max_concurrency: r.policy.max_concurrency,
            ordered: r.ordered,
            paused: r.paused,
            headers: r.headers.clone(),
            sign: if r.sign.is_some() { "standard" } else { "none" },
            declared: r.trusted,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LastTryOut {
    /// 0: no HTTP answer (refused, timed out, blocked).
    pub status_code: u16,
    /// The answer's body (truncated) or the error.
    pub response: String,
    pub duration_ms: u64,
    pub timestamp: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForwardOut {
    pub route: String,
    pub route_id: String,
    pub event_id: String,
    /// `pending`, `sending`, `success` or `fail` (the dead-letter state).
    pub status: &'static str,
    pub attempts: u32,
    pub next_attempt: Option<String>,
    pub last_try: Option<LastTryOut>,
}

impl ForwardOut {
    pub fn new(f: &Forward, route_name: String) -> ForwardOut {
        ForwardOut {
            route: route_name,
            route_id: f.route_id.to_string(),
            event_id: f.event_id.to_string(),
            status: f.status.text(),
            attempts: f.attempts,
            next_attempt: f.next_attempt_at.map(rfc3339),
            last_try: f.last.as_ref().map(|t| LastTryOut {
                status_code: t.status_code,
                response: t.response.clone(),
                duration_ms: t.duration_ms,
                timestamp: rfc3339(t.at),
            }),
        }
    }
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct RouteRecoverIn {
    /// RFC 3339: failed forwards of events received since then go again.
    pub since: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RequeuedOut {
    /// How many forwards were made due again.
    pub requeued: usize,
}
