//! Inbox search on SQLite: `hl_search_text`, the SQL function that gives an
//! event's searchable text (the same as PostgreSQL's, from core), registered
//! on every connection; the [`Indexer`], which folds the events an insert
//! queued in `search_pending` into the trigram index `event_search` on the
//! writer thread; and the listing's text condition.

use std::time::{Duration, Instant};

use hookline_core::search::search_text;
use hookline_core::{StoreError, TextQuery};
use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection};

use crate::backend;
use crate::rows::EVENT_COLUMNS;

/// Events indexed per step while writes keep coming (one step, about 2 ms,
/// is the most a write arriving then waits), and once they pause (fewer,
/// larger steps write fewer index segments).
const STEP: usize = 16;
const QUIET_STEP: usize = 256;

/// A step longer than this is logged (at debug): writes waited behind it.
const SLOW_STEP: Duration = Duration::from_millis(5);

/// The writer thread's share the index takes while writes keep coming.
const SHARE: f64 = 0.1;

/// Writes this recent mean the inbox is busy.
const BUSY: Duration = Duration::from_secs(1);

/// Registers `hl_search_text(body, headers)` on `conn`.
pub(crate) fn register(conn: &Connection) -> Result<(), StoreError> {
    conn.create_scalar_function(
        "hl_search_text",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let body = ctx.get_raw(0).as_bytes_or_null()?.unwrap_or_default();
            let headers: String = ctx.get(1)?;
            let headers: Vec<(String, String)> = serde_json::from_str(&headers).unwrap_or_default();
            Ok(search_text(body, &headers))
        },
    )
    .map_err(backend)
}

/// Most trigrams of a query the index is asked for: enough to make a
/// candidate rare, few enough that intersecting them stays cheap.
const MOST_TRIGRAMS: usize = 12;

/// `q` as an FTS5 query over an index without positions: every trigram of
/// it (spread along it, at most [`MOST_TRIGRAMS`]), each quoted, all
/// required. It finds a superset of the events holding `q`; the search
/// keeps only those whose text holds `q` itself.
pub(crate) fn fts_query(q: &TextQuery) -> String {
    let chars: Vec<char> = q.as_str().chars().collect();
    let mut all: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    all.sort();
    all.dedup();
    let step = all.len().div_ceil(MOST_TRIGRAMS).max(1);
    all.iter()
        .step_by(step)
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A text search through the index, newest first by rowid (the order the
/// events were stored in): the index's matches and the queued events that
/// contain the text, each side walked backwards from the page's iterator
/// and cut at the page's length, so a rare text and a common one both cost
/// a page of lookups, not a pass over the inbox. `source` is the listing's
/// source condition; the parameters are `list_sql`'s (?8 the FTS query,
/// ?9 the folded text, which each of the index's candidates must hold). `CROSS JOIN` keeps the index (or the queue) the
/// outer loop: SQLite's planner would otherwise walk the inbox and probe the
/// index per row (measured: 2.7 s for a text one event in a million holds).
pub(crate) fn indexed_sql(source: &str) -> String {
    let cols = || {
        EVENT_COLUMNS
            .split(", ")
            .map(|c| format!("e.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let filters = crate::inbox::filters("e.");
    let source = source.replace("source", "e.source");
    let below = "coalesce((SELECT rowid FROM inbound_event WHERE id = ?2), 9223372036854775807)";
    format!(
        "SELECT {EVENT_COLUMNS} FROM ( \
           SELECT * FROM (SELECT e.rowid AS r, {c1} FROM event_search s \
             CROSS JOIN inbound_event e ON e.rowid = s.rowid \
             WHERE event_search MATCH ?8 AND s.rowid < {below} AND {source} AND {filters} \
               AND instr(hl_search_text(e.body, e.headers), ?9) > 0 \
             ORDER BY s.rowid DESC LIMIT ?7) \
           UNION ALL \
           SELECT * FROM (SELECT e.rowid AS r, {c2} FROM search_pending p \
             CROSS JOIN inbound_event e ON e.rowid = p.rowid \
             WHERE p.rowid < {below} AND {source} AND {filters} \
               AND instr(hl_search_text(e.body, e.headers), ?9) > 0 \
             ORDER BY p.rowid DESC LIMIT ?7) \
         ) ORDER BY r DESC LIMIT ?7",
        c1 = cols(),
        c2 = cols(),
    )
}

/// Folds queued events into the index on the writer thread, only while no
/// write waits, [`STEP`] events at a time: a write that arrives meanwhile
/// waits for one step at most. While writes keep coming (one within
/// [`BUSY`]) the steps take at most [`SHARE`] of the thread, so indexing
/// costs receiving no more than that and the index trails under load; once
/// writes pause it catches up at full speed. A search scans what is still
/// queued, so its answer is exact either way.
pub(crate) struct Indexer {
    /// Events may be queued (something was written since the queue was
    /// last found empty).
    behind: bool,
    last_write: Instant,
    /// No step before this.
    next: Instant,
}

impl Default for Indexer {
    fn default() -> Self {
        let now = Instant::now();
        Indexer {
            behind: true,
            last_write: now,
            next: now,
        }
    }
}

impl Indexer {
    pub(crate) fn behind(&self) -> bool {
        self.behind
    }

    /// After each group.
    pub(crate) fn wrote(&mut self) {
        self.behind = true;
        self.last_write = Instant::now();
    }

    /// With no write waiting: a step if its share allows one, else a pause
    /// short enough that a write arriving meanwhile barely notices.
    pub(crate) fn when_idle(&mut self, c: &Connection) {
        let now = Instant::now();
        if now < self.next {
            std::thread::sleep((self.next - now).min(Duration::from_millis(1)));
            return;
        }
        let busy = self.last_write.elapsed() < BUSY;
        let size = if busy { STEP } else { QUIET_STEP };
        // The index is derived data: its commit need not wait for the disk
        // (`synchronous = NORMAL`). The WAL is written in order, so the next
        // request's commit, synced, carries it to disk too; one lost in a
        // crash leaves its events queued, and they are indexed again.
        let step = c
            .execute_batch("PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE")
            .map_err(backend)
            .and_then(|()| index_pending(c, size))
            .and_then(|n| c.execute_batch("COMMIT").map_err(backend).map(|()| n));
        if step.is_err() {
            let _ = c.execute_batch("ROLLBACK");
        }
        // Outside any transaction, where the level can change.
        if let Err(e) = c.execute_batch("PRAGMA synchronous = FULL") {
            tracing::error!(error = %e, "cannot restore synchronous commits after indexing");
        }
        let took = now.elapsed();
        match step {
            Ok(n) => {
                self.behind = n == size;
                if took > SLOW_STEP {
                    tracing::debug!(
                        events = n,
                        ms = took.as_secs_f64() * 1e3,
                        busy,
                        "a search index step held the writer"
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot index events for search; retrying after the next write");
                self.behind = false;
            }
        }
        self.next = match busy {
            true => Instant::now() + took.mul_f64((1.0 - SHARE) / SHARE),
            false => Instant::now(),
        };
    }
}

/// Indexes up to `limit` queued events; how many left the queue.
pub(crate) fn index_pending(c: &Connection, limit: usize) -> Result<usize, StoreError> {
    let limit = limit as i64;
    c.prepare_cached(
        "INSERT INTO event_search (rowid, text) SELECT e.rowid, hl_search_text(e.body, e.headers) \
         FROM inbound_event e WHERE e.rowid IN (SELECT rowid FROM search_pending ORDER BY rowid LIMIT ?1)",
    )
    .and_then(|mut st| st.execute(params![limit]))
    .map_err(backend)?;
    c.prepare_cached(
        "DELETE FROM search_pending WHERE rowid IN (SELECT rowid FROM search_pending ORDER BY rowid LIMIT ?1)",
    )
    .and_then(|mut st| st.execute(params![limit]))
    .map_err(backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_asks_for_its_trigrams_quoted_once_each() {
        let q = TextQuery::new("A\"bA\"b").unwrap_or_else(|| panic!("a query"));
        assert_eq!(fts_query(&q), r#""""ba" AND "a""b" AND "ba""""#);
        let long = TextQuery::new(&"abcdefghij".repeat(5)).unwrap_or_else(|| panic!("a query"));
        assert!(fts_query(&long).matches(" AND ").count() < MOST_TRIGRAMS);
    }
}
