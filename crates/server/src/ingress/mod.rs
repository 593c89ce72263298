//! Receiving webhooks.
//!
//! - `pipeline`: admit (allow-list, client certificate, rate limit) → read the
//!   body within limits → verify → parse → de-duplicate → store, then answer.
//! - `extract`: the event type and the dedup key, from provider headers or payload.
//! - `body`: JSON and urlencoded bodies as JSON values (the tutorial's `receivedData`).
//! - `tutorial`: `/`, `/health`, `/ready`, `/webhook/{event}`.
//! - `source`: `/in/{source}`.

mod body;
mod extract;
mod pipeline;
pub mod source;
pub mod tutorial;
