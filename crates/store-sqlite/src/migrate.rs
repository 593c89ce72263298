//! Schema migrations, applied in order and recorded in `PRAGMA user_version`.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_inbox.sql"),
    include_str!("../migrations/0002_outbound.sql"),
    include_str!("../migrations/0003_event_types.sql"),
    include_str!("../migrations/0004_delivery_failed.sql"),
    include_str!("../migrations/0005_retention.sql"),
    include_str!("../migrations/0006_failing_since.sql"),
    include_str!("../migrations/0007_policy.sql"),
    include_str!("../migrations/0008_dedup_by_expiry.sql"),
    include_str!("../migrations/0009_delivery_version.sql"),
    include_str!("../migrations/0010_source_options.sql"),
    include_str!("../migrations/0011_endpoint_filter.sql"),
    include_str!("../migrations/0012_routes.sql"),
    include_str!("../migrations/0013_search.sql"),
    include_str!("../migrations/0014_activity.sql"),
    include_str!("../migrations/0015_search_without_positions.sql"),
    include_str!("../migrations/0016_search_beside.sql"),
];

/// Applies every migration newer than the database; returns how many ran.
pub(crate) fn run(conn: &mut Connection) -> rusqlite::Result<usize> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut applied = 0;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
        applied += 1;
    }
    Ok(applied)
}
