//! WAL checkpoints on their own thread and connection, so commits never pay
//! for copying the WAL back into the database file.

use std::sync::Weak;
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is folded back into the database.
const EVERY: Duration = Duration::from_millis(250);

/// Starts the checkpoint thread; it stops once `alive` can no longer be upgraded
/// (the store was dropped), after one last checkpoint.
pub(crate) fn start(conn: Connection, alive: Weak<()>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("hl-checkpoint".into())
        .spawn(move || loop {
            std::thread::sleep(EVERY);
            let stop = alive.upgrade().is_none();
            // PASSIVE: copies what it can without blocking the writer or readers.
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
            if stop {
                return;
            }
        })?;
    Ok(())
}
