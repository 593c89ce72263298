//! Named sources: `POST /in/{source}`, and the exact path a source may also
//! answer at (`POST /webhook`, `/payment-webhook`, …), with the replies it is
//! configured to give.

use axum::extract::{Path, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hookline_core::{EventId, Reply};
use serde_json::json;

use super::pipeline::{self, rejected_words, Outcome, Style};
use crate::error::ApiError;
use crate::state::{AppState, SourceEntry};

pub async fn receive(
    State(state): State<AppState>,
    Path(name): Path<String>,
    req: pipeline::Request,
) -> Result<Response, ApiError> {
    let entry = state.source_or_load(&name).await?.ok_or_else(|| {
        ApiError::ingress(
            StatusCode::NOT_FOUND,
            "unknown_source",
            format!(
                "No source named `{name}`; define it in hookline.toml or with POST /api/v1/source."
            ),
        )
    })?;
    answer(&state, &entry, req).await
}

/// A request no route matched: a source's own path, or `None`.
pub async fn at_path(
    state: &AppState,
    req: pipeline::Request,
) -> Option<Result<Response, ApiError>> {
    let entry = state.source_at(req.uri.path())?;
    if req.method != Method::POST {
        return Some(Err(ApiError::ingress(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!(
                "{} answers POST only (source `{}`).",
                req.uri.path(),
                entry.source.name
            ),
        )));
    }
    Some(answer(state, &entry, req).await)
}

async fn answer(
    state: &AppState,
    entry: &SourceEntry,
    req: pipeline::Request,
) -> Result<Response, ApiError> {
    let replies = &entry.source.reply;
    Ok(
        match pipeline::ingest(state, entry, req, None, Style::Source).await? {
            Outcome::Stored {
                id,
                event_type,
                parsed,
            } => {
                // Slack's Events API checks a new URL with a challenge to echo back.
                let challenge = parsed
                    .json()
                    .filter(|v| v.get("type").and_then(|t| t.as_str()) == Some("url_verification"))
                    .and_then(|v| v.get("challenge").cloned());
                match (challenge, &replies.received) {
                    (Some(c), _) => Json(json!({ "challenge": c })).into_response(),
                    (None, Some(r)) => reply(r, &id, event_type.as_deref(), ""),
                    (None, None) => Json(json!({ "status": "received", "id": id })).into_response(),
                }
            }
            Outcome::Duplicate { id } => match &replies.duplicate {
                Some(r) => reply(r, &id, None, ""),
                None => Json(json!({ "status": "duplicate", "id": id })).into_response(),
            },
            Outcome::Rejected {
                id,
                code,
                reason,
                cause,
            } => match &replies.rejected {
                Some(r) => reply(r, &id, None, &reason),
                None => {
                    return Err(ApiError::ingress(
                        StatusCode::UNAUTHORIZED,
                        code,
                        rejected_words(code),
                    )
                    .with_extra(json!({ "reason": reason, "code": cause })))
                }
            },
        },
    )
}

/// Marks a response as a source's configured reply, so no layer rewrites it.
#[derive(Clone, Copy)]
pub struct ConfiguredReply;

/// A configured reply, its placeholders filled in.
fn reply(r: &Reply, id: &EventId, event_type: Option<&str>, reason: &str) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    let body = r.render(id.as_str(), event_type.unwrap_or(""), reason);
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, r.content_type.clone())],
        body,
    )
        .into_response();
    resp.extensions_mut().insert(ConfiguredReply);
    resp
}
