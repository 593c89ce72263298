//! The helpers every query uses: statements are prepared once per pooled

//! connection and cached; pages; conflicts said in words.

use crate::backend;
use hookline_core::{Page, PageRequest, StoreError};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// A pooled connection.
pub(crate) type Db = deadpool_postgres::Object;

/// A transaction on a pooled connection.
pub(crate) type Tx<'a> = deadpool_postgres::Transaction<'a>;

pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

pub(crate) async fn rows(c: &Db, sql: &str, p: Params<'_>) -> Result<Vec<Row>, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(backend)?;
    c.query(&st, p).await.map_err(backend)
}

pub(crate) async fn exec(c: &Db, sql: &str, p: Params<'_>) -> Result<u64, StoreError> {
    let st = c.prepare_cached(sql).await.map_err(backend)?;
    c.execute(&st, p).await.map_err(backend)
}

pub(crate) async fn tx_rows(tx: &Tx<'_>, sql: &str, p: Params<'_>) -> Result<Vec<Row>, StoreError> {
    let st = tx.prepare_cached(sql).await.map_err(backend)?;
    tx.query(&st, p).await.map_err(backend)
}

pub(crate) async fn tx_exec(tx: &Tx<'_>, sql: &str, p: Params<'_>) -> Result<u64, StoreError> {
    let st = tx.prepare_cached(sql).await.map_err(backend)?;
    tx.execute(&st, p).await.map_err(backend)
}

/// `LIMIT` for a page: one more row than asked, to know whether more follow.
pub(crate) fn limit(req: &PageRequest) -> i64 {
    i64::try_from(req.limit + 1).unwrap_or(i64::MAX)
}

pub(crate) fn page<T>(rows: Vec<T>, req: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    Page::from_rows(rows, req.limit, key)
}

/// A uid conflict, said in words.
pub(crate) fn uid_taken(e: StoreError, what: &str) -> StoreError {
    match e {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("{what} with this uid already exists"))
        }
        other => other,
    }
}
