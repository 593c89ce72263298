//! WAL checkpoints on their own thread and connection, so commits never pay
//! for copying the WAL back into the database file.
//!
//! SQLite starts the WAL over at the front only when a transaction begins with
//! every frame already copied back. Under writes that never pause, no pass ever
//! gets there (frames keep arriving while it copies), and the file would grow
//! with everything ever written. So once the WAL is past [`RESTART_FRAMES`], the
//! thread repeats passes until one finds little new to copy, then asks the
//! writer ([`Restart`]) to copy the last few frames itself between two of its
//! transactions: nothing can arrive in between, so its next transaction starts
//! the WAL over, and SQLite truncates a file grown past [`SIZE_LIMIT`].

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is folded back into the database: often enough that
/// busy writers (100 MB/s of WAL) start it over before it grows much past
/// [`RESTART_FRAMES`]. A pass with nothing new to copy costs next to nothing.
const EVERY: Duration = Duration::from_millis(50);

/// WAL frames past which the WAL is made to start over (SQLite's own
/// automatic checkpoint threshold: 4 MiB with 4 KiB pages).
const RESTART_FRAMES: i64 = 1000;

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
        .spawn(move || loop {
            std::thread::sleep(EVERY);
            let stop = alive.upgrade().is_none();
            fold_back(&conn, &restart);
            if stop {
                return;
            }
        })?;
    Ok(())
}

/// When a failed checkpoint was last logged (ms).
static LAST_WARNED: AtomicI64 = AtomicI64::new(i64::MIN / 2);

/// One PASSIVE pass (copies what it can without blocking the writer or
/// readers): the frames in the WAL and how many of them are copied back, or
/// `None` (logged) if it failed.
fn pass(conn: &Connection) -> Option<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
    .map_err(|e| {
        // A full disk fails every pass (every 50 ms): say so once a minute.
        let now = hookline_core::clock::now_ms();
        let last = LAST_WARNED.load(Ordering::Relaxed);
        if now - last >= 60_000
            && LAST_WARNED
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(error = %e, "WAL checkpoint failed (said at most once a minute)");
        }
    })
    .ok()
}

/// The writer's part, when [`Restart::asked`]: with no transaction open and
/// no other writer, this pass reaches the end of the WAL, so the writer's
/// next transaction starts it over.
pub(crate) fn copy_rest(conn: &Connection) {
    pass(conn);
}

/// Copies the WAL back; past [`RESTART_FRAMES`], until little is left, and
/// then asks the writer for the rest.
fn fold_back(conn: &Connection, restart: &Restart) {
    let mut before: Option<i64> = None;
    for _ in 0..MAX_PASSES {
        let Some((frames, copied)) = pass(conn) else {
            return;
        };
        if frames < RESTART_FRAMES {
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
