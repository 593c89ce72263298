//! hookline-store-postgres: the [`Store`](hookline_core::Store) on PostgreSQL,
//! for deployments where several hookline nodes share one database.
//!
//! Every commit is durable (`synchronous_commit = on`). Inbound events,
//! publishes and attempt records are group-committed by one writer task (a
//! batch of waiting writes is pipelined into one transaction); every other
//! write is its own short transaction on a pooled connection. Due deliveries are claimed with `FOR UPDATE SKIP
//! LOCKED`, so nodes never claim the same one, and a publish on any node wakes
//! every node through `LISTEN/NOTIFY` (polling remains the fallback).
//!
//! Modules:
//! - `migrate`: the schema migrations in `migrations/`, run under an advisory lock.
//! - `codec`: rows to domain types and back (JSON columns, ids, numbers).
//! - `sql`: the helpers every query uses (cached statements, pages).
//! - `writer`: the one group-commit queue for the hot writes.
//! - `listen`: the `LISTEN` connection that turns other nodes' publishes into wake-ups.
//! - `search`: the search indexer task and the listing's text condition.
//! - `store`: [`PgStore`], connecting, and what every role's `impl` shares.
//! - `tls`: TLS to the server, by the URL's `sslmode` and `sslrootcert` as libpq.
//!
//! One file per role of the storage contract, each holding that role's `impl`
//! and its SQL:
//! - `source`: [`SourceStore`](hookline_core::SourceStore), the `source` table.
//! - `inbox`: [`InboxStore`](hookline_core::InboxStore), inbound events with their dedup claims.
//! - `setting`: [`SettingStore`](hookline_core::SettingStore).
//! - `catalog`: [`CatalogStore`](hookline_core::CatalogStore): apps, endpoints, event types.
//! - `outbox`: [`OutboxStore`](hookline_core::OutboxStore): publish, messages, attempts, resend.
//! - `queue`: [`DeliveryQueue`](hookline_core::DeliveryQueue): claim, record, postpone, disable.
//! - `route`: [`RouteStore`](hookline_core::RouteStore): routes, each event's forwards, resend, recover.
//! - `forward`: [`ForwardQueue`](hookline_core::ForwardQueue): claim (ordered routes by their head), record, postpone.
//! - `maintenance`: [`Maintenance`](hookline_core::Maintenance): ping, retention, queue depth.
//! - `activity`: [`ActivityStore`](hookline_core::ActivityStore): each node's counts per minute.

mod activity;
mod catalog;
mod codec;
mod forward;
mod inbox;
mod listen;
mod maintenance;
mod migrate;
mod outbox;
mod queue;
mod route;
mod search;
mod setting;
mod source;
mod sql;
mod store;
mod tls;
mod writer;

pub use store::PgStore;

use hookline_core::StoreError;

/// Converts a driver error, once, into the domain's error.
pub(crate) fn backend(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(c) if *c == tokio_postgres::error::SqlState::UNIQUE_VIOLATION => {
            StoreError::Conflict(match e.as_db_error() {
                Some(db) => format!(
                    "{} ({})",
                    db.message(),
                    db.constraint().unwrap_or("unique constraint")
                ),
                None => e.to_string(),
            })
        }
        // Insufficient resources (a full disk: 53100), operator intervention
        // (shutting down), system errors (I/O): nothing can be written now.
        Some(c) if ["53", "57", "58"].contains(&&c.code()[..2]) => {
            StoreError::Unavailable(match e.as_db_error() {
                Some(db) => format!("{}: {}", db.code().code(), db.message()),
                None => e.to_string(),
            })
        }
        None if e.is_closed() => StoreError::Unavailable("the database connection was lost".into()),
        _ => StoreError::Backend(match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        }),
    }
}

/// A pool error (no connection could be had) as the domain's error.
pub(crate) fn pool(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => backend(e),
        other => StoreError::Unavailable(format!("no database connection: {other}")),
    }
}
