//! `POST /in/{source}`: named sources with any scheme.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::pipeline::{self, Outcome, Style};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn receive(
    State(state): State<AppState>,
    Path(name): Path<String>,
    req: pipeline::Request,
) -> Result<Response, ApiError> {
    let entry = state.source(&name).ok_or_else(|| {
        ApiError::ingress(
            StatusCode::NOT_FOUND,
            "unknown_source",
            format!(
                "No source named `{name}`; define it in hookline.toml or with POST /api/v1/source."
            ),
        )
    })?;
    Ok(
        match pipeline::ingest(&state, &entry, req, None, Style::Source).await? {
            Outcome::Stored { id, parsed, .. } => {
                // Slack's Events API checks a new URL with a challenge to echo back.
                let challenge = parsed
                    .json()
                    .filter(|v| v.get("type").and_then(|t| t.as_str()) == Some("url_verification"))
                    .and_then(|v| v.get("challenge").cloned());
                match challenge {
                    Some(c) => Json(json!({ "challenge": c })).into_response(),
                    None => Json(json!({ "status": "received", "id": id })).into_response(),
                }
            }
            Outcome::Duplicate { id } => {
                Json(json!({ "status": "duplicate", "id": id })).into_response()
            }
        },
    )
}
