//! hookline-store-sqlite: the [`Store`](hookline_core::Store) on one SQLite file.
//!
//! WAL journal with `synchronous=FULL`, so a commit is on disk when it returns.
//! One writer thread owns the write connection and commits in groups: it takes
//! every write waiting (up to a cap), runs them inside one transaction (over
//! again with a savepoint each if one fails, so a failure spoils only itself),
//! commits once, then answers every waiter. Under load batches grow by
//! themselves; an idle lone write commits at once. Reads use a separate pool.
//!
//! Modules:
//! - `migrate`: the schema migrations in `migrations/`, tracked by `user_version`.
//! - `writer`: the group-commit writer thread.
//! - `dedup`: the in-memory index of live dedup keys (the table is in expiry order).
//! - `checkpoint`: WAL checkpoints on their own thread, off the commit path,
//!   and how the WAL is made to start over under writes that never pause.
//! - `readers`: the read connection pool.
//! - `rows`: rows to domain types and back, and the helpers every query uses.
//! - `search`: inbox search: `hl_search_text` and the text condition over the index and its backlog.
//! - `indexer`: the search index in its own file beside the database, kept by its own idle-priority thread.
//! - `store`: [`SqliteStore`]: opening the file, the writer, readers and checkpointer.
//!
//! One file per role of the storage contract, each holding that role's `impl`
//! and its SQL:
//! - `source`: [`SourceStore`](hookline_core::SourceStore), the `source` table.
//! - `inbox`: [`InboxStore`](hookline_core::InboxStore), inbound events with their dedup keys.
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
mod checkpoint;
mod dedup;
mod forward;
mod inbox;
mod indexer;
mod maintenance;
mod migrate;
mod outbox;
mod queue;
mod readers;
mod route;
mod rows;
mod search;
mod setting;
mod source;
mod store;
mod writer;

pub use indexer::index_path;
pub use store::SqliteStore;

use hookline_core::StoreError;

/// Converts a driver error, once, into the domain's error.
pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(msg.unwrap_or_else(|| "constraint violated".into()))
        }
        rusqlite::Error::SqliteFailure(f, msg)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::SystemIoFailure
                    | rusqlite::ErrorCode::ReadOnly
                    | rusqlite::ErrorCode::CannotOpen
            ) =>
        {
            StoreError::Unavailable(msg.unwrap_or_else(|| f.to_string()))
        }
        other => StoreError::Backend(other.to_string()),
    }
}
