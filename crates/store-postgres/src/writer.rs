//! The one group-commit queue for every hot write (storing an inbound event,
//! publishing a message, recording an attempt): one task takes every write
//! waiting (up to a cap), runs them together in one transaction on one pooled
//! connection, where tokio-postgres pipelines their statements, commits once,
//! then answers each. Under load batches grow by themselves; a lone write
//! commits at once. If a group's transaction fails, every write in it is tried
//! again in a transaction of its own, so one bad write (a duplicate `eventId`)
//! fails alone.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use deadpool_postgres::Pool;
use futures_util::future::{try_join_all, BoxFuture};
use hookline_core::{StoreError, WriteHealth};
use tokio::sync::{mpsc, oneshot};

use crate::backend;
use crate::sql::Tx;

/// Most writes committed together.
const MAX_BATCH: usize = 256;

/// Commit counters, for metrics: groups and the writes they carried; and
/// whether writes can be stored at all.
#[derive(Debug, Default)]
pub(crate) struct CommitCounters {
    pub commits: AtomicU64,
    pub writes: AtomicU64,
    pub health: WriteHealth,
}

/// Tells the health how a commit went.
fn report(health: &WriteHealth, outcome: &Result<impl Sized, StoreError>) {
    match outcome {
        Ok(_) => health.succeeded(),
        Err(StoreError::Unavailable(why)) => health.failed(why),
        Err(_) => {}
    }
}

type Value = Box<dyn Any + Send>;
type Work =
    Box<dyn for<'a> Fn(&'a Tx<'a>) -> BoxFuture<'a, Result<Value, StoreError>> + Send + Sync>;

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<Value, StoreError>>,
}

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task. It stops once every `Writer` clone is dropped
    /// and the queue is drained, so accepted writes are always committed.
    pub fn start(pool: Pool, counters: Arc<CommitCounters>) -> Writer {
        let (tx, rx) = mpsc::channel(8192);
        tokio::spawn(run(pool, rx, counters));
        Writer { jobs: tx }
    }

    /// Runs `f` in the next group commit; answers once committed. The write
    /// happens even if the caller stops waiting (cancel-safe). `f` may run
    /// twice (the second time alone) if its group's transaction fails.
    pub async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: for<'a> Fn(&'a Tx<'a>) -> BoxFuture<'a, Result<R, StoreError>> + Send + Sync + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |tx| {
            let fut = f(tx);
            Box::pin(async move { fut.await.map(|r| Box::new(r) as Value) })
        });
        self.jobs
            .send(Job { work, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        let value = answer.await.map_err(|_| StoreError::Closed)??;
        value
            .downcast::<R>()
            .map(|r| *r)
            .map_err(|_| StoreError::Backend("a grouped write answered with the wrong type".into()))
    }
}

async fn run(pool: Pool, mut rx: mpsc::Receiver<Job>, counters: Arc<CommitCounters>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let n = batch.len() as u64;
        let committed = commit(&pool, &batch).await;
        report(&counters.health, &committed);
        match committed {
            Ok(values) => {
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters.writes.fetch_add(n, Ordering::Relaxed);
                for (job, v) in batch.drain(..).zip(values) {
                    let _ = job.reply.send(Ok(v));
                }
            }
            Err(e) if n > 1 => {
                tracing::warn!(error = %e, writes = n, "a group commit failed; retrying its writes one by one");
                for job in batch.drain(..) {
                    let r = commit(&pool, std::slice::from_ref(&job))
                        .await
                        .map(|mut v| v.remove(0));
                    report(&counters.health, &r);
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Runs `jobs` in one transaction and commits it.
async fn commit(pool: &Pool, jobs: &[Job]) -> Result<Vec<Value>, StoreError> {
    let mut conn = pool.get().await.map_err(crate::pool)?;
    let tx = conn.transaction().await.map_err(backend)?;
    let values = try_join_all(jobs.iter().map(|j| (j.work)(&tx))).await?;
    tx.commit().await.map_err(backend)?;
    Ok(values)
}
