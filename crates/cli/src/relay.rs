//! One streamed event, forwarded to the local app exactly as it arrived: the
//! original method, headers (in order, repeats kept; hop-by-hop ones, `Host`
//! and `Content-Length` dropped) and body bytes, plus `X-Hookline-Event-Id`.

use std::time::{Duration, Instant};

use anyhow::Context;

pub use hookline_core::StreamedEvent as Streamed;

/// What the local app answered.
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub took: Duration,
}

/// The URL an event goes to: `to`, plus the original path with `keep_path`,
/// plus the original query string.
pub fn target(to: &str, e: &Streamed, keep_path: bool) -> String {
    let mut url = to.trim_end_matches('/').to_string();
    if keep_path {
        url.push_str(&e.path);
    } else if url
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.contains('/'))
    {
        url.push('/');
    }
    if let Some(q) = e.query.as_deref().filter(|q| !q.is_empty()) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(q);
    }
    url
}

/// Sends `e` to `url` once; an error is the transport's, in words (the app
/// is down, …).
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    e: &Streamed,
) -> anyhow::Result<Answer> {
    let parsed = url::Url::parse(url).with_context(|| format!("`{url}` is not a URL"))?;
    let body = e
        .body()
        .context("the server sent a body that is not base64")?;
    let method = reqwest::Method::from_bytes(e.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &e.headers {
        if !hookline_core::inbound::carried(k) {
            continue;
        }
        if let (Ok(k), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(k.as_bytes()),
            reqwest::header::HeaderValue::from_str(v),
        ) {
            headers.append(k, v);
        }
    }
    // The one header added: an id the app can de-duplicate on.
    if let Ok(v) = reqwest::header::HeaderValue::from_str(e.id.as_str()) {
        headers.insert("x-hookline-event-id", v);
    }
    let started = Instant::now();
    let resp = client
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|err| {
            anyhow::anyhow!(crate::transport::classify(&err, &parsed, timeout).message)
        })?;
    Ok(Answer {
        status: resp.status(),
        took: started.elapsed(),
    })
}
