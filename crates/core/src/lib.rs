//! hookline-core: the domain and the storage contract. Knows no HTTP framework
//! and no SQL.
//!
//! Modules:
//! - [`id`]: typed, prefixed, time-sortable IDs (`src_…`, `evt_…`).
//! - [`activity`]: counts per minute over the last hour (received, delivered,
//!   forwarded), kept by each node and shared through the store.
//! - [`clock`]: milliseconds since the Unix epoch, the one time unit we store.
//! - [`source`]: [`Source`], an ingress point: scheme, secrets, dedup rule, allow-list.
//! - [`inbound`]: [`InboundEvent`], one received request stored byte-exact, and
//!   its [`Verdict`].
//! - [`outbound`]: sending: [`App`], [`Endpoint`], [`Message`], [`Delivery`],
//!   [`Attempt`], and the [`RetryPolicy`] as plain data.
//! - [`route`]: forwarding: [`Route`] (a source's events on to a URL) and
//!   [`Forward`] (one event down one route).
//! - [`filter`]: the JSON filter dialect (Hookdeck/Convoy/Outpost) for endpoints,
//!   routes and inbox search; validated when saved.
//! - [`search`]: inbox text search: an event's searchable text and a [`TextQuery`].
//! - [`page`]: cursor pagination (`iterator`, `limit`) shared by every list.
//! - [`schema`]: refuses JSON Schemas whose references recurse without consuming input.
//! - [`store`]: the storage contract as role traits ([`SourceStore`], [`InboxStore`],
//!   [`CatalogStore`], [`OutboxStore`], [`DeliveryQueue`], …), their supertrait
//!   [`Store`] that every backend implements, and [`StoreError`].
//! - [`text`]: values cut to a length for messages and logs.
//! - `testkit` (feature `testkit`): the contract test-suite every backend must pass.

pub mod activity;
pub mod clock;
pub mod filter;
pub mod id;
pub mod inbound;
pub mod outbound;
pub mod page;
pub mod route;
pub mod schema;
pub mod search;
pub mod source;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod text;

pub use id::{AppId, AttemptId, EndpointId, EventId, MessageId, RouteId, SourceId};
pub use inbound::{EventFilter, InboundEvent, StreamedEvent, Verdict};
pub use outbound::{
    App, Attempt, Claimed, Delivery, DeliveryStatus, Endpoint, EndpointPolicy, EndpointSecret,
    EndpointStats, EventType, HandOut, Message, Next, Published, QueueDepth, RetryPolicy, Trigger,
};
pub use page::{Page, PageRequest};
pub use route::{ClaimedForward, Forward, ForwardTry, NewForward, Route, RouteError, RouteSpec};
pub use search::TextQuery;
pub use source::{
    Auth, AuthKind, DedupRule, EventTypeRule, Replies, Reply, Source, SourceError, SourceSpec,
};
pub use store::{
    ActivityStore, CatalogStore, CommitStats, DeliveryQueue, ForwardQueue, InboxStore, Inserted,
    Maintenance, OutboxStore, RouteStore, SettingStore, SourceStore, Store, StoreError,
    WriteHealth,
};
