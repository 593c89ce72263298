//! How far a hookline's search index trails its inbox during a load:
//! sampled every 100 ms while the load runs, then until it has caught up.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where to read a system's index backlog.
pub enum Index {
    /// A SQLite database (its index file beside it).
    Sqlite(PathBuf),
    /// A PostgreSQL schema's URL.
    Postgres(String),
}

/// The backlog over one load.
#[derive(Debug, Clone, Copy)]
pub struct Lag {
    /// The most events not indexed yet at any sample.
    pub max_events: i64,
    /// From the load's end until nothing was left to index (ms).
    pub caught_up_ms: f64,
}

const EVERY: Duration = Duration::from_millis(100);
/// Most time waited for the index after the load.
const AFTER: Duration = Duration::from_secs(120);

/// An open connection to read the backlog on.
enum Reader {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client),
}

impl Reader {
    async fn behind(&self) -> anyhow::Result<i64> {
        Ok(match self {
            Reader::Sqlite(c) => c.query_row(
                "SELECT coalesce((SELECT max(rowid) FROM inbound_event), 0) \
                 - (SELECT indexed FROM search.progress)",
                [],
                |r| r.get(0),
            )?,
            Reader::Postgres(c) => c
                .query_one(
                    "SELECT count(*) FROM inbound_event WHERE search IS NULL",
                    &[],
                )
                .await?
                .get(0),
        })
    }
}

impl Index {
    async fn reader(&self) -> anyhow::Result<Reader> {
        Ok(match self {
            Index::Sqlite(db) => {
                let c = rusqlite::Connection::open_with_flags(
                    db,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )?;
                let index = hookline_store_sqlite::index_path(db);
                c.execute("ATTACH DATABASE ?1 AS search", [index.to_string_lossy()])?;
                Reader::Sqlite(c)
            }
            Index::Postgres(url) => {
                let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
                tokio::spawn(conn);
                Reader::Postgres(client)
            }
        })
    }

    /// Runs `load`, sampling the backlog meanwhile and then until it is
    /// empty; `None` for the lag when it cannot be read (a build without
    /// this index).
    pub async fn during<F: Future>(&self, load: F) -> (F::Output, Option<Lag>) {
        let Ok(reader) = self.reader().await else {
            return (load.await, None);
        };
        let mut max = 0i64;
        let mut readable = true;
        tokio::pin!(load);
        let out = loop {
            tokio::select! {
                out = &mut load => break out,
                () = tokio::time::sleep(EVERY) => match reader.behind().await {
                    Ok(n) => max = max.max(n),
                    Err(_) => readable = false,
                },
            }
        };
        let ended = Instant::now();
        while readable && ended.elapsed() < AFTER {
            match reader.behind().await {
                Ok(n) if n <= 0 => break,
                Ok(n) => max = max.max(n),
                Err(_) => readable = false,
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let lag = readable.then(|| Lag {
            max_events: max,
            caught_up_ms: ended.elapsed().as_secs_f64() * 1e3,
        });
        (out, lag)
    }
}
