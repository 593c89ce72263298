//! The WAL stays bounded: the writer never checkpoints on its own (so no
//! commit pays for copying the WAL back), the checkpoint thread folds the WAL
//! back often enough that the next burst reuses the file instead of growing
//! it, and under writes that never pause the WAL still starts over.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use hookline_core::testkit::event;
use hookline_core::{Store, Verdict};
use hookline_store_sqlite::SqliteStore;

const BURST: usize = 2_000;

async fn burst(store: &Arc<SqliteStore>, round: usize) {
    let body = vec![b'x'; 2048];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..BURST {
        let (store, body) = (store.clone(), body.clone());
        tasks.spawn(async move {
            let key = format!("r{round}-{i}");
            let e = event(
                "wal",
                1_000 + i as i64,
                &body,
                Verdict::Verified,
                Some(&key),
            );
            store
                .insert_event(e, Duration::from_secs(3600), 100)
                .await
                .unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

#[tokio::test]
async fn the_wal_is_checkpointed_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookline.db");
    let wal = dir.path().join("hookline.db-wal");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let size = || std::fs::metadata(&wal).map_or(0, |m| m.len());

    burst(&store, 1).await;
    // A few checkpoint periods, so the first burst is folded back.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let first = size();
    burst(&store, 2).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let second = size();
    let written = (2 * BURST * 2048) as u64;
    assert!(first > 0, "the burst went through the WAL");
    assert!(
        second < first + written / 4,
        "the second burst reused the WAL: {first} bytes after the first, {second} after the second"
    );
    // Everything is still there, once.
    let db = std::fs::metadata(&path).unwrap().len();
    assert!(
        db >= written,
        "checkpointed into the database file: {db} bytes"
    );
}

/// Writes that never pause: a checkpoint pass never reaches the end of a WAL
/// that keeps growing while it copies, so without help SQLite would never
/// start the WAL over and the file would grow with everything ever written.
#[tokio::test]
async fn the_wal_starts_over_under_writes_that_never_pause() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookline.db");
    let wal = dir.path().join("hookline.db-wal");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let size = move || std::fs::metadata(&wal).map_or(0, |m| m.len());

    const WRITES: usize = 24_000;
    const IN_FLIGHT: usize = 64;
    let body = Arc::new(vec![b'x'; 2048]);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (store, body, next) = (store.clone(), body.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= WRITES {
                    return;
                }
                let key = format!("k{i}");
                let e = event("wal", i as i64, &body, Verdict::Verified, Some(&key));
                store
                    .insert_event(e, Duration::from_secs(3600), 100)
                    .await
                    .unwrap();
            }
        });
    }
    let mut largest = 0;
    let watch = async {
        loop {
            largest = largest.max(size());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        () = watch => unreachable!(),
        () = async { while let Some(done) = tasks.join_next().await { done.unwrap(); } } => {}
    }
    let written = (WRITES * 2048) as u64;
    assert!(
        largest < written / 2,
        "the WAL grew to {largest} bytes while {written} bytes of bodies went through it"
    );
    let rows: u64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM inbound_event", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, WRITES as u64, "every write is there, once");
}
