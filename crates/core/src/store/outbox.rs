//! [`OutboxStore`]: publishing messages, and what became of them: deliveries,
//! attempts, statistics; resend and recover.

use async_trait::async_trait;

use super::StoreError;
use crate::id::{AppId, AttemptId, EndpointId, MessageId};
use crate::outbound::{Attempt, Delivery, Endpoint, EndpointStats, HandOut, Message, Published};
use crate::page::{Page, PageRequest};

#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Stores the message and one delivery for every endpoint of its app that
    /// wants it, in one transaction: up to `hand.slots` of them claimed and
    /// handed back (see [`HandOut`]), the rest pending, due at once.
    /// `Conflict` if the app already has its `event_id`.
    async fn publish_handing(
        &self,
        message: &Message,
        hand: HandOut,
    ) -> Result<Published, StoreError>;
    /// [`publish_handing`](Self::publish_handing) with every delivery
    /// pending; returns how many were made.
    async fn publish(&self, message: &Message) -> Result<usize, StoreError> {
        self.publish_handing(message, HandOut::default())
            .await
            .map(|p| p.made)
    }
    /// Stores the message with one pending delivery to `endpoint` only (for
    /// example messages); `NotFound` if the app has no such endpoint.
    async fn publish_to(&self, message: &Message, endpoint: &EndpointId) -> Result<(), StoreError>;
    async fn get_message(&self, app: &AppId, id: &MessageId)
        -> Result<Option<Message>, StoreError>;
    /// Newest first.
    async fn list_messages(
        &self,
        app: &AppId,
        page: &PageRequest,
    ) -> Result<Page<Message>, StoreError>;
    /// A message's deliveries, one per endpoint it went to.
    async fn list_deliveries(
        &self,
        app: &AppId,
        message: &MessageId,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Makes deliveries due again at `now`, with a fresh retry schedule: the
    /// one of `message` to `endpoint` (resend; made if the endpoint was not a
    /// destination), or, without a message, every failed delivery to
    /// `endpoint` of messages created at or after `since` (recover). Returns
    /// how many; 0 for a resend means the message does not exist.
    async fn requeue(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        message: Option<&MessageId>,
        since: i64,
        now: i64,
    ) -> Result<usize, StoreError>;
    /// Endpoints whose attempts have all failed since some time, longest
    /// failing first, with that time (ms).
    async fn failing_endpoints(&self, limit: usize) -> Result<Vec<(Endpoint, i64)>, StoreError>;
    /// An endpoint's deliveries by status, of messages created in `[since, until)` (ms).
    async fn endpoint_stats(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        since: i64,
        until: i64,
    ) -> Result<EndpointStats, StoreError>;
    /// One attempt of one message.
    async fn get_attempt(
        &self,
        app: &AppId,
        message: &MessageId,
        attempt: &AttemptId,
    ) -> Result<Option<Attempt>, StoreError>;
    /// Attempts of one message or one endpoint (at least one filter), newest first.
    async fn list_attempts(
        &self,
        app: &AppId,
        message: Option<&MessageId>,
        endpoint: Option<&EndpointId>,
        page: &PageRequest,
    ) -> Result<Page<Attempt>, StoreError>;
}
