//! [`OutboxStore`] on PostgreSQL: publish (the message, its deliveries and a
//! wake-up for every node, in one transaction), messages, deliveries,
//! attempts, resend and recover, stats.

use std::sync::Arc;

use async_trait::async_trait;
use hookline_core::{
    AppId, Attempt, AttemptId, Claimed, Delivery, DeliveryStatus, Endpoint, EndpointId,
    EndpointStats, HandOut, Message, MessageId, OutboxStore, Page, PageRequest, Published,
    StoreError,
};

use crate::backend;
use crate::codec::{self, *};
use crate::sql::*;
use crate::store::{in_tx, PgStore};

#[async_trait]
impl OutboxStore for PgStore {
    async fn publish_handing(
        &self,
        message: &Message,
        hand: HandOut,
    ) -> Result<Published, StoreError> {
        let (m, channel) = (Arc::new(message.clone()), self.channel.clone());
        self.writer
            .write(move |tx| {
                let (m, channel) = (m.clone(), channel.clone());
                Box::pin(async move { publish(tx, &m, None, hand, &channel).await })
            })
            .await
    }

    async fn publish_to(&self, message: &Message, endpoint: &EndpointId) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            publish(
                &tx,
                message,
                Some(endpoint),
                HandOut::default(),
                &self.channel,
            )
            .await?;
        })
    }

    async fn get_message(
        &self,
        app: &AppId,
        id: &MessageId,
    ) -> Result<Option<Message>, StoreError> {
        select_message(&self.db().await?, app, id).await
    }

    async fn list_messages(
        &self,
        app: &AppId,
        page: &PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        list_messages(&self.db().await?, app, page).await
    }

    async fn list_deliveries(
        &self,
        app: &AppId,
        message: &MessageId,
    ) -> Result<Vec<Delivery>, StoreError> {
        list_deliveries(&self.db().await?, app, message).await
    }

    async fn requeue(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        message: Option<&MessageId>,
        since: i64,
        now: i64,
    ) -> Result<usize, StoreError> {
        let n = requeue(&self.db().await?, app, endpoint, message, since, now).await?;
        if n > 0 {
            // Wake every node, as a publish does.
            exec(
                &self.db().await?,
                "SELECT pg_notify($1, '')",
                &[&self.channel],
            )
            .await?;
        }
        Ok(n)
    }

    async fn failing_endpoints(&self, limit: usize) -> Result<Vec<(Endpoint, i64)>, StoreError> {
        failing_endpoints(&self.db().await?, limit).await
    }

    async fn endpoint_stats(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        since: i64,
        until: i64,
    ) -> Result<EndpointStats, StoreError> {
        endpoint_stats(&self.db().await?, app, endpoint, since, until).await
    }

    async fn get_attempt(
        &self,
        app: &AppId,
        message: &MessageId,
        attempt: &AttemptId,
    ) -> Result<Option<Attempt>, StoreError> {
        select_attempt(&self.db().await?, app, message, attempt).await
    }

    async fn list_attempts(
        &self,
        app: &AppId,
        message: Option<&MessageId>,
        endpoint: Option<&EndpointId>,
        page: &PageRequest,
    ) -> Result<Page<Attempt>, StoreError> {
        list_attempts(&self.db().await?, app, message, endpoint, page).await
    }
}

/// Stores `m` with a delivery to every endpoint of its app that wants it (or,
/// with `only`, to that endpoint alone), the first `hand.slots` claimed and
/// handed back, the rest pending; and, if some are pending, notifies
/// `channel`; all in `tx`.
pub(crate) async fn publish(
    tx: &Tx<'_>,
    m: &Message,
    only: Option<&EndpointId>,
    hand: HandOut,
    channel: &str,
) -> Result<Published, StoreError> {
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
    let mut out = Published::default();
    let (mut ids, mut statuses, mut dues, mut versions) = (vec![], vec![], vec![], vec![]);
    for e in endpoints
        .into_iter()
        .filter(|e| only.is_some() || e.takes(m))
    {
        let delivery = Delivery::new_for(m, &e, out.handed.len() < hand.slots, hand.lease_until);
        ids.push(e.id.to_string());
        statuses.push(delivery.status.code() as i16);
        dues.push(delivery.next_attempt_at);
        versions.push(delivery.version);
        out.made += 1;
        if delivery.status == DeliveryStatus::Sending {
            out.handed.push(Claimed {
                delivery,
                message: m.clone(),
                endpoint: e,
            });
        }
    }
    if out.made == 0 {
        return Ok(out);
    }
    tx_exec(
        tx,
        "INSERT INTO delivery (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, version) \
         SELECT $1, e, $2, s, 0, d, v FROM unnest($3::text[], $4::int2[], $5::int8[], $6::int8[]) AS t(e, s, d, v)",
        &[&m.id.as_str(), &m.app_id.as_str(), &ids, &statuses, &dues, &versions],
    )
    .await?;
    // Every node looks for work, unless this one took all of it.
    if out.left_pending() {
        tx_exec(tx, "SELECT pg_notify($1, '')", &[&channel]).await?;
    }
    Ok(out)
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

pub(crate) async fn list_deliveries(
    c: &Db,
    app: &AppId,
    msg: &MessageId,
) -> Result<Vec<Delivery>, StoreError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM delivery WHERE message_id = $1 AND app_id = $2 ORDER BY endpoint_id"
    );
    all(
        &rows(c, &sql, &[&msg.as_str(), &app.as_str()]).await?,
        codec::delivery,
    )
}

pub(crate) async fn requeue(
    c: &Db,
    app: &AppId,
    ep: &EndpointId,
    msg: Option<&MessageId>,
    since: i64,
    now: i64,
) -> Result<usize, StoreError> {
    let pending = code(DeliveryStatus::Pending);
    let n = match msg {
        Some(m) => {
            exec(
                c,
                "INSERT INTO delivery (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual) \
                 SELECT m.id, e.id, m.app_id, $4, 0, $5, TRUE FROM message m JOIN endpoint e ON e.app_id = m.app_id \
                 WHERE m.id = $1 AND e.id = $2 AND m.app_id = $3 \
                 ON CONFLICT (message_id, endpoint_id) DO UPDATE SET status = $4, attempts = 0, \
                 next_attempt_at = $5, manual = TRUE, version = delivery.version + 1",
                &[&m.as_str(), &ep.as_str(), &app.as_str(), &pending, &now],
            )
            .await?
        }
        None => {
            exec(
                c,
                "UPDATE delivery SET status = $4, attempts = 0, next_attempt_at = $5, manual = TRUE, \
                 version = version + 1 WHERE endpoint_id = $1 AND app_id = $2 AND status = $6 \
                 AND message_id IN (SELECT id FROM message WHERE app_id = $2 AND created_at >= $3)",
                &[&ep.as_str(), &app.as_str(), &since, &pending, &now, &code(DeliveryStatus::Failed)],
            )
            .await?
        }
    };
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub(crate) async fn failing_endpoints(
    c: &Db,
    n: usize,
) -> Result<Vec<(Endpoint, i64)>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS}, failing_since FROM endpoint WHERE failing_since IS NOT NULL \
         ORDER BY failing_since LIMIT $1"
    );
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    rows(c, &sql, &[&n])
        .await?
        .iter()
        .map(|r| Ok((codec::endpoint(r)?, codec::get(r, 18)?)))
        .collect()
}

pub(crate) async fn endpoint_stats(
    c: &Db,
    app: &AppId,
    ep: &EndpointId,
    since: i64,
    until: i64,
) -> Result<EndpointStats, StoreError> {
    let found = rows(
        c,
        "SELECT d.status, count(*) FROM delivery d JOIN message m ON m.id = d.message_id \
         WHERE d.endpoint_id = $1 AND d.app_id = $2 AND m.created_at >= $3 AND m.created_at < $4 \
         GROUP BY d.status",
        &[&ep.as_str(), &app.as_str(), &since, &until],
    )
    .await?;
    let mut stats = EndpointStats::default();
    for r in &found {
        let (status, n): (i16, i64) = (get(r, 0)?, get(r, 1)?);
        let n = u64::try_from(n).unwrap_or(0);
        let status = DeliveryStatus::from_code(i64::from(status))
            .ok_or_else(|| codec::corrupt("status", status))?;
        stats.add(status, n);
    }
    Ok(stats)
}

pub(crate) async fn select_attempt(
    c: &Db,
    app: &AppId,
    msg: &MessageId,
    id: &AttemptId,
) -> Result<Option<Attempt>, StoreError> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempt WHERE id = $1 AND message_id = $2 AND app_id = $3"
    );
    rows(c, &sql, &[&id.as_str(), &msg.as_str(), &app.as_str()])
        .await?
        .first()
        .map(codec::attempt)
        .transpose()
}

pub(crate) async fn list_attempts(
    c: &Db,
    app: &AppId,
    msg: Option<&MessageId>,
    ep: Option<&EndpointId>,
    req: &PageRequest,
) -> Result<Page<Attempt>, StoreError> {
    // One query per index: by endpoint (then narrowed by message), or by message.
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
        "SELECT {ATTEMPT_COLUMNS} FROM attempt WHERE {by} = $1 AND app_id = $2 \
         AND ($3::text IS NULL OR message_id = $3) AND ($4::text IS NULL OR id < $4) \
         ORDER BY id DESC LIMIT $5"
    );
    let found = rows(
        c,
        &sql,
        &[
            &key,
            &app.as_str(),
            &msg.map(MessageId::as_str),
            &req.iterator,
            &limit(req),
        ],
    )
    .await?;
    Ok(page(all(&found, codec::attempt)?, req, |a| {
        a.id.to_string()
    }))
}
