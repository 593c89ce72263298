//! Receiving webhooks.
//!
//! - `pipeline`: admit (allow-list, client certificate, rate limit) → read the
//!   body within limits → verify → parse → de-duplicate → store, then answer.
//! - `extract`: the event type and the dedup key, from provider headers or payload.
//! - `logging`: one info line per webhook without header values, credentials
//!   redacted by name at debug, rejected floods summarised.
//! - `body`: JSON and urlencoded bodies as JSON values (the tutorial's `receivedData`).
//! - `tutorial`: `/`, `/health`, `/ready`, `/webhook/{event}`.
//! - `source`: `/in/{source}` and a source's own exact path, with its configured replies.
//! - `paths`: which exact paths a source may take (none of hookline's own routes).

mod body;
mod extract;
mod logging;
pub mod paths;
pub(crate) mod pipeline;
pub mod source;
pub mod tutorial;

pub use logging::RejectedFlood;
