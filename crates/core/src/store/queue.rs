//! [`DeliveryQueue`]: the dispatcher's whole view of the store: claim due
//! deliveries under a lease, record what each attempt did, put one back.

use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;
use crate::id::{EndpointId, MessageId};
use crate::outbound::{Attempt, Claimed, Next};

#[async_trait]
pub trait DeliveryQueue: Send + Sync + 'static {
    /// Claims up to `limit` deliveries due at `now` (ms): each becomes
    /// `Sending`, moves to a new version, and is due again at `now + lease`,
    /// so if its worker dies it is simply claimed again after the lease.
    /// Oldest due first.
    async fn claim_due(
        &self,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed>, StoreError>;
    /// Records one attempt and, if its delivery is still at `version` (the
    /// one it was claimed at), moves the delivery on: delivered, due again, or
    /// failed. A stale try (its lease ran out and the delivery was claimed
    /// again, or it was resent meanwhile) is recorded but moves nothing. Also
    /// keeps the endpoint's failure streak: a success ends it.
    async fn record_attempt(
        &self,
        attempt: &Attempt,
        version: i64,
        next: Next,
    ) -> Result<(), StoreError>;
    /// Puts a claimed delivery back, due at `until`, without counting an
    /// attempt (e.g. its endpoint's rate limit is used up); nothing if it is
    /// no longer at `version` (resent meanwhile).
    async fn postpone(
        &self,
        message: &MessageId,
        endpoint: &EndpointId,
        version: i64,
        until: i64,
    ) -> Result<(), StoreError>;
    /// When the earliest pending delivery is due (ms), if any.
    async fn next_due(&self) -> Result<Option<i64>, StoreError>;
    /// Disables `endpoint` if every attempt to it since `before` (ms) or
    /// earlier has failed (its failure streak began by then). True if it did.
    async fn disable_if_failing_since(
        &self,
        endpoint: &EndpointId,
        before: i64,
    ) -> Result<bool, StoreError>;
    /// Disables `endpoint` (its receiver answered `410 Gone`), touching only
    /// its disabled flag and updated time, so an edit or a secret rotation
    /// made since the claim is kept. `NotFound` if it no longer exists.
    async fn disable_endpoint(&self, endpoint: &EndpointId, now: i64) -> Result<(), StoreError>;
    /// Resolves when another process sharing this store may have published
    /// (PostgreSQL: `LISTEN/NOTIFY`), so an idle engine looks for work at
    /// once. A store that only one process uses never resolves it.
    async fn published_elsewhere(&self) {
        std::future::pending::<()>().await;
    }
}
