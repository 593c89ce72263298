//! WAL checkpoints on their own thread and connection, so commits never pay
//! for copying the WAL back into the database file.
//!
//! SQLite starts the WAL over at the front only when a transaction begins with
//! every frame already copied back. Under writes that never pause, no pass ever
//! gets there (frames keep arriving while it copies), and the file would grow
//! with everything ever written. So once the WAL is past [`RESTART_AT`], the
//! thread repeats passes until one finds little new to copy, then asks the
//! writer ([`Restart`]) to copy the last few frames itself between two of its
//! transactions: nothing can arrive in between, so its next transaction starts
//! the WAL over, and SQLite truncates a file grown past [`SIZE_LIMIT`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is folded back into the database: often enough that
/// busy writers (100 MB/s of WAL) start it over before it grows much past
/// [`RESTART_AT`]. A pass with nothing new to copy costs next to nothing.
const EVERY: Duration = Duration::from_millis(50);

/// WAL size past which the WAL is made to start over (SQLite's own
/// automatic checkpoint threshold: 1000 pages of 4 KiB).
const RESTART_AT: u64 = 4 << 20;

/// What SQLite truncates the WAL file back to when it starts over
/// (`journal_size_limit`), after a burst made it larger.
pub(crate) const SIZE_LIMIT: u64 = 16 << 20;

/// A pass that copied at most this many frames left about as few behind.
const SETTLED_FRAMES: i64 = 256;

/// Passes in a row before the writer is asked anyway (if the writer outpaces
/// the passes, its copying the rest is what slows it down to their pace).
const MAX_PASSES: usize = 16;

/// The checkpoint thread's request that the writer copy back the rest of the
/// WAL, shared by both.
#[derive(Clone, Default)]
pub(crate) struct Restart(Arc<AtomicBool>);

impl Restart {
    fn ask(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether the writer was asked since it last looked.
    pub fn asked(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

/// Starts the checkpoint thread; it stops once `alive` can no longer be upgraded
/// (the store was dropped), after one last checkpoint.
pub(crate) fn start(conn: Connection, alive: Weak<()>, restart: Restart) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("hl-checkpoint".into())
        .spawn(move || {
            let page: u64 = conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .unwrap_or(4096);
            loop {
                std::thread::sleep(EVERY);
                let stop = alive.upgrade().is_none();
                fold_back(&conn, page + 24, &restart);
                if stop {
                    return;
                }
            }
        })?;
    Ok(())
}

/// One PASSIVE pass (copies what it can without blocking the writer or
/// readers): the frames in the WAL and how many of them are copied back.
pub(crate) fn pass(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}

/// Copies the WAL back; past [`RESTART_AT`], until little is left, and then
/// asks the writer for the rest.
fn fold_back(conn: &Connection, frame_bytes: u64, restart: &Restart) {
    let mut before: Option<i64> = None;
    for _ in 0..MAX_PASSES {
        let (frames, copied) = match pass(conn) {
            Ok(counts) => counts,
            Err(e) => return tracing::warn!(error = %e, "WAL checkpoint failed"),
        };
        if u64::try_from(frames).unwrap_or(0) * frame_bytes < RESTART_AT {
            return;
        }
        // What a pass copies arrived during the one before it.
        if before.is_some_and(|b| copied - b <= SETTLED_FRAMES) {
            break;
        }
        before = Some(copied);
    }
    restart.ask();
}
