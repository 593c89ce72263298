//! Rows to domain types and back, for every table, and the helpers every
//! query uses (JSON columns, ids, pages).

use std::time::Duration;

use std::collections::BTreeMap;

use hookline_core::outbound::EndpointSecret;
use hookline_core::{
    Attempt, DedupRule, Delivery, DeliveryStatus, Endpoint, EndpointPolicy, InboundEvent, Message,
    Page, PageRequest, RetryPolicy, Source, StoreError, Trigger, Verdict,
};
use hookline_signature::{Scheme, Secret};
use rusqlite::{Connection, OptionalExtension, Row, Statement};
use serde_json::{Map, Value};

use crate::backend;

pub(crate) const SOURCE_COLUMNS: &str = "id, name, scheme, secrets, tolerance_ms, dedup, dedup_window_ms, allow_ips, rate_limit, created_at, updated_at, path, options";
pub(crate) const EVENT_COLUMNS: &str = "id, source, event_type, method, path, query, headers, body, remote_addr, received_at, verdict, verdict_reason, dedup_key";

/// A stored value that cannot be read back into its domain type.
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("{what}: {e}").into(),
    )
}

/// A duration as stored: whole milliseconds.
pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn duration(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

pub(crate) fn source(r: &Row<'_>) -> rusqlite::Result<Source> {
    let scheme: String = r.get(2)?;
    let secrets: String = r.get(3)?;
    let secrets: Vec<String> = serde_json::from_str(&secrets).map_err(|e| corrupt("secrets", e))?;
    let allow: String = r.get(7)?;
    let allow: Vec<String> = serde_json::from_str(&allow).map_err(|e| corrupt("allow_ips", e))?;
    let dedup: String = r.get(5)?;
    let options: String = r.get(12)?;
    let mut source = Source {
        id: r
            .get::<_, String>(0)?
            .parse()
            .map_err(|e| corrupt("id", e))?,
        name: r.get(1)?,
        scheme: scheme.parse::<Scheme>().map_err(|e| corrupt("scheme", e))?,
        secrets: secrets.into_iter().map(Secret::new).collect(),
        tolerance: duration(r.get(4)?),
        dedup: DedupRule::parse(&dedup).map_err(|e| corrupt("dedup", e))?,
        dedup_window: duration(r.get(6)?),
        allow_ips: allow
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt("allow_ips", e))?,
        rate_limit: r.get(8)?,
        path: r.get(11)?,
        reply: Default::default(),
        event_type: Default::default(),
        auth: None,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    };
    source
        .set_options_json(&options)
        .map_err(|e| corrupt("options", e))?;
    Ok(source)
}

/// The values of `SOURCE_COLUMNS`, in order.
pub(crate) fn source_params(s: &Source) -> Result<Vec<rusqlite::types::Value>, StoreError> {
    use rusqlite::types::Value as V;
    let secrets: Vec<&str> = s.secrets.iter().map(Secret::expose).collect();
    let allow: Vec<String> = s.allow_ips.iter().map(ToString::to_string).collect();
    let json_err = |e: serde_json::Error| StoreError::Backend(e.to_string());
    Ok(vec![
        V::Text(s.id.to_string()),
        V::Text(s.name.clone()),
        V::Text(s.scheme.name().into()),
        V::Text(serde_json::to_string(&secrets).map_err(json_err)?),
        V::Integer(ms(s.tolerance)),
        V::Text(s.dedup.to_config()),
        V::Integer(ms(s.dedup_window)),
        V::Text(serde_json::to_string(&allow).map_err(json_err)?),
        s.rate_limit.map_or(V::Null, |r| V::Integer(r.into())),
        V::Integer(s.created_at),
        V::Integer(s.updated_at),
        s.path.clone().map_or(V::Null, V::Text),
        V::Text(s.options_json()),
    ])
}

/// A unique-constraint failure on a source write, said in words.
pub(crate) fn source_conflict(e: StoreError, s: &Source) -> StoreError {
    match e {
        StoreError::Conflict(m) if m.contains("path") => StoreError::Conflict(format!(
            "another source already answers at path `{}`",
            s.path.as_deref().unwrap_or("")
        )),
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("a source named `{}` exists", s.name))
        }
        other => other,
    }
}

pub(crate) fn event(r: &Row<'_>) -> rusqlite::Result<InboundEvent> {
    let headers: String = r.get(6)?;
    let verdict: String = r.get(10)?;
    Ok(InboundEvent {
        id: r
            .get::<_, String>(0)?
            .parse()
            .map_err(|e| corrupt("id", e))?,
        source: r.get(1)?,
        event_type: r.get(2)?,
        method: r.get(3)?,
        path: r.get(4)?,
        query: r.get(5)?,
        headers: serde_json::from_str(&headers).map_err(|e| corrupt("headers", e))?,
        body: r.get(7)?,
        remote_addr: r.get(8)?,
        received_at: r.get(9)?,
        verdict: Verdict::parse(&verdict).ok_or_else(|| corrupt("verdict", &verdict))?,
        verdict_reason: r.get(11)?,
        dedup_key: r.get(12)?,
    })
}

/// Inserts `e` through `insert`, a prepared INSERT of `EVENT_COLUMNS` in order.
pub(crate) fn insert_event(insert: &mut Statement<'_>, e: &InboundEvent) -> Result<(), StoreError> {
    let headers =
        serde_json::to_string(&e.headers).map_err(|x| StoreError::Backend(x.to_string()))?;
    insert
        .execute(rusqlite::params![
            e.id.as_str(),
            e.source,
            e.event_type,
            e.method,
            e.path,
            e.query,
            headers,
            e.body,
            e.remote_addr,
            e.received_at,
            e.verdict.as_str(),
            e.verdict_reason,
            e.dedup_key,
        ])
        .map(|_| ())
        .map_err(crate::backend)
}

// --- the sending side: rows that several roles read ---------------------

pub(crate) fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(json_err)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    s: &str,
) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

pub(crate) fn id<T: std::str::FromStr>(r: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T::Err: std::fmt::Display,
{
    r.get::<_, String>(i)?.parse().map_err(|e| corrupt("id", e))
}

pub(crate) fn page<T>(rows: Vec<T>, req: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    Page::from_rows(rows, req.limit, key)
}

pub(crate) const ENDPOINT_COLUMNS: &str =
    "id, app_id, uid, url, description, secrets, event_types, channels, headers, \
                                disabled, throttle_rate, metadata, created_at, updated_at, \
                                retry_schedule, timeout_ms, max_concurrency, filter";

pub(crate) fn endpoint(r: &Row<'_>) -> rusqlite::Result<Endpoint> {
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
        filter: r
            .get::<_, Option<String>>(17)?
            .map(|s| {
                hookline_core::filter::Filter::parse(&Value::String(s))
                    .map_err(|e| corrupt("filter", e))
            })
            .transpose()?,
    })
}

pub(crate) fn endpoint_by_id(c: &Connection, ep: &str) -> Result<Option<Endpoint>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE id = ?1"
    ))
    .and_then(|mut st| st.query_row([ep], endpoint).optional())
    .map_err(backend)
}

pub(crate) const MESSAGE_COLUMNS: &str =
    "id, app_id, event_type, event_id, payload, channels, created_at";

pub(crate) fn message(r: &Row<'_>) -> rusqlite::Result<Message> {
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

pub(crate) const DELIVERY_COLUMNS: &str =
    "message_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual, version";

pub(crate) fn delivery(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    let status: i64 = r.get(3)?;
    Ok(Delivery {
        message_id: id(r, 0)?,
        endpoint_id: id(r, 1)?,
        app_id: id(r, 2)?,
        status: DeliveryStatus::from_code(status).ok_or_else(|| corrupt("status", status))?,
        attempts: r.get(4)?,
        next_attempt_at: r.get(5)?,
        manual: r.get(6)?,
        version: r.get(7)?,
    })
}

pub(crate) const ATTEMPT_COLUMNS: &str =
    "id, message_id, endpoint_id, app_id, url, status, response_status_code, \
                               response, duration_ms, trigger_type, created_at";

pub(crate) fn attempt(r: &Row<'_>) -> rusqlite::Result<Attempt> {
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
