//! One delivery of a message to an endpoint: sign it (Standard Webhooks,
//! every active secret), send it, record the attempt, reschedule or finish
//! it, and emit the operational webhooks it calls for.

use std::sync::Arc;
use std::time::Instant;

use hookline_core::clock::{now_ms, rfc3339};
use hookline_core::{Attempt, AttemptId, Claimed, DeliveryStatus, Next, Trigger};
use hookline_signature::{Scheme, SignInput};
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use tokio::sync::OwnedSemaphorePermit;

use crate::attempt::{self, Outcome, Request};
use crate::dispatcher::Shared;
use crate::retry;
use crate::throttle::Admission;

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

/// Sends `c` once, unless there is nothing that could be sent.
async fn send(s: &Shared, c: &Claimed, now_ms: i64) -> Outcome {
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
    let headers = match headers(c, now_ms) {
        Ok(h) => h,
        Err(e) => return Outcome::failed(started, e),
    };
    let req = Request {
        method: reqwest::Method::POST,
        url: &c.endpoint.url,
        headers,
        body: c.message.payload.clone().into_bytes(),
        timeout: s.config.timeout_for(&c.endpoint.policy),
        trusted: false,
    };
    attempt::send(&s.clients, &s.config, req).await
}

/// One attempt of one delivery, recorded; the permit bounds concurrency
/// overall, the admission the endpoint's own.
pub(crate) async fn run(
    s: Arc<Shared>,
    c: Claimed,
    _permit: OwnedSemaphorePermit,
    admission: Admission,
) {
    let started_at = now_ms();
    let outcome = send(&s, &c, started_at).await;
    admission.finish();
    let schedule = c.endpoint.policy.retry.as_ref().unwrap_or(&s.config.retry);
    let failure = outcome.failure().map(crate::attempt::logging_cap);
    let next = retry::next(
        schedule,
        s.config.jitter,
        c.delivery.attempts,
        &outcome,
        now_ms(),
    );
    let label = retry::label(next, &outcome);
    s.metrics.attempt(label, outcome.duration.as_secs_f64());
    if matches!(outcome.status, 429 | 502 | 504) {
        s.throttles
            .cool_down(c.endpoint.id.as_str(), outcome.retry_after);
    }
    let attempt = Attempt {
        id: AttemptId::at(started_at),
        message_id: c.message.id.clone(),
        endpoint_id: c.endpoint.id.clone(),
        app_id: c.message.app_id.clone(),
        url: c.endpoint.url.clone(),
        status: if outcome.ok() {
            DeliveryStatus::Success
        } else {
            DeliveryStatus::Failed
        },
        response_status_code: outcome.status,
        response: outcome.response,
        duration_ms: u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
        trigger: if c.delivery.manual {
            Trigger::Manual
        } else {
            Trigger::Scheduled
        },
        created_at: started_at,
    };
    tracing::info!(
        msg = %c.message.id, endpoint = %c.endpoint.id, status = outcome.status,
        error = failure.as_deref().unwrap_or("-"), attempt = c.delivery.attempts + 1,
        ms = outcome.duration.as_millis() as u64,
        next = %crate::retry::said(next, now_ms()), "delivery attempt"
    );
    if outcome.status == 410 {
        // The receiver says the endpoint is gone for good: stop sending to
        // it. Only its flag is written, so an edit made since the claim stays.
        if let Err(e) = s.store.disable_endpoint(&c.endpoint.id, now_ms()).await {
            tracing::warn!(endpoint = %c.endpoint.id, error = %e, "cannot disable the endpoint");
        }
    }
    if let Err(e) = s
        .store
        .record_attempt(&attempt, c.delivery.version, next)
        .await
    {
        tracing::warn!(error = %e, "cannot record the attempt; the delivery is retried after its lease");
    }
    let mut disabled_now = false;
    if attempt.status != DeliveryStatus::Success && !c.endpoint.disabled {
        let since =
            now_ms() - i64::try_from(s.config.disable_after.as_millis()).unwrap_or(i64::MAX);
        match s
            .store
            .disable_if_failing_since(&c.endpoint.id, since)
            .await
        {
            Ok(true) => {
                disabled_now = true;
                tracing::warn!(
                    endpoint = %c.endpoint.id,
                    after = ?s.config.disable_after,
                    "endpoint disabled: every attempt failed for too long; its messages are kept for recover"
                );
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check the endpoint's failure streak"),
        }
    }
    if let Next::Failed = next {
        tracing::warn!(msg = %c.message.id, endpoint = %c.endpoint.id, "delivery failed for good (dead letter)");
    }
    report(
        &s,
        &c,
        &attempt,
        next,
        attempt.response_status_code == 410 || disabled_now,
    )
    .await;
}

/// Operational webhooks about this attempt: exhausted (failed for good),
/// failing (the 4th failure in a row), recovered (delivered after failures),
/// endpoint.disabled.
async fn report(s: &Shared, c: &Claimed, attempt: &Attempt, next: Next, endpoint_disabled: bool) {
    let ops = &s.operational;
    let app = &c.message.app_id;
    if ops.is_internal(app) {
        return;
    }
    let tried = c.delivery.attempts + 1;
    let event = match next {
        Next::Failed if !c.endpoint.disabled => Some("message.attempt.exhausted"),
        Next::RetryAt(_) if tried == 4 => Some("message.attempt.failing"),
        Next::Success if c.delivery.attempts > 0 => Some("message.attempt.recovered"),
        _ => None,
    };
    if let Some(event) = event {
        let data = serde_json::json!({
            "appId": app, "endpointId": c.endpoint.id, "msgId": c.message.id, "msgEventId": c.message.event_id,
            "lastAttempt": {
                "id": attempt.id, "timestamp": rfc3339(attempt.created_at),
                "responseStatusCode": attempt.response_status_code, "response": attempt.response,
            },
        });
        ops.emit(app, event, data).await;
    }
    if endpoint_disabled {
        let data = serde_json::json!({ "appId": app, "endpointId": c.endpoint.id, "endpointUid": c.endpoint.uid, "failSince": rfc3339(attempt.created_at) });
        ops.emit(app, "endpoint.disabled", data).await;
    }
}
