//! Rows to domain types and back.

use std::time::Duration;

use hookline_core::{DedupRule, InboundEvent, Source, StoreError, Verdict};
use hookline_signature::{Scheme, Secret};
use rusqlite::{Row, Statement};

pub(crate) const SOURCE_COLUMNS: &str = "id, name, scheme, secrets, tolerance_ms, dedup, dedup_window_ms, allow_ips, rate_limit, created_at, updated_at";
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
    Ok(Source {
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
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
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
    ])
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
