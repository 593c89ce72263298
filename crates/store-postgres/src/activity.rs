//! [`ActivityStore`] on PostgreSQL: the `activity` table.

use async_trait::async_trait;
use hookline_core::activity::Minute;
use hookline_core::{ActivityStore, StoreError};

use crate::codec::get;
use crate::sql::*;
use crate::store::PgStore;

/// A count as the database holds it (BIGINT) and back.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl ActivityStore for PgStore {
    async fn put_activity(
        &self,
        node: &str,
        kind: &str,
        minutes: &[Minute],
    ) -> Result<(), StoreError> {
        let db = self.db().await?;
        for m in minutes {
            exec(
                &db,
                "INSERT INTO activity (kind, minute, node, ok, failed, total_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, minute, node) \
                 DO UPDATE SET ok = excluded.ok, failed = excluded.failed, total_ms = excluded.total_ms",
                &[&kind, &m.at, &node, &count(m.ok), &count(m.failed), &m.total_ms],
            )
            .await?;
        }
        Ok(())
    }

    async fn activity(
        &self,
        kind: &str,
        since: i64,
        except: Option<&str>,
    ) -> Result<Vec<Minute>, StoreError> {
        let found = rows(
            &self.db().await?,
            "SELECT minute, sum(ok)::bigint, sum(failed)::bigint, sum(total_ms) FROM activity \
             WHERE kind = $1 AND minute >= $2 AND node <> $3 GROUP BY minute ORDER BY minute",
            &[&kind, &since, &except.unwrap_or("")],
        )
        .await?;
        found
            .iter()
            .map(|r| {
                let (ok, failed): (i64, i64) = (get(r, 1)?, get(r, 2)?);
                Ok(Minute {
                    at: get(r, 0)?,
                    ok: u64::try_from(ok).unwrap_or(0),
                    failed: u64::try_from(failed).unwrap_or(0),
                    total_ms: get(r, 3)?,
                })
            })
            .collect()
    }
}
