//! hookline-signature: sign and verify webhooks in every common scheme.
//!
//! Pure: no IO, no async, no clock. Callers pass `now` (Unix seconds) so that
//! verification is deterministic and testable.
//!
//! Modules:
//! - [`scheme`]: the [`Scheme`] enum (hmac-sha256, hex, base64, standard, github,
//!   stripe, slack, shopify), its names and the headers each one uses.
//! - [`secret`]: [`Secret`], a secret string that never prints, and the key
//!   material each scheme derives from it.
//! - [`error`]: [`SignError`] and [`VerifyError`], one variant per distinct failure.
//! - `parse`: header parsers (Stripe's `t=…,v1=…`, Standard Webhooks' signature
//!   list, prefixed hex/base64), total on arbitrary input.
//! - `mac`: HMAC-SHA256 and constant-time comparison.
//! - [`sign`]: [`Scheme::sign`] builds the headers a sender attaches.
//! - [`request`]: [`webhook_headers`], a whole request's headers as a sender builds them.
//! - [`verify`]: [`Scheme::verify`] checks a received request against a list of
//!   secrets (rotation) within a timestamp tolerance.

pub mod error;
mod mac;
mod parse;
pub mod request;
pub mod scheme;
pub mod secret;
pub mod sign;
pub mod verify;

pub use error::{SignError, VerifyError};
pub use request::{title_case, webhook_headers};
pub use scheme::Scheme;
pub use secret::Secret;
pub use sign::SignInput;
pub use verify::{Verified, DEFAULT_TOLERANCE};
