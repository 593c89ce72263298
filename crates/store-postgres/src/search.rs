//! Inbox search on PostgreSQL: an event is stored with `search` NULL, and
//! the indexer task fills it in with core's `search_text` (the trigram GIN
//! index follows), a batch per transaction claimed with `SKIP LOCKED` so
//! several nodes share the work. PostgreSQL has no idle priority to give
//! it, so the indexer paces itself by what this node's writer sees:
//! - writes paused (none within [`BUSY`]): full speed, [`STEP`] a batch;
//! - writes coming, the index within [`LAG`] of them, or the writer crowded
//!   (more than [`CROWDED`] writes a commit: requests are queueing for the
//!   database): small batches ([`BUSY_STEP`]) and at most [`SHARE`] of its
//!   own time, so it costs receiving about that much and trails a load that
//!   saturates the database;
//! - writes coming, the index more than [`LAG`] behind and the writer not
//!   crowded (the database has room): [`BEHIND_SHARE`] of its time, to keep
//!   the index within about a second of a load the database can carry.
//!
//! A search scans what is not indexed yet (`condition`).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use hookline_core::clock::now_ms;
use hookline_core::search::search_text;
use hookline_core::{EventId, StoreError, TextQuery};

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
/// The index is behind once the newest event it took is older than this.
const LAG: Duration = Duration::from_millis(300);
const BEHIND_SHARE: f64 = 0.5;
/// How often the writer's counters are read.
const WINDOW: Duration = Duration::from_millis(250);
/// Writes per commit over a [`WINDOW`] above which requests are taken to
/// queue for the database: below it, a commit mostly carries one request or
/// two.
const CROWDED: f64 = 4.0;
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
        let mut writer = Pace::new(&counters);
        while alive.upgrade().is_some() {
            let began = Instant::now();
            let busy = writer.last_write.elapsed() < BUSY;
            let size = if busy { BUSY_STEP } else { STEP };
            let (done, newest) = match step(&pool, size).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot index events for search; retrying");
                    (0, None)
                }
            };
            let crowded = writer.watch(&counters) > CROWDED;
            let behind = newest.is_some_and(|t| now_ms() - t > LAG.as_millis() as i64);
            let share = match behind && !crowded {
                true => BEHIND_SHARE,
                false => SHARE,
            };
            let pause = match (done < size, busy) {
                (true, _) => IDLE,
                (false, true) => began.elapsed().mul_f64((1.0 - share) / share),
                (false, false) => Duration::ZERO,
            };
            tokio::time::sleep(pause).await;
        }
    });
}

/// What the indexer reads off this node's writer: when it last wrote, and
/// how many writes a commit carried lately.
struct Pace {
    last_write: Instant,
    since: Instant,
    writes: u64,
    commits: u64,
    per_commit: f64,
}

impl Pace {
    fn new(c: &CommitCounters) -> Pace {
        Pace {
            last_write: Instant::now(),
            since: Instant::now(),
            writes: c.writes.load(Ordering::Relaxed),
            commits: c.commits.load(Ordering::Relaxed),
            per_commit: 0.0,
        }
    }

    /// Takes in the counters (a new window each [`WINDOW`]); the writes per
    /// commit of the last window.
    fn watch(&mut self, c: &CommitCounters) -> f64 {
        if self.since.elapsed() >= WINDOW {
            let writes = c.writes.load(Ordering::Relaxed);
            let commits = c.commits.load(Ordering::Relaxed);
            if writes != self.writes {
                self.last_write = Instant::now();
            }
            let n = commits.saturating_sub(self.commits).max(1);
            self.per_commit = writes.saturating_sub(self.writes) as f64 / n as f64;
            (self.writes, self.commits, self.since) = (writes, commits, Instant::now());
        }
        self.per_commit
    }
}

/// Indexes up to `size` events; how many, and the time (Unix ms) of the
/// newest of them.
async fn step(pool: &Pool, size: i64) -> Result<(i64, Option<i64>), StoreError> {
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
    let newest = ids
        .last()
        .and_then(|id| id.parse::<EventId>().ok()?.time_ms());
    Ok((ids.len() as i64, newest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adds `writes` in `commits` commits to the counters.
    fn wrote(c: &CommitCounters, writes: u64, commits: u64) {
        c.writes.fetch_add(writes, Ordering::Relaxed);
        c.commits.fetch_add(commits, Ordering::Relaxed);
    }

    #[test]
    fn the_pace_reads_writes_per_commit_once_a_window_has_passed() {
        let c = CommitCounters::default();
        let mut pace = Pace::new(&c);
        wrote(&c, 40, 4);
        assert_eq!(pace.watch(&c), 0.0, "no window has passed yet");
        std::thread::sleep(WINDOW);
        assert_eq!(pace.watch(&c), 10.0, "crowded: ten writes a commit");
        wrote(&c, 3, 2);
        std::thread::sleep(WINDOW);
        assert_eq!(pace.watch(&c), 1.5, "the next window alone");
        assert!(pace.last_write.elapsed() < WINDOW, "it saw the writes");
    }

    #[test]
    fn a_window_without_writes_leaves_the_last_write_where_it_was() {
        let c = CommitCounters::default();
        let mut pace = Pace::new(&c);
        let first = pace.last_write;
        std::thread::sleep(WINDOW);
        assert_eq!(pace.watch(&c), 0.0);
        assert_eq!(pace.last_write, first);
    }

    #[test]
    fn a_pattern_escapes_the_wildcards() {
        let q = TextQuery::new("50%_\\").unwrap_or_else(|| panic!("a query"));
        assert_eq!(like_pattern(&q), "%50\\%\\_\\\\%");
    }
}
