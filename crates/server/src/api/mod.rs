//! The management API under `/api/v1`, in the Svix v1 API's conventions:
//! camelCase fields, `ListResponse {data, iterator, prevIterator, done}`,
//! `{code, detail}` errors, `Authorization: Bearer <token>`.
//!
//! - `sources`: `/source` CRUD.
//! - `events`: a source's inbox, one event, and replay to any URL.
//! - `model`: request and response bodies.

mod events;
mod model;
mod sources;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;

use crate::auth::require_admin;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/source", get(sources::list).post(sources::create))
        .route(
            "/source/{name}",
            get(sources::get)
                .put(sources::update)
                .delete(sources::delete),
        )
        .route("/source/{name}/event", get(events::list))
        .route("/source/{name}/event/{id}", get(events::get))
        .route("/source/{name}/event/{id}/replay", post(events::replay))
        .layer(from_fn_with_state(state, require_admin))
}

/// `Json<T>` whose rejections are `{code, detail}` with the parser's reason.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError::api(
                rejection.status(),
                "validation",
                rejection.body_text(),
            )),
        }
    }
}
