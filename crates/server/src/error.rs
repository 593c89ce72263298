//! The server's one error type.
//!
//! Policy: handlers return `Result<_, ApiError>`. Ingress routes answer in the
//! tutorial's shape, `{"error": "…"}`; the management API in Svix's,
//! `{"code": "…", "detail": "…"}`. Anything unexpected is logged with its cause
//! and answered `500 {"error":"Internal Server Error"}`, never with internals.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hookline_core::StoreError;
use serde_json::{json, Value};

/// Which shape the error body takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"error": detail, ...extra}`: the tutorial's receivers.
    Ingress,
    /// `{"code": code, "detail": detail}`: the Svix-compatible API.
    Api,
}

/// The body of every management API error (Svix's `HttpErrorOut`).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable machine code: `not_found`, `validation`, `conflict`, …
    pub code: &'static str,
    /// What went wrong and what to do, in words.
    pub detail: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub shape: Shape,
    /// Extra fields for ingress errors (e.g. the verification `reason`).
    pub extra: Option<Value>,
}

impl ApiError {
    pub fn ingress(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            shape: Shape::Ingress,
            extra: None,
        }
    }

    pub fn api(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            shape: Shape::Api,
            extra: None,
        }
    }

    pub fn with_extra(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::api(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn validation(detail: impl Into<String>) -> Self {
        Self::api(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail)
    }

    /// A store failure: `503` with the reason when the store cannot write now
    /// (the store logs that itself, once a minute), else internal.
    pub fn storage(shape: Shape, e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(why) => ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "storage_unavailable",
                detail: format!("Nothing can be stored right now ({why}); retry later."),
                shape,
                extra: None,
            },
            other => Self::internal(shape, other),
        }
    }

    /// An unexpected failure: logged in full, answered without details.
    pub fn internal(shape: Shape, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            detail: "Internal Server Error".into(),
            shape,
            extra: None,
        }
    }
}

/// A store error on an API route: `NotFound` is a 404, `Conflict` a 409 with
/// its words, anything else as [`ApiError::storage`].
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found("not found"),
            StoreError::Conflict(m) => Self::api(StatusCode::CONFLICT, "conflict", m),
            other => Self::storage(Shape::Api, other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.shape {
            Shape::Api => json!(ErrorBody {
                code: self.code,
                detail: self.detail
            }),
            Shape::Ingress => {
                let mut v = json!({ "error": self.detail });
                if let (Some(Value::Object(extra)), Some(obj)) = (self.extra, v.as_object_mut()) {
                    obj.extend(extra);
                }
                v
            }
        };
        (self.status, Json(body)).into_response()
    }
}
