//! [`InboxStore`] on PostgreSQL: inbound events, inserted in the group commit
//! (the dedup claim and the insert in one statement), read from the pool.

use std::sync::Arc;
use std::sync::LazyLock;
use std::time::Duration;

use tokio_postgres::types::ToSql;

use async_trait::async_trait;
use hookline_core::{
    EventFilter, EventId, InboundEvent, InboxStore, Inserted, NewForward, Page, PageRequest,
    StoreError,
};

use crate::backend;
use crate::codec::{self, *};
use crate::forward::insert_forwards;
use crate::sql::*;
use crate::store::PgStore;

#[async_trait]
impl InboxStore for PgStore {
    async fn insert_event(
        &self,
        event: InboundEvent,
        dedup_window: Duration,
        rejected_cap: usize,
        routes: Vec<NewForward>,
    ) -> Result<Inserted, StoreError> {
        let event = Arc::new(event);
        let routes = Arc::new(routes);
        let channel = Arc::new(self.channel.clone());
        self.writer
            .write(move |tx| {
                let (event, routes, channel) = (event.clone(), routes.clone(), channel.clone());
                Box::pin(async move {
                    let inserted = insert(tx, &event, dedup_window, rejected_cap).await?;
                    if let (Inserted::Stored(id), true) = (&inserted, event.verdict.accepted()) {
                        let due = event.received_at;
                        insert_forwards(tx, &channel, &event.source, id, &routes, due).await?;
                    }
                    Ok(inserted)
                })
            })
            .await
    }

    async fn get_event(
        &self,
        source: &str,
        id: &EventId,
    ) -> Result<Option<InboundEvent>, StoreError> {
        event(&self.db().await?, source, id).await
    }

    async fn events_after(
        &self,
        source: &str,
        after: Option<&EventId>,
        limit: usize,
    ) -> Result<Vec<InboundEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM inbound_event WHERE source = $1 \
             AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3"
        );
        let after = after.map(EventId::as_str);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let found = rows(&self.db().await?, &sql, &[&source, &after, &limit]).await?;
        all(&found, codec::event)
    }

    async fn list_events(
        &self,
        source: Option<&str>,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<InboundEvent>, StoreError> {
        events(&self.db().await?, source, filter, page).await
    }
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
/// filter rides the `(source, id)` key (across sources, the `id` index); a
/// text query is a `LIKE` on the trigram-indexed `search` column (see `search`).
pub(crate) async fn events(
    c: &Db,
    source: Option<&str>,
    f: &EventFilter,
    page: &PageRequest,
) -> Result<Page<InboundEvent>, StoreError> {
    let floor = f.after.map(|t| EventId::floor(t).to_string());
    let ceiling = f.before.map(|t| EventId::floor(t).to_string());
    let before = match (&page.iterator, ceiling) {
        (Some(i), Some(c)) => Some(i.clone().min(c)),
        (i, c) => i.clone().or(c),
    };
    let by_source = match source {
        Some(_) => "source = $1",
        None => "$1::text IS NULL",
    };
    let text = crate::search::condition(f.text.is_some());
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM inbound_event WHERE {by_source} \
         AND ($2::text IS NULL OR id < $2) AND ($3::text IS NULL OR id >= $3) \
         AND ($4::text IS NULL OR event_type = $4) AND ($5::text IS NULL OR verdict = $5) \
         AND ($6::bigint IS NULL OR received_at >= $6) AND ($7::bigint IS NULL OR received_at < $7) \
         AND {text} ORDER BY id DESC LIMIT $8"
    );
    let pattern = f.text.as_ref().map(crate::search::like_pattern);
    let folded = f.text.as_ref().map(|q| q.as_str().to_string());
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
            &pattern,
            &folded,
        ],
    )
    .await?;
    Ok(Page::from_rows(
        all(&found, codec::event)?,
        page.limit,
        |e| e.id.to_string(),
    ))
}

static INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO inbound_event ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    )
});

/// Claims the dedup key and stores the event only if the claim held. Data-
/// modifying CTEs see the table as it was before the statement, so the final
/// SELECT reads the *earlier* claim when there is one: the id a duplicate
/// answers with.
static CLAIM_AND_INSERT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH claim AS ( \
            INSERT INTO dedup (source, key, event_id, expires_at) VALUES ($2, $13, $1, $14) \
            ON CONFLICT (source, key) DO UPDATE SET event_id = excluded.event_id, \
            expires_at = excluded.expires_at WHERE dedup.expires_at <= $10 RETURNING 1 \
         ), stored AS ( \
            INSERT INTO inbound_event ({EVENT_COLUMNS}) SELECT $1::text, $2::text, $3::text, \
            $4::text, $5::text, $6::text, $7::text, $8::bytea, $9::text, $10::bigint, $11::text, \
            $12::text, $13::text WHERE EXISTS (SELECT 1 FROM claim) RETURNING 1 \
         ) \
         SELECT EXISTS (SELECT 1 FROM stored), \
                (SELECT event_id FROM dedup WHERE source = $2 AND key = $13)"
    )
});

const CAP_REJECTED_SQL: &str =
    "DELETE FROM inbound_event WHERE source = $1 AND verdict = 'rejected' AND id <= \
     (SELECT id FROM inbound_event WHERE source = $1 AND verdict = 'rejected' \
      ORDER BY id DESC LIMIT 1 OFFSET $2)";

/// Stores one event inside a group's transaction: an accepted event with a
/// dedup key only if the key is not live; a rejected one trims its source's
/// rejected events to `cap`.
async fn insert(
    tx: &Tx<'_>,
    e: &InboundEvent,
    window: Duration,
    cap: usize,
) -> Result<Inserted, StoreError> {
    let id = e.id.to_string();
    let headers = to_json(&e.headers)?;
    let verdict = e.verdict.as_str();
    let params: [&(dyn ToSql + Sync); 13] = [
        &id,
        &e.source,
        &e.event_type,
        &e.method,
        &e.path,
        &e.query,
        &headers,
        &e.body,
        &e.remote_addr,
        &e.received_at,
        &verdict,
        &e.verdict_reason,
        &e.dedup_key,
    ];
    if e.dedup_key.is_some() && e.verdict.accepted() {
        let expires = e.received_at.saturating_add(ms(window));
        let mut with_expiry = params.to_vec();
        with_expiry.push(&expires);
        let row = tx_rows(tx, &CLAIM_AND_INSERT_SQL, &with_expiry).await?;
        let row = row
            .first()
            .ok_or_else(|| StoreError::Backend("a dedup claim answered no row".into()))?;
        if row.try_get::<_, bool>(0).map_err(backend)? {
            return Ok(Inserted::Stored(e.id.clone()));
        }
        let seen: Option<String> = row.try_get(1).map_err(backend)?;
        let seen = seen
            .ok_or_else(|| StoreError::Backend("a dedup claim vanished".into()))?
            .parse()
            .map_err(|e| StoreError::Backend(format!("{e}")))?;
        return Ok(Inserted::Duplicate(seen));
    }
    tx_exec(tx, &INSERT_SQL, &params).await?;
    if !e.verdict.accepted() {
        let cap = i64::try_from(cap).unwrap_or(i64::MAX);
        tx_exec(tx, CAP_REJECTED_SQL, &[&e.source, &cap]).await?;
    }
    Ok(Inserted::Stored(e.id.clone()))
}
