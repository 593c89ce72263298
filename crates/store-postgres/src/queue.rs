//! [`DeliveryQueue`] on PostgreSQL: claim (`FOR UPDATE SKIP LOCKED`, so nodes
//! never take the same one), record an attempt, postpone, disable; woken by
//! other nodes through `LISTEN/NOTIFY`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hookline_core::{
    Attempt, Claimed, DeliveryQueue, DeliveryStatus, EndpointId, MessageId, Next, StoreError,
};

use crate::backend;
use crate::codec::{self, *};
use crate::sql::*;
use crate::store::{in_tx, PgStore};

#[async_trait]
impl DeliveryQueue for PgStore {
    async fn disable_endpoint(&self, endpoint: &EndpointId, now: i64) -> Result<(), StoreError> {
        match exec(
            &self.db().await?,
            "UPDATE endpoint SET disabled = TRUE, updated_at = $2 WHERE id = $1",
            &[&endpoint.as_str(), &now],
        )
        .await?
        {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn claim_due(
        &self,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed>, StoreError> {
        in_tx!(self, |tx| claim_due(&tx, now, limit, lease).await?)
    }

    async fn record_attempt(
        &self,
        attempt: &Attempt,
        version: i64,
        next: Next,
    ) -> Result<(), StoreError> {
        let a = Arc::new(attempt.clone());
        self.writer
            .write(move |tx| {
                let a = a.clone();
                Box::pin(async move { record_attempt(tx, &a, version, next).await })
            })
            .await
    }

    async fn postpone(
        &self,
        message: &MessageId,
        endpoint: &EndpointId,
        version: i64,
        until: i64,
    ) -> Result<(), StoreError> {
        postpone(&self.db().await?, message, endpoint, version, until).await
    }

    async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        next_due(&self.db().await?).await
    }

    async fn disable_if_failing_since(
        &self,
        endpoint: &EndpointId,
        before: i64,
    ) -> Result<bool, StoreError> {
        disable_if_failing_since(&self.db().await?, endpoint, before).await
    }

    async fn published_elsewhere(&self) {
        self.published.notified().await;
    }
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

pub(crate) async fn next_due(c: &Db) -> Result<Option<i64>, StoreError> {
    let found = rows(
        c,
        "SELECT min(next_attempt_at) FROM delivery WHERE next_attempt_at IS NOT NULL",
        &[],
    )
    .await?;
    found.first().map_or(Ok(None), |r| get(r, 0))
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
