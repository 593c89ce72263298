//! [`RouteStore`] on PostgreSQL: the `route` table, and each event's
//! forwards (the `forward` table) as the API shows them.

use async_trait::async_trait;
use hookline_core::{
    DeliveryStatus, EventId, Forward, ForwardTry, Route, RouteId, RouteStore, StoreError,
};
use tokio_postgres::Row;

use crate::codec::{all, code, corrupt, get, id, status};
use crate::sql::*;
use crate::store::PgStore;

pub(crate) const ROUTE_COLUMNS: &str =
    "id, name, source, url, ordered, paused, options, created_at, updated_at";
pub(crate) const FORWARD_COLUMNS: &str = "route_id, event_id, source, status, attempts, \
     next_attempt_at, manual, version, last_status, last_response, last_duration_ms, last_at";

pub(crate) fn route(r: &Row) -> Result<Route, StoreError> {
    route_at(r, 0)
}

pub(crate) fn route_at(r: &Row, o: usize) -> Result<Route, StoreError> {
    let mut route = Route {
        id: id(r, o)?,
        name: get(r, o + 1)?,
        source: get(r, o + 2)?,
        url: get(r, o + 3)?,
        filter: None,
        policy: Default::default(),
        rate_limit: None,
        ordered: get(r, o + 4)?,
        paused: get(r, o + 5)?,
        headers: Default::default(),
        sign: None,
        trusted: false,
        created_at: get(r, o + 7)?,
        updated_at: get(r, o + 8)?,
    };
    route
        .set_options_json(&get::<String>(r, o + 6)?)
        .map_err(|e| corrupt("route options", e))?;
    Ok(route)
}

pub(crate) fn forward(r: &Row) -> Result<Forward, StoreError> {
    forward_at(r, 0)
}

pub(crate) fn forward_at(r: &Row, o: usize) -> Result<Forward, StoreError> {
    let last = match get::<Option<i64>>(r, 11)? {
        Some(at) => Some(ForwardTry {
            status_code: u16::try_from(get::<Option<i32>>(r, 8)?.unwrap_or(0)).unwrap_or(0),
            response: get::<Option<String>>(r, 9)?.unwrap_or_default(),
            duration_ms: u64::try_from(get::<Option<i64>>(r, 10)?.unwrap_or(0)).unwrap_or(0),
            at,
        }),
        None => None,
    };
    Ok(Forward {
        route_id: id(r, o)?,
        event_id: id(r, o + 1)?,
        source: get(r, o + 2)?,
        status: status(get(r, o + 3)?)?,
        attempts: u32::try_from(get::<i32>(r, o + 4)?).unwrap_or(0),
        next_attempt_at: get(r, o + 5)?,
        manual: get(r, o + 6)?,
        version: get(r, o + 7)?,
        last,
    })
}

/// Writes every column of `r` with `sql` (an insert, or a replace by id).
async fn save(c: &Db, r: &Route, sql: &str) -> Result<u64, StoreError> {
    let options = r.options_json();
    exec(
        c,
        sql,
        &[
            &r.id.as_str(),
            &r.name,
            &r.source,
            &r.url,
            &r.ordered,
            &r.paused,
            &options,
            &r.created_at,
            &r.updated_at,
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("a route named `{}` already exists", r.name))
        }
        other => other,
    })
}

/// Sets only the paused flag (and the updated time).
pub(crate) async fn set_paused(
    c: &Db,
    id: &RouteId,
    paused: bool,
    now: i64,
) -> Result<(), StoreError> {
    match exec(
        c,
        "UPDATE route SET paused = $2, updated_at = $3 WHERE id = $1",
        &[&id.as_str(), &paused, &now],
    )
    .await?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

#[async_trait]
impl RouteStore for PgStore {
    async fn create_route(&self, route: &Route) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO route ({ROUTE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        save(&self.db().await?, route, &sql).await.map(drop)
    }

    async fn update_route(&self, route: &Route) -> Result<(), StoreError> {
        let sql = "UPDATE route SET name = $2, source = $3, url = $4, ordered = $5, paused = $6, \
                   options = $7, created_at = $8, updated_at = $9 WHERE id = $1";
        match save(&self.db().await?, route, sql).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn delete_route(&self, id: &RouteId) -> Result<(), StoreError> {
        match exec(
            &self.db().await?,
            "DELETE FROM route WHERE id = $1",
            &[&id.as_str()],
        )
        .await?
        {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn get_route(&self, name_or_id: &str) -> Result<Option<Route>, StoreError> {
        let sql = format!("SELECT {ROUTE_COLUMNS} FROM route WHERE name = $1 OR id = $1");
        let found = rows(&self.db().await?, &sql, &[&name_or_id]).await?;
        found.first().map(route).transpose()
    }

    async fn list_routes(&self, source: Option<&str>) -> Result<Vec<Route>, StoreError> {
        let sql = format!(
            "SELECT {ROUTE_COLUMNS} FROM route WHERE $1::text IS NULL OR source = $1 ORDER BY name"
        );
        all(&rows(&self.db().await?, &sql, &[&source]).await?, route)
    }

    async fn set_route_paused(
        &self,
        id: &RouteId,
        paused: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        set_paused(&self.db().await?, id, paused, now).await
    }

    async fn routes_fingerprint(&self) -> Result<(i64, i64), StoreError> {
        let found = rows(
            &self.db().await?,
            "SELECT count(*), coalesce(sum(updated_at % 1000000007), 0)::bigint FROM route",
            &[],
        )
        .await?;
        let r = found
            .first()
            .ok_or_else(|| StoreError::Backend("a count answered no row".into()))?;
        Ok((get(r, 0)?, get(r, 1)?))
    }

    async fn list_forwards(
        &self,
        source: &str,
        event: &EventId,
    ) -> Result<Vec<Forward>, StoreError> {
        let sql = format!(
            "SELECT {FORWARD_COLUMNS} FROM forward WHERE source = $1 AND event_id = $2 ORDER BY route_id"
        );
        all(
            &rows(&self.db().await?, &sql, &[&source, &event.as_str()]).await?,
            forward,
        )
    }

    async fn requeue_forwards(
        &self,
        route: &RouteId,
        event: Option<&EventId>,
        since: i64,
        now: i64,
    ) -> Result<usize, StoreError> {
        let c = self.db().await?;
        let pending = code(DeliveryStatus::Pending);
        let n = match event {
            Some(evt) => {
                exec(
                    &c,
                    "INSERT INTO forward (route_id, source, event_id, status, attempts, \
                     next_attempt_at, manual, version) \
                     SELECT r.id, r.source, e.id, $3, 0, $4, TRUE, 0 FROM route r \
                     JOIN inbound_event e ON e.source = r.source AND e.id = $2 WHERE r.id = $1 \
                     ON CONFLICT (route_id, event_id) DO UPDATE SET status = $3, attempts = 0, \
                     next_attempt_at = $4, manual = TRUE, version = forward.version + 1",
                    &[&route.as_str(), &evt.as_str(), &pending, &now],
                )
                .await?
            }
            None => {
                let floor = EventId::floor(since).to_string();
                exec(
                    &c,
                    "UPDATE forward SET status = $3, attempts = 0, next_attempt_at = $4, \
                     manual = TRUE, version = version + 1 \
                     WHERE route_id = $1 AND status = $5 AND event_id >= $2",
                    &[
                        &route.as_str(),
                        &floor,
                        &pending,
                        &now,
                        &code(DeliveryStatus::Failed),
                    ],
                )
                .await?
            }
        };
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    async fn pending_forwards(&self) -> Result<Vec<(RouteId, u64)>, StoreError> {
        let found = rows(
            &self.db().await?,
            "SELECT route_id, count(*) FROM forward WHERE status IN (1, 3) GROUP BY route_id",
            &[],
        )
        .await?;
        all(&found, |r| {
            Ok((
                id::<RouteId>(r, 0)?,
                u64::try_from(get::<i64>(r, 1)?).unwrap_or(0),
            ))
        })
    }
}
