//! [`SettingStore`]: a small key-value table for server state (the admin
//! token's hash, app tokens, idempotency answers).

use async_trait::async_trait;

use super::StoreError;

#[async_trait]
pub trait SettingStore: Send + Sync + 'static {
    /// A setting past its `expires_at` (ms) reads as absent, and retention deletes it.
    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn set_setting(
        &self,
        key: &str,
        value: &str,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError>;
}
