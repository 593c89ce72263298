//! [`InboxStore`]: received requests, stored byte-exact and de-duplicated.

use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;
use crate::id::EventId;
use crate::inbound::{EventFilter, InboundEvent};
use crate::page::{Page, PageRequest};
use crate::route::NewForward;

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
pub trait InboxStore: Send + Sync + 'static {
    /// Stores one event. When it is accepted and has a dedup key, the key is
    /// checked and recorded in the same transaction: a key seen within
    /// `dedup_window` yields `Duplicate` and nothing is stored. Rejected events
    /// are kept at most `rejected_cap` per source (oldest dropped first).
    /// An accepted event that is stored also gets its `forwards` (pending,
    /// due at once, or handed off: in flight under a lease), in the same
    /// transaction; a forward down a route that no longer exists is dropped.
    async fn insert_event(
        &self,
        event: InboundEvent,
        dedup_window: Duration,
        rejected_cap: usize,
        forwards: Vec<NewForward>,
    ) -> Result<Inserted, StoreError>;
    async fn get_event(
        &self,
        source: &str,
        id: &EventId,
    ) -> Result<Option<InboundEvent>, StoreError>;
    /// A source's events after `after` (all, without it), oldest first: what
    /// a stream sends next.
    async fn events_after(
        &self,
        source: &str,
        after: Option<&EventId>,
        limit: usize,
    ) -> Result<Vec<InboundEvent>, StoreError>;
    /// A source's events (every source's, with `None`), newest first,
    /// narrowed by `filter`; its text query is answered by an index.
    async fn list_events(
        &self,
        source: Option<&str>,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<InboundEvent>, StoreError>;
}
