//! `Idempotency-Key` on POST: the first 2xx answer for a key is kept for 24 h
//! and replayed for every retry of the same request (same token, same path),
//! so a client that lost the answer can safely send again.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hookline_core::clock::now_ms;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Shape};
use crate::state::AppState;

/// How long an answer is kept for replay.
const KEEP_MS: i64 = 24 * 3600 * 1000;

/// Keys whose first request is still running (one process).
#[derive(Default)]
pub struct InFlight(Mutex<HashSet<String>>);

impl InFlight {
    fn claim(&self, key: &str) -> bool {
        self.0.lock().is_ok_and(|mut s| s.insert(key.to_string()))
    }

    fn release(&self, key: &str) {
        if let Ok(mut s) = self.0.lock() {
            s.remove(key);
        }
    }
}

pub async fn idempotent(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (Some(key), true) = (key, req.method() == Method::POST) else {
        return Ok(next.run(req).await);
    };
    if key.is_empty() || key.len() > 256 {
        return Err(ApiError::validation(
            "Idempotency-Key must be 1-256 characters",
        ));
    }
    // Scope: the caller (its token) and the path, so keys never collide across them.
    let caller = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let scope = Sha256::new()
        .chain_update(&caller)
        .chain_update(req.uri().path())
        .chain_update(&key)
        .finalize();
    let setting = format!("idempotency:{}", hex::encode(scope));
    if let Some(kept) = state
        .store
        .get_setting(&setting)
        .await
        .map_err(|e| ApiError::storage(Shape::Api, e))?
    {
        let kept: Value = serde_json::from_str(&kept).unwrap_or_default();
        if kept["expiresAt"].as_i64().is_some_and(|t| t > now_ms()) {
            return Ok(replay(&kept));
        }
    }
    if !state.idempotency.claim(&setting) {
        return Err(ApiError::api(
            StatusCode::CONFLICT,
            "conflict",
            "A request with this Idempotency-Key is still in progress.",
        ));
    }
    let resp = next.run(req).await;
    let result = keep(&state, &setting, resp).await;
    state.idempotency.release(&setting);
    result
}

/// Keeps a 2xx answer for replay and returns it.
async fn keep(state: &AppState, setting: &str, resp: Response) -> Result<Response, ApiError> {
    if !resp.status().is_success() {
        return Ok(resp);
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .map_err(|e| ApiError::internal(Shape::Api, e))?;
    let expires_at = now_ms() + KEEP_MS;
    let kept = json!({
        "status": parts.status.as_u16(),
        "body": String::from_utf8_lossy(&bytes),
        "expiresAt": expires_at,
    });
    state
        .store
        .set_setting(setting, &kept.to_string(), Some(expires_at))
        .await
        .map_err(|e| ApiError::storage(Shape::Api, e))?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn replay(kept: &Value) -> Response {
    let status = kept["status"]
        .as_u64()
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::OK);
    let body = kept["body"].as_str().unwrap_or_default().to_string();
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}
