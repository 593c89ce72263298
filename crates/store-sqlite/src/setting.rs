//! [`SettingStore`] on SQLite: the `setting` table.

use async_trait::async_trait;
use hookline_core::{SettingStore, StoreError};
use rusqlite::{params, OptionalExtension};

use crate::backend;
use crate::store::SqliteStore;

#[async_trait]
impl SettingStore for SqliteStore {
    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        self.readers
            .read(move |c| {
                c.query_row(
                    "SELECT value FROM setting WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
                    params![key, hookline_core::clock::now_ms()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)
            })
            .await
    }

    async fn set_setting(
        &self,
        key: &str,
        value: &str,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.writer
            .write(move |c| {
                c.execute(
                    "INSERT INTO setting (key, value, expires_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                    params![key, value, expires_at],
                )
                .map(|_| ())
                .map_err(backend)
            })
            .await
    }
}
