//! Schema migrations, applied in order and recorded in `hookline_migration`.
//! An advisory lock serialises nodes that start at the same time.

use tokio_postgres::Client;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_schema.sql"),
    include_str!("../migrations/0002_delivery_version.sql"),
    include_str!("../migrations/0003_source_options.sql"),
    include_str!("../migrations/0004_endpoint_filter.sql"),
    include_str!("../migrations/0005_routes.sql"),
    include_str!("../migrations/0006_search.sql"),
    include_str!("../migrations/0007_activity.sql"),
    include_str!("../migrations/0008_search_partial.sql"),
];

/// Any number, the same on every node: the lock that serialises migrations.
const LOCK: i64 = 0x686f_6f6b_6c69_6e65;

/// Applies every migration newer than the database; returns how many ran.
pub(crate) async fn run(client: &mut Client) -> Result<usize, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS hookline_migration (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let current: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM hookline_migration",
            &[],
        )
        .await?
        .get(0);
    let mut applied = 0;
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(current).unwrap_or(0))
    {
        tx.batch_execute(sql).await?;
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO hookline_migration (version, applied_at) VALUES ($1, $2)",
            &[&version, &hookline_core::clock::now_ms()],
        )
        .await?;
        applied += 1;
    }
    tx.commit().await?;
    Ok(applied)
}
