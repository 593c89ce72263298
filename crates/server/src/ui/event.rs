//! One received event: in full on its own page, or as the panel beside the
//! inbox list (headers, raw and pretty body, verdict and why, its forwarding
//! per route with resend, the request as a curl command); replay.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use base64::Engine as _;
use hookline_core::clock::rfc3339;
use hookline_core::InboundEvent;
use serde::{Deserialize, Serialize};

use super::session::Session;
use super::views;
use crate::actions::replay::{find, perform_replay};
use crate::actions::route::forwards_of;
use crate::api::model::{ReplayIn, ReplayMode};
use crate::api::route_model::ForwardOut;
use crate::state::AppState;

/// An event as the detail page shows it.
#[derive(Serialize)]
struct Shown {
    id: String,
    source: String,
    event_type: Option<String>,
    verdict: &'static str,
    reason: Option<String>,
    method: String,
    path: String,
    query: Option<String>,
    received_at: String,
    remote: Option<String>,
    size: usize,
    dedup_key: Option<String>,
    headers: Vec<(String, String)>,
    /// The request as a curl command that sends it again, byte-exact.
    curl: String,
    utf8: bool,
    raw: String,
    pretty: Option<String>,
    base64: String,
}

fn shown(e: InboundEvent) -> Shown {
    let utf8 = std::str::from_utf8(&e.body).is_ok();
    let pretty = serde_json::from_slice::<serde_json::Value>(&e.body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok());
    Shown {
        curl: curl(&e),
        id: e.id.to_string(),
        verdict: e.verdict.as_str(),
        reason: e.verdict_reason,
        received_at: rfc3339(e.received_at),
        size: e.body.len(),
        utf8,
        raw: String::from_utf8_lossy(&e.body).into_owned(),
        pretty,
        base64: base64::engine::general_purpose::STANDARD.encode(&e.body),
        source: e.source,
        event_type: e.event_type,
        method: e.method,
        path: e.path,
        query: e.query,
        remote: e.remote_addr,
        dedup_key: e.dedup_key,
        headers: e.headers,
    }
}

/// The curl command that sends `e` again as it arrived: to the host it was
/// sent to (its `Host` header), with its headers in order (those of one hop
/// left out) and its exact body (through base64 when it is not UTF-8).
pub(super) fn curl(e: &InboundEvent) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let header = |name: &str| {
        e.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    let host = header("host").unwrap_or("localhost:8080");
    let query = e
        .query
        .as_deref()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let mut out = String::new();
    let text = std::str::from_utf8(&e.body).ok();
    if text.is_none() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&e.body);
        out.push_str(&format!("printf %s {b64} | base64 -d | "));
    }
    out.push_str(&format!(
        "curl -X {} {}",
        e.method,
        quote(&format!("{scheme}://{host}{}{query}", e.path))
    ));
    for (k, v) in e
        .headers
        .iter()
        .filter(|(k, _)| hookline_core::inbound::carried(k))
    {
        out.push_str(&format!(" \\\n  -H {}", quote(&format!("{k}: {v}"))));
    }
    match text {
        Some("") => {}
        Some(t) => out.push_str(&format!(" \\\n  --data-binary {}", quote(t))),
        None => out.push_str(" \\\n  --data-binary @-"),
    }
    out
}

/// What the event page and the inbox's panel show.
#[derive(Serialize)]
pub(super) struct Selected {
    e: Shown,
    forwards: Vec<ForwardOut>,
}

pub(super) async fn selected(
    state: &AppState,
    s: &Session,
    source: &str,
    id: &str,
) -> Result<Selected, Response> {
    let event = find(state, source, id).await.map_err(|e| s.failed(e))?;
    let forwards = forwards_of(state, &event.source, &event.id)
        .await
        .map_err(|e| s.failed(e))?;
    Ok(Selected {
        e: shown(event),
        forwards,
    })
}

async fn detail(
    state: &AppState,
    s: &Session,
    source: &str,
    id: &str,
    replay: Option<(&str, Result<crate::api::model::ReplayOut, String>)>,
) -> Result<Response, Response> {
    let selected = selected(state, s, source, id).await?;
    let (replay_url, replayed, replay_error) = match replay {
        Some((url, Ok(out))) => (
            url.to_string(),
            Some(minijinja::context! {
                ok => (200..300).contains(&out.status),
                status => out.status, status_text => out.status_text,
                ms => format!("{:.1}", out.duration_ms), body => out.response_body,
            }),
            None,
        ),
        Some((url, Err(e))) => (url.to_string(), None, Some(e)),
        None => (String::new(), None, None),
    };
    Ok(views::page(
        "event.html",
        minijinja::context! {
            nav => "inbox", csrf => s.csrf, admin => true, selected,
            schemes => views::schemes(), replay_url, replayed, replay_error,
        },
    ))
}

pub async fn event(
    State(state): State<AppState>,
    s: Session,
    Path((source, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    s.require_admin()?;
    detail(&state, &s, &source, &id, None).await
}

/// `GET /ui/inbox/{source}/{id}/panel`: the event as the inbox shows it beside its list.
pub async fn panel(
    State(state): State<AppState>,
    s: Session,
    Path((source, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    s.require_admin()?;
    let selected = selected(&state, &s, &source, &id).await?;
    Ok(views::page(
        "event_panel.html",
        minijinja::context! { csrf => s.csrf, selected, panel => true },
    ))
}

#[derive(Deserialize)]
pub struct ReplayForm {
    csrf: String,
    url: String,
    mode: String,
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    secret: String,
}

pub async fn replay(
    State(state): State<AppState>,
    s: Session,
    Path((source, id)): Path<(String, String)>,
    Form(form): Form<ReplayForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let event = find(&state, &source, &id).await.map_err(|e| s.failed(e))?;
    let resign = form.mode == "resign";
    let input = ReplayIn {
        url: form.url.trim().to_string(),
        mode: if resign {
            ReplayMode::Resign
        } else {
            ReplayMode::Exact
        },
        scheme: resign.then(|| form.scheme.clone()),
        secret: resign.then(|| form.secret.clone()),
        timeout: Some(10.0),
    };
    let result = perform_replay(&state, &event, &input)
        .await
        .map_err(|e| e.detail);
    let resp = detail(&state, &s, &source, &id, Some((&input.url, result))).await?;
    Ok(resp.into_response())
}
