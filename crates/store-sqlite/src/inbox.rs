//! [`InboxStore`] on SQLite: inbound events, inserted through the writer with
//! their dedup keys (the in-memory index in `dedup`), read from the pool.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use hookline_core::{
    EventFilter, EventId, InboundEvent, InboxStore, Inserted, NewForward, Page, PageRequest,
    StoreError,
};
use rusqlite::{params, Connection, OptionalExtension};

use crate::backend;
use crate::rows::{self, *};
use crate::store::SqliteStore;

#[async_trait]
impl InboxStore for SqliteStore {
    async fn insert_event(
        &self,
        event: InboundEvent,
        dedup_window: Duration,
        rejected_cap: usize,
        routes: Vec<NewForward>,
    ) -> Result<Inserted, StoreError> {
        let dedup = self.dedup.clone();
        self.writer
            .write_with_undo(move |c| {
                let id = event.id.clone();
                let source = event.source.clone();
                let rejected = !event.verdict.accepted();
                let mut index = dedup
                    .lock()
                    .map_err(|_| StoreError::Backend("the dedup index was poisoned".into()))?;
                // Rejected requests never claim a delivery id.
                let mut recorded = None;
                if let (false, Some(key)) = (rejected, &event.dedup_key) {
                    if let Some(seen) = index.find(c, &source, key, event.received_at)? {
                        let seen = seen
                            .parse()
                            .map_err(|e| StoreError::Backend(format!("{e}")))?;
                        return Ok((Inserted::Duplicate(seen), None));
                    }
                    let expires = event.received_at.saturating_add(ms(dedup_window));
                    recorded = Some(index.record(c, &source, key, id.as_str(), expires)?);
                }
                let stored =
                    insert_inbound(c, &event, &source, rejected, rejected_cap).and_then(|()| {
                        if rejected {
                            return Ok(());
                        }
                        crate::forward::insert_forwards(c, &source, &id, &routes, event.received_at)
                    });
                if let Err(e) = stored {
                    if let Some(r) = &recorded {
                        index.undo(r);
                    }
                    return Err(e);
                }
                drop(index);
                let undo = recorded.map(|r| {
                    let dedup = dedup.clone();
                    Box::new(move || {
                        if let Ok(mut index) = dedup.lock() {
                            index.undo(&r);
                        }
                    }) as crate::writer::Undo
                });
                Ok((Inserted::Stored(id), undo))
            })
            .await
    }

    async fn get_event(
        &self,
        source: &str,
        id: &EventId,
    ) -> Result<Option<InboundEvent>, StoreError> {
        let (source, id) = (source.to_string(), id.to_string());
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM inbound_event WHERE id = ?1 AND source = ?2"
                ))
                .and_then(|mut st| st.query_row([id, source], rows::event).optional())
                .map_err(backend)
            })
            .await
    }

    async fn events_after(
        &self,
        source: &str,
        after: Option<&EventId>,
        limit: usize,
    ) -> Result<Vec<InboundEvent>, StoreError> {
        let (source, after) = (source.to_string(), after.map(ToString::to_string));
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM inbound_event WHERE source = ?1 \
                     AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3"
                ))
                .and_then(|mut st| {
                    st.query_map(params![source, after, limit as i64], rows::event)?
                        .collect()
                })
                .map_err(backend)
            })
            .await
    }

    async fn list_events(
        &self,
        source: Option<&str>,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<InboundEvent>, StoreError> {
        let (source, filter, page) = (source.map(str::to_string), filter.clone(), page.clone());
        self.readers
            .read(move |c| {
                let mut st = c
                    .prepare_cached(&list_sql(source.is_some(), filter.text.as_ref()))
                    .map_err(backend)?;
                let fts = filter
                    .text
                    .as_ref()
                    .filter(|q| q.indexed())
                    .map(crate::search::fts_query);
                let text = filter.text.as_ref().map(|q| q.as_str().to_string());
                let rows = st
                    .query_map(
                        params![
                            source,
                            page.iterator,
                            filter.event_type,
                            filter.verdict.map(|v| v.as_str()),
                            filter.after,
                            filter.before,
                            (page.limit + 1) as i64,
                            fts,
                            text,
                        ],
                        rows::event,
                    )
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                Ok(Page::from_rows(rows, page.limit, |e| e.id.to_string()))
            })
            .await
    }
}

/// The listing query: by source (its primary key) or across sources (by
/// id), newest first; a text query of three characters or more goes through
/// the search index instead (see `search::indexed_sql`), a shorter one scans
/// the candidates. Parameters: ?1 source, ?2 the page's iterator, ?3 event
/// type, ?4 verdict, ?5 after, ?6 before, ?7 limit, ?8 and ?9 the text.
fn list_sql(by_source: bool, text: Option<&hookline_core::TextQuery>) -> String {
    let source = match by_source {
        true => "source = ?1",
        false => "?1 IS NULL",
    };
    if text.is_some_and(|q| q.indexed()) {
        return crate::search::indexed_sql(source);
    }
    let text = match text {
        None => "?8 IS NULL AND ?9 IS NULL",
        Some(_) => "?8 IS NULL AND instr(hl_search_text(body, headers), ?9) > 0",
    };
    let filters = filters("");
    format!(
        "SELECT {EVENT_COLUMNS} FROM inbound_event WHERE {source} AND {filters} AND {text} \
         AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?7"
    )
}

/// The listing's filters but the source and the text (parameters ?3–?6),
/// on the columns of the table named by `prefix` (`""` or `"e."`).
pub(crate) fn filters(prefix: &str) -> String {
    format!(
        "(?3 IS NULL OR {prefix}event_type = ?3) AND (?4 IS NULL OR {prefix}verdict = ?4) \
         AND (?5 IS NULL OR {prefix}received_at >= ?5) AND (?6 IS NULL OR {prefix}received_at < ?6)"
    )
}

static INSERT_EVENT: LazyLock<String> = LazyLock::new(|| {
    format!("INSERT INTO inbound_event ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")
});

/// Inserts one inbound event; a rejected one also trims its source's rejected
/// events to `cap` (oldest first).
fn insert_inbound(
    c: &Connection,
    event: &InboundEvent,
    source: &str,
    rejected: bool,
    cap: usize,
) -> Result<(), StoreError> {
    let mut insert = c.prepare_cached(&INSERT_EVENT).map_err(backend)?;
    rows::insert_event(&mut insert, event)?;
    if rejected {
        c.prepare_cached(
            "DELETE FROM inbound_event WHERE source = ?1 AND verdict = 'rejected' AND id <= \
             (SELECT id FROM inbound_event WHERE source = ?1 AND verdict = 'rejected' \
              ORDER BY id DESC LIMIT 1 OFFSET ?2)",
        )
        .and_then(|mut st| st.execute(params![source, cap as i64]))
        .map_err(backend)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use hookline_core::testkit::event;
    use hookline_core::Verdict;
    use hookline_signature::Scheme;

    use hookline_core::{Maintenance, Source, SourceStore};

    use super::*;
    use crate::writer::testing;

    fn fail<T>(e: impl std::fmt::Display) -> T {
        panic!("{e}")
    }

    /// One group holds two events with the same delivery id, one with another
    /// id, and a source create that fails (the name is taken), in that order.
    /// The failure reruns the group with a savepoint per write; the events
    /// must come out as if it had not: the keys the first run recorded are
    /// taken back, so the rerun finds no duplicate of an event in itself.
    #[tokio::test]
    async fn a_rerun_group_keeps_its_dedup_keys_right() {
        let dir = tempfile::tempdir().unwrap_or_else(fail);
        let path = dir.path().join("hookline.db");
        let store = SqliteStore::open(&path).unwrap_or_else(fail);
        let taken = Source::new("gh", Scheme::Github).unwrap_or_else(fail);
        store.create_source(&taken).await.unwrap_or_else(fail);
        let window = Duration::from_secs(3600);
        let now = hookline_core::clock::now_ms();
        let insert = |store: &SqliteStore, at: i64, key: &str| {
            let (store, e) = (
                store.clone(),
                event("gh", at, b"{}", Verdict::Verified, Some(key)),
            );
            tokio::spawn(async move { store.insert_event(e, window, 10, vec![]).await })
        };

        let (release, gate) = testing::hold(&store.writer).await;
        let first = insert(&store, now, "k1");
        let again = insert(&store, now + 1, "k1");
        let other = insert(&store, now + 2, "k2");
        let conflict = tokio::spawn({
            let (store, taken) = (store.clone(), taken.clone());
            async move { store.create_source(&taken).await }
        });
        testing::until_queued(&store.writer, 4).await;
        release.send(()).unwrap_or_else(fail);
        assert!(gate.await.unwrap_or_else(fail).is_ok());

        let first = match first.await.unwrap_or_else(fail) {
            Ok(Inserted::Stored(id)) => id,
            other => panic!("the first event: {other:?}"),
        };
        match again.await.unwrap_or_else(fail) {
            Ok(Inserted::Duplicate(id)) => assert_eq!(id, first),
            other => panic!("the same key again: {other:?}"),
        }
        assert!(matches!(
            other.await.unwrap_or_else(fail),
            Ok(Inserted::Stored(_))
        ));
        assert!(matches!(
            conflict.await.unwrap_or_else(fail),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.commit_stats().commits, 3, "create, held, one group");

        // What committed is what a restart finds.
        drop(store);
        let store = SqliteStore::open(&path).unwrap_or_else(fail);
        let page = store
            .list_events(Some("gh"), &EventFilter::default(), &PageRequest::default())
            .await
            .unwrap_or_else(fail);
        assert_eq!(page.data.len(), 2, "two events stored");
        match store
            .insert_event(
                event("gh", now + 3, b"{}", Verdict::Verified, Some("k1")),
                window,
                10,
                vec![],
            )
            .await
        {
            Ok(Inserted::Duplicate(id)) => assert_eq!(id, first),
            other => panic!("k1 after a restart: {other:?}"),
        }
    }
}
