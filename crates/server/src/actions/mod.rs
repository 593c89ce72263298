//! What the management API and the web UI both do, written once below both,
//! so the two cannot validate or act differently: find what a path names,
//! validate and patch an endpoint, rotate its secret, replay an event,
//! change a route, search and follow the inbox.
//!
//! - `app`: an application's fields validated; creating one.
//! - `event_type`: a new event type checked (its name, schemas that compile) and created.
//! - `source`: a source validated, its path checked, stored and re-cached; deleting one.
//! - `endpoint`: endpoint input validation and patching, secrets, rotation,
//!   the operational report of a change.
//! - `replay`: finding a stored event and sending its bytes to a URL.
//! - `route`: routes validated, stored and re-cached; pause, resume, resend, recover.
//! - `search`: inbox search: the store's indexed text match, then a structured
//!   filter; and the same match for one event (the live inbox).
//! - `tail`: following a source's inbox from the store, so every node sees
//!   every node's arrivals.

pub(crate) mod app;
pub(crate) mod endpoint;
pub(crate) mod event_type;
pub(crate) mod replay;
pub(crate) mod route;
pub(crate) mod search;
pub(crate) mod source;
pub(crate) mod tail;

use hookline_core::{App, Endpoint};

use crate::error::ApiError;
use crate::state::AppState;

/// The app named by an `app_…` id or a uid, or 404.
pub(crate) async fn app_of(state: &AppState, key: &str) -> Result<App, ApiError> {
    state
        .store
        .get_app(key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no application `{key}`")))
}

pub(crate) async fn endpoint_of(
    state: &AppState,
    app: &App,
    key: &str,
) -> Result<Endpoint, ApiError> {
    state
        .store
        .get_endpoint(&app.id, key)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("no endpoint `{key}` in application {}", app.id))
        })
}
