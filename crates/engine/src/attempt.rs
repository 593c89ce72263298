//! One HTTP try: sign the message for the endpoint, send it, keep what came back.

use std::time::{Duration, Instant};

use hookline_core::Claimed;
use hookline_signature::{Scheme, SignInput};
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};

use crate::config::EngineConfig;
use crate::ssrf::Guard;

/// What one try produced.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// 0 when no HTTP answer came.
    pub status: u16,
    /// The response body (capped) or the transport error.
    pub response: String,
    pub duration: Duration,
    /// The answer's `Retry-After`, when it gave one.
    pub retry_after: Option<Duration>,
    /// Nothing could be sent and trying again cannot help (the payload
    /// expired, the endpoint is disabled): the delivery fails now.
    pub unsendable: bool,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn failed(started: Instant, why: String) -> Outcome {
        Outcome {
            status: 0,
            response: why,
            duration: started.elapsed(),
            retry_after: None,
            unsendable: false,
        }
    }

    fn unsendable(started: Instant, why: &str) -> Outcome {
        Outcome {
            unsendable: true,
            ..Outcome::failed(started, why.into())
        }
    }
}

/// The headers of one try: the endpoint's own first, then ours over them.
fn headers(c: &Claimed, now_ms: i64) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    for (k, v) in &c.endpoint.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(k, v);
        }
    }
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let secrets = c.endpoint.signing_secrets(now_ms);
    let input = SignInput {
        body: c.message.payload.as_bytes(),
        id: c.message.id.as_str(),
        timestamp: now_ms / 1000,
        event: Some(&c.message.event_type),
    };
    let signed = Scheme::Standard
        .sign_all(&secrets, &input)
        .map_err(|e| format!("cannot sign with the endpoint's secret: {e}"))?;
    h.extend(signed);
    Ok(h)
}

/// Sends `c` once.
pub(crate) async fn send(
    client: &reqwest::Client,
    guard: &Guard,
    config: &EngineConfig,
    c: &Claimed,
    now_ms: i64,
) -> Outcome {
    let started = Instant::now();
    if c.message.payload.is_empty() {
        return Outcome::unsendable(
            started,
            "the payload expired (retention_days); nothing to send",
        );
    }
    if c.endpoint.disabled {
        return Outcome::unsendable(
            started,
            "the endpoint is disabled; re-enable it and recover to send",
        );
    }
    let url = match url::Url::parse(&c.endpoint.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => {
            return Outcome::failed(
                started,
                format!("`{}` is not an http(s) URL", c.endpoint.url),
            )
        }
    };
    if config.https_only && url.scheme() != "https" {
        return Outcome::failed(
            started,
            "only https:// endpoints are allowed (https_only)".into(),
        );
    }
    // Names are checked when resolved; literal addresses never are, so check them here.
    if let Err(blocked) = guard.check_url(&url) {
        return Outcome::failed(started, blocked.to_string());
    }
    let headers = match headers(c, now_ms) {
        Ok(h) => h,
        Err(e) => return Outcome::failed(started, e),
    };
    let timeout = config.timeout_for(&c.endpoint);
    let sent = client
        .post(url)
        .headers(headers)
        .timeout(timeout)
        .body(c.message.payload.clone())
        .send()
        .await;
    let mut resp = match sent {
        Ok(r) => r,
        Err(e) => return Outcome::failed(started, describe(&e, timeout)),
    };
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::retry::parse_retry_after);
    let mut body = Vec::new();
    // Keep at most `response_cap` bytes; a read error just ends the body.
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = config.response_cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= config.response_cap {
            break;
        }
    }
    Outcome {
        status,
        response: String::from_utf8_lossy(&body).into_owned(),
        duration: started.elapsed(),
        retry_after,
        unsendable: false,
    }
}

/// A transport error in words, with its deepest cause.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {} ms", timeout.as_millis());
    }
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}
