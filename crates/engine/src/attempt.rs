//! One HTTP try of anything the engine sends (a delivery, a forward): check
//! the URL, send it, keep what came back.

use std::time::{Duration, Instant};

use http::header::{HeaderMap, RETRY_AFTER};

use crate::config::EngineConfig;

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
    /// Why no HTTP answer came (a refused connection, a timeout, the guard),
    /// in words; `None` when one came.
    pub fn failure(&self) -> Option<&str> {
        (self.status == 0).then_some(self.response.as_str())
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn failed(started: Instant, why: String) -> Outcome {
        Outcome {
            status: 0,
            response: why,
            duration: started.elapsed(),
            retry_after: None,
            unsendable: false,
        }
    }

    pub fn unsendable(started: Instant, why: &str) -> Outcome {
        Outcome {
            unsendable: true,
            ..Outcome::failed(started, why.into())
        }
    }
}

/// One HTTP request to make.
pub(crate) struct Request<'a> {
    pub method: reqwest::Method,
    pub url: &'a str,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub timeout: Duration,
    /// Written by the operator (a route in `hookline.toml`): the outbound
    /// guard does not apply.
    pub trusted: bool,
}

/// The clients requests go out through: every resolved address guarded, or
/// (for the operator's own routes) not.
pub(crate) struct Clients {
    pub guarded: crate::client::Outbound,
    pub trusted: reqwest::Client,
}

/// Sends `req` once: checks the URL against `https_only` and the guard, then
/// keeps the status, `Retry-After` and up to `response_cap` bytes of answer.
pub(crate) async fn send(clients: &Clients, config: &EngineConfig, req: Request<'_>) -> Outcome {
    let started = Instant::now();
    let url = match url::Url::parse(req.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => return Outcome::failed(started, format!("`{}` is not an http(s) URL", req.url)),
    };
    if config.https_only && url.scheme() != "https" {
        return Outcome::failed(
            started,
            "only https:// endpoints are allowed (https_only)".into(),
        );
    }
    // Names are checked when resolved; literal addresses never are, so check them here.
    let client = if req.trusted {
        &clients.trusted
    } else {
        match clients.guarded.client(&url) {
            Ok(client) => client,
            Err(blocked) => return Outcome::failed(started, blocked.to_string()),
        }
    };
    let sent = client
        .request(req.method, url)
        .headers(req.headers)
        .timeout(req.timeout)
        .body(req.body)
        .send()
        .await;
    let mut resp = match sent {
        Ok(r) => r,
        Err(e) => return Outcome::failed(started, describe(&e, req.timeout)),
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

/// A failure's words as a log line carries them: at most 200 characters.
pub(crate) fn logging_cap(s: &str) -> String {
    hookline_core::text::clip(s, 200)
}
