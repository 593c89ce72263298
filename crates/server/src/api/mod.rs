//! The management API under `/api/v1`, in the Svix v1 API's conventions:
//! camelCase fields, `ListResponse {data, iterator, prevIterator, done}`,
//! `{code, detail}` errors, `Authorization: Bearer <token>`.
//!
//! - `sources`: `/source` CRUD.
//! - `events`: a source's inbox, one event, and replay to any URL.
//! - `stream`: a source's events as Server-Sent Events (cursor, then live), and
//!   source-scoped tokens.
//! - `model`: the receiving side's bodies, `ListResponse`, times.
//! - `routes`: `/route` CRUD, pause, resume, recover; an event's forwards and resend.
//! - `route_model`: a route and a forward as the API shows them.
//! - `apps`: `/app` CRUD (by `app_…` id or uid).
//! - `endpoints`: `/app/{app}/endpoint` CRUD, secret and rotation, headers.
//! - `messages`: publishing (`202`), messages, example messages, health.
//! - `attempts`: destinations, attempts, resend, recover, endpoint stats.
//! - `event_types`: `/event-type` CRUD; payloads are checked against their JSON Schema.
//! - `send_model`: the sending side's bodies, as Svix's.
//! - `idempotency`: `Idempotency-Key` on POST, answers kept and replayed for 24 h.
//! - `doc`: the OpenAPI document's frame, and the answers every operation can give.

pub(crate) mod apps;
mod attempts;
mod doc;
pub(crate) mod endpoints;
pub(crate) mod event_types;
pub(crate) mod events;
mod idempotency;
mod messages;
pub(crate) mod model;
pub(crate) mod route_model;
mod routes;
pub(crate) mod send_model;
mod sources;
mod stream;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::middleware::from_fn_with_state;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::require_token;
use crate::error::ApiError;
use crate::state::AppState;

pub use idempotency::InFlight;

/// The management API, mounted at `/api/v1`, and its OpenAPI document (whose
/// paths are the routes themselves, so the two cannot drift apart).
pub fn router(state: AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::with_openapi(doc::ApiDoc::openapi())
        .routes(routes!(sources::list, sources::create))
        .routes(routes!(sources::get, sources::update, sources::delete))
        .routes(routes!(events::list))
        .routes(routes!(events::list_all))
        .routes(routes!(stream::stream))
        .routes(routes!(stream::token))
        .routes(routes!(events::get))
        .routes(routes!(events::replay))
        .routes(routes!(routes::list, routes::create))
        .routes(routes!(routes::get, routes::update, routes::delete))
        .routes(routes!(routes::pause))
        .routes(routes!(routes::resume))
        .routes(routes!(routes::recover))
        .routes(routes!(routes::forwards))
        .routes(routes!(routes::resend))
        .routes(routes!(messages::health))
        .routes(routes!(apps::portal_access))
        .routes(routes!(event_types::list, event_types::create))
        .routes(routes!(
            event_types::get,
            event_types::put,
            event_types::patch,
            event_types::delete
        ))
        .routes(routes!(apps::list, apps::create))
        .routes(routes!(apps::get, apps::put, apps::patch, apps::delete))
        .routes(routes!(endpoints::list, endpoints::create))
        .routes(routes!(
            endpoints::get,
            endpoints::put,
            endpoints::patch,
            endpoints::delete
        ))
        .routes(routes!(endpoints::secret))
        .routes(routes!(endpoints::rotate))
        .routes(routes!(
            endpoints::headers,
            endpoints::put_headers,
            endpoints::patch_headers
        ))
        .routes(routes!(attempts::stats))
        .routes(routes!(messages::send_example))
        .routes(routes!(attempts::recover))
        .routes(routes!(messages::list, messages::create))
        .routes(routes!(messages::get))
        .routes(routes!(attempts::destinations))
        .routes(routes!(attempts::resend))
        .routes(routes!(attempts::attempt))
        .routes(routes!(attempts::attempts_by_message))
        .routes(routes!(attempts::attempts_by_endpoint))
        // Auth runs first (outermost), so answers are kept per caller.
        .layer(from_fn_with_state(state.clone(), idempotency::idempotent))
        .layer(from_fn_with_state(state, require_token));
    let (router, mut doc) = OpenApiRouter::new().nest("/api/v1", api).split_for_parts();
    doc::complete(&mut doc);
    (router, doc)
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
            Err(rejection) if crate::deadline::timed_out(&rejection) => Err(ApiError::api(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "The request body was not received in time; send it whole and promptly.",
            )),
            Err(rejection) => Err(ApiError::api(
                rejection.status(),
                "validation",
                rejection.body_text(),
            )),
        }
    }
}
