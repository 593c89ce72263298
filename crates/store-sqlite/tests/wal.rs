//! The WAL stays bounded: the writer never checkpoints on its own (so no
//! commit pays for copying the WAL back), the checkpoint thread folds the WAL
//! back often enough that the next burst reuses the file instead of growing
//! it, and under writes that never pause the WAL still starts over.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use hookline_core::testkit::event;
use hookline_core::{InboxStore, Verdict};
use hookline_store_sqlite::SqliteStore;

const BURST: usize = 2_000;
/// Each write's body: large, so the WAL's growth shows.
const BODY: usize = 2048;

/// A store on a fresh file, and that file's path.
struct Db {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Arc<SqliteStore>,
}

impl Db {
    fn open() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hookline.db");
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        Db {
            _dir: dir,
            path,
            store,
        }
    }

    fn wal_path(&self) -> std::path::PathBuf {
        self.path.with_extension("db-wal")
    }

    /// The `-wal` file's size now (0 if there is none).
    fn wal_size(&self) -> u64 {
        std::fs::metadata(self.wal_path()).map_or(0, |m| m.len())
    }

    /// Waits (bounded) until the search indexer holds every event.
    async fn indexed(&self) {
        for _ in 0..600 {
            if self.store.search_backlog().await.unwrap() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the search indexer never caught up");
    }

    /// The checkpoint sequence number in the WAL header (big-endian, bytes
    /// 12..16): SQLite adds one each time the WAL starts over at the front.
    fn wal_restarts(&self) -> u32 {
        use std::io::Read;
        let mut header = [0u8; 16];
        std::fs::File::open(self.wal_path())
            .unwrap()
            .read_exact(&mut header)
            .unwrap();
        u32::from_be_bytes([header[12], header[13], header[14], header[15]])
    }
}

/// One accepted event with the de-duplication key `key`, committed.
async fn insert(store: &SqliteStore, at: i64, key: &str) {
    let e = event("wal", at, &[b'x'; BODY], Verdict::Verified, Some(key));
    store
        .insert_event(e, Duration::from_secs(3600), 100, vec![])
        .await
        .unwrap();
}

async fn burst(store: &Arc<SqliteStore>, round: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..BURST {
        let store = store.clone();
        tasks
            .spawn(async move { insert(&store, 1_000 + i as i64, &format!("r{round}-{i}")).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

#[tokio::test]
async fn the_wal_is_checkpointed_and_reused() {
    let db = Db::open();
    burst(&db.store, 1).await;
    // Once the search indexer has read the burst (a reader can hold a
    // checkpoint back), a few checkpoint periods, so it is all copied back.
    db.indexed().await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let first = db.wal_size();
    assert!(first > 0, "the burst went through the WAL");
    // The next commit starts the WAL over at the front: proof that the whole
    // burst was copied back, independent of how fast this disk is.
    let restarts = db.wal_restarts();
    insert(&db.store, 999, "after-first-burst").await;
    assert!(
        db.wal_restarts() > restarts,
        "the commit after a folded-back burst starts the WAL over"
    );
    burst(&db.store, 2).await;
    db.indexed().await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    // Reused again, not appended to: the commit after the second burst
    // starts over at the front too. (Its peak size is no proof either way:
    // how far a burst gets ahead of the checkpoint passes depends on how
    // busy the machine is, and a CI run compiling beside it made it flaky.)
    let restarts = db.wal_restarts();
    insert(&db.store, 998, "after-second-burst").await;
    assert!(
        db.wal_restarts() > restarts,
        "the commit after the second burst starts the WAL over as well ({} bytes, {first} after the first)",
        db.wal_size()
    );
    let written = (2 * BURST * BODY) as u64;
    // Everything is still there, once.
    let file = std::fs::metadata(&db.path).unwrap().len();
    assert!(
        file >= written,
        "checkpointed into the database file: {file} bytes"
    );
}

/// Writes that never pause: a checkpoint pass never reaches the end of a WAL
/// that keeps growing while it copies, so without help SQLite would never
/// start the WAL over and the file would grow with everything ever written.
#[tokio::test]
async fn the_wal_starts_over_under_writes_that_never_pause() {
    let db = Db::open();
    const WRITES: usize = 24_000;
    const IN_FLIGHT: usize = 64;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (store, next) = (db.store.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= WRITES {
                    return;
                }
                insert(&store, i as i64, &format!("k{i}")).await;
            }
        });
    }
    let mut largest = 0;
    let watch = async {
        loop {
            largest = largest.max(db.wal_size());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        () = watch => unreachable!(),
        () = async { while let Some(done) = tasks.join_next().await { done.unwrap(); } } => {}
    }
    // Each event writes its body (the search index is in a file of its own).
    let written = (WRITES * BODY) as u64;
    assert!(
        largest < written,
        "the WAL grew to {largest} bytes while {written} bytes of bodies went through it"
    );
    let rows: u64 = rusqlite::Connection::open(&db.path)
        .unwrap()
        .query_row("SELECT count(*) FROM inbound_event", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, WRITES as u64, "every write is there, once");
}
