//! Messages: publish (message plus deliveries in one go), read, list.

use super::*;

pub(super) const MESSAGE_COLUMNS: &str =
    "id, app_id, event_type, event_id, payload, channels, created_at";

pub(super) fn message(r: &Row<'_>) -> rusqlite::Result<Message> {
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

/// Stores the message and a pending delivery to every endpoint of its app
/// that wants it, or, with `only`, to that endpoint alone.
pub(crate) fn publish(
    c: &Connection,
    m: &Message,
    only: Option<&EndpointId>,
) -> Result<usize, StoreError> {
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
    if let Some(ep) = only {
        match endpoint_by_id(c, ep.as_str())? {
            Some(e) if e.app_id == m.app_id => all.push(e),
            _ => return Err(StoreError::NotFound),
        }
    } else {
        let mut req = PageRequest::new(Some(PageRequest::MAX_LIMIT), None);
        loop {
            let p = list_endpoints(c, &m.app_id, &req)?;
            all.extend(p.data);
            if p.done {
                break;
            }
            req.iterator = p.iterator;
        }
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
        .filter(|e| only.is_some() || e.wants(&m.event_type, m.channels.as_deref()))
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
