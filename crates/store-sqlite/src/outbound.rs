//! The sending side's queries: apps, endpoints, messages, deliveries, attempts.
//! Plain functions on a connection; `store` runs them on the writer or a reader.

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_core::outbound::EndpointSecret;
use hookline_core::{
    App, AppId, Attempt, Claimed, Delivery, DeliveryStatus, Endpoint, EndpointId, EventId,
    EventType, Message, MessageId, Next, Page, PageRequest, QueueDepth, StoreError, Trigger,
};
use hookline_signature::Secret;
use rusqlite::types::Value as V;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

use crate::backend;

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(json_err)
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("{what}: {e}").into(),
    )
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

fn id<T: std::str::FromStr>(r: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T::Err: std::fmt::Display,
{
    r.get::<_, String>(i)?.parse().map_err(|e| corrupt("id", e))
}

fn page<T>(rows: Vec<T>, req: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    Page::from_rows(rows, req.limit, key)
}

// --- apps ---------------------------------------------------------------

const APP_COLUMNS: &str = "id, uid, name, metadata, throttle_rate, created_at, updated_at";

fn app(r: &Row<'_>) -> rusqlite::Result<App> {
    Ok(App {
        id: id(r, 0)?,
        uid: r.get(1)?,
        name: r.get(2)?,
        metadata: from_json("metadata", &r.get::<_, String>(3)?)?,
        throttle_rate: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

fn uid_conflict(e: rusqlite::Error, what: &str) -> StoreError {
    match backend(e) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("{what} with this uid already exists"))
        }
        other => other,
    }
}

pub(crate) fn insert_app(c: &Connection, a: &App) -> Result<(), StoreError> {
    c.execute(
        &format!("INSERT INTO app ({APP_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            a.id.as_str(),
            a.uid,
            a.name,
            to_json(&a.metadata)?,
            a.throttle_rate,
            a.created_at,
            a.updated_at
        ],
    )
    .map(|_| ())
    .map_err(|e| uid_conflict(e, "an application"))
}

pub(crate) fn update_app(c: &Connection, a: &App) -> Result<(), StoreError> {
    let n = c
        .execute(
            "UPDATE app SET uid = ?2, name = ?3, metadata = ?4, throttle_rate = ?5, updated_at = ?6 WHERE id = ?1",
            params![a.id.as_str(), a.uid, a.name, to_json(&a.metadata)?, a.throttle_rate, a.updated_at],
        )
        .map_err(|e| uid_conflict(e, "an application"))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) fn delete_app(c: &Connection, app: &AppId) -> Result<(), StoreError> {
    match c
        .execute("DELETE FROM app WHERE id = ?1", [app.as_str()])
        .map_err(backend)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn select_app(c: &Connection, id_or_uid: &str) -> Result<Option<App>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {APP_COLUMNS} FROM app WHERE id = ?1 OR uid = ?1 ORDER BY id = ?1 DESC LIMIT 1"
    ))
    .and_then(|mut st| st.query_row([id_or_uid], app).optional())
    .map_err(backend)
}

pub(crate) fn list_apps(c: &Connection, req: &PageRequest) -> Result<Page<App>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {APP_COLUMNS} FROM app WHERE (?1 IS NULL OR id < ?1) ORDER BY id DESC LIMIT ?2"
        ))
        .map_err(backend)?;
    let rows = st
        .query_map(params![req.iterator, (req.limit + 1) as i64], app)
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    Ok(page(rows, req, |a| a.id.to_string()))
}

// --- endpoints ------------------------------------------------------------

const ENDPOINT_COLUMNS: &str =
    "id, app_id, uid, url, description, secrets, event_types, channels, headers, \
                                disabled, throttle_rate, metadata, created_at, updated_at";

fn endpoint(r: &Row<'_>) -> rusqlite::Result<Endpoint> {
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
    })
}

fn endpoint_params(e: &Endpoint) -> Result<Vec<V>, StoreError> {
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
    ])
}

pub(crate) fn insert_endpoint(c: &Connection, e: &Endpoint) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO endpoint ({ENDPOINT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    );
    c.execute(&sql, params_from_iter(endpoint_params(e)?))
        .map(|_| ())
        .map_err(|x| uid_conflict(x, "an endpoint"))
}

pub(crate) fn update_endpoint(c: &Connection, e: &Endpoint) -> Result<(), StoreError> {
    let sql = "UPDATE endpoint SET uid = ?3, url = ?4, description = ?5, secrets = ?6, event_types = ?7, \
               channels = ?8, headers = ?9, disabled = ?10, throttle_rate = ?11, metadata = ?12, updated_at = ?14 \
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

fn endpoint_by_id(c: &Connection, ep: &str) -> Result<Option<Endpoint>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE id = ?1"
    ))
    .and_then(|mut st| st.query_row([ep], endpoint).optional())
    .map_err(backend)
}

// --- event types ---------------------------------------------------------

const EVENT_TYPE_COLUMNS: &str = "name, description, schemas, archived, created_at, updated_at";

fn event_type(r: &Row<'_>) -> rusqlite::Result<EventType> {
    Ok(EventType {
        name: r.get(0)?,
        description: r.get(1)?,
        schemas: r
            .get::<_, Option<String>>(2)?
            .map(|s| from_json("schemas", &s))
            .transpose()?,
        archived: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

fn event_type_params(t: &EventType) -> Result<Vec<V>, StoreError> {
    Ok(vec![
        V::Text(t.name.clone()),
        V::Text(t.description.clone()),
        t.schemas
            .as_ref()
            .map(to_json)
            .transpose()?
            .map_or(V::Null, V::Text),
        V::Integer(t.archived.into()),
        V::Integer(t.created_at),
        V::Integer(t.updated_at),
    ])
}

pub(crate) fn insert_event_type(c: &Connection, t: &EventType) -> Result<(), StoreError> {
    c.execute(
        &format!("INSERT INTO event_type ({EVENT_TYPE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params_from_iter(event_type_params(t)?),
    )
    .map(|_| ())
    .map_err(|e| match backend(e) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("an event type named `{}` exists", t.name))
        }
        other => other,
    })
}

pub(crate) fn update_event_type(c: &Connection, t: &EventType) -> Result<(), StoreError> {
    let sql = "UPDATE event_type SET description = ?2, schemas = ?3, archived = ?4, updated_at = ?6 WHERE name = ?1";
    match c
        .execute(sql, params_from_iter(event_type_params(t)?))
        .map_err(backend)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn delete_event_type(c: &Connection, name: &str) -> Result<(), StoreError> {
    match c
        .execute("DELETE FROM event_type WHERE name = ?1", [name])
        .map_err(backend)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn select_event_type(
    c: &Connection,
    name: &str,
) -> Result<Option<EventType>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {EVENT_TYPE_COLUMNS} FROM event_type WHERE name = ?1"
    ))
    .and_then(|mut st| st.query_row([name], event_type).optional())
    .map_err(backend)
}

pub(crate) fn list_event_types(
    c: &Connection,
    req: &PageRequest,
) -> Result<Page<EventType>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {EVENT_TYPE_COLUMNS} FROM event_type WHERE (?1 IS NULL OR name > ?1) ORDER BY name LIMIT ?2"
        ))
        .map_err(backend)?;
    let rows = st
        .query_map(params![req.iterator, (req.limit + 1) as i64], event_type)
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    Ok(page(rows, req, |t| t.name.clone()))
}

// --- messages and deliveries ---------------------------------------------

const MESSAGE_COLUMNS: &str = "id, app_id, event_type, event_id, payload, channels, created_at";

fn message(r: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: id(r, 0)?,
        app_id: id(r, 1)?,
        event_type: r.get(2)?,
        event_id: r.get(3)?,
        payload: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
        channels: r
            .get::<_, Option<String>>(5)?
            .map(|s| from_json("channels", &s))
            .transpose()?,
        created_at: r.get(6)?,
    })
}

pub(crate) fn publish(c: &Connection, m: &Message) -> Result<usize, StoreError> {
    let channels = m.channels.as_ref().map(to_json).transpose()?;
    c.prepare_cached(&format!(
        "INSERT INTO message ({MESSAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .and_then(|mut st| {
        st.execute(params![
            m.id.as_str(),
            m.app_id.as_str(),
            m.event_type,
            m.event_id,
            m.payload,
            channels,
            m.created_at
        ])
    })
    .map_err(|e| match backend(e) {
        StoreError::Conflict(_) => {
            StoreError::Conflict("a message with this eventId already exists".into())
        }
        other => other,
    })?;
    let mut all = Vec::new();
    let mut req = PageRequest::new(Some(PageRequest::MAX_LIMIT), None);
    loop {
        let p = list_endpoints(c, &m.app_id, &req)?;
        all.extend(p.data);
        if p.done {
            break;
        }
        req.iterator = p.iterator;
    }
    let mut made = 0;
    let mut st = c
        .prepare_cached(
            "INSERT INTO delivery (message_id, endpoint_id, app_id, status, attempts, next_attempt_at) \
             VALUES (?1, ?2, ?3, ?4, 0, ?5)",
        )
        .map_err(backend)?;
    for e in all
        .iter()
        .filter(|e| e.wants(&m.event_type, m.channels.as_deref()))
    {
        st.execute(params![
            m.id.as_str(),
            e.id.as_str(),
            m.app_id.as_str(),
            DeliveryStatus::Pending.code(),
            m.created_at
        ])
        .map_err(backend)?;
        made += 1;
    }
    Ok(made)
}

pub(crate) fn select_message(
    c: &Connection,
    app: &AppId,
    msg: &MessageId,
) -> Result<Option<Message>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM message WHERE id = ?1 AND app_id = ?2"
    ))
    .and_then(|mut st| {
        st.query_row([msg.as_str(), app.as_str()], message)
            .optional()
    })
    .map_err(backend)
}

pub(crate) fn list_messages(
    c: &Connection,
    app: &AppId,
    req: &PageRequest,
) -> Result<Page<Message>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM message WHERE app_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = st
        .query_map(
            params![app.as_str(), req.iterator, (req.limit + 1) as i64],
            message,
        )
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    Ok(page(rows, req, |m| m.id.to_string()))
}

fn delivery(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    let status: i64 = r.get(3)?;
    Ok(Delivery {
        message_id: id(r, 0)?,
        endpoint_id: id(r, 1)?,
        app_id: id(r, 2)?,
        status: DeliveryStatus::from_code(status).ok_or_else(|| corrupt("status", status))?,
        attempts: r.get(4)?,
        next_attempt_at: r.get(5)?,
    })
}

const DELIVERY_COLUMNS: &str = "message_id, endpoint_id, app_id, status, attempts, next_attempt_at";

pub(crate) fn list_deliveries(
    c: &Connection,
    app: &AppId,
    msg: &MessageId,
) -> Result<Vec<Delivery>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM delivery WHERE message_id = ?1 AND app_id = ?2 ORDER BY endpoint_id"
        ))
        .map_err(backend)?;
    st.query_map([msg.as_str(), app.as_str()], delivery)
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)
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
            "UPDATE delivery SET status = ?3, next_attempt_at = ?4 WHERE (message_id, endpoint_id) IN \
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

pub(crate) fn record_attempt(c: &Connection, a: &Attempt, next: Next) -> Result<(), StoreError> {
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
    c.prepare_cached(
        "UPDATE delivery SET status = ?3, attempts = attempts + 1, next_attempt_at = ?4 \
         WHERE message_id = ?1 AND endpoint_id = ?2",
    )
    .and_then(|mut st| {
        st.execute(params![
            a.message_id.as_str(),
            a.endpoint_id.as_str(),
            status.code(),
            due
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

pub(crate) fn requeue(
    c: &Connection,
    app: &AppId,
    ep: &EndpointId,
    msg: Option<&MessageId>,
    since: i64,
    now: i64,
) -> Result<usize, StoreError> {
    let pending = DeliveryStatus::Pending.code();
    let n = match msg {
        Some(m) => c.execute(
            "INSERT INTO delivery (message_id, endpoint_id, app_id, status, attempts, next_attempt_at) \
             SELECT m.id, e.id, m.app_id, ?4, 0, ?5 FROM message m JOIN endpoint e ON e.app_id = m.app_id \
             WHERE m.id = ?1 AND e.id = ?2 AND m.app_id = ?3 \
             ON CONFLICT (message_id, endpoint_id) DO UPDATE SET status = ?4, attempts = 0, next_attempt_at = ?5",
            params![m.as_str(), ep.as_str(), app.as_str(), pending, now],
        ),
        None => c.execute(
            "UPDATE delivery SET status = ?4, attempts = 0, next_attempt_at = ?5 \
             WHERE endpoint_id = ?1 AND app_id = ?2 AND status = ?6 \
             AND message_id IN (SELECT id FROM message WHERE app_id = ?2 AND created_at >= ?3)",
            params![ep.as_str(), app.as_str(), since, pending, now, DeliveryStatus::Failed.code()],
        ),
    };
    n.map_err(backend)
}

pub(crate) fn postpone(
    c: &Connection,
    msg: &MessageId,
    ep: &EndpointId,
    until: i64,
) -> Result<(), StoreError> {
    c.prepare_cached("UPDATE delivery SET status = ?3, next_attempt_at = ?4 WHERE message_id = ?1 AND endpoint_id = ?2")
        .and_then(|mut st| st.execute(params![msg.as_str(), ep.as_str(), DeliveryStatus::Pending.code(), until]))
        .map(|_| ())
        .map_err(backend)
}

pub(crate) fn queue_depth(c: &Connection, now: i64) -> Result<QueueDepth, StoreError> {
    c.query_row(
        "SELECT (SELECT count(*) FROM delivery WHERE next_attempt_at <= ?1), \
                (SELECT count(*) FROM delivery WHERE next_attempt_at > ?1), \
                (SELECT count(*) FROM delivery WHERE status = 2)",
        [now],
        |r| {
            Ok(QueueDepth {
                due: r.get(0)?,
                scheduled: r.get(1)?,
                failed: r.get(2)?,
            })
        },
    )
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

fn attempt(r: &Row<'_>) -> rusqlite::Result<Attempt> {
    let status: i64 = r.get(5)?;
    let trigger: i64 = r.get(9)?;
    Ok(Attempt {
        id: id(r, 0)?,
        message_id: id(r, 1)?,
        endpoint_id: id(r, 2)?,
        app_id: id(r, 3)?,
        url: r.get(4)?,
        status: DeliveryStatus::from_code(status).ok_or_else(|| corrupt("status", status))?,
        response_status_code: r.get(6)?,
        response: r.get(7)?,
        duration_ms: r.get::<_, i64>(8)?.try_into().unwrap_or(0),
        trigger: if trigger == 1 {
            Trigger::Manual
        } else {
            Trigger::Scheduled
        },
        created_at: r.get(10)?,
    })
}

pub(crate) fn list_attempts(
    c: &Connection,
    app: &AppId,
    msg: Option<&MessageId>,
    ep: Option<&EndpointId>,
    req: &PageRequest,
) -> Result<Page<Attempt>, StoreError> {
    // One query per index: by message, or by endpoint (then narrowed by message).
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
        "SELECT id, message_id, endpoint_id, app_id, url, status, response_status_code, response, duration_ms, \
         trigger_type, created_at FROM attempt WHERE {by} = ?1 AND app_id = ?2 AND (?3 IS NULL OR message_id = ?3) \
         AND (?4 IS NULL OR id < ?4) ORDER BY id DESC LIMIT ?5"
    );
    let mut st = c.prepare_cached(&sql).map_err(backend)?;
    let rows = st
        .query_map(
            params![
                key,
                app.as_str(),
                msg.map(MessageId::as_str),
                req.iterator,
                (req.limit + 1) as i64
            ],
            attempt,
        )
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    Ok(page(rows, req, |a| a.id.to_string()))
}

// --- retention -------------------------------------------------------------

pub(crate) fn expire(
    c: &Connection,
    before: i64,
    now: i64,
    limit: usize,
) -> Result<usize, StoreError> {
    let limit = limit as i64;
    let payloads = c
        .execute(
            "UPDATE message SET payload = NULL WHERE id IN \
             (SELECT id FROM message WHERE payload IS NOT NULL AND id < ?1 ORDER BY id LIMIT ?2)",
            params![MessageId::floor(before).as_str(), limit],
        )
        .map_err(backend)?;
    let dedup = c
        .execute(
            "DELETE FROM dedup WHERE (source, key) IN \
             (SELECT source, key FROM dedup WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
            params![now, limit],
        )
        .map_err(backend)?;
    let sources: Vec<String> = c
        .prepare_cached("SELECT name FROM source")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(backend)?;
    let mut inbox = 0;
    for s in sources {
        inbox += c
            .execute(
                "DELETE FROM inbound_event WHERE source = ?1 AND id IN \
                 (SELECT id FROM inbound_event WHERE source = ?1 AND id < ?2 ORDER BY id LIMIT ?3)",
                params![s, EventId::floor(before).as_str(), limit],
            )
            .map_err(backend)?;
    }
    Ok(payloads + dedup + inbox)
}
