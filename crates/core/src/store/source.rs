//! [`SourceStore`]: the named ingress points.

use async_trait::async_trait;

use super::StoreError;
use crate::source::Source;

#[async_trait]
pub trait SourceStore: Send + Sync + 'static {
    /// Creates a source; `Conflict` if the name is taken.
    async fn create_source(&self, source: &Source) -> Result<(), StoreError>;
    /// Replaces the source of this name; `NotFound` if there is none.
    async fn update_source(&self, source: &Source) -> Result<(), StoreError>;
    /// Creates or replaces (for sources defined in the config file).
    async fn upsert_source(&self, source: &Source) -> Result<(), StoreError>;
    async fn delete_source(&self, name: &str) -> Result<(), StoreError>;
    async fn get_source(&self, name: &str) -> Result<Option<Source>, StoreError>;
    /// A value that changes whenever any source is created, changed or
    /// deleted (by any node): each node compares it to find out, cheaply,
    /// that its cached sources are stale.
    async fn sources_fingerprint(&self) -> Result<(i64, i64), StoreError>;
    /// Every source, by name.
    async fn list_sources(&self) -> Result<Vec<Source>, StoreError>;
}
