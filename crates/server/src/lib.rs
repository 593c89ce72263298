//! hookline-server: the HTTP face of hookline (axum on hyper, rustls for TLS).
//! `run(config, store, listener, shutdown)` serves until `shutdown` resolves,
//! then finishes in-flight requests (and so their commits) before returning.
//! The server knows no SQL: it only sees `Arc<dyn Store>`.
//!
//! Modules:
//! - [`config`]: [`Config`], everything the server needs, already validated.
//! - `error`: [`ApiError`], the one error type, rendered as the tutorial's
//!   `{"error": …}` on ingress routes and Svix's `{code, detail}` on the API.
//! - `state`: shared state: the store, the source and route caches, metrics, shutdown.
//! - `auth`: the admin token (configured, or generated once and stored hashed),
//!   app-scoped and source-scoped tokens.
//! - `metrics`: Prometheus counters and histograms, `GET /metrics`.
//! - `ingress`: receiving: the tutorial routes (`/`, `/health`, `/ready`,
//!   `/webhook/{event}`), named sources (`/in/{source}`) and the shared
//!   verify → de-duplicate → store (with the forwards of matching routes) pipeline.
//! - `actions`: what the API and the UI both do, once: validate and patch an
//!   endpoint, rotate its secret, replay an event, change a route, create an
//!   app, a source or an event type, search and follow the inbox.
//! - `activity`: each node's counts per minute shared through the store, so
//!   the dashboard shows the whole cluster.
//! - `api`: the management API under `/api/v1`: Svix's applications, endpoints,
//!   event types, messages and attempts, and hookline's sources, inbox, event
//!   stream and routes.
//! - `routes`: the router, JSON for every error, CORS, panic guard.
//! - `ui`: the web UI under `/ui`: dashboard, send, inbox (split, searched, live),
//!   sources, routes, deliveries.
//! - `tls`: rustls server config from PEM files, optional client certificates.
//! - `serve`: the accept loop, TLS handshakes, graceful shutdown.
//! - `conn`: connection policing: header and idle timeouts, the connection
//!   cap (the oldest idle connection makes room).
//! - `deadline`: a deadline on reading every request's body (408).
//! - `early_errors`: JSON bodies for the errors hyper answers itself (400, 414, 431).
//! - [`testkit`] (feature `testkit`): a capturing receiver and a spawned app, for tests.

mod actions;
mod activity;
mod api;
mod auth;
pub mod config;
mod conn;
mod deadline;
mod early_errors;
mod error;
mod ingress;
mod metrics;
mod routes;
mod serve;
mod state;
#[cfg(feature = "testkit")]
pub mod testkit;
mod tls;
mod ui;

pub use auth::{admin_token_stored, issue_app_token, rotate_admin_token};
pub use config::{Config, TlsConfig};
pub use error::ApiError;
/// Which exact paths a source may take (the binary checks its config file with it).
pub use ingress::paths as source_paths;
pub use serve::{run, ServeError};
