//! Endpoints: create, read, list, update, delete.

use super::*;

pub(super) const ENDPOINT_COLUMNS: &str =
    "id, app_id, uid, url, description, secrets, event_types, channels, headers, \
                                disabled, throttle_rate, metadata, created_at, updated_at, \
                                retry_schedule, timeout_ms, max_concurrency";

pub(super) fn endpoint(r: &Row<'_>) -> rusqlite::Result<Endpoint> {
    let secrets: Vec<(String, Option<i64>)> = from_json("secrets", &r.get::<_, String>(5)?)?;
    let list = |i: usize| -> rusqlite::Result<Option<Vec<String>>> {
        r.get::<_, Option<String>>(i)?
            .map(|s| from_json("list", &s))
            .transpose()
    };
    Ok(Endpoint {
        id: id(r, 0)?,
        app_id: id(r, 1)?,
        uid: r.get(2)?,
        url: r.get(3)?,
        description: r.get(4)?,
        secrets: secrets
            .into_iter()
            .map(|(k, expires_at)| EndpointSecret {
                key: Secret::new(k),
                expires_at,
            })
            .collect(),
        event_types: list(6)?,
        channels: list(7)?,
        headers: from_json::<BTreeMap<String, String>>("headers", &r.get::<_, String>(8)?)?,
        disabled: r.get(9)?,
        throttle_rate: r.get(10)?,
        metadata: from_json::<Map<String, Value>>("metadata", &r.get::<_, String>(11)?)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        policy: EndpointPolicy {
            retry: r
                .get::<_, Option<String>>(14)?
                .map(|s| from_json::<Vec<u64>>("retry_schedule", &s))
                .transpose()?
                .map(|ms| RetryPolicy {
                    schedule: ms.into_iter().map(Duration::from_millis).collect(),
                }),
            timeout: r
                .get::<_, Option<i64>>(15)?
                .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
            max_concurrency: r.get(16)?,
        },
    })
}

pub(super) fn endpoint_params(e: &Endpoint) -> Result<Vec<V>, StoreError> {
    let secrets: Vec<(&str, Option<i64>)> = e
        .secrets
        .iter()
        .map(|s| (s.key.expose(), s.expires_at))
        .collect();
    let opt_list = |l: &Option<Vec<String>>| {
        l.as_ref()
            .map(to_json)
            .transpose()
            .map(|o| o.map_or(V::Null, V::Text))
    };
    Ok(vec![
        V::Text(e.id.to_string()),
        V::Text(e.app_id.to_string()),
        e.uid.clone().map_or(V::Null, V::Text),
        V::Text(e.url.clone()),
        V::Text(e.description.clone()),
        V::Text(to_json(&secrets)?),
        opt_list(&e.event_types)?,
        opt_list(&e.channels)?,
        V::Text(to_json(&e.headers)?),
        V::Integer(e.disabled.into()),
        e.throttle_rate.map_or(V::Null, |r| V::Integer(r.into())),
        V::Text(to_json(&e.metadata)?),
        V::Integer(e.created_at),
        V::Integer(e.updated_at),
        e.policy
            .retry
            .as_ref()
            .map(|r| to_json(&r.schedule.iter().map(|d| ms(*d)).collect::<Vec<_>>()))
            .transpose()?
            .map_or(V::Null, V::Text),
        e.policy.timeout.map_or(V::Null, |t| V::Integer(ms(t))),
        e.policy
            .max_concurrency
            .map_or(V::Null, |n| V::Integer(n.into())),
    ])
}

pub(crate) fn insert_endpoint(c: &Connection, e: &Endpoint) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO endpoint ({ENDPOINT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
    );
    c.execute(&sql, params_from_iter(endpoint_params(e)?))
        .map(|_| ())
        .map_err(|x| uid_conflict(x, "an endpoint"))
}

pub(crate) fn update_endpoint(c: &Connection, e: &Endpoint) -> Result<(), StoreError> {
    let sql = "UPDATE endpoint SET uid = ?3, url = ?4, description = ?5, secrets = ?6, event_types = ?7, \
               channels = ?8, headers = ?9, disabled = ?10, throttle_rate = ?11, metadata = ?12, updated_at = ?14, \
               retry_schedule = ?15, timeout_ms = ?16, max_concurrency = ?17 \
               WHERE id = ?1 AND app_id = ?2";
    match c
        .execute(sql, params_from_iter(endpoint_params(e)?))
        .map_err(|x| uid_conflict(x, "an endpoint"))?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn delete_endpoint(
    c: &Connection,
    app: &AppId,
    ep: &EndpointId,
) -> Result<(), StoreError> {
    match c
        .execute(
            "DELETE FROM endpoint WHERE id = ?1 AND app_id = ?2",
            [ep.as_str(), app.as_str()],
        )
        .map_err(backend)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn select_endpoint(
    c: &Connection,
    app: &AppId,
    id_or_uid: &str,
) -> Result<Option<Endpoint>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE app_id = ?1 AND (id = ?2 OR uid = ?2) ORDER BY id = ?2 DESC LIMIT 1"
    ))
    .and_then(|mut st| st.query_row([app.as_str(), id_or_uid], endpoint).optional())
    .map_err(backend)
}

pub(crate) fn list_endpoints(
    c: &Connection,
    app: &AppId,
    req: &PageRequest,
) -> Result<Page<Endpoint>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE app_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = st
        .query_map(
            params![app.as_str(), req.iterator, (req.limit + 1) as i64],
            endpoint,
        )
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    Ok(page(rows, req, |e| e.id.to_string()))
}

pub(super) fn endpoint_by_id(c: &Connection, ep: &str) -> Result<Option<Endpoint>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE id = ?1"
    ))
    .and_then(|mut st| st.query_row([ep], endpoint).optional())
    .map_err(backend)
}

pub(crate) fn failing_endpoints(
    c: &Connection,
    limit: usize,
) -> Result<Vec<(Endpoint, i64)>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {ENDPOINT_COLUMNS}, failing_since FROM endpoint WHERE failing_since IS NOT NULL \
             ORDER BY failing_since LIMIT ?1"
        ))
        .map_err(backend)?;
    st.query_map([limit as i64], |r| Ok((endpoint(r)?, r.get(17)?)))
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)
}
