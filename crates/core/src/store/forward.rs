//! [`ForwardQueue`]: the dispatcher's view of forwards, as [`DeliveryQueue`]
//! is of deliveries: claim due ones under a lease, record each try, put one
//! back.
//!
//! [`DeliveryQueue`]: super::DeliveryQueue

use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;
use crate::id::{EventId, RouteId};
use crate::outbound::Next;
use crate::route::{ClaimedForward, ForwardTry};

#[async_trait]
pub trait ForwardQueue: Send + Sync + 'static {
    /// Claims up to `limit` forwards due at `now` (ms) on routes that are not
    /// paused, oldest first; of an ordered route only its head (its earliest
    /// forward not yet delivered or failed for good), and only when no other
    /// forward of that route is in flight. Each becomes `Sending`, moves to a
    /// new version and is due again at `now + lease`.
    async fn claim_forwards(
        &self,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedForward>, StoreError>;
    /// Keeps what the try got and, if the forward is still at `version`,
    /// moves it on: delivered, due again, or failed.
    async fn record_forward(
        &self,
        route: &RouteId,
        event: &EventId,
        version: i64,
        tried: &ForwardTry,
        next: Next,
    ) -> Result<(), StoreError>;
    /// Puts a claimed forward back, due at `until`, without counting a try;
    /// nothing if it is no longer at `version`.
    async fn postpone_forward(
        &self,
        route: &RouteId,
        event: &EventId,
        version: i64,
        until: i64,
    ) -> Result<(), StoreError>;
    /// When the earliest pending forward on a route that is not paused is due (ms).
    async fn next_forward_due(&self) -> Result<Option<i64>, StoreError>;
    /// Pauses the route (its destination answered `410 Gone`), touching only
    /// its paused flag and updated time.
    async fn pause_route(&self, route: &RouteId, now: i64) -> Result<(), StoreError>;
}
