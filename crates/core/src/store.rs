//! The storage contract. Backends (`store-sqlite`, `store-postgres`) implement
//! [`Store`]; the server and engine only ever see `Arc<dyn Store>`.
//!
//! Durability: every write method returns only after its data is committed to
//! disk (group commit may share that commit with other writers).

use std::time::Duration;

use async_trait::async_trait;

use crate::id::EventId;
use crate::inbound::{EventFilter, InboundEvent};
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

    /// A small key-value table for server state (e.g. the admin token's hash).
    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError>;

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
