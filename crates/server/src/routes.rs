//! The router: every route, and the layers that make every error JSON.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;

use crate::error::ApiError;
use crate::ingress::{source, tutorial};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let ops = Router::new()
        .route("/health", get(tutorial::health))
        .route("/ready", get(tutorial::ready))
        .route("/metrics", get(metrics));
    let all = if state.config.serve_api {
        let (api, doc) = crate::api::router(state.clone());
        let doc = Arc::new(doc.to_pretty_json().unwrap_or_default());
        ops.route("/", get(root))
            .route("/webhook/{event}", post(tutorial::webhook))
            .route("/in/{source}", post(source::receive))
            .route("/api/v1/openapi.json", get(move || openapi(doc.clone())))
            .merge(api)
    } else {
        ops
    };
    all.nest("/ui", crate::ui::router())
        // `/ui/` is the UI's home too (a nested root answers only `/ui`).
        .route(
            "/ui/",
            get(|| async { axum::response::Redirect::to("/ui") }),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::deadline::limit,
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(CatchPanicLayer::custom(|_| internal_error()))
        .layer(CorsLayer::permissive())
        .with_state(state)
}

/// `GET /`: the tutorial's JSON, or for a browser (it asks for HTML) the UI.
async fn root(headers: axum::http::HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        axum::response::Redirect::to("/ui/").into_response()
    } else {
        tutorial::index().await.into_response()
    }
}

/// `GET /api/v1/openapi.json`, open to all (it holds no data).
async fn openapi(doc: Arc<String>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.as_str().to_owned(),
    )
        .into_response()
}

/// Forwards waiting per route, by route name.
async fn forwards_pending(state: &AppState) -> Option<Vec<(String, u64)>> {
    let all = crate::actions::route::with_waiting(state).await.ok()?;
    Some(all.into_iter().map(|(r, n)| (r.name, n)).collect())
}

async fn metrics(State(state): State<AppState>) -> Response {
    let queue = state
        .store
        .queue_depth(hookline_core::clock::now_ms())
        .await
        .ok();
    let text = state.metrics.render(
        state.store.commit_stats(),
        queue,
        forwards_pending(&state).await,
    );
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// No route matched: a source's own path if one answers there, else a 404.
async fn not_found(State(state): State<AppState>, req: Request) -> Response {
    let what = format!("Not found: {} {}", req.method(), req.uri().path());
    let path = req.uri().path().to_string();
    if state.config.serve_api {
        let (parts, body) = req.into_parts();
        let req = crate::ingress::pipeline::Request::from_parts(parts, body);
        if let Some(answer) = source::at_path(&state, req).await {
            return answer.into_response();
        }
    }
    error_for(&path, StatusCode::NOT_FOUND, "not_found", what).into_response()
}

fn error_for(path: &str, status: StatusCode, code: &'static str, detail: String) -> ApiError {
    if path.starts_with("/api/") {
        ApiError::api(status, code, detail)
    } else {
        ApiError::ingress(status, code, detail)
    }
}

fn internal_error() -> Response {
    tracing::error!("a handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({ "error": "Internal Server Error" })),
    )
        .into_response()
}

/// Rewrites any error answered without a JSON body (axum's own rejections:
/// wrong method, bad path or query) into a JSON error that says what to do.
async fn json_errors(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let resp = next.run(req).await;
    let status = resp.status();
    // JSON errors and the UI's own error pages are already what they should be.
    let formed = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.contains("text/html"));
    // A source's configured reply is the operator's own words, whatever they are.
    let configured = resp.extensions().get::<source::ConfiguredReply>().is_some();
    if !(status.is_client_error() || status.is_server_error()) || formed || configured {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let (code, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let hint = if allow.is_empty() {
                String::new()
            } else {
                format!("; use {allow}")
            };
            (
                "method_not_allowed",
                format!("Method {method} is not allowed on {path}{hint}."),
            )
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "Request body is too large.".to_string(),
        ),
        s if s.is_server_error() => ("internal", "Internal Server Error".to_string()),
        _ if text.is_empty() => (
            "bad_request",
            status
                .canonical_reason()
                .unwrap_or("Bad Request")
                .to_string(),
        ),
        _ => ("bad_request", text),
    };
    let mut out = error_for(&path, status, code, detail).into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// Records handling time by route.
async fn observe(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let started = Instant::now();
    let mut resp = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state
        .metrics
        .observe_route(route, started.elapsed().as_secs_f64());
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}
