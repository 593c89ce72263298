//! hookline-engine: delivers messages. For each due delivery: claim it (with a
//! lease), sign it (Standard Webhooks, every active secret), send it, record
//! the attempt, and reschedule or finish it. Knows no HTTP server and no SQL:
//! it works through the store's roles: the dispatcher takes only the
//! [`DeliveryQueue`](hookline_core::DeliveryQueue), retention the
//! [`Maintenance`](hookline_core::Maintenance) role.
//!
//! Modules:
//! - [`config`]: [`EngineConfig`]: concurrency, timeout, retry schedule, lease, SSRF allow-list.
//! - [`ssrf`]: which addresses may be called, enforced at DNS resolution and on literal IPs.
//! - `client`: the HTTP client: no redirects, the SSRF-guarded resolver
//!   ([`outbound_client`] gives one to the server for requests people ask for).
//! - [`activity`]: per-minute counts of the last hour, for the web UI's charts.
//! - `attempt`: one signed HTTP try and what came of it.
//! - [`retention`]: the background cleaner of old payloads, inbox events and dedup keys.
//! - `retry`: the next step after a try: done, retry when (jitter, `Retry-After`), or failed.
//! - `dispatcher`: the loop: wake on publish or when due, claim, send with bounded concurrency.
//! - `throttle`: per-endpoint rate limits; a delivery over the rate is postponed, not held.
//! - [`operational`]: operational webhooks (exhausted, failing, recovered, endpoint events).
//! - [`metrics`]: attempts by outcome, attempt latency, postponements (Prometheus).
//! - [`testkit`] (feature `testkit`): a capturing HTTP receiver for tests.

pub mod activity;
mod attempt;
mod client;
pub mod config;
mod dispatcher;
pub mod metrics;
pub mod operational;
pub mod retention;
mod retry;
pub mod ssrf;
#[cfg(feature = "testkit")]
pub mod testkit;
mod throttle;

pub use activity::Activity;
pub use client::outbound_client;
pub use config::EngineConfig;
pub use dispatcher::{Engine, EngineError, Waker};
pub use metrics::EngineMetrics;
pub use operational::Operational;
