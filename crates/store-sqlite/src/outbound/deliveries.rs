//! Deliveries and attempts: claim under a lease, record, requeue, postpone, count.

use super::*;

pub(super) fn delivery(r: &Row<'_>) -> rusqlite::Result<Delivery> {
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

pub(super) const DELIVERY_COLUMNS: &str =
    "message_id, endpoint_id, app_id, status, attempts, next_attempt_at, manual, version";

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
            "UPDATE delivery SET status = ?3, next_attempt_at = ?4, version = version + 1 \
             WHERE (message_id, endpoint_id) IN \
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

pub(crate) fn record_attempt(
    c: &Connection,
    a: &Attempt,
    version: i64,
    next: Next,
) -> Result<(), StoreError> {
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
    // Only the current claim moves the delivery: a resend, recover or new
    // claim made while this try was in flight bumped the version.
    c.prepare_cached(
        "UPDATE delivery SET status = ?3, attempts = attempts + 1, next_attempt_at = ?4, manual = 0 \
         WHERE message_id = ?1 AND endpoint_id = ?2 AND version = ?5",
    )
    .and_then(|mut st| {
        st.execute(params![
            a.message_id.as_str(),
            a.endpoint_id.as_str(),
            status.code(),
            due,
            version
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

pub(crate) fn postpone(
    c: &Connection,
    msg: &MessageId,
    ep: &EndpointId,
    version: i64,
    until: i64,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE delivery SET status = ?3, next_attempt_at = ?4 \
         WHERE message_id = ?1 AND endpoint_id = ?2 AND version = ?5",
    )
    .and_then(|mut st| {
        st.execute(params![
            msg.as_str(),
            ep.as_str(),
            DeliveryStatus::Pending.code(),
            until,
            version
        ])
    })
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

const ATTEMPT_COLUMNS: &str =
    "id, message_id, endpoint_id, app_id, url, status, response_status_code, \
                               response, duration_ms, trigger_type, created_at";

pub(super) fn attempt(r: &Row<'_>) -> rusqlite::Result<Attempt> {
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
