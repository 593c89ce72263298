//! The storage contract. Backends (`store-sqlite`, `store-postgres`) implement
//! [`Store`]; the server and engine only ever see `Arc<dyn Store>`.
//!
//! Durability: every write method returns only after its data is committed to
//! disk (group commit may share that commit with other writers).

use std::time::Duration;

use async_trait::async_trait;

use crate::id::{AppId, AttemptId, EndpointId, EventId, MessageId};
use crate::inbound::{EventFilter, InboundEvent};
use crate::outbound::{
    App, Attempt, Claimed, Delivery, Endpoint, EndpointStats, EventType, Message, Next, QueueDepth,
};
use crate::page::{Page, PageRequest};
use crate::source::Source;

/// A storage failure. Backends convert their driver's errors once, into these.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the store is shut down")]
    Closed,
    #[error("storage error: {0}")]
    Backend(String),
}

/// The result of storing an inbound event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Committed under this id.
    Stored(EventId),
    /// An accepted event with the same dedup key was stored earlier (within the
    /// window); nothing was written.
    Duplicate(EventId),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the store answers (for `/ready`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Creates a source; `Conflict` if the name is taken.
    async fn create_source(&self, source: &Source) -> Result<(), StoreError>;
    /// Replaces the source of this name; `NotFound` if there is none.
    async fn update_source(&self, source: &Source) -> Result<(), StoreError>;
    /// Creates or replaces (for sources defined in the config file).
    async fn upsert_source(&self, source: &Source) -> Result<(), StoreError>;
    async fn delete_source(&self, name: &str) -> Result<(), StoreError>;
    async fn get_source(&self, name: &str) -> Result<Option<Source>, StoreError>;
    /// Every source, by name.
    async fn list_sources(&self) -> Result<Vec<Source>, StoreError>;

    /// Stores one event. When it is accepted and has a dedup key, the key is
    /// checked and recorded in the same transaction: a key seen within
    /// `dedup_window` yields `Duplicate` and nothing is stored. Rejected events
    /// are kept at most `rejected_cap` per source (oldest dropped first).
    async fn insert_event(
        &self,
        event: InboundEvent,
        dedup_window: Duration,
        rejected_cap: usize,
    ) -> Result<Inserted, StoreError>;
    async fn get_event(
        &self,
        source: &str,
        id: &EventId,
    ) -> Result<Option<InboundEvent>, StoreError>;
    /// A source's events, newest first.
    async fn list_events(
        &self,
        source: &str,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<InboundEvent>, StoreError>;

    /// One bounded pass of retention: message payloads and inbound events from
    /// before `before` (ms) go (attempts and statuses stay), and dedup keys
    /// and settings that expired by `now`; at most `limit` rows of each. Returns how many
    /// rows changed; 0 means nothing is left to do.
    async fn expire(&self, before: i64, now: i64, limit: usize) -> Result<usize, StoreError>;

    /// A small key-value table for server state (the admin token's hash,
    /// app tokens, idempotency answers). A setting past its `expires_at` (ms)
    /// reads as absent, and retention deletes it.
    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn set_setting(
        &self,
        key: &str,
        value: &str,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError>;

    // --- Sending: applications and endpoints -------------------------------

    /// `Conflict` if the uid is taken.
    async fn create_app(&self, app: &App) -> Result<(), StoreError>;
    /// By `app_…` id or by uid.
    async fn get_app(&self, id_or_uid: &str) -> Result<Option<App>, StoreError>;
    /// Newest first.
    async fn list_apps(&self, page: &PageRequest) -> Result<Page<App>, StoreError>;
    async fn update_app(&self, app: &App) -> Result<(), StoreError>;
    /// Deletes the app with its endpoints, messages, deliveries and attempts.
    async fn delete_app(&self, id: &AppId) -> Result<(), StoreError>;

    /// `Conflict` if the uid is taken within the app.
    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError>;
    /// By `ep_…` id or by uid, within the app.
    async fn get_endpoint(
        &self,
        app: &AppId,
        id_or_uid: &str,
    ) -> Result<Option<Endpoint>, StoreError>;
    /// Newest first.
    async fn list_endpoints(
        &self,
        app: &AppId,
        page: &PageRequest,
    ) -> Result<Page<Endpoint>, StoreError>;
    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError>;
    /// Deletes the endpoint and its pending deliveries.
    async fn delete_endpoint(&self, app: &AppId, id: &EndpointId) -> Result<(), StoreError>;

    /// `Conflict` if the name exists.
    async fn create_event_type(&self, event_type: &EventType) -> Result<(), StoreError>;
    async fn get_event_type(&self, name: &str) -> Result<Option<EventType>, StoreError>;
    /// By name, after `page.iterator`.
    async fn list_event_types(&self, page: &PageRequest) -> Result<Page<EventType>, StoreError>;
    async fn update_event_type(&self, event_type: &EventType) -> Result<(), StoreError>;
    async fn delete_event_type(&self, name: &str) -> Result<(), StoreError>;

    // --- Sending: messages and deliveries ----------------------------------

    /// Stores the message and one pending delivery, due at once, for every
    /// endpoint of its app that wants it, in one transaction. Returns how many
    /// deliveries were made; `Conflict` if the app already has its `event_id`.
    async fn publish(&self, message: &Message) -> Result<usize, StoreError>;
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
    /// Disables `endpoint` if every attempt to it since `before` (ms) or
    /// earlier has failed (its failure streak began by then). True if it did.
    async fn disable_if_failing_since(
        &self,
        endpoint: &EndpointId,
        before: i64,
    ) -> Result<bool, StoreError>;
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
    /// Deliveries due at `now`, scheduled later, and failed (for metrics; off
    /// the hot path, its cost grows with the queue).
    async fn queue_depth(&self, now: i64) -> Result<QueueDepth, StoreError>;
    /// When the earliest pending delivery is due (ms), if any.
    async fn next_due(&self) -> Result<Option<i64>, StoreError>;
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

    /// Resolves when another process sharing this store may have published
    /// (PostgreSQL: `LISTEN/NOTIFY`), so an idle engine looks for work at
    /// once. A store that only one process uses never resolves it.
    async fn published_elsewhere(&self) {
        std::future::pending::<()>().await;
    }

    /// Group-commit counters since start, for metrics.
    fn commit_stats(&self) -> CommitStats {
        CommitStats::default()
    }
}

/// How writes were committed: `writes / commits` is the mean batch size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    pub commits: u64,
    pub writes: u64,
}
