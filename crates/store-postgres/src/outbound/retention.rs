//! Retention: one bounded pass over old payloads, inbox events, dedup keys
//! and expired settings.

use hookline_core::{EventId, MessageId, StoreError};

use super::{exec, rows, Db};
use crate::codec::get;

pub(crate) async fn expire(
    c: &Db,
    before: i64,
    now: i64,
    limit: usize,
) -> Result<usize, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut changed = exec(
        c,
        "UPDATE message SET payload = NULL WHERE id IN \
         (SELECT id FROM message WHERE payload IS NOT NULL AND id < $1 ORDER BY id LIMIT $2)",
        &[&MessageId::floor(before).as_str(), &limit],
    )
    .await?;
    changed += exec(
        c,
        "DELETE FROM dedup WHERE (source, key) IN \
         (SELECT source, key FROM dedup WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)",
        &[&now, &limit],
    )
    .await?;
    changed += exec(
        c,
        "DELETE FROM setting WHERE key IN \
         (SELECT key FROM setting WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)",
        &[&now, &limit],
    )
    .await?;
    let sources = rows(c, "SELECT name FROM source", &[]).await?;
    let floor = EventId::floor(before).to_string();
    for s in &sources {
        let name: String = get(s, 0)?;
        changed += exec(
            c,
            "DELETE FROM inbound_event WHERE source = $1 AND id IN \
             (SELECT id FROM inbound_event WHERE source = $1 AND id < $2 ORDER BY id LIMIT $3)",
            &[&name, &floor, &limit],
        )
        .await?;
    }
    Ok(usize::try_from(changed).unwrap_or(usize::MAX))
}
