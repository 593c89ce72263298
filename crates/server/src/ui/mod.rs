//! The web UI under `/ui`: server-rendered pages (minijinja templates with
//! auto-escaping), a stylesheet and one small script, all embedded in the
//! binary; no request leaves for any other host.
//!
//! - `session`: logging in with a token, the session cookie, CSRF tokens.
//! - `views`: the templates, rendering, error pages.
//! - `chart`: bar and line charts drawn as SVG on the server.
//! - `dashboard`: health, activity charts, queue depth, failing endpoints.
//! - `send`: the Send page, the classic webhook client in the browser.
//! - `inbox`: received events, searched and live (Server-Sent Events
//!   followed from the store), beside the selected one.
//! - `event`: one received event (its page, or the inbox's panel), copy as
//!   curl, replay.
//! - `deliveries`: applications → endpoints → messages → attempts, and the
//!   actions on them (create, edit, enable/disable, rotate, resend, recover).
//! - `sources`: sources (create with a secret shown once, edit, delete).
//! - `catalog`: creating, renaming, deleting applications; deleting endpoints;
//!   event types (list, create, edit, archive, delete).
//! - `routes`: forwarding routes (create, edit, pause, resume, recover) and
//!   resending an event's forward.

// Handlers answer `Result<Response, Response>`: the error is a rendered page
// (a redirect to log in, a 403 or 404 page), returned as it is.
#![allow(clippy::result_large_err)]

mod catalog;
mod chart;
mod dashboard;
mod deliveries;
mod event;
mod inbox;
mod routes;
mod send;
mod session;
mod sources;
mod views;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/assets/{file}", get(asset))
        .route("/dashboard", get(dashboard::page))
        .route("/send", get(send::page).post(send::submit))
        .route("/inbox", get(inbox::list))
        .route("/inbox/stream", get(inbox::stream))
        .route("/inbox/{source}/{id}", get(event::event))
        .route("/inbox/{source}/{id}/panel", get(event::panel))
        .route("/inbox/{source}/{id}/replay", post(event::replay))
        .route(
            "/inbox/{source}/{id}/forward/{route}/resend",
            post(routes::resend),
        )
        .route("/sources", get(sources::list).post(sources::create))
        .route("/sources/{name}", get(sources::page))
        .route("/sources/{name}/edit", post(sources::edit))
        .route("/sources/{name}/delete", post(sources::delete))
        .route(
            "/event-types",
            get(catalog::event_types).post(catalog::create_event_type),
        )
        .route("/event-types/{name}", get(catalog::event_type))
        .route("/event-types/{name}/edit", post(catalog::edit_event_type))
        .route(
            "/event-types/{name}/delete",
            post(catalog::delete_event_type),
        )
        .route("/apps/{app}/edit", post(catalog::edit_app))
        .route("/apps/{app}/delete", post(catalog::delete_app))
        .route(
            "/apps/{app}/endpoints/{ep}/delete",
            post(catalog::delete_endpoint),
        )
        .route("/routes", get(routes::list).post(routes::create))
        .route("/routes/{name}", get(routes::page))
        .route("/routes/{name}/edit", post(routes::edit))
        .route("/routes/{name}/toggle", post(routes::toggle))
        .route("/routes/{name}/recover", post(routes::recover))
        .route("/apps", get(deliveries::apps).post(catalog::create_app))
        .route("/apps/{app}", get(deliveries::app))
        .route("/apps/{app}/endpoints", post(deliveries::create_endpoint))
        .route("/apps/{app}/endpoints/{ep}", get(deliveries::endpoint))
        .route("/apps/{app}/endpoints/{ep}/edit", post(deliveries::edit))
        .route(
            "/apps/{app}/endpoints/{ep}/toggle",
            post(deliveries::toggle),
        )
        .route(
            "/apps/{app}/endpoints/{ep}/rotate",
            post(deliveries::rotate),
        )
        .route(
            "/apps/{app}/endpoints/{ep}/recover",
            post(deliveries::recover),
        )
        .route("/apps/{app}/msg/{msg}", get(deliveries::message))
        .route(
            "/apps/{app}/msg/{msg}/resend/{ep}",
            post(deliveries::resend),
        )
}

/// A `datetime-local` form value (no zone, maybe no seconds) read as UTC,
/// or RFC 3339.
fn parse_local_time(raw: &str) -> Result<i64, String> {
    let raw = raw.trim();
    let with_secs = if raw.len() == 16 {
        format!("{raw}:00Z")
    } else {
        raw.to_string()
    };
    crate::api::model::parse_time(&with_secs)
}

/// `/ui/`: the dashboard for the admin, an application's page for its token.
async fn home(s: session::Session) -> Redirect {
    match s.app() {
        Some(app) => Redirect::to(&format!("/ui/apps/{app}")),
        None => Redirect::to("/ui/dashboard"),
    }
}

/// The embedded stylesheet and script.
async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "style.css" => (include_str!("../../ui/assets/style.css"), "text/css"),
        "inbox.js" => (include_str!("../../ui/assets/inbox.js"), "text/javascript"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
