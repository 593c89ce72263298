//! [`RouteStore`]: forwarding routes, and what became of each event's
//! forwards: list, resend, recover, counts.

use async_trait::async_trait;

use super::StoreError;
use crate::id::{EventId, RouteId};
use crate::route::{Forward, Route};

#[async_trait]
pub trait RouteStore: Send + Sync + 'static {
    /// `Conflict` if the name is taken.
    async fn create_route(&self, route: &Route) -> Result<(), StoreError>;
    /// Replaces the route with this id; `NotFound` if none, `Conflict` if it
    /// takes another route's name.
    async fn update_route(&self, route: &Route) -> Result<(), StoreError>;
    /// Deletes the route and its forwards; `NotFound` if none.
    async fn delete_route(&self, id: &RouteId) -> Result<(), StoreError>;
    /// By name or `route_…` id.
    async fn get_route(&self, name_or_id: &str) -> Result<Option<Route>, StoreError>;
    /// Every route (of one source, if given), by name.
    async fn list_routes(&self, source: Option<&str>) -> Result<Vec<Route>, StoreError>;
    /// Changes only the paused flag (and updated time); `NotFound` if none.
    async fn set_route_paused(
        &self,
        id: &RouteId,
        paused: bool,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Changes whenever any route is created, changed or deleted, so every
    /// node can tell its cached routes are stale (as `sources_fingerprint`).
    async fn routes_fingerprint(&self) -> Result<(i64, i64), StoreError>;
    /// One event's forwards, one per route it went down.
    async fn list_forwards(
        &self,
        source: &str,
        event: &EventId,
    ) -> Result<Vec<Forward>, StoreError>;
    /// Makes forwards due again at `now` with a fresh retry schedule: the one
    /// of `event` (resend; made if the event had not gone down the route), or,
    /// without an event, every failed forward of events received at or after
    /// `since` (recover). Returns how many; 0 for a resend means the event is
    /// not in the route's source.
    async fn requeue_forwards(
        &self,
        route: &RouteId,
        event: Option<&EventId>,
        since: i64,
        now: i64,
    ) -> Result<usize, StoreError>;
    /// How many forwards each route has waiting (pending or in flight);
    /// routes with none are left out. Reads only the open forwards.
    async fn pending_forwards(&self) -> Result<Vec<(RouteId, u64)>, StoreError>;
}
