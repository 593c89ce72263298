//! The search indexer: the trigram index of every inbound event's search
//! text, kept in a file of its own beside the database (`{db}-search`) by a
//! thread of its own at the scheduler's idle priority.
//!
//! Its own file, so its writes take that file's write lock and never the
//! database's: a request's commit never waits behind an index step. Idle
//! priority, so it runs on CPU that receiving leaves over: under a load
//! that saturates the machine the index trails (a search stays exact: it
//! scans the events past the index), and at any rate below that it keeps
//! up within a step or two. The index is derived data: its commits are not
//! synced one by one (`synchronous = NORMAL`), a file that is lost or was
//! built for another database is rebuilt, and nothing on the receive path
//! depends on it.
//!
//! The index follows the inbox by rowid. `indexed` is the highest rowid it
//! holds; the events past it are the backlog. Deleting an event (retention,
//! the rejected cap) records its rowid in `search_forget` (a trigger); the
//! indexer takes each out of the index and, should SQLite have given the
//! rowid to a new event since, indexes that event in its place.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use hookline_core::StoreError;
use rusqlite::{params, Connection, OptionalExtension};

use crate::backend;
use crate::search::stored_text;

/// Events and deletions taken per step: large enough that an index segment
/// holds many events, small enough that a search's scan of the backlog and
/// a step's read of the database stay short.
const STEP: usize = 256;

/// How long the thread sleeps with nothing to do unless a commit wakes it.
const IDLE: Duration = Duration::from_secs(1);

/// Once caught up, how long it lets events gather before the next step
/// (fewer, larger steps cost less per event).
const GATHER: Duration = Duration::from_millis(20);

/// The indexer's thread, for the writer to wake after a commit.
pub(crate) type Wake = Arc<std::sync::OnceLock<std::thread::Thread>>;

/// The index's schema, in the attached `search` database.
const SCHEMA: &str = "
    CREATE VIRTUAL TABLE IF NOT EXISTS search.event_search USING fts5(text, content = '', \
      contentless_delete = 1, detail = none, tokenize = 'trigram case_sensitive 1');
    CREATE TABLE IF NOT EXISTS search.progress (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        db TEXT NOT NULL,
        indexed INTEGER NOT NULL,
        forgotten INTEGER NOT NULL);";

/// The index file of the database at `db`.
pub fn index_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-search");
    PathBuf::from(name)
}

/// Attaches the index file to `conn` as `search`.
pub(crate) fn attach(conn: &Connection, db: &Path) -> Result<(), StoreError> {
    let path = index_path(db);
    conn.execute("ATTACH DATABASE ?1 AS search", [path.to_string_lossy()])
        .map(|_| ())
        .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))
}

/// How far the indexer has come, shared with the store: the deletions it
/// has taken out (retention prunes `search_forget` up to there).
#[derive(Debug, Default)]
pub(crate) struct Progress {
    forgotten: AtomicI64,
}

impl Progress {
    pub(crate) fn forgotten(&self) -> i64 {
        self.forgotten.load(Ordering::Acquire)
    }
}

/// Where the index stands: the highest rowid it holds and the last
/// deletion it took out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marks {
    indexed: i64,
    forgotten: i64,
}

/// Opens the indexer's connection on the database with the index attached
/// (creating the index file), and finds where the index stands: from its
/// file, or from nothing if the file is new or was built for another
/// database.
pub(crate) fn open(conn: Connection, db: &Path) -> Result<Indexer, StoreError> {
    attach(&conn, db)?;
    conn.execute_batch(&format!(
        "PRAGMA search.journal_mode = WAL; PRAGMA search.synchronous = NORMAL; \
         PRAGMA search.journal_size_limit = {}; {SCHEMA}",
        crate::checkpoint::SIZE_LIMIT
    ))
    .map_err(backend)?;
    let id: String = conn
        .query_row("SELECT id FROM main.search_index", [], |r| r.get(0))
        .map_err(backend)?;
    let found = conn
        .query_row(
            "SELECT db, indexed, forgotten FROM search.progress",
            [],
            |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(backend)?;
    let marks = match found {
        Some((of, indexed, forgotten)) if of == id => Marks { indexed, forgotten },
        stale => {
            if stale.is_some() {
                tracing::info!(path = %index_path(db).display(), "the search index was built for another database; rebuilding it");
            }
            // Every event is to be indexed; no deletion so far concerns it.
            let forgotten = conn
                .query_row(
                    "SELECT coalesce(max(seq), 0) FROM main.search_forget",
                    [],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            conn.execute_batch("BEGIN; DELETE FROM search.event_search; DELETE FROM search.progress;")
                .and_then(|()| {
                    conn.execute(
                        "INSERT INTO search.progress (one, db, indexed, forgotten) VALUES (1, ?1, 0, ?2)",
                        params![id, forgotten],
                    )
                })
                .and_then(|_| conn.execute_batch("COMMIT"))
                .map_err(backend)?;
            Marks {
                indexed: 0,
                forgotten,
            }
        }
    };
    let progress = Arc::new(Progress::default());
    progress.forgotten.store(marks.forgotten, Ordering::Release);
    Ok(Indexer {
        conn,
        marks,
        progress,
    })
}

/// The indexer before its thread starts.
pub(crate) struct Indexer {
    conn: Connection,
    marks: Marks,
    progress: Arc<Progress>,
}

impl Indexer {
    pub(crate) fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Starts the thread; it stops once `alive` can no longer be upgraded.
    /// Unpark the returned thread after a commit to wake it at once.
    pub(crate) fn start(mut self, alive: Weak<()>) -> std::io::Result<std::thread::Thread> {
        let handle = std::thread::Builder::new()
            .name("hl-search-index".into())
            .spawn(move || {
                idle_priority();
                while alive.upgrade().is_some() {
                    match self.step() {
                        Ok(n) if n >= STEP => {}
                        Ok(0) => std::thread::park_timeout(IDLE),
                        Ok(_) => std::thread::sleep(GATHER),
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot index events for search; retrying in a second");
                            std::thread::sleep(IDLE);
                        }
                    }
                }
            })?;
        Ok(handle.thread().clone())
    }

    /// One step: up to [`STEP`] deletions taken out and events indexed.
    /// How many of the larger kind there were (0: nothing to do).
    fn step(&mut self) -> Result<usize, StoreError> {
        let work = read(&self.conn, self.marks)?;
        if work.is_empty(self.marks) {
            return Ok(0);
        }
        let texts: Vec<(i64, String)> = work
            .events
            .iter()
            .map(|(rowid, body, headers)| (*rowid, stored_text(body, headers)))
            .collect();
        let marks = write(&self.conn, self.marks, &work, &texts)?;
        self.marks = marks;
        self.progress
            .forgotten
            .store(marks.forgotten, Ordering::Release);
        Ok(work.events.len().max(work.forgets.len()).max(1))
    }
}

/// What one step reads of the database, in one snapshot.
struct Work {
    /// What the index holds of the inbox: up to its mark, or up to the
    /// newest event if the events above it were deleted (SQLite gives their
    /// rowids again; the index's entries above `from` are then taken out).
    from: i64,
    /// Deletions: (seq, rowid).
    forgets: Vec<(i64, i64)>,
    /// Events to index: (rowid, body, headers): those past `from`, and
    /// those SQLite gave a deleted event's rowid.
    events: Vec<(i64, Vec<u8>, String)>,
}

impl Work {
    fn is_empty(&self, marks: Marks) -> bool {
        self.forgets.is_empty() && self.events.is_empty() && self.from == marks.indexed
    }
}

const EVENT: &str = "SELECT rowid, body, headers FROM main.inbound_event";

/// Reads a step's work in one read transaction, kept short (no text is
/// made in it) so it holds the WAL back as little as possible.
fn read(c: &Connection, marks: Marks) -> Result<Work, StoreError> {
    c.execute_batch("BEGIN").map_err(backend)?;
    let work = (|| {
        let newest: i64 = c
            .prepare_cached("SELECT coalesce(max(rowid), 0) FROM main.inbound_event")?
            .query_row([], |r| r.get(0))?;
        let forgets = c
            .prepare_cached(
                "SELECT seq, event FROM main.search_forget WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?
            .query_map(params![marks.forgotten, STEP as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<Vec<(i64, i64)>, _>>()?;
        let from = marks.indexed.min(newest);
        let mut events = c
            .prepare_cached(&format!("{EVENT} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"))?
            .query_map(params![from, STEP as i64], event_row)?
            .collect::<Result<Vec<_>, _>>()?;
        // A deleted rowid that an event holds again: that event, to index
        // in its place.
        let mut again = c.prepare_cached(&format!("{EVENT} WHERE rowid = ?1"))?;
        for (_, rowid) in &forgets {
            if *rowid <= from {
                if let Some(e) = again.query_row([rowid], event_row).optional()? {
                    events.push(e);
                }
            }
        }
        events.sort_by_key(|e| e.0);
        events.dedup_by_key(|e| e.0);
        Ok(Work {
            from,
            forgets,
            events,
        })
    })();
    let _ = c.execute_batch("COMMIT");
    work.map_err(backend)
}

fn event_row(r: &rusqlite::Row) -> rusqlite::Result<(i64, Vec<u8>, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

/// Applies a step's work to the index in one transaction of the index
/// file; the marks it reached.
fn write(
    c: &Connection,
    marks: Marks,
    work: &Work,
    texts: &[(i64, String)],
) -> Result<Marks, StoreError> {
    let from = work.from;
    let mut next = Marks {
        indexed: from,
        forgotten: marks.forgotten,
    };
    // Deferred, not IMMEDIATE: an immediate transaction would take the write
    // lock of every attached database, the inbox's too, and a request's
    // commit would wait behind this idle-priority thread. Deferred, the
    // first write takes only the index file's lock.
    c.execute_batch("BEGIN").map_err(backend)?;
    let done = (|| {
        let mut delete = c.prepare_cached("DELETE FROM search.event_search WHERE rowid = ?1")?;
        if from < marks.indexed {
            c.prepare_cached("DELETE FROM search.event_search WHERE rowid > ?1")?
                .execute([from])?;
        }
        for (seq, rowid) in &work.forgets {
            if *rowid <= from {
                delete.execute([rowid])?;
            }
            next.forgotten = *seq;
        }
        let mut insert =
            c.prepare_cached("INSERT INTO search.event_search (rowid, text) VALUES (?1, ?2)")?;
        for (rowid, text) in texts {
            insert.execute(params![rowid, text])?;
            next.indexed = next.indexed.max(*rowid);
        }
        c.prepare_cached("UPDATE search.progress SET indexed = ?1, forgotten = ?2")?
            .execute(params![next.indexed, next.forgotten])?;
        c.execute_batch("COMMIT")
    })();
    if done.is_err() {
        let _ = c.execute_batch("ROLLBACK");
    }
    done.map_err(backend).map(|()| next)
}

/// Lowers this thread to the scheduler's idle class (Linux's `SCHED_IDLE`):
/// it runs only on CPU nothing else wants. Elsewhere, or if refused, it
/// runs at normal priority.
fn idle_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::unix::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadSchedulePolicy,
        };
        use thread_priority::ThreadPriority;
        if let Err(e) = set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
        ) {
            tracing::debug!(error = ?e, "the search indexer runs at normal priority");
        }
    }
}
