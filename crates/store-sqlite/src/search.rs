//! Inbox search on SQLite: `hl_search_text`, the SQL function that gives an
//! event's searchable text (the same as PostgreSQL's, from core), registered
//! on every connection; the [`Indexer`], which folds the events an insert
//! queued in `search_pending` into the trigram index `event_search` at the
//! end of the writer's groups; and the listing's text condition.

use std::time::{Duration, Instant};

use hookline_core::search::search_text_of;
use hookline_core::{StoreError, TextQuery};
use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection};

use crate::backend;

/// Most events indexed per step (a step holds up the group it rides in).
const STEP: usize = 1024;

/// Least time between two steps.
const EVERY: Duration = Duration::from_millis(50);

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
            Ok(search_text_of(body, &headers))
        },
    )
    .map_err(backend)
}

/// The listing's text condition: ?8 is the FTS phrase (three characters or
/// more), ?9 the folded text itself.
pub(crate) fn condition(text: Option<&TextQuery>) -> &'static str {
    match text {
        None => "?8 IS NULL AND ?9 IS NULL",
        Some(q) if q.indexed() => {
            "(rowid IN (SELECT rowid FROM event_search WHERE event_search MATCH ?8) \
             OR (rowid IN (SELECT rowid FROM search_pending) \
                 AND instr(hl_search_text(body, headers), ?9) > 0))"
        }
        Some(_) => "?8 IS NULL AND instr(hl_search_text(body, headers), ?9) > 0",
    }
}

/// Folds queued events into the index at the end of the writer's groups,
/// inside their transaction (so it costs no commit of its own), at most
/// every [`EVERY`] and [`STEP`] events at a time: the index trails the
/// inbox by about that much (a search scans the rest), and the request
/// path pays only the queue's small insert.
pub(crate) struct Indexer {
    last: Instant,
}

impl Default for Indexer {
    fn default() -> Self {
        Indexer {
            last: Instant::now() - EVERY,
        }
    }
}

impl Indexer {
    /// One step, if one is due. A failure only delays indexing (the queue
    /// stays), and never the group: it is undone to its savepoint.
    pub(crate) fn ride(&mut self, c: &Connection) {
        if self.last.elapsed() < EVERY {
            return;
        }
        self.last = Instant::now();
        let step = c
            .execute_batch("SAVEPOINT search")
            .map_err(backend)
            .and_then(|()| index_pending(c, STEP));
        let end = match &step {
            Ok(_) => "RELEASE search",
            Err(e) => {
                tracing::warn!(error = %e, "cannot index events for search; the next group retries");
                "ROLLBACK TO search; RELEASE search"
            }
        };
        let _ = c.execute_batch(end);
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
