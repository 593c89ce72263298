//! Inbox search on PostgreSQL: an event is stored with `search` NULL, and
//! the indexer task fills it in with core's `search_text` (the trigram GIN
//! index follows), a batch per transaction claimed with `SKIP LOCKED` so
//! several nodes share the work. While this node keeps writing (a write
//! within [`BUSY`]) the batches are small ([`BUSY_STEP`]) and the indexer
//! takes at most [`SHARE`] of its own time, so it costs receiving about that
//! much and trails under load; when writes pause it catches up at full
//! speed ([`STEP`]). A search scans what is not
//! indexed yet (`condition`).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use hookline_core::search::search_text;
use hookline_core::{StoreError, TextQuery};

use crate::backend;
use crate::writer::CommitCounters;

/// Events per transaction once writes pause, and while they keep coming:
/// a step's trigram work occupies a core of the database while it runs, and
/// requests that arrive meanwhile queue behind it, so under load the steps
/// are short (measured at 5,000 requests/s: with 64-event steps the p99 of
/// receiving went from 15 to 83 ms).
const STEP: i64 = 64;
const BUSY_STEP: i64 = 16;
const SHARE: f64 = 0.1;
const BUSY: Duration = Duration::from_secs(1);
/// The pause once nothing is left to index.
const IDLE: Duration = Duration::from_millis(200);

/// The listing's text condition: `$9` the `LIKE` pattern, `$10` the folded
/// text. Events not indexed yet are matched on the body as text and the
/// raw headers, folded by PostgreSQL.
pub(crate) fn condition(text: bool) -> &'static str {
    match text {
        true => {
            "(search LIKE $9 OR (search IS NULL AND \
             strpos(lower(hl_body_text(body) || E'\\n' || headers), $10) > 0))"
        }
        false => "$9::text IS NULL AND $10::text IS NULL",
    }
}

/// `q` as a `LIKE` pattern (`\\` escapes, PostgreSQL's default).
pub(crate) fn like_pattern(q: &TextQuery) -> String {
    let mut p = String::with_capacity(q.as_str().len() + 2);
    p.push('%');
    for c in q.as_str().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Starts the indexer; it stops once `alive` (held by the store) is gone.
pub(crate) fn start(pool: Pool, counters: Arc<CommitCounters>, alive: Weak<()>) {
    tokio::spawn(async move {
        let mut writes = counters.writes.load(Ordering::Relaxed);
        let mut last_write = Instant::now();
        while alive.upgrade().is_some() {
            let began = Instant::now();
            let busy = last_write.elapsed() < BUSY;
            let size = if busy { BUSY_STEP } else { STEP };
            let done = match step(&pool, size).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot index events for search; retrying");
                    0
                }
            };
            let now = counters.writes.load(Ordering::Relaxed);
            if now != writes {
                (writes, last_write) = (now, Instant::now());
            }
            let pause = match (done < size, busy) {
                (true, _) => IDLE,
                (false, true) => began.elapsed().mul_f64((1.0 - SHARE) / SHARE),
                (false, false) => Duration::ZERO,
            };
            tokio::time::sleep(pause).await;
        }
    });
}

/// Indexes up to `size` events; how many.
async fn step(pool: &Pool, size: i64) -> Result<i64, StoreError> {
    let mut c = pool.get().await.map_err(crate::pool)?;
    let tx = c.transaction().await.map_err(backend)?;
    let rows = tx
        .query(
            "SELECT source, id, body, headers FROM inbound_event WHERE search IS NULL \
             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
            &[&size],
        )
        .await
        .map_err(backend)?;
    let (mut sources, mut ids, mut texts) = (vec![], vec![], vec![]);
    for r in &rows {
        let body: Vec<u8> = r.try_get(2).map_err(backend)?;
        let headers: String = r.try_get(3).map_err(backend)?;
        let headers: Vec<(String, String)> = serde_json::from_str(&headers).unwrap_or_default();
        sources.push(r.try_get::<_, String>(0).map_err(backend)?);
        ids.push(r.try_get::<_, String>(1).map_err(backend)?);
        texts.push(search_text(&body, &headers));
    }
    if !ids.is_empty() {
        tx.execute(
            "UPDATE inbound_event e SET search = v.s \
             FROM unnest($1::text[], $2::text[], $3::text[]) AS v(src, id, s) \
             WHERE e.source = v.src AND e.id = v.id",
            &[&sources, &ids, &texts],
        )
        .await
        .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(ids.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_escapes_the_wildcards() {
        let q = TextQuery::new("50%_\\").unwrap_or_else(|| panic!("a query"));
        assert_eq!(like_pattern(&q), "%50\\%\\_\\\\%");
    }
}
