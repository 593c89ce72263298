//! Rows to domain types and back: JSON text columns, typed ids, narrow numbers.

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_core::outbound::EndpointSecret;
use hookline_core::{
    App, Attempt, DedupRule, Delivery, DeliveryStatus, Endpoint, EndpointPolicy, EventType,
    InboundEvent, Message, RetryPolicy, Source, StoreError, Trigger, Verdict,
};
use hookline_signature::{Scheme, Secret};
use serde_json::{Map, Value};
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use crate::backend;

pub(crate) const SOURCE_COLUMNS: &str = "id, name, scheme, secrets, tolerance_ms, dedup, \
    dedup_window_ms, allow_ips, rate_limit, created_at, updated_at, path, options";
pub(crate) const EVENT_COLUMNS: &str = "id, source, event_type, method, path, query, headers, \
    body, remote_addr, received_at, verdict, verdict_reason, dedup_key";
pub(crate) const APP_COLUMNS: &str =
    "id, uid, name, metadata, throttle_rate, created_at, updated_at";
pub(crate) const ENDPOINT_COLUMNS: &str = "id, app_id, uid, url, description, secrets, \
    event_types, channels, headers, disabled, throttle_rate, metadata, created_at, updated_at, \
    retry_schedule, timeout_ms, max_concurrency, filter";
pub(crate) const EVENT_TYPE_COLUMNS: &str =
    "name, description, schemas, archived, created_at, updated_at";
pub(crate) const MESSAGE_COLUMNS: &str =
    "id, app_id, event_type, event_id, payload, channels, created_at";
pub(crate) const DELIVERY_COLUMNS: &str =
    "message_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual, version";
pub(crate) const ATTEMPT_COLUMNS: &str = "id, message_id, endpoint_id, app_id, url, status, \
    response_status_code, response, duration_ms, trigger_type, created_at";

/// A stored value that cannot be read back into its domain type.
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("unreadable {what} in the database: {e}"))
}

pub(crate) fn get<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, StoreError> {
    r.try_get(i).map_err(backend)
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

fn opt_json<T: serde::de::DeserializeOwned>(
    what: &str,
    s: Option<String>,
) -> Result<Option<T>, StoreError> {
    s.map(|s| from_json(what, &s)).transpose()
}

pub(crate) fn id<T: std::str::FromStr>(r: &Row, i: usize) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    get::<String>(r, i)?.parse().map_err(|e| corrupt("id", e))
}

/// A duration as stored: whole milliseconds.
pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn duration(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A narrow unsigned number as an `INTEGER`.
pub(crate) fn int<T: Into<i64>>(v: Option<T>) -> Option<i32> {
    v.map(|v| i32::try_from(v.into()).unwrap_or(i32::MAX))
}

fn narrow<T: TryFrom<i32>>(v: Option<i32>) -> Option<T> {
    v.and_then(|v| T::try_from(v).ok())
}

pub(crate) fn source(r: &Row) -> Result<Source, StoreError> {
    let secrets: Vec<String> = from_json("secrets", &get::<String>(r, 3)?)?;
    let allow: Vec<String> = from_json("allow_ips", &get::<String>(r, 7)?)?;
    let mut source = Source {
        id: id(r, 0)?,
        name: get(r, 1)?,
        scheme: get::<String>(r, 2)?
            .parse::<Scheme>()
            .map_err(|e| corrupt("scheme", e))?,
        secrets: secrets.into_iter().map(Secret::new).collect(),
        tolerance: duration(get(r, 4)?),
        dedup: DedupRule::parse(&get::<String>(r, 5)?).map_err(|e| corrupt("dedup", e))?,
        dedup_window: duration(get(r, 6)?),
        allow_ips: allow
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt("allow_ips", e))?,
        rate_limit: get::<Option<i32>>(r, 8)?.and_then(|v| u32::try_from(v).ok()),
        path: get(r, 11)?,
        reply: Default::default(),
        event_type: Default::default(),
        auth: None,
        created_at: get(r, 9)?,
        updated_at: get(r, 10)?,
    };
    source
        .set_options_json(&get::<String>(r, 12)?)
        .map_err(|e| corrupt("options", e))?;
    Ok(source)
}

/// A unique-constraint failure on a source write, said in words.
pub(crate) fn source_conflict(e: StoreError, s: &Source) -> StoreError {
    match e {
        StoreError::Conflict(m) if m.contains("source_path") => StoreError::Conflict(format!(
            "another source already answers at path `{}`",
            s.path.as_deref().unwrap_or("")
        )),
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("a source named `{}` exists", s.name))
        }
        other => other,
    }
}

/// The JSON text columns of a source: secrets and allow-list.
pub(crate) fn source_lists(s: &Source) -> Result<(String, String), StoreError> {
    let secrets: Vec<&str> = s.secrets.iter().map(Secret::expose).collect();
    let allow: Vec<String> = s.allow_ips.iter().map(ToString::to_string).collect();
    Ok((to_json(&secrets)?, to_json(&allow)?))
}

pub(crate) fn event(r: &Row) -> Result<InboundEvent, StoreError> {
    event_at(r, 0)
}

pub(crate) fn event_at(r: &Row, o: usize) -> Result<InboundEvent, StoreError> {
    let verdict: String = get(r, o + 10)?;
    Ok(InboundEvent {
        id: id(r, o)?,
        source: get(r, o + 1)?,
        event_type: get(r, o + 2)?,
        method: get(r, o + 3)?,
        path: get(r, o + 4)?,
        query: get(r, o + 5)?,
        headers: from_json("headers", &get::<String>(r, o + 6)?)?,
        body: get(r, o + 7)?,
        remote_addr: get(r, o + 8)?,
        received_at: get(r, o + 9)?,
        verdict: Verdict::parse(&verdict).ok_or_else(|| corrupt("verdict", &verdict))?,
        verdict_reason: get(r, o + 11)?,
        dedup_key: get(r, o + 12)?,
    })
}

pub(crate) fn app(r: &Row) -> Result<App, StoreError> {
    Ok(App {
        id: id(r, 0)?,
        uid: get(r, 1)?,
        name: get(r, 2)?,
        metadata: from_json("metadata", &get::<String>(r, 3)?)?,
        throttle_rate: narrow(get(r, 4)?),
        created_at: get(r, 5)?,
        updated_at: get(r, 6)?,
    })
}

pub(crate) fn endpoint(r: &Row) -> Result<Endpoint, StoreError> {
    let secrets: Vec<(String, Option<i64>)> = from_json("secrets", &get::<String>(r, 5)?)?;
    let schedule: Option<Vec<u64>> = opt_json("retry_schedule", get(r, 14)?)?;
    Ok(Endpoint {
        id: id(r, 0)?,
        app_id: id(r, 1)?,
        uid: get(r, 2)?,
        url: get(r, 3)?,
        description: get(r, 4)?,
        secrets: secrets
            .into_iter()
            .map(|(k, expires_at)| EndpointSecret {
                key: Secret::new(k),
                expires_at,
            })
            .collect(),
        event_types: opt_json("event_types", get(r, 6)?)?,
        channels: opt_json("channels", get(r, 7)?)?,
        headers: from_json::<BTreeMap<String, String>>("headers", &get::<String>(r, 8)?)?,
        disabled: get(r, 9)?,
        throttle_rate: narrow(get(r, 10)?),
        metadata: from_json::<Map<String, Value>>("metadata", &get::<String>(r, 11)?)?,
        created_at: get(r, 12)?,
        updated_at: get(r, 13)?,
        policy: EndpointPolicy {
            retry: schedule.map(|ms| RetryPolicy {
                schedule: ms.into_iter().map(Duration::from_millis).collect(),
            }),
            timeout: get::<Option<i64>>(r, 15)?.map(duration),
            max_concurrency: narrow(get(r, 16)?),
        },
        filter: get::<Option<String>>(r, 17)?
            .map(|s| {
                hookline_core::filter::Filter::parse(&Value::String(s))
                    .map_err(|e| StoreError::Backend(format!("a stored filter: {e}")))
            })
            .transpose()?,
    })
}

/// An endpoint's JSON text columns: secrets, event types, channels, headers,
/// metadata, retry schedule.
pub(crate) struct EndpointJson {
    pub secrets: String,
    pub event_types: Option<String>,
    pub channels: Option<String>,
    pub headers: String,
    pub metadata: String,
    pub retry_schedule: Option<String>,
    pub filter: Option<String>,
}

pub(crate) fn endpoint_json(e: &Endpoint) -> Result<EndpointJson, StoreError> {
    let secrets: Vec<(&str, Option<i64>)> = e
        .secrets
        .iter()
        .map(|s| (s.key.expose(), s.expires_at))
        .collect();
    Ok(EndpointJson {
        secrets: to_json(&secrets)?,
        event_types: e.event_types.as_ref().map(to_json).transpose()?,
        channels: e.channels.as_ref().map(to_json).transpose()?,
        headers: to_json(&e.headers)?,
        metadata: to_json(&e.metadata)?,
        retry_schedule: e
            .policy
            .retry
            .as_ref()
            .map(|r| to_json(&r.schedule.iter().map(|d| ms(*d)).collect::<Vec<_>>()))
            .transpose()?,
        filter: e.filter.as_ref().map(|f| f.as_json().to_string()),
    })
}

pub(crate) fn event_type(r: &Row) -> Result<EventType, StoreError> {
    Ok(EventType {
        name: get(r, 0)?,
        description: get(r, 1)?,
        schemas: opt_json("schemas", get(r, 2)?)?,
        archived: get(r, 3)?,
        created_at: get(r, 4)?,
        updated_at: get(r, 5)?,
    })
}

pub(crate) fn message(r: &Row) -> Result<Message, StoreError> {
    Ok(Message {
        id: id(r, 0)?,
        app_id: id(r, 1)?,
        event_type: get(r, 2)?,
        event_id: get(r, 3)?,
        payload: get::<Option<String>>(r, 4)?.unwrap_or_default(),
        channels: opt_json("channels", get(r, 5)?)?,
        created_at: get(r, 6)?,
    })
}

pub(crate) fn status(code: i16) -> Result<DeliveryStatus, StoreError> {
    DeliveryStatus::from_code(i64::from(code)).ok_or_else(|| corrupt("status", code))
}

pub(crate) fn delivery(r: &Row) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        message_id: id(r, 0)?,
        endpoint_id: id(r, 1)?,
        app_id: id(r, 2)?,
        status: status(get(r, 3)?)?,
        attempts: u32::try_from(get::<i32>(r, 4)?).unwrap_or(0),
        next_attempt_at: get(r, 5)?,
        manual: get(r, 6)?,
        version: get(r, 7)?,
    })
}

pub(crate) fn attempt(r: &Row) -> Result<Attempt, StoreError> {
    Ok(Attempt {
        id: id(r, 0)?,
        message_id: id(r, 1)?,
        endpoint_id: id(r, 2)?,
        app_id: id(r, 3)?,
        url: get(r, 4)?,
        status: status(get(r, 5)?)?,
        response_status_code: u16::try_from(get::<i32>(r, 6)?).unwrap_or(0),
        response: get(r, 7)?,
        duration_ms: u64::try_from(get::<i64>(r, 8)?).unwrap_or(0),
        trigger: if get::<i16>(r, 9)? == 1 {
            Trigger::Manual
        } else {
            Trigger::Scheduled
        },
        created_at: get(r, 10)?,
    })
}

/// Every row through `f`.
pub(crate) fn all<T>(
    rows: &[Row],
    f: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(f).collect()
}

/// A delivery status as stored.
pub(crate) fn code(s: DeliveryStatus) -> i16 {
    i16::from(s.code())
}
