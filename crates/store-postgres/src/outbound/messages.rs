//! Messages: publish (the message, its deliveries and a wake-up for every
//! node, in one transaction), read, list.

use hookline_core::{
    AppId, DeliveryStatus, EndpointId, Message, MessageId, Page, PageRequest, StoreError,
};

use super::{limit, page, rows, tx_exec, tx_rows, Db, Tx};
use crate::codec::{self, all, to_json, ENDPOINT_COLUMNS, MESSAGE_COLUMNS};

/// Stores `m` with a pending delivery to every endpoint of its app that wants
/// it (or, with `only`, to that endpoint alone), and notifies `channel`, all in
/// `tx`. Returns how many deliveries were made.
pub(crate) async fn publish(
    tx: &Tx<'_>,
    m: &Message,
    only: Option<&EndpointId>,
    channel: &str,
) -> Result<usize, StoreError> {
    let channels = m.channels.as_ref().map(to_json).transpose()?;
    tx_exec(
        tx,
        &format!("INSERT INTO message ({MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
        &[
            &m.id.as_str(),
            &m.app_id.as_str(),
            &m.event_type,
            &m.event_id,
            &m.payload,
            &channels,
            &m.created_at,
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => {
            StoreError::Conflict("a message with this eventId already exists".into())
        }
        other => other,
    })?;
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE app_id = $1 AND ($2::text IS NULL OR id = $2)"
    );
    let endpoints = all(
        &tx_rows(
            tx,
            &sql,
            &[&m.app_id.as_str(), &only.map(EndpointId::as_str)],
        )
        .await?,
        codec::endpoint,
    )?;
    if only.is_some() && endpoints.is_empty() {
        return Err(StoreError::NotFound);
    }
    let targets: Vec<&str> = endpoints
        .iter()
        .filter(|e| only.is_some() || e.wants(&m.event_type, m.channels.as_deref()))
        .map(|e| e.id.as_str())
        .collect();
    if targets.is_empty() {
        return Ok(0);
    }
    let pending = DeliveryStatus::Pending.code() as i16;
    tx_exec(
        tx,
        "INSERT INTO delivery (message_id, endpoint_id, app_id, status, attempts, next_attempt_at) \
         SELECT $1, e, $2, $3, 0, $4 FROM unnest($5::text[]) AS e",
        &[&m.id.as_str(), &m.app_id.as_str(), &pending, &m.created_at, &targets],
    )
    .await?;
    tx_exec(tx, "SELECT pg_notify($1, '')", &[&channel]).await?;
    Ok(targets.len())
}

pub(crate) async fn select_message(
    c: &Db,
    app: &AppId,
    id: &MessageId,
) -> Result<Option<Message>, StoreError> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM message WHERE id = $1 AND app_id = $2");
    rows(c, &sql, &[&id.as_str(), &app.as_str()])
        .await?
        .first()
        .map(codec::message)
        .transpose()
}

pub(crate) async fn list_messages(
    c: &Db,
    app: &AppId,
    req: &PageRequest,
) -> Result<Page<Message>, StoreError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM message WHERE app_id = $1 AND ($2::text IS NULL OR id < $2) \
         ORDER BY id DESC LIMIT $3"
    );
    let found = rows(c, &sql, &[&app.as_str(), &req.iterator, &limit(req)]).await?;
    Ok(page(all(&found, codec::message)?, req, |m| {
        m.id.to_string()
    }))
}
