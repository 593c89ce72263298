//! The management API under `/api/v1`, in the Svix v1 API's conventions:
//! camelCase fields, `ListResponse {data, iterator, prevIterator, done}`,
//! `{code, detail}` errors, `Authorization: Bearer <token>`.
//!
//! - `sources`: `/source` CRUD.
//! - `events`: a source's inbox, one event, and replay to any URL.
//! - `model`: the receiving side's bodies, `ListResponse`, times.
//! - `apps`: `/app` CRUD (by `app_…` id or uid).
//! - `endpoints`: `/app/{app}/endpoint` CRUD, secret and rotation, headers.
//! - `messages`: publishing (`202`), messages, example messages, health.
//! - `attempts`: destinations, attempts, resend, recover, endpoint stats.
//! - `event_types`: `/event-type` CRUD; payloads are checked against their JSON Schema.
//! - `send_model`: the sending side's bodies, as Svix's.
//! - `idempotency`: `Idempotency-Key` on POST, answers kept and replayed for 24 h.

mod apps;
mod attempts;
mod endpoints;
mod event_types;
mod events;
mod idempotency;
mod messages;
mod model;
mod send_model;
mod sources;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;

use crate::auth::require_token;
use crate::error::ApiError;
use crate::state::AppState;

pub use idempotency::InFlight;

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
        .route("/health", get(messages::health))
        .route("/auth/app-portal-access/{app}", post(apps::portal_access))
        .route(
            "/event-type",
            get(event_types::list).post(event_types::create),
        )
        .route(
            "/event-type/{name}",
            get(event_types::get)
                .put(event_types::put)
                .patch(event_types::patch)
                .delete(event_types::delete),
        )
        .route("/app", get(apps::list).post(apps::create))
        .route(
            "/app/{app}",
            get(apps::get)
                .put(apps::put)
                .patch(apps::patch)
                .delete(apps::delete),
        )
        .route(
            "/app/{app}/endpoint",
            get(endpoints::list).post(endpoints::create),
        )
        .route(
            "/app/{app}/endpoint/{ep}",
            get(endpoints::get)
                .put(endpoints::put)
                .patch(endpoints::patch)
                .delete(endpoints::delete),
        )
        .route("/app/{app}/endpoint/{ep}/secret", get(endpoints::secret))
        .route(
            "/app/{app}/endpoint/{ep}/secret/rotate",
            post(endpoints::rotate),
        )
        .route(
            "/app/{app}/endpoint/{ep}/headers",
            get(endpoints::headers)
                .put(endpoints::put_headers)
                .patch(endpoints::patch_headers),
        )
        .route("/app/{app}/msg", get(messages::list).post(messages::create))
        .route("/app/{app}/msg/{msg}", get(messages::get))
        .route(
            "/app/{app}/msg/{msg}/attempt/{attempt}",
            get(attempts::attempt),
        )
        .route("/app/{app}/endpoint/{ep}/stats", get(attempts::stats))
        .route(
            "/app/{app}/endpoint/{ep}/send-example",
            post(messages::send_example),
        )
        .route("/app/{app}/msg/{msg}/endpoint", get(attempts::destinations))
        .route(
            "/app/{app}/msg/{msg}/endpoint/{ep}/resend",
            post(attempts::resend),
        )
        .route("/app/{app}/endpoint/{ep}/recover", post(attempts::recover))
        .route(
            "/app/{app}/attempt/msg/{msg}",
            get(attempts::attempts_by_message),
        )
        .route(
            "/app/{app}/attempt/endpoint/{ep}",
            get(attempts::attempts_by_endpoint),
        )
        // Auth runs first (outermost), so answers are kept per caller.
        .layer(from_fn_with_state(state.clone(), idempotency::idempotent))
        .layer(from_fn_with_state(state, require_token))
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
