//! Endpoints: the one validation and patch of an endpoint's fields (API and UI
//! forms alike), fresh secrets, rotation with a grace period, and the
//! operational webhook about a change.

use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine as _;
use hookline_core::clock::now_ms;
use hookline_core::outbound::EndpointSecret;
use hookline_core::{Endpoint, RetryPolicy};
use hookline_signature::Secret;
use rand::RngCore;
use serde_json::{json, Value};

use crate::api::send_model::{check_token, EndpointIn};
use crate::error::ApiError;
use crate::state::AppState;

/// How long a rotated-out secret keeps signing, so receivers can switch over.
pub(crate) const GRACE: Duration = Duration::from_secs(24 * 3600);

/// A fresh `whsec_` secret: 24 random bytes, base64.
pub(crate) fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut key);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// Svix's secret pattern: optional `whsec_`, then 32-100 base64 characters that decode.
pub(crate) fn check_secret(s: &str) -> Result<(), ApiError> {
    let body = s.strip_prefix("whsec_").unwrap_or(s);
    let ok = (32..=100).contains(&body.len())
        && base64::engine::general_purpose::STANDARD
            .decode(body)
            .is_ok_and(|k| !k.is_empty());
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(
            "secret must be whsec_ followed by 32-100 characters of base64",
        ))
    }
}

pub(crate) fn check_url(url: &str) -> Result<(), ApiError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(ApiError::validation(format!(
            "url `{url}` must be an absolute http:// or https:// URL"
        ))),
    }
}

pub(crate) fn check_list(field: &str, list: &Option<Vec<String>>) -> Result<(), ApiError> {
    list.iter()
        .flatten()
        .try_for_each(|v| check_token(field, v))
}

pub(crate) fn apply(e: &mut Endpoint, input: EndpointIn, replace: bool) -> Result<(), ApiError> {
    match input.url {
        Some(u) => {
            check_url(&u)?;
            e.url = u;
        }
        None if replace => return Err(ApiError::validation("url is required")),
        None => {}
    }
    if let Some(uid) = &input.uid {
        check_token("uid", uid)?;
    }
    check_list("eventTypes", &input.event_types)?;
    check_list("channels", &input.channels)?;
    if replace || input.uid.is_some() {
        e.uid = input.uid;
    }
    if replace || input.description.is_some() {
        e.description = input.description.unwrap_or_default();
    }
    if replace || input.event_types.is_some() {
        e.event_types = input.event_types.filter(|l| !l.is_empty());
    }
    if replace || input.channels.is_some() {
        e.channels = input.channels.filter(|l| !l.is_empty());
    }
    if replace || input.disabled.is_some() {
        e.disabled = input.disabled.unwrap_or(false);
    }
    if replace || input.throttle_rate.is_some() || input.rate_limit.is_some() {
        e.throttle_rate = input.throttle_rate.or(input.rate_limit);
    }
    if replace || input.metadata.is_some() {
        e.metadata = input.metadata.unwrap_or_default();
    }
    if replace || input.retry_schedule.is_some() {
        e.policy.retry = input.retry_schedule.map(schedule).transpose()?;
    }
    if replace || input.timeout.is_some() {
        e.policy.timeout = input
            .timeout
            .map(|t| seconds("timeout", t, 0.1, 300.0))
            .transpose()?;
    }
    if replace || input.filter.is_some() {
        e.filter = match input.filter {
            None => None,
            Some(Value::Object(m)) if m.is_empty() => None,
            Some(f) => Some(hookline_core::filter::Filter::parse(&f).map_err(|e| {
                ApiError::api(StatusCode::BAD_REQUEST, "invalid_filter", e.to_string())
            })?),
        };
    }
    if replace || input.max_concurrency.is_some() {
        e.policy.max_concurrency = match input.max_concurrency {
            Some(0) => return Err(ApiError::validation("maxConcurrency must be at least 1")),
            other => other,
        };
    }
    e.updated_at = now_ms();
    Ok(())
}

/// A number of seconds within `[min, max]`.
pub(crate) fn seconds(field: &str, s: f64, min: f64, max: f64) -> Result<Duration, ApiError> {
    if s.is_finite() && (min..=max).contains(&s) {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(ApiError::validation(format!(
            "{field} must be between {min} and {max} seconds, not {s}"
        )))
    }
}

/// `retrySchedule`: 1-20 delays in seconds, each from 0.01 s to 7 days.
pub(crate) fn schedule(delays: Vec<f64>) -> Result<RetryPolicy, ApiError> {
    if delays.is_empty() || delays.len() > 20 {
        return Err(ApiError::validation(
            "retrySchedule must list 1 to 20 delays (seconds after each failed try)",
        ));
    }
    let schedule = delays
        .into_iter()
        .map(|d| seconds("each retrySchedule delay", d, 0.01, 7.0 * 86_400.0))
        .collect::<Result<_, _>>()?;
    Ok(RetryPolicy { schedule })
}

/// Tells the operational webhook endpoint about a change to `e`.
pub(crate) async fn report(state: &AppState, event: &str, e: &Endpoint) {
    let data = json!({ "appId": e.app_id, "endpointId": e.id, "endpointUid": e.uid });
    state.config.operational.emit(&e.app_id, event, data).await;
}

/// Makes `key` the endpoint's current secret; the others still in use keep
/// signing until the grace period ends (24 h from now at most).
pub(crate) fn rotate_to(e: &mut Endpoint, key: String, now: i64) {
    let grace_end = now + i64::try_from(GRACE.as_millis()).unwrap_or(i64::MAX);
    let mut secrets = vec![EndpointSecret {
        key: Secret::new(key),
        expires_at: None,
    }];
    secrets.extend(
        std::mem::take(&mut e.secrets)
            .into_iter()
            .filter(|s| s.expires_at.is_none_or(|t| t > now))
            .map(|s| EndpointSecret {
                expires_at: Some(s.expires_at.unwrap_or(grace_end).min(grace_end)),
                ..s
            }),
    );
    e.secrets = secrets;
    e.updated_at = now;
}

/// Deletes an endpoint and says so in an operational webhook.
pub(crate) async fn delete(
    state: &AppState,
    app: &hookline_core::App,
    e: &Endpoint,
) -> Result<(), ApiError> {
    state.store.delete_endpoint(&app.id, &e.id).await?;
    report(state, "endpoint.deleted", e).await;
    Ok(())
}
