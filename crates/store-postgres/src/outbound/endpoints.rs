//! Endpoints: create, read, list, update, delete.

use hookline_core::{AppId, Endpoint, EndpointId, Page, PageRequest, StoreError};

use super::{exec, limit, page, rows, uid_taken, Db};
use crate::codec::{self, all, endpoint_json, int, ms, ENDPOINT_COLUMNS};

pub(crate) async fn insert_endpoint(c: &Db, e: &Endpoint) -> Result<(), StoreError> {
    write(c, e, true).await
}

pub(crate) async fn update_endpoint(c: &Db, e: &Endpoint) -> Result<(), StoreError> {
    write(c, e, false).await
}

async fn write(c: &Db, e: &Endpoint, insert: bool) -> Result<(), StoreError> {
    let j = endpoint_json(e)?;
    let sql = if insert {
        format!(
            "INSERT INTO endpoint ({ENDPOINT_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        )
    } else {
        "UPDATE endpoint SET uid = $3, url = $4, description = $5, secrets = $6, event_types = $7, \
         channels = $8, headers = $9, disabled = $10, throttle_rate = $11, metadata = $12, \
         updated_at = $14, retry_schedule = $15, timeout_ms = $16, max_concurrency = $17 \
         WHERE id = $1 AND app_id = $2 AND $13::bigint IS NOT NULL"
            .to_string()
    };
    let n = exec(
        c,
        &sql,
        &[
            &e.id.as_str(),
            &e.app_id.as_str(),
            &e.uid,
            &e.url,
            &e.description,
            &j.secrets,
            &j.event_types,
            &j.channels,
            &j.headers,
            &e.disabled,
            &int(e.throttle_rate),
            &j.metadata,
            &e.created_at,
            &e.updated_at,
            &j.retry_schedule,
            &e.policy.timeout.map(ms),
            &int(e.policy.max_concurrency),
        ],
    )
    .await
    .map_err(|x| uid_taken(x, "an endpoint"))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn delete_endpoint(
    c: &Db,
    app: &AppId,
    id: &EndpointId,
) -> Result<(), StoreError> {
    match exec(
        c,
        "DELETE FROM endpoint WHERE id = $1 AND app_id = $2",
        &[&id.as_str(), &app.as_str()],
    )
    .await?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) async fn select_endpoint(
    c: &Db,
    app: &AppId,
    key: &str,
) -> Result<Option<Endpoint>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE app_id = $1 AND (id = $2 OR uid = $2) \
         ORDER BY id = $2 DESC LIMIT 1"
    );
    rows(c, &sql, &[&app.as_str(), &key])
        .await?
        .first()
        .map(codec::endpoint)
        .transpose()
}

pub(crate) async fn list_endpoints(
    c: &Db,
    app: &AppId,
    req: &PageRequest,
) -> Result<Page<Endpoint>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE app_id = $1 AND ($2::text IS NULL OR id < $2) \
         ORDER BY id DESC LIMIT $3"
    );
    let found = rows(c, &sql, &[&app.as_str(), &req.iterator, &limit(req)]).await?;
    Ok(page(all(&found, codec::endpoint)?, req, |e| {
        e.id.to_string()
    }))
}

pub(crate) async fn failing_endpoints(
    c: &Db,
    n: usize,
) -> Result<Vec<(Endpoint, i64)>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS}, failing_since FROM endpoint WHERE failing_since IS NOT NULL \
         ORDER BY failing_since LIMIT $1"
    );
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    rows(c, &sql, &[&n])
        .await?
        .iter()
        .map(|r| Ok((codec::endpoint(r)?, codec::get(r, 17)?)))
        .collect()
}
