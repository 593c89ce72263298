//! The group-commit writer: one thread, one connection, one transaction and one
//! fsync per batch of waiting writes.
//!
//! A group runs its writes one after another with nothing between them. If one
//! fails, it may have left part of its changes, so the whole group is rolled
//! back and run again with each write in its own savepoint, which confines a
//! failure to its own write. Savepoints are kept off the common path because
//! each one makes SQLite copy every page its write first touches into a
//! sub-journal: measured, the copies cost about a tenth of the receive path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hookline_core::{StoreError, WriteHealth};
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::backend;
use crate::checkpoint::{self, Restart};
use crate::indexer::Wake;

/// Most writes committed together.
const MAX_BATCH: usize = 512;

/// Undoes in-memory effects of a write whose transaction did not commit.
pub(crate) type Undo = Box<dyn FnOnce() + Send>;

/// What a write returns: its value, and how to take back what it changed in
/// memory if its transaction is rolled back.
type Outcome<R> = Result<(R, Option<Undo>), StoreError>;

/// A write waiting in the queue, erased to what the writer thread needs.
trait Job: Send {
    /// Runs the write; false if it failed.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Runs the write inside its own savepoint, so a failure undoes only it.
    fn run_alone(&mut self, conn: &Connection) -> Result<(), StoreError>;
    /// Takes back what the last run changed in memory (it was rolled back).
    fn undo(&mut self);
    /// Why its last run could not be stored, if the store cannot write.
    fn fault(&self) -> Option<String>;
    /// Answers the waiter: the run's value, or `commit_err` if the group's
    /// commit failed (then the run's memory changes are taken back first).
    fn finish(self: Box<Self>, commit_err: Option<&StoreError>);
}

struct Pending<R, F> {
    write: F,
    ran: Option<Outcome<R>>,
    reply: oneshot::Sender<Result<R, StoreError>>,
}

impl<R, F> Job for Pending<R, F>
where
    R: Send,
    F: Fn(&Connection) -> Outcome<R> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let outcome = (self.write)(conn);
        let ok = outcome.is_ok();
        self.ran = Some(outcome);
        ok
    }

    fn run_alone(&mut self, conn: &Connection) -> Result<(), StoreError> {
        exec(conn, "SAVEPOINT job")?;
        if !self.run(conn) {
            exec(conn, "ROLLBACK TO job")?;
        }
        exec(conn, "RELEASE job")
    }

    fn undo(&mut self) {
        if let Some(Ok((_, Some(undo)))) = self.ran.take() {
            undo();
        }
    }

    fn fault(&self) -> Option<String> {
        match &self.ran {
            Some(Err(StoreError::Unavailable(why))) => Some(why.clone()),
            _ => None,
        }
    }

    fn finish(mut self: Box<Self>, commit_err: Option<&StoreError>) {
        let answer = match commit_err {
            Some(e) => {
                self.undo();
                Err(e.clone())
            }
            None => match self.ran.take() {
                Some(outcome) => outcome.map(|(value, _)| value),
                // Every write of a committed group ran; this cannot happen.
                None => Err(StoreError::Closed),
            },
        };
        let _ = self.reply.send(answer);
    }
}

/// Commit counters, for metrics: batches and the writes they carried; and
/// whether writes can be stored at all.
#[derive(Debug, Default)]
pub(crate) struct CommitCounters {
    pub commits: AtomicU64,
    pub writes: AtomicU64,
    pub health: WriteHealth,
}

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    /// Dropped with the last `Writer`; helper threads watch it to stop.
    alive: Arc<()>,
}

impl Writer {
    /// Starts the writer thread on `conn`. It stops once every `Writer` clone is
    /// dropped and the queue is drained, so pending writes are always committed.
    /// Between two groups it copies back the rest of the WAL when `restart` asks.
    /// After each group it wakes the thread in `wake` (the search indexer).
    pub fn start(
        conn: Connection,
        counters: Arc<CommitCounters>,
        restart: Restart,
        wake: Wake,
    ) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>(8192);
        std::thread::Builder::new()
            .name("hl-sqlite-writer".into())
            .spawn(move || run(conn, rx, &counters, &restart, &wake))?;
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
    /// The write happens even if the caller stops waiting (cancel-safe). `f`
    /// may run twice (see the module doc); only the last run's changes commit.
    pub async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        self.write_with_undo(move |conn| f(conn).map(|value| (value, None)))
            .await
    }

    /// Like [`Writer::write`], for a write that also changes memory: if its
    /// run is rolled back, or the group's commit fails, `f`'s undo runs (before
    /// the error is answered).
    pub async fn write_with_undo<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> Outcome<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            write: f,
            ran: None,
            reply,
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

/// Runs a group's writes in the open transaction: all at once, or, if one
/// fails, over again in a new transaction with a savepoint each. Err if the
/// group cannot go on (its transaction could not be started again).
fn run_group(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), StoreError> {
    if batch.iter_mut().all(|job| job.run(conn)) {
        return Ok(());
    }
    // The failed write may have left part of its changes: start over. (A
    // failure may already have ended the transaction; ROLLBACK then fails.)
    let _ = exec(conn, "ROLLBACK");
    for job in batch.iter_mut() {
        job.undo();
    }
    exec(conn, "BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        job.run_alone(conn)?;
    }
    Ok(())
}

fn run(
    conn: Connection,
    mut rx: mpsc::Receiver<Box<dyn Job>>,
    counters: &CommitCounters,
    restart: &Restart,
    wake: &Wake,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let n = batch.len() as u64;
        let committed = exec(&conn, "BEGIN IMMEDIATE")
            .and_then(|()| run_group(&conn, &mut batch))
            .and_then(|()| exec(&conn, "COMMIT"));
        match &committed {
            // Logged by the health, once and then once a minute.
            Err(StoreError::Unavailable(why)) => counters.health.failed(why),
            Err(e) => {
                tracing::error!(error = %e, writes = n, "the group could not commit; it is rolled back")
            }
            Ok(()) => {
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters.writes.fetch_add(n, Ordering::Relaxed);
                match batch.iter().find_map(|job| job.fault()) {
                    Some(why) => counters.health.failed(&why),
                    None => counters.health.succeeded(),
                }
            }
        }
        if committed.is_err() {
            let _ = exec(&conn, "ROLLBACK");
        }
        for job in batch.drain(..) {
            job.finish(committed.as_ref().err());
        }
        if let Some(indexer) = wake.get() {
            indexer.unpark();
        }
        if restart.asked() {
            checkpoint::copy_rest(&conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicI64;

    use super::*;

    fn fail<T>(e: impl std::fmt::Display) -> T {
        panic!("{e}")
    }

    /// A writer on a fresh file with one table, `t(v TEXT PRIMARY KEY)`.
    fn writer() -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().unwrap_or_else(fail);
        let conn = Connection::open(dir.path().join("w.db")).unwrap_or_else(fail);
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT PRIMARY KEY);")
            .unwrap_or_else(fail);
        let w = Writer::start(conn, Arc::default(), Restart::default(), Wake::default())
            .unwrap_or_else(fail);
        (dir, w)
    }

    fn insert(c: &Connection, v: &str) -> Result<(), StoreError> {
        c.execute("INSERT INTO t (v) VALUES (?1)", [v])
            .map(|_| ())
            .map_err(backend)
    }

    fn rows(w: &Writer) -> impl std::future::Future<Output = Vec<String>> {
        let w = w.clone();
        async move {
            w.write(|c| {
                let mut st = c.prepare("SELECT v FROM t ORDER BY v").map_err(backend)?;
                let rows = st.query_map([], |r| r.get(0)).map_err(backend)?;
                rows.collect::<Result<Vec<String>, _>>().map_err(backend)
            })
            .await
            .unwrap_or_else(fail)
        }
    }

    /// Three writes in one group; the middle one inserts a row and then fails.
    /// The other two commit, the failed one's row does not, and the memory
    /// change of a write that ran twice (first run rolled back) counts once.
    #[tokio::test]
    async fn a_failed_write_spoils_only_itself() {
        let (_dir, w) = writer();
        let (release, gate) = testing::hold(&w).await;
        let memory = Arc::new(AtomicI64::new(0));
        let runs = Arc::new(AtomicI64::new(0));
        let a = tokio::spawn({
            let (w, memory, runs) = (w.clone(), memory.clone(), runs.clone());
            async move {
                w.write_with_undo(move |c| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    insert(c, "a")?;
                    memory.fetch_add(1, Ordering::SeqCst);
                    let memory = memory.clone();
                    let undo: Undo = Box::new(move || {
                        memory.fetch_sub(1, Ordering::SeqCst);
                    });
                    Ok(((), Some(undo)))
                })
                .await
            }
        });
        let b = tokio::spawn({
            let w = w.clone();
            async move {
                w.write(|c| {
                    insert(c, "b")?;
                    Err::<(), _>(StoreError::Backend("b fails after its insert".into()))
                })
                .await
            }
        });
        let c = tokio::spawn({
            let w = w.clone();
            async move { w.write(|c| insert(c, "c")).await }
        });
        testing::until_queued(&w, 3).await;
        release.send(()).unwrap_or_else(fail);
        assert!(gate.await.unwrap_or_else(fail).is_ok());

        assert!(a.await.unwrap_or_else(fail).is_ok());
        let b = b.await.unwrap_or_else(fail);
        assert!(
            matches!(&b, Err(StoreError::Backend(m)) if m.contains("b fails")),
            "{b:?}"
        );
        assert!(c.await.unwrap_or_else(fail).is_ok());
        assert_eq!(rows(&w).await, ["a", "c"]);
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "a ran, was rolled back, ran again"
        );
        assert_eq!(
            memory.load(Ordering::SeqCst),
            1,
            "a's memory change counts once"
        );
    }

    /// A group with no failure runs each write once, without a rerun.
    #[tokio::test]
    async fn writes_that_succeed_run_once() {
        let (_dir, w) = writer();
        let runs = Arc::new(AtomicI64::new(0));
        let all = (0..20).map(|i| {
            let (w, runs) = (w.clone(), runs.clone());
            tokio::spawn(async move {
                w.write(move |c| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    insert(c, &format!("{i:02}"))
                })
                .await
            })
        });
        for task in all.collect::<Vec<_>>() {
            let r = task.await.unwrap_or_else(fail);
            assert!(r.is_ok(), "{r:?}");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 20);
        assert_eq!(rows(&w).await.len(), 20);
    }
}

/// Test helpers: a group held open, so that the writes sent meanwhile form the
/// next group together.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Holds the writer inside a group of its own until the returned sender
    /// sends (or is dropped); the task ends once that group has committed.
    pub(crate) async fn hold(
        w: &Writer,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<(), StoreError>>,
    ) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (entered, inside) = std::sync::mpsc::channel::<()>();
        let (held, entered) = (std::sync::Mutex::new(held), std::sync::Mutex::new(entered));
        let gate = tokio::spawn({
            let w = w.clone();
            async move {
                w.write(move |_| {
                    let _ = entered.lock().map(|e| e.send(()));
                    let _ = held.lock().map(|h| h.recv());
                    Ok(())
                })
                .await
            }
        });
        for _ in 0..2500 {
            if inside.try_recv().is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        (release, gate)
    }

    /// Waits (5 s at most) until `n` writes are queued, and says if not.
    pub(crate) async fn until_queued(w: &Writer, n: usize) {
        let queued = || w.jobs.max_capacity() - w.jobs.capacity();
        for _ in 0..2500 {
            if queued() >= n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        assert_eq!(queued(), n, "writes queued behind the held group");
    }
}
