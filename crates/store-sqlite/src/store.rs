//! [`SqliteStore`]: opening the file (and its search index beside it), and
//! what every role's `impl` shares (the writer, the readers, the dedup
//! index, the commit counters, the indexer's progress).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hookline_core::StoreError;
use rusqlite::{Connection, OpenFlags};

use crate::dedup::DedupIndex;
use crate::indexer::{self, Progress, Wake};
use crate::readers::Readers;
use crate::writer::{CommitCounters, Writer};
use crate::{backend, checkpoint, migrate, search};

const READERS: usize = 4;

/// hookline's store on one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) writer: Writer,
    /// Live dedup keys; used only on the writer thread, inside its transactions.
    pub(crate) dedup: Arc<Mutex<DedupIndex>>,
    pub(crate) readers: Readers,
    pub(crate) counters: Arc<CommitCounters>,
    /// How far the search indexer has come.
    pub(crate) search: Arc<Progress>,
    pub(crate) path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database named by a `sqlite://PATH` URL
    /// (or a bare path) and runs pending migrations.
    pub fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err(StoreError::Backend(format!(
                "`{url}` names no file; use sqlite://PATH"
            )));
        }
        Self::open(Path::new(path))
    }

    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = connect(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        // The checkpoint thread folds the WAL back; the writer copies only
        // what it leaves, when it asks (see `checkpoint`).
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA journal_size_limit = {};",
            checkpoint::SIZE_LIMIT
        ))
        .map_err(backend)?;
        let ran = migrate::run(&mut conn).map_err(backend)?;
        if ran > 0 {
            tracing::info!(path = %path.display(), migrations = ran, "migrated the SQLite database");
        }
        let dedup = Arc::new(Mutex::new(DedupIndex::load(
            &conn,
            hookline_core::clock::now_ms(),
        )?));
        // Read-write and create: the index file it attaches is made if missing.
        let indexer = indexer::open(
            connect(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            )?,
            path,
        )?;
        let readers = (0..READERS)
            .map(|_| {
                let c = connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
                indexer::attach(&c, path)?;
                Ok(c)
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let counters = Arc::new(CommitCounters::default());
        let restart = checkpoint::Restart::default();
        let wake = Wake::default();
        let writer = Writer::start(conn, counters.clone(), restart.clone(), wake.clone())
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        let search = indexer.progress();
        let thread = indexer
            .start(writer.alive())
            .map_err(|e| StoreError::Backend(format!("cannot start the search indexer: {e}")))?;
        let _ = wake.set(thread);
        checkpoint::start(
            connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?,
            writer.alive(),
            restart,
        )
        .map_err(|e| StoreError::Backend(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(SqliteStore {
            writer,
            dedup,
            readers: Readers::new(readers),
            counters,
            search,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many events the search index does not hold yet (a search scans
    /// them instead).
    pub async fn search_backlog(&self) -> Result<u64, StoreError> {
        self.readers
            .read(|c| {
                c.query_row(
                    "SELECT count(*) FROM inbound_event WHERE rowid > \
                     (SELECT indexed FROM search.progress)",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| n as u64)
                .map_err(backend)
            })
            .await
    }
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
    // FULL: a commit is synced before it returns, so an acknowledged write
    // survives power loss, not only a crash. (The sync is fdatasync: see
    // LIBSQLITE3_FLAGS in .cargo/config.toml.)
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
    )
    .map_err(backend)?;
    search::register(&conn)?;
    Ok(conn)
}
