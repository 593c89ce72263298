//! hookline-testkit: what every crate's tests need to run on both backends.
//! Not part of the product.
//!
//! - [`Backend`]: SQLite or PostgreSQL; [`Backend::current`] is the one the
//!   running test was started on ([`on_both_backends!`] starts each test on each).
//! - [`FreshDb`]: an empty database of that backend: a temp SQLite file, or a
//!   new schema in the PostgreSQL named by `HOOKLINE_TEST_POSTGRES_URL`. Under
//!   `CI=true` a missing PostgreSQL fails the test; elsewhere it is skipped.
//! - [`now_secs`] and [`signed`]: the time a signature carries, and a body
//!   signed as a sender would sign it, for every test that sends webhooks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::future::Future;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hookline_core::Store;

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

tokio::task_local! {
    static BACKEND: Backend;
}

impl Backend {
    /// The backend the running test was started on (SQLite when not set).
    pub fn current() -> Backend {
        BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite)
    }

    /// Runs `test` with this backend as [`Backend::current`].
    pub async fn run<F: Future<Output = ()>>(self, test: F) {
        BACKEND.scope(self, test).await;
    }

    /// Whether the test can run here; `false` means skip (after saying why).
    /// Under `CI=true` a missing PostgreSQL is a failure, not a skip.
    pub fn available(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres if postgres_url().is_some() => true,
            Backend::Postgres => {
                assert!(
                    std::env::var("CI").map_or(true, |v| v != "true"),
                    "CI=true but HOOKLINE_TEST_POSTGRES_URL is not set: PostgreSQL tests cannot run"
                );
                eprintln!("skipping: set HOOKLINE_TEST_POSTGRES_URL=postgres://… to run the PostgreSQL tests");
                false
            }
        }
    }
}

fn postgres_url() -> Option<String> {
    std::env::var("HOOKLINE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// An empty database; dropping it deletes a SQLite file (PostgreSQL schemas
/// are dropped by a later run once they are an hour old).
pub struct FreshDb {
    /// The `HOOKLINE_DATABASE_URL` that opens it.
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

impl FreshDb {
    /// A fresh database on [`Backend::current`].
    pub async fn new() -> FreshDb {
        FreshDb::on(Backend::current()).await
    }

    pub async fn on(backend: Backend) -> FreshDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                FreshDb {
                    url: format!("sqlite://{}", dir.path().join("hookline.db").display()),
                    backend,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => FreshDb {
                url: fresh_schema().await,
                backend,
                _dir: None,
            },
        }
    }

    /// Opens the store (running its migrations).
    pub async fn open(&self) -> Arc<dyn Store> {
        match self.backend {
            Backend::Sqlite => Arc::new(
                hookline_store_sqlite::SqliteStore::open_url(&self.url).expect("open SQLite"),
            ),
            Backend::Postgres => Arc::new(
                hookline_store_postgres::PgStore::connect(&self.url)
                    .await
                    .expect("connect to PostgreSQL"),
            ),
        }
    }

    /// Keeps the SQLite directory beyond this value's life (for tests that
    /// reopen the database after a restart).
    pub fn keep(mut self) -> String {
        if let Some(dir) = self._dir.take() {
            let _ = dir.keep();
        }
        self.url
    }
}

/// Creates a schema `hlt_<unix seconds>_<random>` and returns a URL whose
/// connections use it; first drops such schemas older than an hour.
async fn fresh_schema() -> String {
    let base = postgres_url().expect("HOOKLINE_TEST_POSTGRES_URL");
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {base}: {e}"));
    tokio::spawn(conn);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stale = client
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'hlt\\_%'",
            &[],
        )
        .await
        .expect("list test schemas");
    for row in stale {
        let name: String = row.get(0);
        let born: u64 = name
            .split('_')
            .nth(1)
            .and_then(|t| t.parse().ok())
            .unwrap_or(now);
        if born + 3600 < now {
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                .await;
        }
    }
    let schema = format!("hlt_{now}_{:016x}", rand::random::<u64>());
    client
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create a test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

/// Expands each named `async fn` test (no attribute of its own) into two
/// `#[tokio::test]`s, `sqlite::name` and `postgres::name`, each run with that
/// backend as [`Backend::current`].
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::Backend::Sqlite.run(super::$name()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::Backend::Postgres.available() {
                        $crate::Backend::Postgres.run(super::$name()).await;
                    }
                }
            )*
        }
    };
}

/// Seconds since the Unix epoch: the time a signature carries.
pub fn now_secs() -> i64 {
    hookline_core::clock::now_ms() / 1000
}

/// The headers a sender using `scheme` and `secret` attaches to `body`, with
/// delivery id `id` (where the scheme carries one) at `ts` seconds.
pub fn signed(
    scheme: hookline_signature::Scheme,
    secret: &str,
    body: &[u8],
    id: &str,
    ts: i64,
) -> http::HeaderMap {
    let input = hookline_signature::SignInput {
        body,
        id,
        timestamp: ts,
        event: Some("thing.happened"),
    };
    scheme
        .sign(&hookline_signature::Secret::new(secret), &input)
        .expect("a test secret signs")
}
