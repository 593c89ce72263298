//! The classic Express tutorial's surface, byte-compatible for its senders.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hookline_core::source::DEFAULT_SOURCE;
use serde_json::json;

use super::pipeline::{self, Outcome, Style};
use crate::error::{ApiError, Shape};
use crate::state::AppState;

/// `GET /`
pub async fn index() -> Json<serde_json::Value> {
    Json(json!({
        "message": "Webhook server is running.",
        "endpoints": ["/health", "/webhook/:event"],
    }))
}

/// `GET /health`: the process answers.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /ready`: the process answers and the store too.
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({ "status": "ok" })).into_response(),
        Err(e) => {
            let error = match &e {
                hookline_core::StoreError::Unavailable(why) => {
                    format!("The store cannot write: {why}.")
                }
                other => {
                    tracing::warn!(error = %other, "store not ready");
                    "The store does not answer.".to_string()
                }
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "error": error })),
            )
                .into_response()
        }
    }
}

/// `POST /webhook/{event}`: the event type is `X-Event-Type`, else `{event}`.
pub async fn webhook(
    State(state): State<AppState>,
    Path(event): Path<String>,
    req: pipeline::Request,
) -> Result<Response, ApiError> {
    let entry = state
        .source(DEFAULT_SOURCE)
        .ok_or_else(|| ApiError::internal(Shape::Ingress, "the default source is missing"))?;
    Ok(
        match pipeline::ingest(&state, &entry, req, Some(&event), Style::Tutorial).await? {
            Outcome::Stored {
                event_type, parsed, ..
            } => Json(json!({
                "message": "Webhook received successfully.",
                "event": event_type,
                "receivedData": parsed.received_data(),
            }))
            .into_response(),
            Outcome::Duplicate { id } => {
                Json(json!({ "status": "duplicate", "id": id })).into_response()
            }
            // The tutorial's style answers a rejection as an error, not an outcome.
            Outcome::Rejected { code, .. } => {
                return Err(ApiError::ingress(
                    StatusCode::UNAUTHORIZED,
                    code,
                    pipeline::rejected_words(code),
                ))
            }
        },
    )
}
