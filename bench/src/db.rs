//! The databases a benchmark runs hookline on: a SQLite file, or a fresh
//! schema in a PostgreSQL (`HOOKLINE_BENCH_POSTGRES_URL`, else the local
//! `postgres://postgres@127.0.0.1:5432/test`), dropped afterwards.

use std::path::Path;

use anyhow::Context;

/// A SQLite database file in `dir`.
pub fn sqlite(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("bench.db").display())
}

/// A fresh PostgreSQL schema for one run.
pub struct Postgres {
    pub url: String,
    admin: tokio_postgres::Client,
    schema: String,
}

impl Postgres {
    /// A new schema; `None` (and a note on stderr) when no PostgreSQL answers.
    pub async fn fresh() -> anyhow::Result<Option<Postgres>> {
        let base = std::env::var("HOOKLINE_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let (admin, conn) = match tokio_postgres::connect(&base, tokio_postgres::NoTls).await {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("no PostgreSQL at {base} ({e}); skipping the PostgreSQL rows (set HOOKLINE_BENCH_POSTGRES_URL)");
                return Ok(None);
            }
        };
        tokio::spawn(conn);
        let schema = format!("hlbench_{:016x}", rand_u64());
        admin
            .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .context("creating the bench schema")?;
        let sep = if base.contains('?') { '&' } else { '?' };
        Ok(Some(Postgres {
            url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
            admin,
            schema,
        }))
    }

    /// Drops the schema and everything in it.
    pub async fn drop_schema(self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA \"{}\" CASCADE", self.schema))
            .await;
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}
