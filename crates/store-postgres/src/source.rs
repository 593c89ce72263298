//! [`SourceStore`] on PostgreSQL: the `source` table.

use async_trait::async_trait;
use hookline_core::{Source, SourceStore, StoreError};

use crate::codec::{self, *};
use crate::sql::*;
use crate::store::PgStore;

#[async_trait]
impl SourceStore for PgStore {
    async fn create_source(&self, source: &Source) -> Result<(), StoreError> {
        put_source(&self.db().await?, source, false).await
    }

    async fn update_source(&self, source: &Source) -> Result<(), StoreError> {
        update_source(&self.db().await?, source).await
    }

    async fn upsert_source(&self, source: &Source) -> Result<(), StoreError> {
        put_source(&self.db().await?, source, true).await
    }

    async fn delete_source(&self, name: &str) -> Result<(), StoreError> {
        delete_source(&self.db().await?, name).await
    }

    async fn get_source(&self, name: &str) -> Result<Option<Source>, StoreError> {
        Ok(sources(&self.db().await?, Some(name)).await?.pop())
    }

    async fn sources_fingerprint(&self) -> Result<(i64, i64), StoreError> {
        let found = rows(
            &self.db().await?,
            "SELECT count(*), coalesce(sum(updated_at % 1000000007), 0)::bigint FROM source",
            &[],
        )
        .await?;
        let row = found.first().ok_or(StoreError::NotFound)?;
        Ok((codec::get(row, 0)?, codec::get(row, 1)?))
    }

    async fn list_sources(&self) -> Result<Vec<Source>, StoreError> {
        sources(&self.db().await?, None).await
    }
}

fn insert_sql(on_conflict: &str) -> String {
    format!(
        "INSERT INTO source ({SOURCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) {on_conflict}"
    )
}

/// Writes `s`: `INSERT` (a taken name is a conflict), or with `upsert` replaces it.
pub(crate) async fn put_source(c: &Db, s: &Source, upsert: bool) -> Result<(), StoreError> {
    let (secrets, allow) = source_lists(s)?;
    let sql = if upsert {
        insert_sql(
            "ON CONFLICT (name) DO UPDATE SET scheme = excluded.scheme, secrets = excluded.secrets, \
             tolerance_ms = excluded.tolerance_ms, dedup = excluded.dedup, \
             dedup_window_ms = excluded.dedup_window_ms, allow_ips = excluded.allow_ips, \
             rate_limit = excluded.rate_limit, updated_at = excluded.updated_at, \
             path = excluded.path, options = excluded.options",
        )
    } else {
        insert_sql("")
    };
    let r = exec(
        c,
        &sql,
        &[
            &s.id.as_str(),
            &s.name,
            &s.scheme.name(),
            &secrets,
            &codec::ms(s.tolerance),
            &s.dedup.to_config(),
            &codec::ms(s.dedup_window),
            &allow,
            &codec::int(s.rate_limit),
            &s.created_at,
            &s.updated_at,
            &s.path,
            &s.options_json(),
        ],
    )
    .await;
    r.map(|_| ()).map_err(|e| source_conflict(e, s))
}

pub(crate) async fn update_source(c: &Db, s: &Source) -> Result<(), StoreError> {
    let (secrets, allow) = source_lists(s)?;
    let n = exec(
        c,
        "UPDATE source SET scheme = $2, secrets = $3, tolerance_ms = $4, dedup = $5, \
         dedup_window_ms = $6, allow_ips = $7, rate_limit = $8, updated_at = $9, path = $10, \
         options = $11 WHERE name = $1",
        &[
            &s.name,
            &s.scheme.name(),
            &secrets,
            &codec::ms(s.tolerance),
            &s.dedup.to_config(),
            &codec::ms(s.dedup_window),
            &allow,
            &codec::int(s.rate_limit),
            &s.updated_at,
            &s.path,
            &s.options_json(),
        ],
    )
    .await
    .map_err(|e| source_conflict(e, s))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn delete_source(c: &Db, name: &str) -> Result<(), StoreError> {
    match exec(c, "DELETE FROM source WHERE name = $1", &[&name]).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) async fn sources(c: &Db, name: Option<&str>) -> Result<Vec<Source>, StoreError> {
    let sql = format!(
        "SELECT {SOURCE_COLUMNS} FROM source WHERE ($1::text IS NULL OR name = $1) ORDER BY name"
    );
    all(&rows(c, &sql, &[&name]).await?, codec::source)
}
