//! [`CatalogStore`]: what messages are sent to: applications, their
//! endpoints, and the event types.

use async_trait::async_trait;

use super::StoreError;
use crate::id::{AppId, EndpointId};
use crate::outbound::{App, Endpoint, EventType};
use crate::page::{Page, PageRequest};

#[async_trait]
pub trait CatalogStore: Send + Sync + 'static {
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
    /// Replaces the endpoint's row with `endpoint` (an edit).
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
}
