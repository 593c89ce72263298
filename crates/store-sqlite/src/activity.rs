//! [`ActivityStore`] on SQLite: the `activity` table.

use async_trait::async_trait;
use hookline_core::activity::Minute;
use hookline_core::{ActivityStore, StoreError};
use rusqlite::params;

use crate::backend;
use crate::store::SqliteStore;

#[async_trait]
impl ActivityStore for SqliteStore {
    async fn put_activity(
        &self,
        node: &str,
        kind: &str,
        minutes: &[Minute],
    ) -> Result<(), StoreError> {
        let (node, kind, minutes) = (node.to_string(), kind.to_string(), minutes.to_vec());
        self.writer
            .write(move |c| {
                let mut st = c
                    .prepare_cached(
                        "INSERT OR REPLACE INTO activity (kind, minute, node, ok, failed, total_ms) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(backend)?;
                for m in &minutes {
                    st.execute(params![kind, m.at, node, m.ok, m.failed, m.total_ms])
                        .map_err(backend)?;
                }
                Ok(())
            })
            .await
    }

    async fn activity(
        &self,
        kind: &str,
        since: i64,
        except: Option<&str>,
    ) -> Result<Vec<Minute>, StoreError> {
        let (kind, except) = (kind.to_string(), except.unwrap_or("").to_string());
        self.readers
            .read(move |c| {
                let mut st = c
                    .prepare_cached(
                        "SELECT minute, sum(ok), sum(failed), sum(total_ms) FROM activity \
                         WHERE kind = ?1 AND minute >= ?2 AND node <> ?3 \
                         GROUP BY minute ORDER BY minute",
                    )
                    .map_err(backend)?;
                st.query_map(params![kind, since, except], |r| {
                    Ok(Minute {
                        at: r.get(0)?,
                        ok: r.get(1)?,
                        failed: r.get(2)?,
                        total_ms: r.get(3)?,
                    })
                })
                .and_then(|rows| rows.collect())
                .map_err(backend)
            })
            .await
    }
}
