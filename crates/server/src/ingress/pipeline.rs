//! The receive pipeline shared by `/webhook/{event}` and `/in/{source}`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use bytes::Bytes;
use hookline_core::clock::now_ms;
use hookline_core::{
    ClaimedForward, DeliveryStatus, EventId, Forward, InboundEvent, Inserted, NewForward, Route,
    Verdict,
};
use hookline_engine::Job;
use serde_json::json;

use super::body::{self, Parsed};
use super::{extract, logging};
use crate::error::ApiError;
use crate::serve::ConnInfo;
use crate::state::{AppState, SourceEntry};

/// A request on its way in; extracted whole by the ingress handlers.
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub conn: Option<ConnInfo>,
    pub body: Body,
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for Request {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        Ok(Request::from_parts(parts, body))
    }
}

impl Request {
    pub fn from_parts(parts: http::request::Parts, body: Body) -> Request {
        Request {
            conn: parts.extensions.get::<ConnInfo>().copied(),
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
        }
    }
}

/// How the tutorial route and named sources differ in their answers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Exactly the tutorial's bodies (`{"error":"Invalid signature."}`).
    Tutorial,
    /// The same, plus a `reason` saying why verification failed.
    Source,
}

/// What was stored.
pub enum Outcome {
    Stored {
        id: EventId,
        event_type: Option<String>,
        parsed: Parsed,
    },
    Duplicate {
        id: EventId,
    },
    /// Stored as rejected: a bad or missing signature, or failed authentication.
    Rejected {
        id: EventId,
        /// `invalid_signature` or `auth_failed`.
        code: &'static str,
        /// Why, in words.
        reason: String,
        /// Why, as a machine code (`no_matching_signature`, `auth_missing`, …).
        cause: String,
    },
}

fn refuse(entry: &SourceEntry, status: StatusCode, code: &'static str, msg: String) -> ApiError {
    entry.metrics.count("refused");
    ApiError::ingress(status, code, msg)
}

/// The gate, before the body is read: client certificate, allow-list, rate limit.
fn admit(state: &AppState, entry: &SourceEntry, conn: Option<ConnInfo>) -> Result<(), ApiError> {
    let name = &entry.source.name;
    if state.require_client_cert && !conn.is_some_and(|c| c.client_cert) {
        return Err(refuse(
            entry,
            StatusCode::UNAUTHORIZED,
            "client_certificate_required",
            "A client certificate is required (mutual TLS).".into(),
        ));
    }
    if let Some(ip) = conn.map(|c| c.remote.ip()) {
        if !entry.source.allows(ip) {
            return Err(refuse(
                entry,
                StatusCode::FORBIDDEN,
                "ip_not_allowed",
                format!("Address {ip} is not allowed to post to source `{name}`."),
            ));
        }
    }
    if entry.limiter.as_ref().is_some_and(|l| l.check().is_err()) {
        return Err(refuse(
            entry,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("Too many requests to source `{name}`; slow down and retry."),
        ));
    }
    Ok(())
}

/// Reads the whole body within the size limit and the request timeout.
async fn read_body(
    state: &AppState,
    entry: &SourceEntry,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, ApiError> {
    let limit = state.config.body_limit;
    let too_large = || {
        refuse(
            entry,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("Request body is larger than the limit of {limit} bytes."),
        )
    };
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(e) if crate::deadline::timed_out(&e) => Err(refuse(
            entry,
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "The request body was not received in time.".into(),
        )),
        Err(e) => {
            let mut cause: Option<&dyn std::error::Error> = Some(&e);
            while let Some(c) = cause {
                if c.is::<http_body_util::LengthLimitError>() {
                    return Err(too_large());
                }
                cause = c.source();
            }
            Err(refuse(
                entry,
                StatusCode::BAD_REQUEST,
                "bad_body",
                format!("Could not read the request body: {e}"),
            ))
        }
    }
}

/// Admits, reads, verifies, parses and stores one request; a 2xx outcome is
/// returned only once the event is committed.
pub async fn ingest(
    state: &AppState,
    entry: &SourceEntry,
    req: Request,
    hint: Option<&str>,
    style: Style,
) -> Result<Outcome, ApiError> {
    let started = Instant::now();
    let source = &entry.source;
    admit(state, entry, req.conn)?;
    let body = read_body(state, entry, &req.headers, req.body).await?;
    let now = now_ms();

    // Authentication first: a request without the right credentials is
    // rejected whatever its signature.
    let authenticated = match &source.auth {
        None => Ok(false),
        Some(auth) => auth
            .check(|name| req.headers.get(name).and_then(|v| v.to_str().ok()))
            .map(|()| true),
    };
    let verified = if source.secrets.is_empty() {
        Ok(false)
    } else {
        source
            .scheme
            .verify(
                &req.headers,
                &body,
                &source.secrets,
                now / 1000,
                source.tolerance,
            )
            .map(|_| true)
    };
    let parsed = body::parse(&req.headers, &body);
    let empty = Parsed::Opaque;
    let view = parsed.as_ref().unwrap_or(&empty);
    let event_type = extract::event_type_by(&source.event_type, &req.headers, view, hint);
    let dedup_key = extract::dedup_key(&source.dedup, source.scheme, &req.headers, view);
    let (verdict, reason) = match (&authenticated, &verified, &parsed) {
        (Err(why), ..) => (Verdict::Rejected, Some(why.clone())),
        (_, Err(e), _) => (Verdict::Rejected, Some(format!("{}: {e}", e.code()))),
        (_, Ok(_), Err(e)) => (Verdict::Rejected, Some(format!("invalid_body: {e}"))),
        (Ok(a), Ok(v), Ok(_)) if *a || *v => (Verdict::Verified, None),
        (Ok(_), Ok(_), Ok(_)) => (Verdict::Unverified, None),
    };

    let event = InboundEvent {
        id: EventId::at(now),
        source: source.name.clone(),
        event_type: event_type.clone(),
        method: req.method.to_string(),
        path: req.uri.path().to_string(),
        query: req.uri.query().map(str::to_string),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        remote_addr: req.conn.map(|c| c.remote.to_string()),
        received_at: now,
        verdict,
        verdict_reason: reason.clone(),
        dedup_key,
    };
    let size = body.len();
    // Followers of an inbox are woken with the source's name, if there are any.
    let live = (state.arrivals.receiver_count() > 0).then(|| source.name.clone());
    // Accepted events go on down the source's routes, written in the same
    // transaction; the store leaves a duplicate's out. Those this node's
    // engine has room for are handed to it directly, stored already claimed.
    // Sources without routes (most) cost one map lookup, nothing more.
    let routes = match verdict.accepted() {
        true => state.routes_of(&source.name),
        false => None,
    };
    let matched = routes
        .as_deref()
        .map(|r| Route::matching(r, &event))
        .unwrap_or_default();
    let (forwards, handed) = plan_forwards(&state.config.handoff, &matched, now);
    let pending = forwards.iter().any(|f| f.leased_until.is_none());
    let event_copy = (!handed.is_empty()).then(|| event.clone());
    let inserted = state
        .store
        .insert_event(
            event,
            source.dedup_window,
            state.config.rejected_cap,
            forwards,
        )
        .await
        .map_err(|e| ApiError::storage(crate::error::Shape::Ingress, e))?;
    if let (Inserted::Stored(_), Some(e)) = (&inserted, event_copy) {
        for (slot, route, until) in handed {
            slot.send(Job::Forward(hand_off(route, &e, until)));
        }
    }
    if pending && matches!(inserted, Inserted::Stored(_)) {
        state.config.waker.wake();
    }
    state.received.record(
        now,
        verdict.accepted(),
        started.elapsed().as_secs_f64() * 1e3,
    );
    if let (Some(live), Inserted::Stored(_)) = (live, &inserted) {
        let _ = state.arrivals.send(live);
    }
    entry.metrics.body_bytes.observe(size as f64);

    let label = match (&inserted, verdict, &parsed) {
        (Inserted::Duplicate(_), ..) => "duplicate",
        (_, Verdict::Rejected, _) if authenticated.is_err() => "auth_failed",
        (_, Verdict::Rejected, Err(_)) if verified.is_ok() => "invalid_body",
        (_, v, _) => v.as_str(),
    };
    entry.metrics.count(label);
    let remote = req
        .conn
        .map(|c| c.remote)
        .map_or("-".to_string(), |a: SocketAddr| a.to_string());
    let reason_shown = reason
        .as_deref()
        .map(|r| logging::clip(r, logging::VALUE_CAP));
    let (own_line, untold) = if verdict.accepted() {
        (true, 0)
    } else {
        entry.rejected_log.admit(now)
    };
    if untold > 0 {
        tracing::warn!(source = %source.name, count = untold, "more rejected requests in the last second (not logged one by one)");
    }
    if own_line {
        tracing::info!(
            source = %source.name,
            event_type = event_type.as_deref().map(|t| logging::clip(t, logging::VALUE_CAP)).as_deref().unwrap_or("-"),
            verdict = label,
            reason = reason_shown.as_deref().unwrap_or("-"),
            bytes = size,
            remote = %remote,
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "webhook received"
        );
    }
    tracing::debug!(source = %source.name, headers = ?logging::redacted(&req.headers), "webhook headers");

    let rejected = match (&authenticated, &verified) {
        (Err(why), _) => {
            let cause = why.split(':').next().unwrap_or("auth_failed").to_string();
            Some(("auth_failed", why.clone(), cause))
        }
        (_, Err(e)) => Some(("invalid_signature", e.to_string(), e.code().to_string())),
        _ => None,
    };
    if let Some((code, reason, cause)) = rejected {
        return match (style, inserted) {
            (Style::Source, Inserted::Stored(id)) => Ok(Outcome::Rejected {
                id,
                code,
                reason,
                cause,
            }),
            _ => {
                let err = ApiError::ingress(StatusCode::UNAUTHORIZED, code, rejected_words(code));
                Err(match style {
                    Style::Tutorial => err,
                    Style::Source => err.with_extra(json!({ "reason": reason, "code": cause })),
                })
            }
        };
    }
    let parsed = parsed.map_err(|e| ApiError::ingress(StatusCode::BAD_REQUEST, "bad_body", e))?;
    Ok(match inserted {
        Inserted::Stored(id) => Outcome::Stored {
            id,
            event_type,
            parsed,
        },
        Inserted::Duplicate(id) => Outcome::Duplicate { id },
    })
}

/// hookline's own words for a rejection (the tutorial's for a bad signature).
pub fn rejected_words(code: &str) -> &'static str {
    match code {
        "auth_failed" => "Missing or wrong credentials.",
        _ => "Invalid signature.",
    }
}

/// The forwards of an accepted event down `routes`: handed to this node's
/// engine where it has room (and the route allows it), else pending.
fn plan_forwards<'a>(
    handoff: &hookline_engine::Handoff,
    routes: &[&'a Route],
    now: i64,
) -> (
    Vec<NewForward>,
    Vec<(hookline_engine::handoff::Slot, &'a Route, i64)>,
) {
    let until = handoff.lease_until(now);
    let mut forwards = Vec::with_capacity(routes.len());
    let mut handed = Vec::new();
    for r in routes {
        match r.hands_off().then(|| handoff.reserve_forward()).flatten() {
            Some(slot) => {
                forwards.push(NewForward {
                    route: r.id.clone(),
                    leased_until: Some(until),
                });
                handed.push((slot, *r, until));
            }
            None => forwards.push(NewForward::pending(r.id.clone())),
        }
    }
    (forwards, handed)
}

/// A handed-off forward as the engine takes it: claimed, version 1.
fn hand_off(route: &Route, e: &InboundEvent, until: i64) -> ClaimedForward {
    ClaimedForward {
        forward: Forward {
            route_id: route.id.clone(),
            event_id: e.id.clone(),
            source: e.source.clone(),
            status: DeliveryStatus::Sending,
            attempts: 0,
            next_attempt_at: Some(until),
            manual: false,
            version: 1,
            last: None,
        },
        route: route.clone(),
        event: e.clone(),
    }
}
