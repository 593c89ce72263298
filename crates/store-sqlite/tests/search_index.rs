//! The search index in its file beside the database: it catches up with
//! the inbox, takes deleted events out, is rebuilt when its file is lost or
//! belongs to another database, and indexes an event that SQLite gave a
//! deleted event's rowid.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use hookline_core::testkit::event;
use hookline_core::{InboxStore, Maintenance, Source, SourceStore, Verdict};
use hookline_signature::Scheme;
use hookline_store_sqlite::{index_path, SqliteStore};

fn fresh() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookline.db");
    (dir, path)
}

/// The store at `path`, with the source `s` (retention goes by source).
async fn open(path: &Path) -> SqliteStore {
    let store = SqliteStore::open(path).unwrap();
    if store.get_source("s").await.unwrap().is_none() {
        let s = Source::new("s", Scheme::Hex).unwrap();
        store.create_source(&s).await.unwrap();
    }
    store
}

async fn store_body(store: &SqliteStore, at: i64, body: &str) {
    let e = event("s", at, body.as_bytes(), Verdict::Verified, None);
    store
        .insert_event(e, Duration::from_secs(3600), 100, vec![])
        .await
        .unwrap();
}

/// The bodies of `s` holding `q`, newest first.
async fn found(store: &SqliteStore, q: &str) -> Vec<String> {
    hookline_core::testkit::found(store, Some("s"), q, None).await
}

/// Waits (bounded) until the index holds every event.
async fn caught_up(store: &SqliteStore) {
    for _ in 0..400 {
        if store.search_backlog().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the search index never caught up");
}

/// Waits (bounded) until the index file holds `n` entries; how many it holds.
async fn entries_become(db: &Path, n: i64) -> i64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while entries(db) != n && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    entries(db)
}

/// Entries in the index file (read on a connection of its own).
fn entries(db: &Path) -> i64 {
    let c = rusqlite::Connection::open(index_path(db)).unwrap();
    c.query_row("SELECT count(*) FROM event_search", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn the_index_catches_up_in_its_own_file() {
    let (_dir, path) = fresh();
    let store = open(&path).await;
    let t0 = hookline_core::clock::now_ms();
    for i in 0..300 {
        store_body(&store, t0 + i, &format!(r#"{{"n":"number-{i:04}"}}"#)).await;
    }
    caught_up(&store).await;
    assert!(index_path(&path).exists());
    assert_eq!(entries(&path), 300);
    assert_eq!(
        found(&store, "number-0123").await,
        [r#"{"n":"number-0123"}"#]
    );
    assert_eq!(found(&store, "NUMBER-021").await.len(), 10);
}

#[tokio::test]
async fn deleted_events_leave_the_index() {
    let (_dir, path) = fresh();
    let store = open(&path).await;
    let t0 = hookline_core::clock::now_ms() - 60_000;
    for i in 0..10 {
        store_body(&store, t0 + i, &format!("old-{i}")).await;
    }
    store_body(&store, t0 + 50_000, "new-one").await;
    caught_up(&store).await;
    assert_eq!(entries(&path), 11);
    // Retention: the ten older than t0 + 1 s go.
    let now = hookline_core::clock::now_ms();
    assert!(store.expire(t0 + 1_000, now, 100).await.unwrap() >= 10);
    assert_eq!(
        entries_become(&path, 1).await,
        1,
        "only the event kept is indexed"
    );
    assert!(found(&store, "old-").await.is_empty());
    assert_eq!(found(&store, "new-one").await, ["new-one"]);
}

#[tokio::test]
async fn a_lost_or_foreign_index_file_is_rebuilt() {
    let (_dir, path) = fresh();
    let t0 = hookline_core::clock::now_ms();
    {
        let store = open(&path).await;
        store_body(&store, t0, "kept across restarts").await;
        caught_up(&store).await;
    }
    // Lost: removed while hookline was stopped.
    for suffix in ["", "-wal", "-shm"] {
        let mut p = index_path(&path).into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    {
        let store = open(&path).await;
        caught_up(&store).await;
        assert_eq!(entries(&path), 1);
        assert_eq!(found(&store, "across").await, ["kept across restarts"]);
    }
    // Foreign: another database's index in its place.
    let (_other_dir, other) = fresh();
    {
        let store = open(&other).await;
        for i in 0..5 {
            store_body(&store, t0 + i, "another database").await;
        }
        caught_up(&store).await;
    }
    std::fs::copy(index_path(&other), index_path(&path)).unwrap();
    let store = open(&path).await;
    caught_up(&store).await;
    assert_eq!(entries(&path), 1, "rebuilt for this database");
    assert!(found(&store, "another").await.is_empty());
    assert_eq!(found(&store, "restarts").await, ["kept across restarts"]);
}

#[tokio::test]
async fn an_event_given_a_deleted_rowid_is_indexed() {
    let (_dir, path) = fresh();
    let store = open(&path).await;
    let t0 = hookline_core::clock::now_ms() - 60_000;
    for i in 0..3 {
        store_body(&store, t0 + i, &format!("first-{i}")).await;
    }
    caught_up(&store).await;
    // Every event expires: SQLite gives the next one rowid 1 again.
    store
        .expire(t0 + 10_000, hookline_core::clock::now_ms(), 100)
        .await
        .unwrap();
    store_body(&store, t0 + 20_000, "second-life").await;
    caught_up(&store).await;
    assert_eq!(entries_become(&path, 1).await, 1);
    assert_eq!(found(&store, "second-life").await, ["second-life"]);
    assert!(found(&store, "first-").await.is_empty());
}
