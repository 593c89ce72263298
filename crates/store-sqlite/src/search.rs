//! Inbox search on SQLite: `hl_search_text`, the SQL function that gives an
//! event's searchable text (the same as PostgreSQL's, from core), registered
//! on every connection; and the listing's text condition over the trigram
//! index `search.event_search` (kept by the `indexer`) and the events past it.

use hookline_core::search::search_text;
use hookline_core::{StoreError, TextQuery};
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

use crate::backend;
use crate::rows::EVENT_COLUMNS;

/// Registers `hl_search_text(body, headers)` on `conn`.
pub(crate) fn register(conn: &Connection) -> Result<(), StoreError> {
    conn.create_scalar_function(
        "hl_search_text",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let body = ctx.get_raw(0).as_bytes_or_null()?.unwrap_or_default();
            let headers: String = ctx.get(1)?;
            Ok(stored_text(body, &headers))
        },
    )
    .map_err(backend)
}

/// The search text of an event as stored: its body and its headers' JSON.
pub(crate) fn stored_text(body: &[u8], headers: &str) -> String {
    let headers: Vec<(String, String)> = serde_json::from_str(headers).unwrap_or_default();
    search_text(body, &headers)
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
/// events were stored in): the index's matches and the events past the
/// index (its backlog) that contain the text, each side walked backwards
/// from the page's iterator and cut at the page's length, so a rare text
/// and a common one both cost a page of lookups, not a pass over the inbox.
/// `source` is the listing's source condition; the parameters are
/// `list_sql`'s (?8 the FTS query, ?9 the folded text, which each of the
/// index's candidates must hold). `CROSS JOIN` keeps the index (or the
/// backlog's rowid range, `p`) the outer loop: SQLite's planner would otherwise walk the inbox and probe the
/// index per row (measured: 2.7 s for a text one event in a million holds).
/// The index file is the `search` schema (attached to every reader).
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
           SELECT * FROM (SELECT e.rowid AS r, {c1} FROM search.event_search s \
             CROSS JOIN inbound_event e ON e.rowid = s.rowid \
             WHERE event_search MATCH ?8 AND s.rowid < {below} AND {source} AND {filters} \
               AND instr(hl_search_text(e.body, e.headers), ?9) > 0 \
             ORDER BY s.rowid DESC LIMIT ?7) \
           UNION ALL \
           SELECT * FROM (SELECT e.rowid AS r, {c2} FROM inbound_event p \
             CROSS JOIN inbound_event e ON e.rowid = p.rowid \
             WHERE p.rowid > (SELECT indexed FROM search.progress) \
               AND p.rowid < {below} AND {source} AND {filters} \
               AND instr(hl_search_text(e.body, e.headers), ?9) > 0 \
             ORDER BY p.rowid DESC LIMIT ?7) \
         ) ORDER BY r DESC LIMIT ?7",
        c1 = cols(),
        c2 = cols(),
    )
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
