//! [`OutboxStore`] on SQLite: publish (the message and its deliveries in one
//! write), messages, deliveries, attempts, resend and recover, stats.

use async_trait::async_trait;
use hookline_core::{
    AppId, Attempt, AttemptId, Claimed, Delivery, DeliveryStatus, Endpoint, EndpointId,
    EndpointStats, HandOut, Message, MessageId, OutboxStore, Page, PageRequest, Published,
    StoreError,
};
use rusqlite::{params, Connection, OptionalExtension};

use crate::backend;
use crate::catalog::list_endpoints;
use crate::rows::*;
use crate::store::SqliteStore;

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn publish_handing(
        &self,
        message: &Message,
        hand: HandOut,
    ) -> Result<Published, StoreError> {
        let m = message.clone();
        self.writer.write(move |c| publish(c, &m, None, hand)).await
    }

    async fn publish_to(&self, message: &Message, endpoint: &EndpointId) -> Result<(), StoreError> {
        let (m, ep) = (message.clone(), endpoint.clone());
        self.writer
            .write(move |c| publish(c, &m, Some(&ep), HandOut::default()).map(|_| ()))
            .await
    }

    async fn get_message(
        &self,
        app: &AppId,
        id: &MessageId,
    ) -> Result<Option<Message>, StoreError> {
        let (app, id) = (app.clone(), id.clone());
        self.readers
            .read(move |c| select_message(c, &app, &id))
            .await
    }

    async fn list_messages(
        &self,
        app: &AppId,
        page: &PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        let (app, page) = (app.clone(), page.clone());
        self.readers
            .read(move |c| list_messages(c, &app, &page))
            .await
    }

    async fn list_deliveries(
        &self,
        app: &AppId,
        message: &MessageId,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (app, msg) = (app.clone(), message.clone());
        self.readers
            .read(move |c| list_deliveries(c, &app, &msg))
            .await
    }

    async fn requeue(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        message: Option<&MessageId>,
        since: i64,
        now: i64,
    ) -> Result<usize, StoreError> {
        let (app, ep, msg) = (app.clone(), endpoint.clone(), message.cloned());
        self.writer
            .write(move |c| requeue(c, &app, &ep, msg.as_ref(), since, now))
            .await
    }

    async fn failing_endpoints(&self, limit: usize) -> Result<Vec<(Endpoint, i64)>, StoreError> {
        self.readers
            .read(move |c| failing_endpoints(c, limit))
            .await
    }

    async fn endpoint_stats(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        since: i64,
        until: i64,
    ) -> Result<EndpointStats, StoreError> {
        let (app, ep) = (app.clone(), endpoint.clone());
        self.readers
            .read(move |c| endpoint_stats(c, &app, &ep, since, until))
            .await
    }

    async fn get_attempt(
        &self,
        app: &AppId,
        message: &MessageId,
        attempt: &AttemptId,
    ) -> Result<Option<Attempt>, StoreError> {
        let (app, msg, id) = (app.clone(), message.clone(), attempt.clone());
        self.readers
            .read(move |c| select_attempt(c, &app, &msg, &id))
            .await
    }

    async fn list_attempts(
        &self,
        app: &AppId,
        message: Option<&MessageId>,
        endpoint: Option<&EndpointId>,
        page: &PageRequest,
    ) -> Result<Page<Attempt>, StoreError> {
        let (app, msg, ep, page) = (
            app.clone(),
            message.cloned(),
            endpoint.cloned(),
            page.clone(),
        );
        self.readers
            .read(move |c| list_attempts(c, &app, msg.as_ref(), ep.as_ref(), &page))
            .await
    }
}

/// Stores the message and a pending delivery to every endpoint of its app
/// that wants it, or, with `only`, to that endpoint alone.
pub(crate) fn publish(
    c: &Connection,
    m: &Message,
    only: Option<&EndpointId>,
    hand: HandOut,
) -> Result<Published, StoreError> {
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
    let mut out = Published::default();
    let mut st = c
        .prepare_cached(
            "INSERT INTO delivery (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, version) \
             VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
        )
        .map_err(backend)?;
    for e in all.into_iter().filter(|e| only.is_some() || e.takes(m)) {
        let delivery = Delivery::new_for(m, &e, out.handed.len() < hand.slots, hand.lease_until);
        st.execute(params![
            m.id.as_str(),
            e.id.as_str(),
            m.app_id.as_str(),
            delivery.status.code(),
            delivery.next_attempt_at,
            delivery.version
        ])
        .map_err(backend)?;
        out.made += 1;
        if delivery.status == DeliveryStatus::Sending {
            out.handed.push(Claimed {
                delivery,
                message: m.clone(),
                endpoint: e,
            });
        }
    }
    Ok(out)
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
            "INSERT INTO delivery (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual) \
             SELECT m.id, e.id, m.app_id, ?4, 0, ?5, 1 FROM message m JOIN endpoint e ON e.app_id = m.app_id \
             WHERE m.id = ?1 AND e.id = ?2 AND m.app_id = ?3 \
             ON CONFLICT (message_id, endpoint_id) DO UPDATE SET status = ?4, attempts = 0, next_attempt_at = ?5, \
             manual = 1, version = version + 1",
            params![m.as_str(), ep.as_str(), app.as_str(), pending, now],
        ),
        None => c.execute(
            "UPDATE delivery SET status = ?4, attempts = 0, next_attempt_at = ?5, manual = 1, version = version + 1 \
             WHERE endpoint_id = ?1 AND app_id = ?2 AND status = ?6 \
             AND message_id IN (SELECT id FROM message WHERE app_id = ?2 AND created_at >= ?3)",
            params![ep.as_str(), app.as_str(), since, pending, now, DeliveryStatus::Failed.code()],
        ),
    };
    n.map_err(backend)
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
    st.query_map([limit as i64], |r| Ok((endpoint(r)?, r.get(18)?)))
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)
}

pub(crate) fn endpoint_stats(
    c: &Connection,
    app: &AppId,
    ep: &EndpointId,
    since: i64,
    until: i64,
) -> Result<EndpointStats, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT d.status, count(*) FROM delivery d JOIN message m ON m.id = d.message_id \
             WHERE d.endpoint_id = ?1 AND d.app_id = ?2 AND m.created_at >= ?3 AND m.created_at < ?4 \
             GROUP BY d.status",
        )
        .map_err(backend)?;
    let counts = st
        .query_map(params![ep.as_str(), app.as_str(), since, until], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, u64>(1)?))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    let mut stats = EndpointStats::default();
    for (status, n) in counts {
        let status = DeliveryStatus::from_code(status)
            .ok_or_else(|| StoreError::Backend(format!("unknown delivery status {status}")))?;
        stats.add(status, n);
    }
    Ok(stats)
}

pub(crate) fn select_attempt(
    c: &Connection,
    app: &AppId,
    msg: &MessageId,
    id: &AttemptId,
) -> Result<Option<Attempt>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempt WHERE id = ?1 AND message_id = ?2 AND app_id = ?3"
    ))
    .and_then(|mut st| {
        st.query_row([id.as_str(), msg.as_str(), app.as_str()], attempt)
            .optional()
    })
    .map_err(backend)
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
        "SELECT {ATTEMPT_COLUMNS} FROM attempt WHERE {by} = ?1 AND app_id = ?2 AND (?3 IS NULL OR message_id = ?3) \
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
