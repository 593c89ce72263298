//! [`SqliteStore`]: opening the file and the `Store` implementation.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hookline_core::store::CommitStats;
use hookline_core::{
    App, AppId, Attempt, AttemptId, Claimed, Delivery, Endpoint, EndpointId, EndpointStats,
    EventFilter, EventId, EventType, InboundEvent, Inserted, Message, MessageId, Next, Page,
    PageRequest, QueueDepth, Source, Store, StoreError,
};
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension};

use crate::dedup::DedupIndex;
use crate::readers::Readers;
use crate::rows::{self, ms, EVENT_COLUMNS, SOURCE_COLUMNS};
use crate::writer::{CommitCounters, Writer};
use crate::{backend, checkpoint, migrate, outbound};

const READERS: usize = 4;

static INSERT_EVENT: LazyLock<String> = LazyLock::new(|| {
    format!("INSERT INTO inbound_event ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")
});

/// hookline's store on one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    writer: Writer,
    /// Live dedup keys; used only on the writer thread, inside its transactions.
    dedup: Arc<Mutex<DedupIndex>>,
    readers: Readers,
    counters: Arc<CommitCounters>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database named by a `sqlite://PATH` URL
    /// (or a bare path) and runs pending migrations.
    pub fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err(StoreError::Backend(format!(
                "`{url}` names no file; use sqlite://PATH"
            )));
        }
        Self::open(Path::new(path))
    }

    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = connect(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        // The checkpoint thread folds the WAL back; the writer copies only
        // what it leaves, when it asks (see `checkpoint`).
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA journal_size_limit = {};",
            checkpoint::SIZE_LIMIT
        ))
        .map_err(backend)?;
        let ran = migrate::run(&mut conn).map_err(backend)?;
        if ran > 0 {
            tracing::info!(path = %path.display(), migrations = ran, "migrated the SQLite database");
        }
        let dedup = Arc::new(Mutex::new(DedupIndex::load(
            &conn,
            hookline_core::clock::now_ms(),
        )?));
        let readers = (0..READERS)
            .map(|_| connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY))
            .collect::<Result<Vec<_>, _>>()?;
        let counters = Arc::new(CommitCounters::default());
        let restart = checkpoint::Restart::default();
        let writer = Writer::start(conn, counters.clone(), restart.clone())
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        checkpoint::start(
            connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?,
            writer.alive(),
            restart,
        )
        .map_err(|e| StoreError::Backend(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(SqliteStore {
            writer,
            dedup,
            readers: Readers::new(readers),
            counters,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
    // FULL: a commit is synced before it returns, so an acknowledged write
    // survives power loss, not only a crash. (The sync is fdatasync: see
    // LIBSQLITE3_FLAGS in .cargo/config.toml.)
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
    )
    .map_err(backend)?;
    Ok(conn)
}

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

fn insert_source_sql(verb: &str) -> String {
    format!("{verb} INTO source ({SOURCE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.readers
            .read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(backend))
            .await
    }

    async fn create_source(&self, source: &Source) -> Result<(), StoreError> {
        let values = rows::source_params(source)?;
        let name = source.name.clone();
        self.writer
            .write(move |c| {
                match c.execute(&insert_source_sql("INSERT"), params_from_iter(&values)) {
                    Ok(_) => Ok(()),
                    Err(e) => Err(match backend(e) {
                        StoreError::Conflict(_) => {
                            StoreError::Conflict(format!("a source named `{name}` exists"))
                        }
                        other => other,
                    }),
                }
            })
            .await
    }

    async fn update_source(&self, source: &Source) -> Result<(), StoreError> {
        let values = rows::source_params(source)?;
        self.writer
            .write(move |c| {
                let sql =
                    "UPDATE source SET scheme = ?3, secrets = ?4, tolerance_ms = ?5, dedup = ?6, \
                           dedup_window_ms = ?7, allow_ips = ?8, rate_limit = ?9, updated_at = ?11 \
                           WHERE name = ?2";
                match c.execute(sql, params_from_iter(&values)).map_err(backend)? {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            })
            .await
    }

    async fn upsert_source(&self, source: &Source) -> Result<(), StoreError> {
        let values = rows::source_params(source)?;
        self.writer
            .write(move |c| {
                let sql = format!(
                    "{} ON CONFLICT(name) DO UPDATE SET scheme = excluded.scheme, secrets = excluded.secrets, \
                     tolerance_ms = excluded.tolerance_ms, dedup = excluded.dedup, \
                     dedup_window_ms = excluded.dedup_window_ms, allow_ips = excluded.allow_ips, \
                     rate_limit = excluded.rate_limit, updated_at = excluded.updated_at",
                    insert_source_sql("INSERT")
                );
                c.execute(&sql, params_from_iter(&values)).map_err(backend).map(|_| ())
            })
            .await
    }

    async fn delete_source(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.writer
            .write(move |c| {
                match c
                    .execute("DELETE FROM source WHERE name = ?1", [&name])
                    .map_err(backend)?
                {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            })
            .await
    }

    async fn get_source(&self, name: &str) -> Result<Option<Source>, StoreError> {
        let name = name.to_string();
        self.readers
            .read(move |c| {
                c.query_row(
                    &format!("SELECT {SOURCE_COLUMNS} FROM source WHERE name = ?1"),
                    [name],
                    rows::source,
                )
                .optional()
                .map_err(backend)
            })
            .await
    }

    async fn list_sources(&self) -> Result<Vec<Source>, StoreError> {
        self.readers
            .read(|c| {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {SOURCE_COLUMNS} FROM source ORDER BY name"
                    ))
                    .map_err(backend)?;
                let rows = st.query_map([], rows::source).map_err(backend)?;
                rows.collect::<Result<_, _>>().map_err(backend)
            })
            .await
    }

    async fn insert_event(
        &self,
        event: InboundEvent,
        dedup_window: Duration,
        rejected_cap: usize,
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
                let stored = insert_inbound(c, &event, &source, rejected, rejected_cap);
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

    async fn list_events(
        &self,
        source: &str,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<InboundEvent>, StoreError> {
        let (source, filter, page) = (source.to_string(), filter.clone(), page.clone());
        self.readers
            .read(move |c| {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM inbound_event WHERE source = ?1 \
                     AND (?2 IS NULL OR id < ?2) AND (?3 IS NULL OR event_type = ?3) \
                     AND (?4 IS NULL OR verdict = ?4) AND (?5 IS NULL OR received_at >= ?5) \
                     AND (?6 IS NULL OR received_at < ?6) ORDER BY id DESC LIMIT ?7"
                );
                let mut st = c.prepare_cached(&sql).map_err(backend)?;
                let rows = st
                    .query_map(
                        params![
                            source,
                            page.iterator,
                            filter.event_type,
                            filter.verdict.map(|v| v.as_str()),
                            filter.after,
                            filter.before,
                            (page.limit + 1) as i64
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

    async fn expire(&self, before: i64, now: i64, limit: usize) -> Result<usize, StoreError> {
        self.writer
            .write(move |c| outbound::expire(c, before, now, limit))
            .await
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        self.readers
            .read(move |c| {
                c.query_row(
                    "SELECT value FROM setting WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
                    params![key, hookline_core::clock::now_ms()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)
            })
            .await
    }

    async fn set_setting(
        &self,
        key: &str,
        value: &str,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.writer
            .write(move |c| {
                c.execute(
                    "INSERT INTO setting (key, value, expires_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                    params![key, value, expires_at],
                )
                .map(|_| ())
                .map_err(backend)
            })
            .await
    }

    async fn create_app(&self, app: &App) -> Result<(), StoreError> {
        let app = app.clone();
        self.writer
            .write(move |c| outbound::insert_app(c, &app))
            .await
    }

    async fn get_app(&self, id_or_uid: &str) -> Result<Option<App>, StoreError> {
        let key = id_or_uid.to_string();
        self.readers
            .read(move |c| outbound::select_app(c, &key))
            .await
    }

    async fn list_apps(&self, page: &PageRequest) -> Result<Page<App>, StoreError> {
        let page = page.clone();
        self.readers
            .read(move |c| outbound::list_apps(c, &page))
            .await
    }

    async fn update_app(&self, app: &App) -> Result<(), StoreError> {
        let app = app.clone();
        self.writer
            .write(move |c| outbound::update_app(c, &app))
            .await
    }

    async fn delete_app(&self, id: &AppId) -> Result<(), StoreError> {
        let id = id.clone();
        self.writer
            .write(move |c| outbound::delete_app(c, &id))
            .await
    }

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let e = endpoint.clone();
        self.writer
            .write(move |c| outbound::insert_endpoint(c, &e))
            .await
    }

    async fn get_endpoint(
        &self,
        app: &AppId,
        id_or_uid: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        let (app, key) = (app.clone(), id_or_uid.to_string());
        self.readers
            .read(move |c| outbound::select_endpoint(c, &app, &key))
            .await
    }

    async fn list_endpoints(
        &self,
        app: &AppId,
        page: &PageRequest,
    ) -> Result<Page<Endpoint>, StoreError> {
        let (app, page) = (app.clone(), page.clone());
        self.readers
            .read(move |c| outbound::list_endpoints(c, &app, &page))
            .await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let e = endpoint.clone();
        self.writer
            .write(move |c| outbound::update_endpoint(c, &e))
            .await
    }

    async fn delete_endpoint(&self, app: &AppId, id: &EndpointId) -> Result<(), StoreError> {
        let (app, id) = (app.clone(), id.clone());
        self.writer
            .write(move |c| outbound::delete_endpoint(c, &app, &id))
            .await
    }

    async fn create_event_type(&self, event_type: &EventType) -> Result<(), StoreError> {
        let t = event_type.clone();
        self.writer
            .write(move |c| outbound::insert_event_type(c, &t))
            .await
    }

    async fn get_event_type(&self, name: &str) -> Result<Option<EventType>, StoreError> {
        let name = name.to_string();
        self.readers
            .read(move |c| outbound::select_event_type(c, &name))
            .await
    }

    async fn list_event_types(&self, page: &PageRequest) -> Result<Page<EventType>, StoreError> {
        let page = page.clone();
        self.readers
            .read(move |c| outbound::list_event_types(c, &page))
            .await
    }

    async fn update_event_type(&self, event_type: &EventType) -> Result<(), StoreError> {
        let t = event_type.clone();
        self.writer
            .write(move |c| outbound::update_event_type(c, &t))
            .await
    }

    async fn delete_event_type(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.writer
            .write(move |c| outbound::delete_event_type(c, &name))
            .await
    }

    async fn publish(&self, message: &Message) -> Result<usize, StoreError> {
        let m = message.clone();
        self.writer
            .write(move |c| outbound::publish(c, &m, None))
            .await
    }

    async fn publish_to(&self, message: &Message, endpoint: &EndpointId) -> Result<(), StoreError> {
        let (m, ep) = (message.clone(), endpoint.clone());
        self.writer
            .write(move |c| outbound::publish(c, &m, Some(&ep)).map(|_| ()))
            .await
    }

    async fn get_message(
        &self,
        app: &AppId,
        id: &MessageId,
    ) -> Result<Option<Message>, StoreError> {
        let (app, id) = (app.clone(), id.clone());
        self.readers
            .read(move |c| outbound::select_message(c, &app, &id))
            .await
    }

    async fn list_messages(
        &self,
        app: &AppId,
        page: &PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        let (app, page) = (app.clone(), page.clone());
        self.readers
            .read(move |c| outbound::list_messages(c, &app, &page))
            .await
    }

    async fn list_deliveries(
        &self,
        app: &AppId,
        message: &MessageId,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (app, msg) = (app.clone(), message.clone());
        self.readers
            .read(move |c| outbound::list_deliveries(c, &app, &msg))
            .await
    }

    async fn claim_due(
        &self,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed>, StoreError> {
        self.writer
            .write(move |c| outbound::claim_due(c, now, limit, lease))
            .await
    }

    async fn record_attempt(
        &self,
        attempt: &Attempt,
        version: i64,
        next: Next,
    ) -> Result<(), StoreError> {
        let a = attempt.clone();
        self.writer
            .write(move |c| outbound::record_attempt(c, &a, version, next))
            .await
    }

    async fn requeue(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        message: Option<&MessageId>,
        since: i64,
        now: i64,
    ) -> Result<usize, StoreError> {
        let (app, ep, msg) = (app.clone(), endpoint.clone(), message.cloned());
        self.writer
            .write(move |c| outbound::requeue(c, &app, &ep, msg.as_ref(), since, now))
            .await
    }

    async fn disable_if_failing_since(
        &self,
        endpoint: &EndpointId,
        before: i64,
    ) -> Result<bool, StoreError> {
        let ep = endpoint.clone();
        self.writer
            .write(move |c| outbound::disable_if_failing_since(c, &ep, before))
            .await
    }

    async fn postpone(
        &self,
        message: &MessageId,
        endpoint: &EndpointId,
        version: i64,
        until: i64,
    ) -> Result<(), StoreError> {
        let (msg, ep) = (message.clone(), endpoint.clone());
        self.writer
            .write(move |c| outbound::postpone(c, &msg, &ep, version, until))
            .await
    }

    async fn queue_depth(&self, now: i64) -> Result<QueueDepth, StoreError> {
        self.readers
            .read(move |c| outbound::queue_depth(c, now))
            .await
    }

    async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        self.readers.read(outbound::next_due).await
    }

    async fn failing_endpoints(&self, limit: usize) -> Result<Vec<(Endpoint, i64)>, StoreError> {
        self.readers
            .read(move |c| outbound::failing_endpoints(c, limit))
            .await
    }

    async fn endpoint_stats(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        since: i64,
        until: i64,
    ) -> Result<EndpointStats, StoreError> {
        let (app, ep) = (app.clone(), endpoint.clone());
        self.readers
            .read(move |c| outbound::endpoint_stats(c, &app, &ep, since, until))
            .await
    }

    async fn get_attempt(
        &self,
        app: &AppId,
        message: &MessageId,
        attempt: &AttemptId,
    ) -> Result<Option<Attempt>, StoreError> {
        let (app, msg, id) = (app.clone(), message.clone(), attempt.clone());
        self.readers
            .read(move |c| outbound::select_attempt(c, &app, &msg, &id))
            .await
    }

    async fn list_attempts(
        &self,
        app: &AppId,
        message: Option<&MessageId>,
        endpoint: Option<&EndpointId>,
        page: &PageRequest,
    ) -> Result<Page<Attempt>, StoreError> {
        let (app, msg, ep, page) = (
            app.clone(),
            message.cloned(),
            endpoint.cloned(),
            page.clone(),
        );
        self.readers
            .read(move |c| outbound::list_attempts(c, &app, msg.as_ref(), ep.as_ref(), &page))
            .await
    }

    fn commit_stats(&self) -> CommitStats {
        CommitStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use hookline_core::testkit::event;
    use hookline_core::Verdict;
    use hookline_signature::Scheme;

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
            tokio::spawn(async move { store.insert_event(e, window, 10).await })
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
            .list_events("gh", &EventFilter::default(), &PageRequest::default())
            .await
            .unwrap_or_else(fail);
        assert_eq!(page.data.len(), 2, "two events stored");
        match store
            .insert_event(
                event("gh", now + 3, b"{}", Verdict::Verified, Some("k1")),
                window,
                10,
            )
            .await
        {
            Ok(Inserted::Duplicate(id)) => assert_eq!(id, first),
            other => panic!("k1 after a restart: {other:?}"),
        }
    }
}
