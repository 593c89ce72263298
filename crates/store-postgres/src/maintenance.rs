//! [`Maintenance`] on PostgreSQL: ping, retention in bounded passes, queue
//! depth, commit counters.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use hookline_core::{
    CommitStats, EventId, Maintenance, MessageId, QueueDepth, SettingStore, StoreError,
};

use crate::codec::*;
use crate::sql::*;
use crate::store::PgStore;

#[async_trait]
impl Maintenance for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        rows(&self.db().await?, "SELECT 1", &[]).await?;
        let now = hookline_core::clock::now_ms().to_string();
        self.counters
            .health
            .check(|| self.set_setting("health.probe", &now, None))
            .await
    }

    async fn expire(&self, before: i64, now: i64, limit: usize) -> Result<usize, StoreError> {
        expire(&self.db().await?, before, now, limit).await
    }

    async fn queue_depth(&self, now: i64) -> Result<QueueDepth, StoreError> {
        queue_depth(&self.db().await?, now).await
    }

    fn commit_stats(&self) -> CommitStats {
        CommitStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
        }
    }
}

/// How long each node's counts per minute are kept.
const ACTIVITY_KEPT_MS: i64 = 2 * 3_600_000;

pub(crate) async fn expire(
    c: &Db,
    before: i64,
    now: i64,
    limit: usize,
) -> Result<usize, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut changed = exec(
        c,
        "UPDATE message SET payload = NULL WHERE id IN \
         (SELECT id FROM message WHERE payload IS NOT NULL AND id < $1 ORDER BY id LIMIT $2)",
        &[&MessageId::floor(before).as_str(), &limit],
    )
    .await?;
    changed += exec(
        c,
        "DELETE FROM dedup WHERE (source, key) IN \
         (SELECT source, key FROM dedup WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)",
        &[&now, &limit],
    )
    .await?;
    changed += exec(
        c,
        "DELETE FROM setting WHERE key IN \
         (SELECT key FROM setting WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)",
        &[&now, &limit],
    )
    .await?;
    changed += exec(
        c,
        "DELETE FROM activity WHERE minute < $1",
        &[&(now - ACTIVITY_KEPT_MS)],
    )
    .await?;
    let sources = rows(c, "SELECT name FROM source", &[]).await?;
    let floor = EventId::floor(before).to_string();
    for s in &sources {
        let name: String = get(s, 0)?;
        changed += exec(
            c,
            "DELETE FROM inbound_event WHERE source = $1 AND id IN \
             (SELECT id FROM inbound_event WHERE source = $1 AND id < $2 ORDER BY id LIMIT $3)",
            &[&name, &floor, &limit],
        )
        .await?;
    }
    Ok(usize::try_from(changed).unwrap_or(usize::MAX))
}

pub(crate) async fn queue_depth(c: &Db, now: i64) -> Result<QueueDepth, StoreError> {
    let found = rows(
        c,
        "SELECT (SELECT count(*) FROM delivery WHERE next_attempt_at <= $1), \
                (SELECT count(*) FROM delivery WHERE next_attempt_at > $1), \
                (SELECT count(*) FROM delivery WHERE status = 2)",
        &[&now],
    )
    .await?;
    let r = found
        .first()
        .ok_or_else(|| StoreError::Backend("no queue depth row".into()))?;
    let n = |i| get::<i64>(r, i).map(|v| u64::try_from(v).unwrap_or(0));
    Ok(QueueDepth {
        due: n(0)?,
        scheduled: n(1)?,
        failed: n(2)?,
    })
}
