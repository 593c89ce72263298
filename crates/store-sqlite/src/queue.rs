//! [`DeliveryQueue`] on SQLite: claim under a lease, record an attempt,
//! postpone, disable.

use std::time::Duration;

use async_trait::async_trait;
use hookline_core::{
    Attempt, Claimed, DeliveryQueue, DeliveryStatus, Endpoint, EndpointId, MessageId, Next,
    StoreError,
};
use rusqlite::{params, Connection};
use std::collections::BTreeMap;

use crate::backend;
use crate::outbox::select_message;
use crate::rows::*;
use crate::store::SqliteStore;

#[async_trait]
impl DeliveryQueue for SqliteStore {
    async fn claim_due(
        &self,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed>, StoreError> {
        self.writer
            .write(move |c| claim_due(c, now, limit, lease))
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
            .write(move |c| record_attempt(c, &a, version, next))
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
            .write(move |c| postpone(c, &msg, &ep, version, until))
            .await
    }

    async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        self.readers.read(next_due).await
    }

    async fn disable_if_failing_since(
        &self,
        endpoint: &EndpointId,
        before: i64,
    ) -> Result<bool, StoreError> {
        let ep = endpoint.clone();
        self.writer
            .write(move |c| disable_if_failing_since(c, &ep, before))
            .await
    }

    async fn disable_endpoint(&self, endpoint: &EndpointId, now: i64) -> Result<(), StoreError> {
        let ep = endpoint.clone();
        self.writer
            .write(move |c| {
                match c
                    .execute(
                        "UPDATE endpoint SET disabled = 1, updated_at = ?2 WHERE id = ?1",
                        params![ep.as_str(), now],
                    )
                    .map_err(backend)?
                {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            })
            .await
    }
}

pub(crate) fn claim_due(
    c: &Connection,
    now: i64,
    limit: usize,
    lease: Duration,
) -> Result<Vec<Claimed>, StoreError> {
    let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
    let mut st = c
        .prepare_cached(&format!(
            "UPDATE delivery SET status = ?3, next_attempt_at = ?4, version = version + 1 \
             WHERE (message_id, endpoint_id) IN \
             (SELECT message_id, endpoint_id FROM delivery WHERE next_attempt_at <= ?1 \
              ORDER BY next_attempt_at LIMIT ?2) RETURNING {DELIVERY_COLUMNS}"
        ))
        .map_err(backend)?;
    let claimed = st
        .query_map(
            params![now, limit as i64, DeliveryStatus::Sending.code(), until],
            delivery,
        )
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    let mut endpoints: BTreeMap<String, Endpoint> = BTreeMap::new();
    let mut out = Vec::with_capacity(claimed.len());
    for d in claimed {
        let Some(message) = select_message(c, &d.app_id, &d.message_id)? else {
            continue;
        };
        let key = d.endpoint_id.to_string();
        if !endpoints.contains_key(&key) {
            let Some(e) = endpoint_by_id(c, &key)? else {
                continue;
            };
            endpoints.insert(key.clone(), e);
        }
        if let Some(endpoint) = endpoints.get(&key) {
            out.push(Claimed {
                delivery: d,
                message,
                endpoint: endpoint.clone(),
            });
        }
    }
    Ok(out)
}

pub(crate) fn record_attempt(
    c: &Connection,
    a: &Attempt,
    version: i64,
    next: Next,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO attempt (id, message_id, endpoint_id, app_id, url, status, response_status_code, response, \
         duration_ms, trigger_type, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .and_then(|mut st| {
        st.execute(params![
            a.id.as_str(),
            a.message_id.as_str(),
            a.endpoint_id.as_str(),
            a.app_id.as_str(),
            a.url,
            a.status.code(),
            a.response_status_code,
            a.response,
            i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
            a.trigger as u8,
            a.created_at
        ])
    })
    .map_err(backend)?;
    let (status, due) = match next {
        Next::Success => (DeliveryStatus::Success, None),
        Next::RetryAt(t) => (DeliveryStatus::Pending, Some(t)),
        Next::Failed => (DeliveryStatus::Failed, None),
    };
    // Only the current claim moves the delivery: a resend, recover or new
    // claim made while this try was in flight bumped the version.
    c.prepare_cached(
        "UPDATE delivery SET status = ?3, attempts = attempts + 1, next_attempt_at = ?4, manual = 0 \
         WHERE message_id = ?1 AND endpoint_id = ?2 AND version = ?5",
    )
    .and_then(|mut st| {
        st.execute(params![
            a.message_id.as_str(),
            a.endpoint_id.as_str(),
            status.code(),
            due,
            version
        ])
    })
    .map_err(backend)?;
    // The endpoint's failure streak: a success ends it, a failure starts it.
    let streak = if a.status == DeliveryStatus::Success {
        "UPDATE endpoint SET failing_since = NULL WHERE id = ?1 AND failing_since IS NOT NULL AND ?2 = ?2"
    } else {
        "UPDATE endpoint SET failing_since = ?2 WHERE id = ?1 AND failing_since IS NULL"
    };
    c.prepare_cached(streak)
        .and_then(|mut st| st.execute(params![a.endpoint_id.as_str(), a.created_at]))
        .map_err(backend)?;
    Ok(())
}

pub(crate) fn postpone(
    c: &Connection,
    msg: &MessageId,
    ep: &EndpointId,
    version: i64,
    until: i64,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE delivery SET status = ?3, next_attempt_at = ?4 \
         WHERE message_id = ?1 AND endpoint_id = ?2 AND version = ?5",
    )
    .and_then(|mut st| {
        st.execute(params![
            msg.as_str(),
            ep.as_str(),
            DeliveryStatus::Pending.code(),
            until,
            version
        ])
    })
    .map(|_| ())
    .map_err(backend)
}

pub(crate) fn next_due(c: &Connection) -> Result<Option<i64>, StoreError> {
    c.query_row(
        "SELECT min(next_attempt_at) FROM delivery WHERE next_attempt_at IS NOT NULL",
        [],
        |r| r.get(0),
    )
    .map_err(backend)
}

pub(crate) fn disable_if_failing_since(
    c: &Connection,
    ep: &EndpointId,
    before: i64,
) -> Result<bool, StoreError> {
    c.execute(
        "UPDATE endpoint SET disabled = 1 \
         WHERE id = ?1 AND disabled = 0 AND failing_since IS NOT NULL AND failing_since <= ?2",
        params![ep.as_str(), before],
    )
    .map(|n| n > 0)
    .map_err(backend)
}
