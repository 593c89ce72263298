//! [`ForwardQueue`] on SQLite: claim due forwards under a lease (only the
//! head of an ordered route), record each try, postpone, pause on `410`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use hookline_core::{
    ClaimedForward, DeliveryStatus, EventId, Forward, ForwardQueue, ForwardTry, NewForward, Next,
    Route, RouteId, StoreError,
};
use rusqlite::{params, Connection, OptionalExtension};

use crate::backend;
use crate::route::{forward_at, route_at, set_paused, FORWARD_COLUMNS, ROUTE_COLUMNS};
use crate::rows::{self, ms, EVENT_COLUMNS};
use crate::store::SqliteStore;

/// Due, on a route that is not paused, and (on an ordered route) its head:
/// the earliest forward still pending or in flight.
const CLAIMABLE: &str = "f.next_attempt_at <= ?1 AND r.paused = 0 AND (r.ordered = 0 OR \
     f.seq = (SELECT min(o.seq) FROM forward o WHERE o.route_id = f.route_id AND o.status IN (1, 3)))";

/// Stores the forwards of a just-stored event down each route that still
/// exists: pending, due at `due`, or handed off (in flight, version 1).
pub(crate) fn insert_forwards(
    c: &Connection,
    source: &str,
    event: &EventId,
    forwards: &[NewForward],
    due: i64,
) -> Result<(), StoreError> {
    let mut st = c
        .prepare_cached(
            "INSERT INTO forward (route_id, source, event_id, status, attempts, next_attempt_at, \
             manual, version) SELECT ?1, ?2, ?3, ?4, 0, ?5, 0, ?6 \
             WHERE EXISTS (SELECT 1 FROM route WHERE id = ?1)",
        )
        .map_err(backend)?;
    for f in forwards {
        let (status, at, version) = match f.leased_until {
            Some(until) => (DeliveryStatus::Sending, until, 1),
            None => (DeliveryStatus::Pending, due, 0),
        };
        st.execute(params![
            f.route.as_str(),
            source,
            event.as_str(),
            status.code(),
            at,
            version
        ])
        .map_err(backend)?;
    }
    Ok(())
}

/// Claims due forwards (the writer's part: one UPDATE).
fn claim(
    c: &Connection,
    now: i64,
    limit: usize,
    lease: Duration,
) -> Result<Vec<Forward>, StoreError> {
    let until = now.saturating_add(ms(lease));
    c.prepare_cached(&format!(
        "UPDATE forward SET status = ?3, next_attempt_at = ?4, version = version + 1 \
         WHERE seq IN (SELECT f.seq FROM forward f JOIN route r ON r.id = f.route_id \
         WHERE {CLAIMABLE} ORDER BY f.next_attempt_at LIMIT ?2) RETURNING {FORWARD_COLUMNS}"
    ))
    .and_then(|mut st| {
        st.query_map(
            params![now, limit as i64, DeliveryStatus::Sending.code(), until],
            |r| forward_at(r, 0),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()
    })
    .map_err(backend)
}

/// What claimed forwards need to be sent: their routes and events (a
/// reader's part, off the writer).
fn complete(c: &Connection, claimed: Vec<Forward>) -> Result<Vec<ClaimedForward>, StoreError> {
    let mut routes: BTreeMap<RouteId, Route> = BTreeMap::new();
    let mut out = Vec::with_capacity(claimed.len());
    for forward in claimed {
        if !routes.contains_key(&forward.route_id) {
            let found = c
                .prepare_cached(&format!("SELECT {ROUTE_COLUMNS} FROM route WHERE id = ?1"))
                .and_then(|mut st| {
                    st.query_row([forward.route_id.as_str()], |r| route_at(r, 0))
                        .optional()
                })
                .map_err(backend)?;
            let Some(route) = found else { continue };
            routes.insert(forward.route_id.clone(), route);
        }
        let event = c
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM inbound_event WHERE source = ?1 AND id = ?2"
            ))
            .and_then(|mut st| {
                st.query_row(
                    [forward.source.as_str(), forward.event_id.as_str()],
                    rows::event,
                )
                .optional()
            })
            .map_err(backend)?;
        if let (Some(event), Some(route)) = (event, routes.get(&forward.route_id)) {
            out.push(ClaimedForward {
                forward,
                route: route.clone(),
                event,
            });
        }
    }
    Ok(out)
}

#[async_trait]
impl ForwardQueue for SqliteStore {
    async fn claim_forwards(
        &self,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedForward>, StoreError> {
        let claimed = self
            .writer
            .write(move |c| claim(c, now, limit, lease))
            .await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        self.readers.read(move |c| complete(c, claimed)).await
    }

    async fn record_forward(
        &self,
        route: &RouteId,
        event: &EventId,
        version: i64,
        tried: &ForwardTry,
        next: Next,
    ) -> Result<(), StoreError> {
        let (route, event, t) = (route.to_string(), event.to_string(), tried.clone());
        let (status, due) = match next {
            Next::Success => (DeliveryStatus::Success, None),
            Next::RetryAt(t) => (DeliveryStatus::Pending, Some(t)),
            Next::Failed => (DeliveryStatus::Failed, None),
        };
        self.writer
            .write(move |c| {
                // What the try got is kept whatever happened meanwhile; only
                // the current claim moves the forward on.
                c.prepare_cached(
                    "UPDATE forward SET last_status = ?3, last_response = ?4, \
                     last_duration_ms = ?5, last_at = ?6, \
                     status = CASE WHEN version = ?7 THEN ?8 ELSE status END, \
                     attempts = CASE WHEN version = ?7 THEN attempts + 1 ELSE attempts END, \
                     next_attempt_at = CASE WHEN version = ?7 THEN ?9 ELSE next_attempt_at END, \
                     manual = CASE WHEN version = ?7 THEN 0 ELSE manual END \
                     WHERE route_id = ?1 AND event_id = ?2",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        route,
                        event,
                        t.status_code,
                        t.response,
                        i64::try_from(t.duration_ms).unwrap_or(i64::MAX),
                        t.at,
                        version,
                        status.code(),
                        due
                    ])
                })
                .map(drop)
                .map_err(backend)
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
        let (route, event) = (route.to_string(), event.to_string());
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "UPDATE forward SET status = ?3, next_attempt_at = ?4 \
                     WHERE route_id = ?1 AND event_id = ?2 AND version = ?5",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        route,
                        event,
                        DeliveryStatus::Pending.code(),
                        until,
                        version
                    ])
                })
                .map(drop)
                .map_err(backend)
            })
            .await
    }

    async fn next_forward_due(&self) -> Result<Option<i64>, StoreError> {
        self.readers
            .read(|c| {
                c.query_row(
                    &format!(
                        "SELECT f.next_attempt_at FROM forward f JOIN route r ON r.id = f.route_id \
                         WHERE f.next_attempt_at IS NOT NULL AND {} \
                         ORDER BY f.next_attempt_at LIMIT 1",
                        CLAIMABLE.replace("f.next_attempt_at <= ?1 AND ", "")
                    ),
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)
            })
            .await
    }

    async fn pause_route(&self, route: &RouteId, now: i64) -> Result<(), StoreError> {
        let route = route.clone();
        self.writer
            .write(move |c| set_paused(c, &route, true, now))
            .await
    }
}
