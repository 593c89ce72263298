//! hookline-engine: delivers messages and forwards received events. For each
//! due delivery or forward: claim it (with a lease), build the request (a
//! message signed with Standard Webhooks; a forward byte-exact), send it,
//! record the try, and reschedule or finish it. Knows no HTTP server and no
//! SQL: it works through the store's roles: the dispatcher takes only the
//! [`DeliveryQueue`](hookline_core::DeliveryQueue) and
//! [`ForwardQueue`](hookline_core::ForwardQueue), retention the
//! [`Maintenance`](hookline_core::Maintenance) role.
//!
//! Modules:
//! - [`config`]: [`EngineConfig`]: concurrency, timeout, retry schedule, lease, SSRF allow-list.
//! - [`ssrf`]: which addresses may be called, enforced at DNS resolution and on literal IPs.
//! - `client`: the HTTP client: no redirects, the SSRF-guarded resolver
//!   ([`outbound_client`] gives one to the server for requests people ask for).
//! - `attempt`: one HTTP try (URL checks, guarded or trusted client) and what came of it.
//! - `deliver`: one delivery of a message: signed headers, record, operational webhooks.
//! - `forward`: one forward of a received event: its own bytes and headers, record, `410` pauses.
//! - [`retention`]: the background cleaner of old payloads, inbox events and dedup keys.
//! - `retry`: the next step after a try: done, retry when (jitter, `Retry-After`), or failed.
//! - `dispatcher`: the loop: wake on publish or when due, take handed-off
//!   forwards, claim deliveries and forwards by turns, send with bounded concurrency.
//! - `jobs`: a job's pace, putting it back; claiming deliveries and forwards by turns.
//! - [`handoff`]: a [`Job`] (claimed delivery or forward) handed from the
//!   request path straight to the engine, stored already claimed in the
//!   transaction that made it.
//! - `throttle`: per-destination rate limits and concurrency; a send over them is postponed, not held.
//! - [`operational`]: operational webhooks (exhausted, failing, recovered, endpoint events).
//! - [`metrics`]: attempts by outcome, attempt latency, postponements (Prometheus).
//! - [`testkit`] (feature `testkit`): a capturing HTTP receiver for tests.

mod attempt;
mod client;
pub mod config;
mod deliver;
mod dispatcher;
mod forward;
pub mod handoff;
mod jobs;
pub mod metrics;
pub mod operational;
pub mod retention;
mod retry;
pub mod ssrf;
#[cfg(feature = "testkit")]
pub mod testkit;
mod throttle;

pub use client::{refusal, Outbound};
pub use config::EngineConfig;
pub use dispatcher::{Engine, EngineError, Waker};
pub use handoff::{Handoff, Job};
pub use hookline_core::activity::Activity;
pub use metrics::EngineMetrics;
pub use operational::Operational;
