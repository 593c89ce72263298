//! The storage contract as small role traits, one file each. Backends
//! (`store-sqlite`, `store-postgres`) implement every role; [`Store`] is the
//! supertrait of them all (with a blanket impl), so the composition root hands
//! one `Arc<dyn Store>` around while each component takes only the roles it
//! uses (the engine's dispatcher takes a [`DeliveryQueue`]).
//!
//! Durability: every write method returns only after its data is committed to
//! disk (group commit may share that commit with other writers).
//!
//! Roles:
//! - [`SourceStore`]: the ingress points (`src_…`).
//! - [`InboxStore`]: received events, stored byte-exact, de-duplicated.
//! - [`SettingStore`]: a small key-value table for server state.
//! - [`CatalogStore`]: applications, endpoints and event types.
//! - [`OutboxStore`]: publishing messages, their deliveries and attempts, resend.
//! - [`DeliveryQueue`]: what the dispatcher does: claim, record, postpone.
//! - [`RouteStore`]: forwarding routes, each event's forwards, resend, recover.
//! - [`ForwardQueue`]: what the dispatcher does with forwards.
//! - [`Maintenance`]: health, retention, queue depth, commit counters.
//! - [`ActivityStore`]: each node's counts per minute, for a cluster-wide dashboard.
//!
//! [`WriteHealth`] is what the backends' writers report to, so a store that
//! cannot write (a full disk) answers [`StoreError::Unavailable`] and its
//! `ping` fails until a write succeeds again.

mod activity;
mod catalog;
mod forward;
mod health;
mod inbox;
mod maintenance;
mod outbox;
mod queue;
mod route;
mod setting;
mod source;

pub use activity::ActivityStore;
pub use catalog::CatalogStore;
pub use forward::ForwardQueue;
pub use health::WriteHealth;
pub use inbox::{InboxStore, Inserted};
pub use maintenance::{CommitStats, Maintenance};
pub use outbox::OutboxStore;
pub use queue::DeliveryQueue;
pub use route::RouteStore;
pub use setting::SettingStore;
pub use source::SourceStore;

/// A storage failure. Backends convert their driver's errors once, into these.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the store is shut down")]
    Closed,
    /// Nothing can be written now (a full, read-only or failing disk, a lost
    /// database): worth retrying later, answered as 503.
    #[error("the store cannot write: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Backend(String),
}

/// Every role at once: what a backend is, and what the composition root holds.
pub trait Store:
    SourceStore
    + InboxStore
    + SettingStore
    + CatalogStore
    + OutboxStore
    + DeliveryQueue
    + RouteStore
    + ForwardQueue
    + Maintenance
    + ActivityStore
{
}

impl<T> Store for T where
    T: SourceStore
        + InboxStore
        + SettingStore
        + CatalogStore
        + OutboxStore
        + DeliveryQueue
        + RouteStore
        + ForwardQueue
        + Maintenance
        + ActivityStore
{
}
