//! The group-commit writer for inbound events: one task, one connection; it
//! takes every insert waiting (up to a cap), pipelines them into one
//! transaction, commits once, then answers each waiter. Under load batches
//! grow by themselves; a lone insert commits at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::try_join_all;
use hookline_core::{InboundEvent, Inserted, StoreError};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{Client, Statement};

use crate::backend;
use crate::codec::{ms, to_json, EVENT_COLUMNS};
use crate::store::Target;

/// Most inserts committed together.
const MAX_BATCH: usize = 256;

/// Commit counters, for metrics: batches and the writes they carried.
#[derive(Debug, Default)]
pub(crate) struct CommitCounters {
    pub commits: AtomicU64,
    pub writes: AtomicU64,
}

struct Job {
    event: InboundEvent,
    window: Duration,
    cap: usize,
    reply: oneshot::Sender<Result<Inserted, StoreError>>,
}

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

/// The writer's statements, prepared once per connection.
struct Statements {
    /// Claims the dedup key and stores the event only if the claim held.
    claim_and_insert: Statement,
    insert: Statement,
    cap_rejected: Statement,
}

impl Writer {
    /// Connects and starts the writer task. It stops once every `Writer`
    /// clone is dropped and the queue is drained, so accepted inserts are
    /// always committed.
    pub async fn start(
        target: Target,
        counters: Arc<CommitCounters>,
    ) -> Result<Writer, StoreError> {
        let conn = Connection::open(&target).await?;
        let (tx, rx) = mpsc::channel(8192);
        tokio::spawn(run(target, conn, rx, counters));
        Ok(Writer { jobs: tx })
    }

    /// Stores `event` in the next group commit; the answer comes once committed.
    /// The write happens even if the caller stops waiting (cancel-safe).
    pub async fn insert(
        &self,
        event: InboundEvent,
        window: Duration,
        cap: usize,
    ) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            event,
            window,
            cap,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

struct Connection {
    client: Client,
    st: Statements,
}

impl Connection {
    async fn open(target: &Target) -> Result<Connection, StoreError> {
        let client = crate::store::connect(target).await?;
        let insert_sql = format!(
            "INSERT INTO inbound_event ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        );
        // Data-modifying CTEs see the table as it was before the statement, so
        // the final SELECT reads the *earlier* claim when there is one: the id
        // a duplicate answers with.
        let claim_sql = format!(
            "WITH claim AS ( \
                INSERT INTO dedup (source, key, event_id, expires_at) VALUES ($2, $13, $1, $14) \
                ON CONFLICT (source, key) DO UPDATE SET event_id = excluded.event_id, \
                expires_at = excluded.expires_at WHERE dedup.expires_at <= $10 RETURNING 1 \
             ), stored AS ( \
                INSERT INTO inbound_event ({EVENT_COLUMNS}) SELECT $1::text, $2::text, $3::text, \
                $4::text, $5::text, $6::text, $7::text, $8::bytea, $9::text, $10::bigint, $11::text, \
                $12::text, $13::text WHERE EXISTS (SELECT 1 FROM claim) RETURNING 1 \
             ) \
             SELECT EXISTS (SELECT 1 FROM stored), \
                    (SELECT event_id FROM dedup WHERE source = $2 AND key = $13)"
        );
        let st = Statements {
            claim_and_insert: client.prepare(&claim_sql).await.map_err(backend)?,
            insert: client.prepare(&insert_sql).await.map_err(backend)?,
            cap_rejected: client
                .prepare(
                    "DELETE FROM inbound_event WHERE source = $1 AND verdict = 'rejected' AND id <= \
                     (SELECT id FROM inbound_event WHERE source = $1 AND verdict = 'rejected' \
                      ORDER BY id DESC LIMIT 1 OFFSET $2)",
                )
                .await
                .map_err(backend)?,
        };
        Ok(Connection { client, st })
    }
}

async fn run(
    target: Target,
    mut conn: Connection,
    mut rx: mpsc::Receiver<Job>,
    counters: Arc<CommitCounters>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if conn.client.is_closed() {
            match Connection::open(&target).await {
                Ok(c) => conn = c,
                Err(e) => {
                    tracing::error!(error = %e, "the inbox writer cannot reconnect");
                    for job in batch.drain(..) {
                        let _ = job.reply.send(Err(e.clone()));
                    }
                    continue;
                }
            }
        }
        let n = batch.len() as u64;
        match write(&mut conn, &batch).await {
            Ok(results) => {
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters.writes.fetch_add(n, Ordering::Relaxed);
                for (job, r) in batch.drain(..).zip(results) {
                    let _ = job.reply.send(Ok(r));
                }
            }
            // The batch's transaction failed as a whole: try each insert on
            // its own, so one bad event fails alone.
            Err(e) if n > 1 => {
                tracing::warn!(error = %e, writes = n, "a group commit failed; retrying its writes one by one");
                for job in batch.drain(..) {
                    let r = write(&mut conn, std::slice::from_ref(&job))
                        .await
                        .map(|mut v| v.remove(0));
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

/// One event's column values, owned, so the pipelined statements can borrow them.
struct Values {
    id: String,
    source: String,
    headers: String,
    expires: i64,
    cap: i64,
}

async fn write(conn: &mut Connection, jobs: &[Job]) -> Result<Vec<Inserted>, StoreError> {
    let values = jobs
        .iter()
        .map(|j| {
            Ok(Values {
                id: j.event.id.to_string(),
                source: j.event.source.clone(),
                headers: to_json(&j.event.headers)?,
                expires: j.event.received_at.saturating_add(ms(j.window)),
                cap: i64::try_from(j.cap).unwrap_or(i64::MAX),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let st = &conn.st;
    let tx = conn.client.transaction().await.map_err(backend)?;
    let each = jobs.iter().zip(&values).map(|(j, v)| {
        let tx = &tx;
        async move {
            let e = &j.event;
            let verdict = e.verdict.as_str();
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 13] = [
                &v.id,
                &v.source,
                &e.event_type,
                &e.method,
                &e.path,
                &e.query,
                &v.headers,
                &e.body,
                &e.remote_addr,
                &e.received_at,
                &verdict,
                &e.verdict_reason,
                &e.dedup_key,
            ];
            match (&e.dedup_key, e.verdict.accepted()) {
                (Some(_), true) => {
                    let mut with_expiry = params.to_vec();
                    with_expiry.push(&v.expires);
                    let row = tx
                        .query_one(&st.claim_and_insert, &with_expiry)
                        .await
                        .map_err(backend)?;
                    let stored: bool = row.try_get(0).map_err(backend)?;
                    if stored {
                        return Ok(Inserted::Stored(e.id.clone()));
                    }
                    let seen: Option<String> = row.try_get(1).map_err(backend)?;
                    let seen = seen
                        .ok_or_else(|| StoreError::Backend("a dedup claim vanished".into()))?
                        .parse()
                        .map_err(|e| StoreError::Backend(format!("{e}")))?;
                    Ok(Inserted::Duplicate(seen))
                }
                (_, accepted) => {
                    tx.execute(&st.insert, &params).await.map_err(backend)?;
                    if !accepted {
                        tx.execute(&st.cap_rejected, &[&v.source, &v.cap])
                            .await
                            .map_err(backend)?;
                    }
                    Ok(Inserted::Stored(e.id.clone()))
                }
            }
        }
    });
    let results = try_join_all(each).await?;
    tx.commit().await.map_err(backend)?;
    Ok(results)
}
