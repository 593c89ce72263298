//! [`Maintenance`] on SQLite: ping, retention in bounded passes, queue depth,
//! commit counters.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use hookline_core::{
    CommitStats, EventId, Maintenance, MessageId, QueueDepth, SettingStore, StoreError,
};
use rusqlite::{params, Connection};

use crate::backend;
use crate::store::SqliteStore;

#[async_trait]
impl Maintenance for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.readers
            .read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(backend))
            .await?;
        let now = hookline_core::clock::now_ms().to_string();
        self.counters
            .health
            .check(|| self.set_setting("health.probe", &now, None))
            .await
    }

    async fn expire(&self, before: i64, now: i64, limit: usize) -> Result<usize, StoreError> {
        self.writer
            .write({
                let search = self.search.clone();
                move |c| expire(c, before, now, limit, search.forgotten())
            })
            .await
    }

    async fn queue_depth(&self, now: i64) -> Result<QueueDepth, StoreError> {
        self.readers.read(move |c| queue_depth(c, now)).await
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

/// Retention: message payloads, dedup keys, inbox events and settings past
/// their time, the activity counts, and the deletions the search indexer has
/// taken out of its index (up to `forgotten`).
pub(crate) fn expire(
    c: &Connection,
    before: i64,
    now: i64,
    limit: usize,
    forgotten: i64,
) -> Result<usize, StoreError> {
    let limit = limit as i64;
    let payloads = c
        .execute(
            "UPDATE message SET payload = NULL WHERE id IN \
             (SELECT id FROM message WHERE payload IS NOT NULL AND id < ?1 ORDER BY id LIMIT ?2)",
            params![MessageId::floor(before).as_str(), limit],
        )
        .map_err(backend)?;
    let dedup = c
        .execute(
            "DELETE FROM dedup WHERE (expires_at, source, key) IN \
             (SELECT expires_at, source, key FROM dedup WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
            params![now, limit],
        )
        .map_err(backend)?;
    let sources: Vec<String> = c
        .prepare_cached("SELECT name FROM source")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(backend)?;
    let mut inbox = 0;
    for s in sources {
        inbox += c
            .execute(
                "DELETE FROM inbound_event WHERE source = ?1 AND id IN \
                 (SELECT id FROM inbound_event WHERE source = ?1 AND id < ?2 ORDER BY id LIMIT ?3)",
                params![s, EventId::floor(before).as_str(), limit],
            )
            .map_err(backend)?;
    }
    let settings = c
        .execute(
            "DELETE FROM setting WHERE key IN \
             (SELECT key FROM setting WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
            params![now, limit],
        )
        .map_err(backend)?;
    let activity = c
        .execute(
            "DELETE FROM activity WHERE minute < ?1",
            params![now - ACTIVITY_KEPT_MS],
        )
        .map_err(backend)?;
    c.prepare_cached("DELETE FROM search_forget WHERE seq <= ?1")
        .and_then(|mut st| st.execute([forgotten]))
        .map_err(backend)?;
    Ok(payloads + dedup + inbox + settings + activity)
}

pub(crate) fn queue_depth(c: &Connection, now: i64) -> Result<QueueDepth, StoreError> {
    c.query_row(
        "SELECT (SELECT count(*) FROM delivery WHERE next_attempt_at <= ?1), \
                (SELECT count(*) FROM delivery WHERE next_attempt_at > ?1), \
                (SELECT count(*) FROM delivery WHERE status = 2)",
        [now],
        |r| {
            Ok(QueueDepth {
                due: r.get(0)?,
                scheduled: r.get(1)?,
                failed: r.get(2)?,
            })
        },
    )
    .map_err(backend)
}
