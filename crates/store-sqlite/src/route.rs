//! [`RouteStore`] on SQLite: the `route` table, and each event's forwards
//! (the `forward` table) as the API shows them: list, resend, recover, counts.

use async_trait::async_trait;
use hookline_core::{
    DeliveryStatus, EventId, Forward, ForwardTry, Route, RouteId, RouteStore, StoreError,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::backend;
use crate::rows::{corrupt, id};
use crate::store::SqliteStore;

pub(crate) const ROUTE_COLUMNS: &str =
    "id, name, source, url, ordered, paused, options, created_at, updated_at";
pub(crate) const FORWARD_COLUMNS: &str = "route_id, event_id, source, status, attempts, \
     next_attempt_at, manual, version, last_status, last_response, last_duration_ms, last_at";

/// A `route` row (its columns from `offset`).
pub(crate) fn route_at(r: &Row<'_>, offset: usize) -> rusqlite::Result<Route> {
    let mut route = Route {
        id: id(r, offset)?,
        name: r.get(offset + 1)?,
        source: r.get(offset + 2)?,
        url: r.get(offset + 3)?,
        filter: None,
        policy: Default::default(),
        rate_limit: None,
        ordered: r.get(offset + 4)?,
        paused: r.get(offset + 5)?,
        headers: Default::default(),
        sign: None,
        trusted: false,
        created_at: r.get(offset + 7)?,
        updated_at: r.get(offset + 8)?,
    };
    route
        .set_options_json(&r.get::<_, String>(offset + 6)?)
        .map_err(|e| corrupt("route options", e))?;
    Ok(route)
}

/// A `forward` row (its columns from `offset`).
pub(crate) fn forward_at(r: &Row<'_>, offset: usize) -> rusqlite::Result<Forward> {
    let status: i64 = r.get(offset + 3)?;
    let last_at: Option<i64> = r.get(offset + 11)?;
    let last = match last_at {
        Some(at) => Some(ForwardTry {
            status_code: r.get(offset + 8)?,
            response: r.get::<_, Option<String>>(offset + 9)?.unwrap_or_default(),
            duration_ms: r.get::<_, Option<u64>>(offset + 10)?.unwrap_or(0),
            at,
        }),
        None => None,
    };
    Ok(Forward {
        route_id: id(r, offset)?,
        event_id: id(r, offset + 1)?,
        source: r.get(offset + 2)?,
        status: DeliveryStatus::from_code(status).ok_or_else(|| corrupt("status", status))?,
        attempts: r.get(offset + 4)?,
        next_attempt_at: r.get(offset + 5)?,
        manual: r.get(offset + 6)?,
        version: r.get(offset + 7)?,
        last,
    })
}

fn route(r: &Row<'_>) -> rusqlite::Result<Route> {
    route_at(r, 0)
}

/// Writes every column of `route` (an insert, or a replace of its id).
fn save(c: &Connection, r: &Route, sql: &str) -> Result<usize, StoreError> {
    c.prepare_cached(sql)
        .and_then(|mut st| {
            st.execute(params![
                r.id.as_str(),
                r.name,
                r.source,
                r.url,
                r.ordered,
                r.paused,
                r.options_json(),
                r.created_at,
                r.updated_at
            ])
        })
        .map_err(|e| match backend(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("a route named `{}` already exists", r.name))
            }
            other => other,
        })
}

#[async_trait]
impl RouteStore for SqliteStore {
    async fn create_route(&self, route: &Route) -> Result<(), StoreError> {
        let r = route.clone();
        self.writer
            .write(move |c| {
                let sql = format!(
                    "INSERT INTO route ({ROUTE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                );
                save(c, &r, &sql).map(drop)
            })
            .await
    }

    async fn update_route(&self, route: &Route) -> Result<(), StoreError> {
        let r = route.clone();
        self.writer
            .write(move |c| {
                let sql = "UPDATE route SET name = ?2, source = ?3, url = ?4, ordered = ?5, \
                           paused = ?6, options = ?7, created_at = ?8, updated_at = ?9 WHERE id = ?1";
                match save(c, &r, sql)? {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            })
            .await
    }

    async fn delete_route(&self, id: &RouteId) -> Result<(), StoreError> {
        let id = id.to_string();
        self.writer
            .write(move |c| {
                match c
                    .execute("DELETE FROM route WHERE id = ?1", [&id])
                    .map_err(backend)?
                {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            })
            .await
    }

    async fn get_route(&self, name_or_id: &str) -> Result<Option<Route>, StoreError> {
        let key = name_or_id.to_string();
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {ROUTE_COLUMNS} FROM route WHERE name = ?1 OR id = ?1"
                ))
                .and_then(|mut st| st.query_row([key], route).optional())
                .map_err(backend)
            })
            .await
    }

    async fn list_routes(&self, source: Option<&str>) -> Result<Vec<Route>, StoreError> {
        let source = source.map(str::to_string);
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {ROUTE_COLUMNS} FROM route WHERE ?1 IS NULL OR source = ?1 ORDER BY name"
                ))
                .and_then(|mut st| st.query_map([source], route)?.collect())
                .map_err(backend)
            })
            .await
    }

    async fn set_route_paused(
        &self,
        id: &RouteId,
        paused: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let id = id.clone();
        self.writer
            .write(move |c| set_paused(c, &id, paused, now))
            .await
    }

    async fn routes_fingerprint(&self) -> Result<(i64, i64), StoreError> {
        self.readers
            .read(|c| {
                c.query_row(
                    "SELECT count(*), coalesce(sum(updated_at % 1000000007), 0) FROM route",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(backend)
            })
            .await
    }

    async fn list_forwards(
        &self,
        source: &str,
        event: &EventId,
    ) -> Result<Vec<Forward>, StoreError> {
        let (source, event) = (source.to_string(), event.to_string());
        self.readers
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {FORWARD_COLUMNS} FROM forward WHERE source = ?1 AND event_id = ?2 \
                     ORDER BY route_id"
                ))
                .and_then(|mut st| {
                    st.query_map([source, event], |r| forward_at(r, 0))?
                        .collect()
                })
                .map_err(backend)
            })
            .await
    }

    async fn requeue_forwards(
        &self,
        route: &RouteId,
        event: Option<&EventId>,
        since: i64,
        now: i64,
    ) -> Result<usize, StoreError> {
        let (route, event) = (route.to_string(), event.map(ToString::to_string));
        let floor = EventId::floor(since).to_string();
        self.writer
            .write(move |c| {
                let pending = DeliveryStatus::Pending.code();
                let failed = DeliveryStatus::Failed.code();
                let n = match &event {
                    Some(evt) => c
                        .prepare_cached(
                            "INSERT INTO forward (route_id, source, event_id, status, attempts, \
                             next_attempt_at, manual, version) \
                             SELECT r.id, r.source, e.id, ?3, 0, ?4, 1, 0 FROM route r \
                             JOIN inbound_event e ON e.source = r.source AND e.id = ?2 \
                             WHERE r.id = ?1 \
                             ON CONFLICT (route_id, event_id) DO UPDATE SET status = ?3, \
                             attempts = 0, next_attempt_at = ?4, manual = 1, version = version + 1",
                        )
                        .and_then(|mut st| st.execute(params![route, evt, pending, now])),
                    None => c
                        .prepare_cached(
                            "UPDATE forward SET status = ?3, attempts = 0, next_attempt_at = ?4, \
                             manual = 1, version = version + 1 \
                             WHERE route_id = ?1 AND status = ?5 AND event_id >= ?2",
                        )
                        .and_then(|mut st| st.execute(params![route, floor, pending, now, failed])),
                };
                n.map_err(backend)
            })
            .await
    }

    async fn pending_forwards(&self) -> Result<Vec<(RouteId, u64)>, StoreError> {
        self.readers
            .read(|c| {
                c.prepare_cached(
                    "SELECT route_id, count(*) FROM forward WHERE status IN (1, 3) GROUP BY route_id",
                )
                .and_then(|mut st| {
                    st.query_map([], |r| Ok((id::<RouteId>(r, 0)?, r.get::<_, u64>(1)?)))?
                        .collect()
                })
                .map_err(backend)
            })
            .await
    }
}

/// Sets only the paused flag (and the updated time).
pub(crate) fn set_paused(
    c: &Connection,
    id: &RouteId,
    paused: bool,
    now: i64,
) -> Result<(), StoreError> {
    match c
        .execute(
            "UPDATE route SET paused = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.as_str(), paused, now],
        )
        .map_err(backend)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}
