//! [`PgStore`]: connecting, migrating, and the `Store` implementation.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use hookline_core::store::CommitStats;
use hookline_core::{
    App, AppId, Attempt, AttemptId, Claimed, Delivery, Endpoint, EndpointId, EndpointStats,
    EventFilter, EventId, EventType, InboundEvent, Inserted, Message, MessageId, Next, Page,
    PageRequest, QueueDepth, Source, Store, StoreError,
};
use tokio::sync::Notify;
use tokio_postgres::{Client, Config};

use crate::batcher::Batcher;
use crate::outbound::{self, rows};
use crate::writer::{CommitCounters, Writer};
use crate::{backend, inbox, listen, migrate, pool, tls};

/// Pooled connections for everything but inbound inserts.
const POOL_SIZE: usize = 16;

/// hookline's store on PostgreSQL; any number of nodes may share one database.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Group commit for publishing and recording attempts.
    batcher: Batcher,
    writer: Writer,
    counters: Arc<CommitCounters>,
    /// Woken when any node publishes (LISTEN/NOTIFY).
    published: Arc<Notify>,
    /// The NOTIFY channel: one per schema, so deployments sharing a database
    /// in different schemas do not wake each other.
    channel: String,
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

impl PgStore {
    /// Connects to the database a `postgres://` URL names and runs pending
    /// migrations. Commits are durable: `synchronous_commit` is forced on.
    /// TLS follows the URL's `sslmode` (default `prefer`) and `sslrootcert`, as
    /// libpq's does.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let (rest, ssl_mode, tls) = tls::from_url(url)?;
        let mut config: Config = rest.parse().map_err(|e| {
            StoreError::Backend(format!(
                "not a PostgreSQL URL like postgres://user@host:5432/db: {e}{}",
                cause(&e)
            ))
        })?;
        let options = config.get_options().unwrap_or_default().to_string();
        config.options(format!("{options} -c synchronous_commit=on").trim());
        if config.get_application_name().is_none() {
            config.application_name("hookline");
        }
        config.connect_timeout(Duration::from_secs(10));
        config.ssl_mode(ssl_mode);
        let target = Target { config, tls };
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
        let writer = Writer::start(target.clone(), counters.clone()).await?;
        let published = Arc::new(Notify::new());
        listen::start(target, channel.clone(), published.clone());
        Ok(PgStore {
            batcher: Batcher::start(pool.clone()),
            pool,
            writer,
            counters,
            published,
            channel,
        })
    }

    async fn db(&self) -> Result<Object, StoreError> {
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

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        rows(&self.db().await?, "SELECT 1", &[]).await.map(|_| ())
    }

    async fn create_source(&self, source: &Source) -> Result<(), StoreError> {
        inbox::put_source(&self.db().await?, source, false).await
    }

    async fn update_source(&self, source: &Source) -> Result<(), StoreError> {
        inbox::update_source(&self.db().await?, source).await
    }

    async fn upsert_source(&self, source: &Source) -> Result<(), StoreError> {
        inbox::put_source(&self.db().await?, source, true).await
    }

    async fn delete_source(&self, name: &str) -> Result<(), StoreError> {
        inbox::delete_source(&self.db().await?, name).await
    }

    async fn get_source(&self, name: &str) -> Result<Option<Source>, StoreError> {
        Ok(inbox::sources(&self.db().await?, Some(name)).await?.pop())
    }

    async fn list_sources(&self) -> Result<Vec<Source>, StoreError> {
        inbox::sources(&self.db().await?, None).await
    }

    async fn insert_event(
        &self,
        event: InboundEvent,
        dedup_window: Duration,
        rejected_cap: usize,
    ) -> Result<Inserted, StoreError> {
        self.writer.insert(event, dedup_window, rejected_cap).await
    }

    async fn get_event(
        &self,
        source: &str,
        id: &EventId,
    ) -> Result<Option<InboundEvent>, StoreError> {
        inbox::event(&self.db().await?, source, id).await
    }

    async fn list_events(
        &self,
        source: &str,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<InboundEvent>, StoreError> {
        inbox::events(&self.db().await?, source, filter, page).await
    }

    async fn expire(&self, before: i64, now: i64, limit: usize) -> Result<usize, StoreError> {
        outbound::expire(&self.db().await?, before, now, limit).await
    }

    async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let found = rows(
            &self.db().await?,
            "SELECT value FROM setting WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)",
            &[&key, &hookline_core::clock::now_ms()],
        )
        .await?;
        found.first().map(|r| crate::codec::get(r, 0)).transpose()
    }

    async fn set_setting(
        &self,
        key: &str,
        value: &str,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        outbound::exec(
            &self.db().await?,
            "INSERT INTO setting (key, value, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
            &[&key, &value, &expires_at],
        )
        .await
        .map(|_| ())
    }

    async fn create_app(&self, app: &App) -> Result<(), StoreError> {
        outbound::insert_app(&self.db().await?, app).await
    }

    async fn get_app(&self, id_or_uid: &str) -> Result<Option<App>, StoreError> {
        outbound::select_app(&self.db().await?, id_or_uid).await
    }

    async fn list_apps(&self, page: &PageRequest) -> Result<Page<App>, StoreError> {
        outbound::list_apps(&self.db().await?, page).await
    }

    async fn update_app(&self, app: &App) -> Result<(), StoreError> {
        outbound::update_app(&self.db().await?, app).await
    }

    async fn delete_app(&self, id: &AppId) -> Result<(), StoreError> {
        outbound::delete_app(&self.db().await?, id).await
    }

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        outbound::insert_endpoint(&self.db().await?, endpoint).await
    }

    async fn get_endpoint(
        &self,
        app: &AppId,
        id_or_uid: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        outbound::select_endpoint(&self.db().await?, app, id_or_uid).await
    }

    async fn list_endpoints(
        &self,
        app: &AppId,
        page: &PageRequest,
    ) -> Result<Page<Endpoint>, StoreError> {
        outbound::list_endpoints(&self.db().await?, app, page).await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        outbound::update_endpoint(&self.db().await?, endpoint).await
    }

    async fn delete_endpoint(&self, app: &AppId, id: &EndpointId) -> Result<(), StoreError> {
        outbound::delete_endpoint(&self.db().await?, app, id).await
    }

    async fn create_event_type(&self, event_type: &EventType) -> Result<(), StoreError> {
        outbound::insert_event_type(&self.db().await?, event_type).await
    }

    async fn get_event_type(&self, name: &str) -> Result<Option<EventType>, StoreError> {
        outbound::select_event_type(&self.db().await?, name).await
    }

    async fn list_event_types(&self, page: &PageRequest) -> Result<Page<EventType>, StoreError> {
        outbound::list_event_types(&self.db().await?, page).await
    }

    async fn update_event_type(&self, event_type: &EventType) -> Result<(), StoreError> {
        outbound::update_event_type(&self.db().await?, event_type).await
    }

    async fn delete_event_type(&self, name: &str) -> Result<(), StoreError> {
        outbound::delete_event_type(&self.db().await?, name).await
    }

    async fn publish(&self, message: &Message) -> Result<usize, StoreError> {
        let (m, channel) = (Arc::new(message.clone()), self.channel.clone());
        self.batcher
            .write(move |tx| {
                let (m, channel) = (m.clone(), channel.clone());
                Box::pin(async move { outbound::publish(tx, &m, None, &channel).await })
            })
            .await
    }

    async fn publish_to(&self, message: &Message, endpoint: &EndpointId) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            outbound::publish(&tx, message, Some(endpoint), &self.channel).await?;
        })
    }

    async fn get_message(
        &self,
        app: &AppId,
        id: &MessageId,
    ) -> Result<Option<Message>, StoreError> {
        outbound::select_message(&self.db().await?, app, id).await
    }

    async fn list_messages(
        &self,
        app: &AppId,
        page: &PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        outbound::list_messages(&self.db().await?, app, page).await
    }

    async fn list_deliveries(
        &self,
        app: &AppId,
        message: &MessageId,
    ) -> Result<Vec<Delivery>, StoreError> {
        outbound::list_deliveries(&self.db().await?, app, message).await
    }

    async fn claim_due(
        &self,
        now: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed>, StoreError> {
        in_tx!(self, |tx| outbound::claim_due(&tx, now, limit, lease)
            .await?)
    }

    async fn record_attempt(
        &self,
        attempt: &Attempt,
        version: i64,
        next: Next,
    ) -> Result<(), StoreError> {
        let a = Arc::new(attempt.clone());
        self.batcher
            .write(move |tx| {
                let a = a.clone();
                Box::pin(async move { outbound::record_attempt(tx, &a, version, next).await })
            })
            .await
    }

    async fn requeue(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        message: Option<&MessageId>,
        since: i64,
        now: i64,
    ) -> Result<usize, StoreError> {
        let n = outbound::requeue(&self.db().await?, app, endpoint, message, since, now).await?;
        if n > 0 {
            // Wake every node, as a publish does.
            outbound::exec(
                &self.db().await?,
                "SELECT pg_notify($1, '')",
                &[&self.channel],
            )
            .await?;
        }
        Ok(n)
    }

    async fn disable_if_failing_since(
        &self,
        endpoint: &EndpointId,
        before: i64,
    ) -> Result<bool, StoreError> {
        outbound::disable_if_failing_since(&self.db().await?, endpoint, before).await
    }

    async fn postpone(
        &self,
        message: &MessageId,
        endpoint: &EndpointId,
        version: i64,
        until: i64,
    ) -> Result<(), StoreError> {
        outbound::postpone(&self.db().await?, message, endpoint, version, until).await
    }

    async fn queue_depth(&self, now: i64) -> Result<QueueDepth, StoreError> {
        outbound::queue_depth(&self.db().await?, now).await
    }

    async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        outbound::next_due(&self.db().await?).await
    }

    async fn failing_endpoints(&self, limit: usize) -> Result<Vec<(Endpoint, i64)>, StoreError> {
        outbound::failing_endpoints(&self.db().await?, limit).await
    }

    async fn endpoint_stats(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        since: i64,
        until: i64,
    ) -> Result<EndpointStats, StoreError> {
        outbound::endpoint_stats(&self.db().await?, app, endpoint, since, until).await
    }

    async fn get_attempt(
        &self,
        app: &AppId,
        message: &MessageId,
        attempt: &AttemptId,
    ) -> Result<Option<Attempt>, StoreError> {
        outbound::select_attempt(&self.db().await?, app, message, attempt).await
    }

    async fn list_attempts(
        &self,
        app: &AppId,
        message: Option<&MessageId>,
        endpoint: Option<&EndpointId>,
        page: &PageRequest,
    ) -> Result<Page<Attempt>, StoreError> {
        outbound::list_attempts(&self.db().await?, app, message, endpoint, page).await
    }

    async fn published_elsewhere(&self) {
        self.published.notified().await;
    }

    fn commit_stats(&self) -> CommitStats {
        CommitStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
        }
    }
}
