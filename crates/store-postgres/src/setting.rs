//! [`SettingStore`] on PostgreSQL: the `setting` table.

use async_trait::async_trait;
use hookline_core::{SettingStore, StoreError};

use crate::sql::*;
use crate::store::PgStore;

#[async_trait]
impl SettingStore for PgStore {
    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let found = rows(
            &self.db().await?,
            "SELECT value FROM setting WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)",
            &[&key, &hookline_core::clock::now_ms()],
        )
        .await?;
        found.first().map(|r| crate::codec::get(r, 0)).transpose()
    }

    async fn set_setting(
        &self,
        key: &str,
        value: &str,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        exec(
            &self.db().await?,
            "INSERT INTO setting (key, value, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
            &[&key, &value, &expires_at],
        )
        .await
        .map(|_| ())
    }
}
