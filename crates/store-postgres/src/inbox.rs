//! Sources and the inbox's reads (inserts go through the group-commit writer).

use hookline_core::{EventFilter, EventId, InboundEvent, Page, PageRequest, Source, StoreError};

use crate::codec::{self, all, source_lists, EVENT_COLUMNS, SOURCE_COLUMNS};
use crate::outbound::{exec, rows, Db};

fn insert_sql(on_conflict: &str) -> String {
    format!(
        "INSERT INTO source ({SOURCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) {on_conflict}"
    )
}

/// Writes `s`: `INSERT` (a taken name is a conflict), or with `upsert` replaces it.
pub(crate) async fn put_source(c: &Db, s: &Source, upsert: bool) -> Result<(), StoreError> {
    let (secrets, allow) = source_lists(s)?;
    let sql = if upsert {
        insert_sql(
            "ON CONFLICT (name) DO UPDATE SET scheme = excluded.scheme, secrets = excluded.secrets, \
             tolerance_ms = excluded.tolerance_ms, dedup = excluded.dedup, \
             dedup_window_ms = excluded.dedup_window_ms, allow_ips = excluded.allow_ips, \
             rate_limit = excluded.rate_limit, updated_at = excluded.updated_at",
        )
    } else {
        insert_sql("")
    };
    let r = exec(
        c,
        &sql,
        &[
            &s.id.as_str(),
            &s.name,
            &s.scheme.name(),
            &secrets,
            &codec::ms(s.tolerance),
            &s.dedup.to_config(),
            &codec::ms(s.dedup_window),
            &allow,
            &codec::int(s.rate_limit),
            &s.created_at,
            &s.updated_at,
        ],
    )
    .await;
    match r {
        Err(StoreError::Conflict(_)) => Err(StoreError::Conflict(format!(
            "a source named `{}` exists",
            s.name
        ))),
        other => other.map(|_| ()),
    }
}

pub(crate) async fn update_source(c: &Db, s: &Source) -> Result<(), StoreError> {
    let (secrets, allow) = source_lists(s)?;
    let n = exec(
        c,
        "UPDATE source SET scheme = $2, secrets = $3, tolerance_ms = $4, dedup = $5, \
         dedup_window_ms = $6, allow_ips = $7, rate_limit = $8, updated_at = $9 WHERE name = $1",
        &[
            &s.name,
            &s.scheme.name(),
            &secrets,
            &codec::ms(s.tolerance),
            &s.dedup.to_config(),
            &codec::ms(s.dedup_window),
            &allow,
            &codec::int(s.rate_limit),
            &s.updated_at,
        ],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn delete_source(c: &Db, name: &str) -> Result<(), StoreError> {
    match exec(c, "DELETE FROM source WHERE name = $1", &[&name]).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) async fn sources(c: &Db, name: Option<&str>) -> Result<Vec<Source>, StoreError> {
    let sql = format!(
        "SELECT {SOURCE_COLUMNS} FROM source WHERE ($1::text IS NULL OR name = $1) ORDER BY name"
    );
    all(&rows(c, &sql, &[&name]).await?, codec::source)
}

pub(crate) async fn event(
    c: &Db,
    source: &str,
    id: &EventId,
) -> Result<Option<InboundEvent>, StoreError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM inbound_event WHERE source = $1 AND id = $2");
    let found = rows(c, &sql, &[&source, &id.as_str()]).await?;
    found.first().map(codec::event).transpose()
}

/// Newest first. Time bounds become id bounds (ids sort by time), so every
/// filter rides the `(source, id)` key.
pub(crate) async fn events(
    c: &Db,
    source: &str,
    f: &EventFilter,
    page: &PageRequest,
) -> Result<Page<InboundEvent>, StoreError> {
    let floor = f.after.map(|t| EventId::floor(t).to_string());
    let ceiling = f.before.map(|t| EventId::floor(t).to_string());
    let before = match (&page.iterator, ceiling) {
        (Some(i), Some(c)) => Some(i.clone().min(c)),
        (i, c) => i.clone().or(c),
    };
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM inbound_event WHERE source = $1 \
         AND ($2::text IS NULL OR id < $2) AND ($3::text IS NULL OR id >= $3) \
         AND ($4::text IS NULL OR event_type = $4) AND ($5::text IS NULL OR verdict = $5) \
         AND ($6::bigint IS NULL OR received_at >= $6) AND ($7::bigint IS NULL OR received_at < $7) \
         ORDER BY id DESC LIMIT $8"
    );
    let limit = i64::try_from(page.limit + 1).unwrap_or(i64::MAX);
    let found = rows(
        c,
        &sql,
        &[
            &source,
            &before,
            &floor,
            &f.event_type,
            &f.verdict.map(|v| v.as_str()),
            &f.after,
            &f.before,
            &limit,
        ],
    )
    .await?;
    Ok(Page::from_rows(
        all(&found, codec::event)?,
        page.limit,
        |e| e.id.to_string(),
    ))
}
