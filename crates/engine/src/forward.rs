//! One forward of a received event down a route: the original method, body
//! bytes and headers (order and repeats kept; hop-by-hop, `Host` and
//! `Content-Length` dropped), the route's own headers, `X-Hookline-*`, and
//! Standard Webhooks headers when the route signs. Then the try is recorded
//! and the forward rescheduled or finished; a `410` pauses the route.

use std::sync::Arc;
use std::time::Instant;

use hookline_core::clock::now_ms;
use hookline_core::{ClaimedForward, ForwardQueue, ForwardTry, Next};
use hookline_signature::{Scheme, SignInput};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::OwnedSemaphorePermit;

use crate::attempt::{self, Outcome, Request};
use crate::dispatcher::Shared;
use crate::retry;
use crate::throttle::Admission;

/// The forwarded request's headers.
pub(crate) fn headers(c: &ClaimedForward, now_ms: i64) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    for (k, v) in &c.event.headers {
        if !hookline_core::inbound::carried(k) {
            continue;
        }
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.append(k, v);
        }
    }
    for (k, v) in &c.route.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(k, v);
        }
    }
    let ours = [
        ("x-hookline-event-id", c.event.id.as_str()),
        ("x-hookline-source", c.event.source.as_str()),
        ("x-hookline-route", c.route.name.as_str()),
    ];
    for (k, v) in ours {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(HeaderName::from_static(k), v);
        }
    }
    if let Some(secret) = &c.route.sign {
        let input = SignInput {
            body: &c.event.body,
            id: c.event.id.as_str(),
            timestamp: now_ms / 1000,
            event: c.event.event_type.as_deref(),
        };
        let signed = Scheme::Standard
            .sign_all(std::slice::from_ref(secret), &input)
            .map_err(|e| format!("cannot sign with the route's secret: {e}"))?;
        h.extend(signed);
    }
    Ok(h)
}

async fn send(s: &Shared, c: &ClaimedForward, now_ms: i64) -> Outcome {
    let started = Instant::now();
    let headers = match headers(c, now_ms) {
        Ok(h) => h,
        Err(e) => return Outcome::failed(started, e),
    };
    let method =
        reqwest::Method::from_bytes(c.event.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let req = Request {
        method,
        url: &c.route.url,
        headers,
        body: c.event.body.clone(),
        timeout: s.config.timeout_for(&c.route.policy),
        trusted: c.route.trusted,
    };
    attempt::send(&s.clients, &s.config, req).await
}

/// One try of one forward, recorded; the permit bounds concurrency overall,
/// the admission the route's own.
pub(crate) async fn run(
    s: Arc<Shared>,
    queue: Arc<dyn ForwardQueue>,
    c: ClaimedForward,
    _permit: OwnedSemaphorePermit,
    admission: Admission,
) {
    let started_at = now_ms();
    let outcome = send(&s, &c, started_at).await;
    admission.finish();
    let schedule = c.route.policy.retry.as_ref().unwrap_or(&s.config.retry);
    let failure = outcome.failure().map(crate::attempt::logging_cap);
    let next = retry::next(
        schedule,
        s.config.jitter,
        c.forward.attempts,
        &outcome,
        now_ms(),
    );
    let label = retry::label(next, &outcome);
    s.metrics
        .forward_attempt(&c.route.name, label, outcome.duration.as_secs_f64());
    if matches!(outcome.status, 429 | 502 | 504) {
        s.throttles
            .cool_down(c.route.id.as_str(), outcome.retry_after);
    }
    tracing::info!(
        evt = %c.event.id, route = %c.route.name, status = outcome.status,
        error = failure.as_deref().unwrap_or("-"), attempt = c.forward.attempts + 1,
        ms = outcome.duration.as_millis() as u64,
        next = %crate::retry::said(next, now_ms()), "forward attempt"
    );
    if outcome.status == 410 {
        tracing::warn!(route = %c.route.name, "the destination answered 410 Gone: route paused; resume it to send again");
        if let Ok(mut m) = s.paused_here.lock() {
            m.insert(c.route.id.clone(), now_ms());
        }
        if let Err(e) = queue.pause_route(&c.route.id, now_ms()).await {
            tracing::warn!(route = %c.route.name, error = %e, "cannot pause the route");
        }
    }
    let tried = ForwardTry {
        status_code: outcome.status,
        response: outcome.response,
        duration_ms: u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
        at: started_at,
    };
    if let Err(e) = queue
        .record_forward(&c.route.id, &c.event.id, c.forward.version, &tried, next)
        .await
    {
        tracing::warn!(error = %e, "cannot record the forward; it is retried after its lease");
    }
    if c.route.ordered {
        // The next in line may go now: don't leave it to the next poll.
        s.waker.wake();
    }
    if let Next::Failed = next {
        tracing::warn!(evt = %c.event.id, route = %c.route.name, "forward failed for good (dead letter); resend it once the app is fixed");
    }
}
