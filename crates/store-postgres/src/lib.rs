//! hookline-store-postgres: the [`Store`](hookline_core::Store) on PostgreSQL,
//! for deployments where several hookline nodes share one database.
//!
//! Every commit is durable (`synchronous_commit = on`). Inbound events are
//! group-committed by one writer task (a batch of waiting inserts is pipelined
//! into one transaction), and so are publishes and attempt records (a second
//! batcher); every other write is its own short transaction on a pooled
//! connection. Due deliveries are claimed with `FOR UPDATE SKIP
//! LOCKED`, so nodes never claim the same one, and a publish on any node wakes
//! every node through `LISTEN/NOTIFY` (polling remains the fallback).
//!
//! Modules:
//! - `migrate`: the schema migrations in `migrations/`, run under an advisory lock.
//! - `codec`: rows to domain types and back (JSON columns, ids, numbers).
//! - `writer`: the group-commit writer for inbound events.
//! - `batcher`: group commit for publishing and recording attempts.
//! - `inbox`: sources and the inbox's reads.
//! - `outbound`: the sending side's queries (apps, endpoints, event types,
//!   messages, deliveries, attempts, retention).
//! - `listen`: the `LISTEN` connection that turns other nodes' publishes into wake-ups.
//! - `store`: [`PgStore`], connecting and the `Store` implementation.
//! - `tls`: TLS to the server, by the URL's `sslmode` and `sslrootcert` as libpq.

mod batcher;
mod codec;
mod inbox;
mod listen;
mod migrate;
mod outbound;
mod store;
mod tls;
mod writer;

pub use store::PgStore;

use hookline_core::StoreError;

/// Converts a driver error, once, into the domain's error.
pub(crate) fn backend(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(c) if *c == tokio_postgres::error::SqlState::UNIQUE_VIOLATION => {
            StoreError::Conflict(e.to_string())
        }
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
        other => StoreError::Backend(format!("no database connection: {other}")),
    }
}
