//! Deliveries and attempts: claim under a lease (`FOR UPDATE SKIP LOCKED`, so
//! nodes never take the same one), record, requeue, postpone, count.

use std::collections::HashMap;
use std::time::Duration;

use hookline_core::{
    AppId, Attempt, AttemptId, Claimed, Delivery, DeliveryStatus, EndpointId, EndpointStats,
    MessageId, Next, Page, PageRequest, QueueDepth, StoreError,
};

use super::{exec, limit, page, rows, tx_exec, tx_rows, Db, Tx};
use crate::codec::{
    self, all, get, ms, ATTEMPT_COLUMNS, DELIVERY_COLUMNS, ENDPOINT_COLUMNS, MESSAGE_COLUMNS,
};

fn code(s: DeliveryStatus) -> i16 {
    i16::from(s.code())
}

pub(crate) async fn list_deliveries(
    c: &Db,
    app: &AppId,
    msg: &MessageId,
) -> Result<Vec<Delivery>, StoreError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM delivery WHERE message_id = $1 AND app_id = $2 ORDER BY endpoint_id"
    );
    all(
        &rows(c, &sql, &[&msg.as_str(), &app.as_str()]).await?,
        codec::delivery,
    )
}

/// Claims up to `n` due deliveries, skipping rows another node has locked.
pub(crate) async fn claim_due(
    tx: &Tx<'_>,
    now: i64,
    n: usize,
    lease: Duration,
) -> Result<Vec<Claimed>, StoreError> {
    let until = now.saturating_add(ms(lease));
    let cols = DELIVERY_COLUMNS
        .split(", ")
        .map(|c| format!("d.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH due AS (SELECT message_id, endpoint_id FROM delivery WHERE next_attempt_at <= $1 \
                      ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         UPDATE delivery d SET status = $3, next_attempt_at = $4, version = d.version + 1 FROM due \
         WHERE d.message_id = due.message_id AND d.endpoint_id = due.endpoint_id RETURNING {cols}"
    );
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let claimed = all(
        &tx_rows(
            tx,
            &sql,
            &[&now, &n, &code(DeliveryStatus::Sending), &until],
        )
        .await?,
        codec::delivery,
    )?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let msg_ids: Vec<&str> = claimed.iter().map(|d| d.message_id.as_str()).collect();
    let ep_ids: Vec<&str> = claimed.iter().map(|d| d.endpoint_id.as_str()).collect();
    let messages: HashMap<String, hookline_core::Message> = all(
        &tx_rows(
            tx,
            &format!("SELECT {MESSAGE_COLUMNS} FROM message WHERE id = ANY($1)"),
            &[&msg_ids],
        )
        .await?,
        codec::message,
    )?
    .into_iter()
    .map(|m| (m.id.to_string(), m))
    .collect();
    let endpoints: HashMap<String, hookline_core::Endpoint> = all(
        &tx_rows(
            tx,
            &format!("SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE id = ANY($1)"),
            &[&ep_ids],
        )
        .await?,
        codec::endpoint,
    )?
    .into_iter()
    .map(|e| (e.id.to_string(), e))
    .collect();
    Ok(claimed
        .into_iter()
        .filter_map(|d| {
            let message = messages.get(d.message_id.as_str())?.clone();
            let endpoint = endpoints.get(d.endpoint_id.as_str())?.clone();
            Some(Claimed {
                delivery: d,
                message,
                endpoint,
            })
        })
        .collect())
}

pub(crate) async fn record_attempt(
    tx: &Tx<'_>,
    a: &Attempt,
    version: i64,
    next: Next,
) -> Result<(), StoreError> {
    tx_exec(
        tx,
        &format!(
            "INSERT INTO attempt ({ATTEMPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ),
        &[
            &a.id.as_str(),
            &a.message_id.as_str(),
            &a.endpoint_id.as_str(),
            &a.app_id.as_str(),
            &a.url,
            &code(a.status),
            &i32::from(a.response_status_code),
            &a.response,
            &i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
            &(a.trigger as i16),
            &a.created_at,
        ],
    )
    .await?;
    let (status, due) = match next {
        Next::Success => (DeliveryStatus::Success, None),
        Next::RetryAt(t) => (DeliveryStatus::Pending, Some(t)),
        Next::Failed => (DeliveryStatus::Failed, None),
    };
    // Only the current claim moves the delivery: a resend, recover or new
    // claim made while this try was in flight bumped the version.
    tx_exec(
        tx,
        "UPDATE delivery SET status = $3, attempts = attempts + 1, next_attempt_at = $4, manual = FALSE \
         WHERE message_id = $1 AND endpoint_id = $2 AND version = $5",
        &[
            &a.message_id.as_str(),
            &a.endpoint_id.as_str(),
            &code(status),
            &due,
            &version,
        ],
    )
    .await?;
    // The endpoint's failure streak: a success ends it, a failure starts it.
    let streak = if a.status == DeliveryStatus::Success {
        "UPDATE endpoint SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL AND $2::bigint IS NOT NULL"
    } else {
        "UPDATE endpoint SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL"
    };
    tx_exec(tx, streak, &[&a.endpoint_id.as_str(), &a.created_at]).await?;
    Ok(())
}

pub(crate) async fn disable_if_failing_since(
    c: &Db,
    ep: &EndpointId,
    before: i64,
) -> Result<bool, StoreError> {
    exec(
        c,
        "UPDATE endpoint SET disabled = TRUE \
         WHERE id = $1 AND NOT disabled AND failing_since IS NOT NULL AND failing_since <= $2",
        &[&ep.as_str(), &before],
    )
    .await
    .map(|n| n > 0)
}

pub(crate) async fn requeue(
    c: &Db,
    app: &AppId,
    ep: &EndpointId,
    msg: Option<&MessageId>,
    since: i64,
    now: i64,
) -> Result<usize, StoreError> {
    let pending = code(DeliveryStatus::Pending);
    let n = match msg {
        Some(m) => {
            exec(
                c,
                "INSERT INTO delivery (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual) \
                 SELECT m.id, e.id, m.app_id, $4, 0, $5, TRUE FROM message m JOIN endpoint e ON e.app_id = m.app_id \
                 WHERE m.id = $1 AND e.id = $2 AND m.app_id = $3 \
                 ON CONFLICT (message_id, endpoint_id) DO UPDATE SET status = $4, attempts = 0, \
                 next_attempt_at = $5, manual = TRUE, version = delivery.version + 1",
                &[&m.as_str(), &ep.as_str(), &app.as_str(), &pending, &now],
            )
            .await?
        }
        None => {
            exec(
                c,
                "UPDATE delivery SET status = $4, attempts = 0, next_attempt_at = $5, manual = TRUE, \
                 version = version + 1 WHERE endpoint_id = $1 AND app_id = $2 AND status = $6 \
                 AND message_id IN (SELECT id FROM message WHERE app_id = $2 AND created_at >= $3)",
                &[&ep.as_str(), &app.as_str(), &since, &pending, &now, &code(DeliveryStatus::Failed)],
            )
            .await?
        }
    };
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub(crate) async fn postpone(
    c: &Db,
    msg: &MessageId,
    ep: &EndpointId,
    version: i64,
    until: i64,
) -> Result<(), StoreError> {
    exec(
        c,
        "UPDATE delivery SET status = $3, next_attempt_at = $4 \
         WHERE message_id = $1 AND endpoint_id = $2 AND version = $5",
        &[
            &msg.as_str(),
            &ep.as_str(),
            &code(DeliveryStatus::Pending),
            &until,
            &version,
        ],
    )
    .await
    .map(|_| ())
}

pub(crate) async fn queue_depth(c: &Db, now: i64) -> Result<QueueDepth, StoreError> {
    let found = rows(
        c,
        "SELECT (SELECT count(*) FROM delivery WHERE next_attempt_at <= $1), \
                (SELECT count(*) FROM delivery WHERE next_attempt_at > $1), \
                (SELECT count(*) FROM delivery WHERE status = 2)",
        &[&now],
    )
    .await?;
    let r = found
        .first()
        .ok_or_else(|| StoreError::Backend("no queue depth row".into()))?;
    let n = |i| get::<i64>(r, i).map(|v| u64::try_from(v).unwrap_or(0));
    Ok(QueueDepth {
        due: n(0)?,
        scheduled: n(1)?,
        failed: n(2)?,
    })
}

pub(crate) async fn next_due(c: &Db) -> Result<Option<i64>, StoreError> {
    let found = rows(
        c,
        "SELECT min(next_attempt_at) FROM delivery WHERE next_attempt_at IS NOT NULL",
        &[],
    )
    .await?;
    found.first().map_or(Ok(None), |r| get(r, 0))
}

pub(crate) async fn endpoint_stats(
    c: &Db,
    app: &AppId,
    ep: &EndpointId,
    since: i64,
    until: i64,
) -> Result<EndpointStats, StoreError> {
    let found = rows(
        c,
        "SELECT d.status, count(*) FROM delivery d JOIN message m ON m.id = d.message_id \
         WHERE d.endpoint_id = $1 AND d.app_id = $2 AND m.created_at >= $3 AND m.created_at < $4 \
         GROUP BY d.status",
        &[&ep.as_str(), &app.as_str(), &since, &until],
    )
    .await?;
    let mut stats = EndpointStats::default();
    for r in &found {
        let (status, n): (i16, i64) = (get(r, 0)?, get(r, 1)?);
        let n = u64::try_from(n).unwrap_or(0);
        let status = DeliveryStatus::from_code(i64::from(status))
            .ok_or_else(|| codec::corrupt("status", status))?;
        stats.add(status, n);
    }
    Ok(stats)
}

pub(crate) async fn select_attempt(
    c: &Db,
    app: &AppId,
    msg: &MessageId,
    id: &AttemptId,
) -> Result<Option<Attempt>, StoreError> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempt WHERE id = $1 AND message_id = $2 AND app_id = $3"
    );
    rows(c, &sql, &[&id.as_str(), &msg.as_str(), &app.as_str()])
        .await?
        .first()
        .map(codec::attempt)
        .transpose()
}

pub(crate) async fn list_attempts(
    c: &Db,
    app: &AppId,
    msg: Option<&MessageId>,
    ep: Option<&EndpointId>,
    req: &PageRequest,
) -> Result<Page<Attempt>, StoreError> {
    // One query per index: by endpoint (then narrowed by message), or by message.
    let (by, key) = match (msg, ep) {
        (_, Some(e)) => ("endpoint_id", e.as_str()),
        (Some(m), None) => ("message_id", m.as_str()),
        (None, None) => {
            return Err(StoreError::Backend(
                "list_attempts needs a message or an endpoint".into(),
            ))
        }
    };
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempt WHERE {by} = $1 AND app_id = $2 \
         AND ($3::text IS NULL OR message_id = $3) AND ($4::text IS NULL OR id < $4) \
         ORDER BY id DESC LIMIT $5"
    );
    let found = rows(
        c,
        &sql,
        &[
            &key,
            &app.as_str(),
            &msg.map(MessageId::as_str),
            &req.iterator,
            &limit(req),
        ],
    )
    .await?;
    Ok(page(all(&found, codec::attempt)?, req, |a| {
        a.id.to_string()
    }))
}
