//! [`ForwardQueue`] on PostgreSQL: claim due forwards (`FOR UPDATE SKIP
//! LOCKED`; of an ordered route only its head), record each try, postpone,
//! pause on `410`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hookline_core::{
    ClaimedForward, DeliveryStatus, EventId, ForwardQueue, ForwardTry, NewForward, Next, RouteId,
    StoreError,
};

use crate::backend;
use crate::codec::{self, all, code, ms, EVENT_COLUMNS};
use crate::route::{self, set_paused, FORWARD_COLUMNS, ROUTE_COLUMNS};
use crate::sql::*;
use crate::store::PgStore;

/// On a route that is not paused and (on an ordered route) its head: the
/// earliest forward still pending or in flight.
const CLAIMABLE: &str = "r.paused = FALSE AND (r.ordered = FALSE OR f.seq = \
     (SELECT min(o.seq) FROM forward o WHERE o.route_id = f.route_id AND o.status IN (1, 3)))";

const RECORD_SQL: &str = "UPDATE forward SET last_status = $3, last_response = $4, \
     last_duration_ms = $5, last_at = $6, \
     status = CASE WHEN version = $7 THEN $8 ELSE status END, \
     attempts = CASE WHEN version = $7 THEN attempts + 1 ELSE attempts END, \
     next_attempt_at = CASE WHEN version = $7 THEN $9 ELSE next_attempt_at END, \
     manual = CASE WHEN version = $7 THEN FALSE ELSE manual END \
     WHERE route_id = $1 AND event_id = $2";

/// Stores the forwards of a just-stored event down each route that still
/// exists: pending, due at `due`, or handed off (in flight, version 1).
/// Pending ones wake every node's engine.
pub(crate) async fn insert_forwards(
    tx: &Tx<'_>,
    channel: &str,
    source: &str,
    event: &EventId,
    forwards: &[NewForward],
    due: i64,
) -> Result<(), StoreError> {
    if forwards.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = forwards.iter().map(|f| f.route.as_str()).collect();
    let statuses: Vec<i16> = forwards
        .iter()
        .map(|f| match f.leased_until {
            Some(_) => code(DeliveryStatus::Sending),
            None => code(DeliveryStatus::Pending),
        })
        .collect();
    let dues: Vec<i64> = forwards
        .iter()
        .map(|f| f.leased_until.unwrap_or(due))
        .collect();
    let versions: Vec<i64> = forwards
        .iter()
        .map(|f| i64::from(f.leased_until.is_some()))
        .collect();
    tx_exec(
        tx,
        "INSERT INTO forward (route_id, source, event_id, status, attempts, next_attempt_at, \
         manual, version) SELECT r.id, $2, $3, x.status, 0, x.due, FALSE, x.version \
         FROM unnest($1::text[], $4::smallint[], $5::bigint[], $6::bigint[]) \
         AS x(route, status, due, version) JOIN route r ON r.id = x.route",
        &[&ids, &source, &event.as_str(), &statuses, &dues, &versions],
    )
    .await?;
    if forwards.iter().any(|f| f.leased_until.is_none()) {
        tx_exec(tx, "SELECT pg_notify($1, '')", &[&channel]).await?;
    }
    Ok(())
}

/// Claims due forwards and reads what they need (route and event) in one
/// statement: one round trip, no explicit transaction.
async fn claim(
    c: &Db,
    now: i64,
    limit: usize,
    lease: Duration,
) -> Result<Vec<ClaimedForward>, StoreError> {
    let until = now.saturating_add(ms(lease));
    let prefixed = |cols: &str, p: &str| {
        cols.split(", ")
            .map(|c| format!("{p}.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sql = format!(
        "WITH due AS (SELECT f.seq FROM forward f JOIN route r ON r.id = f.route_id \
                      WHERE f.next_attempt_at <= $1 AND {CLAIMABLE} \
                      ORDER BY f.next_attempt_at LIMIT $2 FOR UPDATE OF f SKIP LOCKED), \
         claimed AS (UPDATE forward f SET status = $3, next_attempt_at = $4, version = f.version + 1 \
                     FROM due WHERE f.seq = due.seq RETURNING {}) \
         SELECT {}, {}, {} FROM claimed f JOIN route r ON r.id = f.route_id \
         JOIN inbound_event e ON e.source = f.source AND e.id = f.event_id",
        prefixed(FORWARD_COLUMNS, "f"),
        prefixed(FORWARD_COLUMNS, "f"),
        prefixed(ROUTE_COLUMNS, "r"),
        prefixed(EVENT_COLUMNS, "e"),
    );
    let n = i64::try_from(limit).unwrap_or(i64::MAX);
    let found = rows(c, &sql, &[&now, &n, &code(DeliveryStatus::Sending), &until]).await?;
    let forward_cols = FORWARD_COLUMNS.split(", ").count();
    let route_cols = ROUTE_COLUMNS.split(", ").count();
    all(&found, |row| {
        Ok(ClaimedForward {
            forward: route::forward_at(row, 0)?,
            route: route::route_at(row, forward_cols)?,
            event: codec::event_at(row, forward_cols + route_cols)?,
        })
    })
}

#[async_trait]
impl ForwardQueue for PgStore {
    async fn claim_forwards(
        &self,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedForward>, StoreError> {
        claim(&self.db().await?, now, limit, lease).await
    }

    async fn record_forward(
        &self,
        route: &RouteId,
        event: &EventId,
        version: i64,
        tried: &ForwardTry,
        next: Next,
    ) -> Result<(), StoreError> {
        let (status, due) = match next {
            Next::Success => (DeliveryStatus::Success, None),
            Next::RetryAt(t) => (DeliveryStatus::Pending, Some(t)),
            Next::Failed => (DeliveryStatus::Failed, None),
        };
        // What the try got is kept whatever happened meanwhile; only the
        // current claim moves the forward on. Group-committed with the
        // inbox's writes: one commit for many tries.
        let keys = Arc::new((route.to_string(), event.to_string(), tried.clone()));
        self.writer
            .write(move |tx| {
                let keys = keys.clone();
                Box::pin(async move {
                    let (route, event, t) = &*keys;
                    tx_exec(
                        tx,
                        RECORD_SQL,
                        &[
                            &route.as_str(),
                            &event.as_str(),
                            &i32::from(t.status_code),
                            &t.response,
                            &i64::try_from(t.duration_ms).unwrap_or(i64::MAX),
                            &t.at,
                            &version,
                            &code(status),
                            &due,
                        ],
                    )
                    .await
                    .map(drop)
                })
            })
            .await
    }

    async fn postpone_forward(
        &self,
        route: &RouteId,
        event: &EventId,
        version: i64,
        until: i64,
    ) -> Result<(), StoreError> {
        exec(
            &self.db().await?,
            "UPDATE forward SET status = $3, next_attempt_at = $4 \
             WHERE route_id = $1 AND event_id = $2 AND version = $5",
            &[
                &route.as_str(),
                &event.as_str(),
                &code(DeliveryStatus::Pending),
                &until,
                &version,
            ],
        )
        .await
        .map(drop)
    }

    async fn next_forward_due(&self) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT f.next_attempt_at FROM forward f JOIN route r ON r.id = f.route_id \
             WHERE f.next_attempt_at IS NOT NULL AND {CLAIMABLE} \
             ORDER BY f.next_attempt_at LIMIT 1"
        );
        let found = rows(&self.db().await?, &sql, &[]).await?;
        found
            .first()
            .map(|r| r.try_get::<_, i64>(0).map_err(backend))
            .transpose()
    }

    async fn pause_route(&self, route: &RouteId, now: i64) -> Result<(), StoreError> {
        set_paused(&self.db().await?, route, true, now).await
    }
}
