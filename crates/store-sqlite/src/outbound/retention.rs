//! Retention: one bounded pass over old payloads, inbox events and dedup keys.

use super::*;

pub(crate) fn expire(
    c: &Connection,
    before: i64,
    now: i64,
    limit: usize,
) -> Result<usize, StoreError> {
    let limit = limit as i64;
    let payloads = c
        .execute(
            "UPDATE message SET payload = NULL WHERE id IN \
             (SELECT id FROM message WHERE payload IS NOT NULL AND id < ?1 ORDER BY id LIMIT ?2)",
            params![MessageId::floor(before).as_str(), limit],
        )
        .map_err(backend)?;
    let dedup = c
        .execute(
            "DELETE FROM dedup WHERE (expires_at, source, key) IN \
             (SELECT expires_at, source, key FROM dedup WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
            params![now, limit],
        )
        .map_err(backend)?;
    let sources: Vec<String> = c
        .prepare_cached("SELECT name FROM source")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(backend)?;
    let mut inbox = 0;
    for s in sources {
        inbox += c
            .execute(
                "DELETE FROM inbound_event WHERE source = ?1 AND id IN \
                 (SELECT id FROM inbound_event WHERE source = ?1 AND id < ?2 ORDER BY id LIMIT ?3)",
                params![s, EventId::floor(before).as_str(), limit],
            )
            .map_err(backend)?;
    }
    let settings = c
        .execute(
            "DELETE FROM setting WHERE key IN \
             (SELECT key FROM setting WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
            params![now, limit],
        )
        .map_err(backend)?;
    Ok(payloads + dedup + inbox + settings)
}
