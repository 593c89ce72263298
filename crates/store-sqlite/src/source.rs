//! [`SourceStore`] on SQLite: the `source` table.

use async_trait::async_trait;
use hookline_core::{Source, SourceStore, StoreError};
use rusqlite::{params_from_iter, OptionalExtension};

use crate::backend;
use crate::rows::{self, *};
use crate::store::SqliteStore;

#[async_trait]
impl SourceStore for SqliteStore {
    async fn create_source(&self, source: &Source) -> Result<(), StoreError> {
        let values = rows::source_params(source)?;
        self.writer
            .write(move |c| {
                c.execute(&insert_source_sql("INSERT"), params_from_iter(&values))
                    .map(|_| ())
                    .map_err(backend)
            })
            .await
            .map_err(|e| source_conflict(e, source))
    }

    async fn update_source(&self, source: &Source) -> Result<(), StoreError> {
        let values = rows::source_params(source)?;
        self.writer
            .write(move |c| {
                let sql =
                    "UPDATE source SET scheme = ?3, secrets = ?4, tolerance_ms = ?5, dedup = ?6, \
                           dedup_window_ms = ?7, allow_ips = ?8, rate_limit = ?9, updated_at = ?11, \
                           path = ?12, options = ?13 WHERE name = ?2";
                match c.execute(sql, params_from_iter(&values)).map_err(backend)? {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            })
            .await
            .map_err(|e| source_conflict(e, source))
    }

    async fn upsert_source(&self, source: &Source) -> Result<(), StoreError> {
        let values = rows::source_params(source)?;
        self.writer
            .write(move |c| {
                let sql = format!(
                    "{} ON CONFLICT(name) DO UPDATE SET scheme = excluded.scheme, secrets = excluded.secrets, \
                     tolerance_ms = excluded.tolerance_ms, dedup = excluded.dedup, \
                     dedup_window_ms = excluded.dedup_window_ms, allow_ips = excluded.allow_ips, \
                     rate_limit = excluded.rate_limit, updated_at = excluded.updated_at, \
                     path = excluded.path, options = excluded.options",
                    insert_source_sql("INSERT")
                );
                c.execute(&sql, params_from_iter(&values)).map_err(backend).map(|_| ())
            })
            .await
            .map_err(|e| source_conflict(e, source))
    }

    async fn delete_source(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.writer
            .write(move |c| {
                match c
                    .execute("DELETE FROM source WHERE name = ?1", [&name])
                    .map_err(backend)?
                {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            })
            .await
    }

    async fn get_source(&self, name: &str) -> Result<Option<Source>, StoreError> {
        let name = name.to_string();
        self.readers
            .read(move |c| {
                c.query_row(
                    &format!("SELECT {SOURCE_COLUMNS} FROM source WHERE name = ?1"),
                    [name],
                    rows::source,
                )
                .optional()
                .map_err(backend)
            })
            .await
    }

    async fn sources_fingerprint(&self) -> Result<(i64, i64), StoreError> {
        self.readers
            .read(|c| {
                c.query_row(
                    "SELECT count(*), coalesce(sum(updated_at % 1000000007), 0) FROM source",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(backend)
            })
            .await
    }

    async fn list_sources(&self) -> Result<Vec<Source>, StoreError> {
        self.readers
            .read(|c| {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {SOURCE_COLUMNS} FROM source ORDER BY name"
                    ))
                    .map_err(backend)?;
                let rows = st.query_map([], rows::source).map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)
            })
            .await
    }
}

fn insert_source_sql(verb: &str) -> String {
    format!("{verb} INTO source ({SOURCE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")
}
