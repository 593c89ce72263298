//! The group-commit writer: one thread, one connection, one transaction and one
//! fsync per batch of waiting writes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hookline_core::StoreError;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::backend;
use crate::checkpoint::{self, Restart};

/// Most writes committed together.
const MAX_BATCH: usize = 512;

type Finish = Box<dyn FnOnce(Option<&StoreError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Finish + Send>;

/// Commit counters, for metrics: batches and the writes they carried.
#[derive(Debug, Default)]
pub(crate) struct CommitCounters {
    pub commits: AtomicU64,
    pub writes: AtomicU64,
}

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Dropped with the last `Writer`; helper threads watch it to stop.
    alive: Arc<()>,
}

impl Writer {
    /// Starts the writer thread on `conn`. It stops once every `Writer` clone is
    /// dropped and the queue is drained, so pending writes are always committed.
    /// Between two groups it copies back the rest of the WAL when `restart` asks.
    pub fn start(
        conn: Connection,
        counters: Arc<CommitCounters>,
        restart: Restart,
    ) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel::<Job>(8192);
        std::thread::Builder::new()
            .name("hl-sqlite-writer".into())
            .spawn(move || run(conn, rx, &counters, &restart))?;
        Ok(Writer {
            jobs: tx,
            alive: Arc::new(()),
        })
    }

    /// A handle that reports whether the writer still runs (for helper threads).
    pub fn alive(&self) -> std::sync::Weak<()> {
        Arc::downgrade(&self.alive)
    }

    /// Runs `f` in the next group commit and returns its result once committed.
    /// The write happens even if the caller stops waiting (cancel-safe).
    pub async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = in_savepoint(conn, f);
            Box::new(move |commit_err: Option<&StoreError>| {
                let _ = reply.send(match commit_err {
                    None => result,
                    Some(e) => Err(e.clone()),
                });
            })
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// Undoes in-memory effects of a write whose transaction did not commit.
pub(crate) type Undo = Box<dyn FnOnce() + Send>;

impl Writer {
    /// Like [`Writer::write`], for a write that also changes memory: if the
    /// group's commit fails, `f`'s undo runs before the error is answered.
    pub async fn write_with_undo<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<(R, Option<Undo>), StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = in_savepoint(conn, f);
            Box::new(move |commit_err: Option<&StoreError>| {
                let _ = reply.send(match (commit_err, result) {
                    (None, r) => r.map(|(value, _)| value),
                    (Some(e), Ok((_, undo))) => {
                        if let Some(undo) = undo {
                            undo();
                        }
                        Err(e.clone())
                    }
                    (Some(e), Err(_)) => Err(e.clone()),
                });
            })
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// Runs `sql` through the statement cache (no re-parse per write).
fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.execute([]))
        .map(|_| ())
        .map_err(backend)
}

/// Each write gets a savepoint, so one failing write leaves the rest of its
/// batch intact.
fn in_savepoint<R>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    exec(conn, "SAVEPOINT job")?;
    let result = f(conn);
    if result.is_err() {
        exec(conn, "ROLLBACK TO job")?;
    }
    exec(conn, "RELEASE job")?;
    result
}

fn run(
    conn: Connection,
    mut rx: mpsc::Receiver<Job>,
    counters: &CommitCounters,
    restart: &Restart,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let n = batch.len() as u64;
        if let Err(e) = exec(&conn, "BEGIN IMMEDIATE") {
            tracing::error!(error = %e, "cannot begin a write transaction");
            // Each job's closure is dropped unanswered: its waiter sees Closed.
            batch.clear();
            continue;
        }
        let finishes: Vec<Finish> = batch.drain(..).map(|job| job(&conn)).collect();
        let committed = exec(&conn, "COMMIT");
        if let Err(e) = &committed {
            tracing::error!(error = %e, writes = n, "commit failed; the batch is rolled back");
            let _ = exec(&conn, "ROLLBACK");
        } else {
            counters.commits.fetch_add(1, Ordering::Relaxed);
            counters.writes.fetch_add(n, Ordering::Relaxed);
        }
        for finish in finishes {
            finish(committed.as_ref().err());
        }
        if restart.asked() {
            checkpoint::copy_rest(&conn);
        }
    }
}
