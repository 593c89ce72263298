//! A small pool of read-only connections; WAL lets them read while the writer writes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hookline_core::StoreError;
use rusqlite::Connection;

#[derive(Clone)]
pub(crate) struct Readers {
    conns: Arc<Vec<Mutex<Connection>>>,
    next: Arc<AtomicUsize>,
}

impl Readers {
    pub fn new(conns: Vec<Connection>) -> Readers {
        Readers {
            conns: Arc::new(conns.into_iter().map(Mutex::new).collect()),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs `f` on a read connection, off the async threads.
    pub async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let conns = self.conns.clone();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            // Prefer an idle connection; otherwise wait for the one in turn.
            let n = conns.len();
            let guard = (0..n)
                .find_map(|i| conns[(start + i) % n].try_lock().ok())
                .map_or_else(|| conns[start % n].lock(), Ok)
                .map_err(|_| StoreError::Backend("a read connection was poisoned".into()))?;
            f(&guard)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
    }
}
