//! The durable floor: the least any server that answers only after its data is
//! on disk must do. Bodies are appended to a preallocated ring file, so a sync
//! never has file metadata to write, and one thread syncs once for every body
//! waiting (group commit, as hookline's stores do) before their answers go.
//! No parsing, no index, no database: what it costs is the disk's sync latency.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

/// Ring size: larger than any group, small enough to preallocate at start.
const RING: u64 = 64 << 20;
/// Most bodies synced together.
const MAX_GROUP: usize = 512;

type Job = (Bytes, oneshot::Sender<()>);

/// A handle on the group-commit thread.
#[derive(Clone)]
pub struct Log {
    jobs: mpsc::Sender<Job>,
}

impl Log {
    /// Preallocates the ring at `path` (written out and synced, so later syncs
    /// only flush data) and starts the thread.
    pub fn start(path: &Path) -> std::io::Result<Log> {
        let file = File::options()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(path)?;
        let zeros = vec![0u8; 1 << 20];
        for chunk in 0..RING / zeros.len() as u64 {
            file.write_all_at(&zeros, chunk * zeros.len() as u64)?;
        }
        file.sync_all()?;
        let (tx, rx) = mpsc::channel(8192);
        std::thread::Builder::new()
            .name("floor-sync".into())
            .spawn(move || run(&file, rx))?;
        Ok(Log { jobs: tx })
    }

    /// Returns once `body` is on disk.
    pub async fn append(&self, body: Bytes) -> std::io::Result<()> {
        let closed = || std::io::Error::other("the sync thread stopped");
        let (done, synced) = oneshot::channel();
        self.jobs.send((body, done)).await.map_err(|_| closed())?;
        synced.await.map_err(|_| closed())
    }
}

fn run(file: &File, mut rx: mpsc::Receiver<Job>) {
    let mut offset = 0u64;
    let mut group: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    let mut bytes = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        bytes.clear();
        for (body, _) in &group {
            bytes.extend_from_slice(body);
        }
        if offset + bytes.len() as u64 > RING {
            offset = 0;
        }
        let synced = file.write_all_at(&bytes, offset).is_ok() && file.sync_data().is_ok();
        if synced {
            offset += bytes.len() as u64;
        }
        // A failed write or sync drops the group's answers: their requests fail.
        for (_, done) in group.drain(..) {
            if synced {
                let _ = done.send(());
            }
        }
    }
}
