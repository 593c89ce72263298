//! Replay: a stored event's bytes sent to a URL (with its headers, or signed
//! afresh), and what came back.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use hookline_core::clock::now_ms;
use hookline_core::{EventId, InboundEvent};
use hookline_signature::{Scheme, Secret, SignInput};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::api::model::{ReplayIn, ReplayMode, ReplayOut};
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) async fn find(state: &AppState, name: &str, id: &str) -> Result<InboundEvent, ApiError> {
    let id: EventId = id
        .parse()
        .map_err(|e: hookline_core::id::InvalidId| ApiError::not_found(e.to_string()))?;
    state
        .store
        .get_event(name, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no event {id} in source `{name}`")))
}

pub(crate) fn replay_headers(
    event: &InboundEvent,
    input: &ReplayIn,
) -> Result<HeaderMap, ApiError> {
    let mut out = HeaderMap::new();
    let mut put = |k: &str, v: &str| {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            out.append(k, v);
        }
    };
    match input.mode {
        ReplayMode::Exact => {
            for (k, v) in event
                .headers
                .iter()
                .filter(|(k, _)| hookline_core::inbound::carried(k))
            {
                put(k, v);
            }
        }
        ReplayMode::Resign => {
            let scheme: Scheme = input
                .scheme
                .as_deref()
                .unwrap_or("hmac-sha256")
                .parse()
                .map_err(|e: hookline_signature::scheme::UnknownScheme| {
                    ApiError::validation(e.to_string())
                })?;
            let secret = input
                .secret
                .as_deref()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiError::validation("mode `resign` needs a `secret`"))?;
            if let Some(ct) = event.header("content-type") {
                put("content-type", ct);
            }
            if let Some(t) = &event.event_type {
                put("x-event-type", t);
            }
            let id = event
                .dedup_key
                .clone()
                .unwrap_or_else(|| event.id.to_string());
            let signed = scheme
                .sign(
                    &Secret::new(secret),
                    &SignInput {
                        body: &event.body,
                        id: &id,
                        timestamp: now_ms() / 1000,
                        event: event.event_type.as_deref(),
                    },
                )
                .map_err(|e| ApiError::validation(format!("cannot sign: {e}")))?;
            out.extend(signed);
        }
    }
    Ok(out)
}

/// Sends a stored event's bytes to `input.url` (with its headers, or signed
/// afresh) and reports what came back. Shared by the API and the web UI.
pub(crate) async fn perform_replay(
    state: &AppState,
    event: &InboundEvent,
    input: &ReplayIn,
) -> Result<ReplayOut, ApiError> {
    let url = url::Url::parse(&input.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ApiError::validation(format!("`{}` is not an http(s) URL", input.url)))?;
    let timeout = input.timeout.unwrap_or(15.0);
    if !(timeout.is_finite() && timeout > 0.0 && timeout <= 300.0) {
        return Err(ApiError::validation(
            "timeout must be between 0 and 300 seconds",
        ));
    }
    let headers = replay_headers(event, input)?;
    let method = http::Method::from_bytes(event.method.as_bytes()).unwrap_or(http::Method::POST);
    // Through the outbound guard, as every request hookline makes for someone.
    let refused = |why: String| {
        ApiError::api(
            StatusCode::UNPROCESSABLE_ENTITY,
            "address_not_allowed",
            format!("Replay refused: {why}. Nothing was sent."),
        )
    };
    let client = state
        .outbound
        .client(&url)
        .map_err(|e| refused(e.to_string()))?;
    let started = Instant::now();
    let sent = client
        .request(method, url.clone())
        .headers(headers.clone())
        .body(event.body.clone())
        .timeout(Duration::from_secs_f64(timeout))
        .send()
        .await;
    let failed = |e: reqwest::Error| {
        if let Some(why) = hookline_engine::refusal(&e) {
            // A host name that resolved to a guarded address.
            return refused(why);
        }
        let mut chain = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            chain = format!("{chain}: {c}");
            cause = c.source();
        }
        ApiError::api(
            StatusCode::BAD_GATEWAY,
            "replay_failed",
            format!("replay to {url} failed: {chain}"),
        )
    };
    let resp = sent.map_err(failed)?;
    let status = resp.status();
    let response_headers = pairs(resp.headers());
    let body = resp.bytes().await.map_err(failed)?;
    let cap = body.len().min(64 * 1024);
    Ok(ReplayOut {
        url: url.to_string(),
        status: status.as_u16(),
        status_text: status.canonical_reason().unwrap_or("").to_string(),
        duration_ms: started.elapsed().as_secs_f64() * 1e3,
        request_headers: pairs(&headers),
        response_headers,
        response_body: String::from_utf8_lossy(&body[..cap]).into_owned(),
    })
}

pub(crate) fn pairs(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}
