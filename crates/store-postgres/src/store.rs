//! [`PgStore`]: connecting and migrating, and what every role's `impl` shares
//! (the pool, the group-commit writer, the NOTIFY channel).

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use hookline_core::StoreError;
use tokio::sync::Notify;
use tokio_postgres::{Client, Config};

use crate::writer::{CommitCounters, Writer};
use crate::{backend, listen, migrate, pool, tls};

/// Pooled connections (the writer takes one per group).
const POOL_SIZE: usize = 16;

/// hookline's store on PostgreSQL; any number of nodes may share one database.
#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: Pool,
    /// Group commit for inbound events, publishing and recording attempts.
    pub(crate) writer: Writer,
    pub(crate) counters: Arc<CommitCounters>,
    /// Woken when any node publishes (LISTEN/NOTIFY).
    pub(crate) published: Arc<Notify>,
    /// The NOTIFY channel: one per schema, so deployments sharing a database
    /// in different schemas do not wake each other.
    pub(crate) channel: String,
    /// While any clone lives, the search indexer runs.
    _indexing: Arc<()>,
}

/// Where the database is and how to reach it: every connection is made from this.
#[derive(Clone)]
pub(crate) struct Target {
    pub config: Config,
    pub tls: tls::Connector,
}

/// Opens one connection (its driver runs on a task of its own).
pub(crate) async fn connect(target: &Target) -> Result<Client, StoreError> {
    let (client, connection) = target
        .config
        .connect(target.tls.clone())
        .await
        .map_err(|e| {
            let hint = if e.to_string().contains("TLS") {
                "does the server's certificate match the URL's sslmode and sslrootcert \
                 (verify-full also checks the host name)?"
            } else {
                "is it running, and does the URL name the right host, port, user and database?"
            };
            StoreError::Backend(format!(
                "cannot connect to PostgreSQL at {}: {e}{}; {hint}",
                where_(&target.config),
                cause(&e)
            ))
        })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "a PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// What tokio-postgres's error wraps (its own message omits it), in brackets.
fn cause(e: &tokio_postgres::Error) -> String {
    std::error::Error::source(e).map_or(String::new(), |c| format!(" ({c})"))
}

/// `host:port/db` of a config, for messages (never the password).
fn where_(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{host}:{port}/{}",
        config.get_dbname().unwrap_or("postgres")
    )
}

/// Reads a `postgres://` URL (its TLS parameters too) without connecting.
fn target(url: &str) -> Result<Target, StoreError> {
    let (rest, ssl_mode, tls) = tls::from_url(url)?;
    let mut config: Config = rest.parse().map_err(|e| {
        StoreError::Backend(format!(
            "not a PostgreSQL URL like postgres://user@host:5432/db: {e}{}",
            cause(&e)
        ))
    })?;
    let options = config.get_options().unwrap_or_default().to_string();
    // Notices below WARNING (`relation … already exists, skipping` from the
    // migrations on every node but the first) are not sent at all.
    config.options(
        format!("{options} -c synchronous_commit=on -c client_min_messages=warning").trim(),
    );
    if config.get_application_name().is_none() {
        config.application_name("hookline");
    }
    config.connect_timeout(Duration::from_secs(10));
    config.ssl_mode(ssl_mode);
    Ok(Target { config, tls })
}

impl PgStore {
    /// Checks a `postgres://` URL and its TLS parameters without connecting:
    /// an error here is the URL's, not the database's.
    pub fn check_url(url: &str) -> Result<(), StoreError> {
        target(url).map(|_| ())
    }

    /// Connects to the database a `postgres://` URL names and runs pending
    /// migrations. Commits are durable: `synchronous_commit` is forced on.
    /// TLS follows the URL's `sslmode` (default `prefer`) and `sslrootcert`, as
    /// libpq's does.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let target = target(url)?;
        let mut client = connect(&target).await?;
        let schema: Option<String> = client
            .query_one("SELECT current_schema()", &[])
            .await
            .map_err(backend)?
            .get(0);
        let Some(schema) = schema else {
            return Err(StoreError::Backend(
                "the URL's search_path names no schema that exists: create it first \
                 (CREATE SCHEMA name), or leave options=-csearch_path… out of the URL"
                    .into(),
            ));
        };
        let ran = migrate::run(&mut client).await.map_err(backend)?;
        if ran > 0 {
            tracing::info!(migrations = ran, "migrated the PostgreSQL database");
        }
        drop(client);
        let channel: String = format!("hookline_{schema}").chars().take(63).collect();
        let manager = Manager::from_config(
            target.config.clone(),
            target.tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot build the connection pool: {e}")))?;
        let counters = Arc::new(CommitCounters::default());
        let writer = Writer::start(pool.clone(), counters.clone());
        let published = Arc::new(Notify::new());
        listen::start(target, channel.clone(), published.clone());
        let indexing = Arc::new(());
        crate::search::start(pool.clone(), counters.clone(), Arc::downgrade(&indexing));
        Ok(PgStore {
            pool,
            writer,
            counters,
            published,
            channel,
            _indexing: indexing,
        })
    }

    pub(crate) async fn db(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(pool)
    }
}

/// Runs `$body` with `$tx`, a transaction on a pooled connection, and commits.
macro_rules! in_tx {
    ($self:ident, |$tx:ident| $body:expr) => {{
        let mut conn = $self.db().await?;
        let $tx = conn.transaction().await.map_err(backend)?;
        let out = $body;
        $tx.commit().await.map_err(backend)?;
        Ok(out)
    }};
}
pub(crate) use in_tx;
