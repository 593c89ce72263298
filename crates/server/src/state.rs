//! State shared by every request.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::ops::Deref;
use std::sync::{Arc, RwLock};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hookline_core::{Route, Source, Store, StoreError};

use crate::auth::AdminToken;
use crate::config::Config;
use crate::metrics::{Metrics, SourceMetrics};

/// A source with its rate limiter and metrics, as the hot path needs it.
pub struct SourceEntry {
    pub source: Source,
    pub limiter: Option<DefaultDirectRateLimiter>,
    pub metrics: SourceMetrics,
    /// Rejected requests per second, so a flood of them is summarised in the log.
    pub rejected_log: crate::ingress::RejectedFlood,
}

impl SourceEntry {
    fn new(source: Source, metrics: &Metrics) -> SourceEntry {
        let limiter = source
            .rate_limit
            .and_then(NonZeroU32::new)
            .map(|n| RateLimiter::direct(Quota::per_second(n)));
        let metrics = metrics.for_source(&source.name);
        SourceEntry {
            source,
            limiter,
            metrics,
            rejected_log: Default::default(),
        }
    }
}

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub metrics: Metrics,
    pub admin: AdminToken,
    /// Whether ingress routes demand a verified client certificate.
    pub require_client_cert: bool,
    /// `Idempotency-Key`s whose first request is still running.
    pub idempotency: crate::api::InFlight,
    /// Sources by name and by their own path, and routes by source, so the
    /// hot path never reads the database to find them; kept fresh by
    /// `watch_sources`.
    sources: RwLock<Sources>,
    /// This process among the cluster's nodes (its activity rows).
    pub node: String,
    /// Webhooks received per minute (this node), for the dashboard.
    pub received: hookline_engine::Activity,
    /// The source of each event this node stores, sent only while someone
    /// follows an inbox (`actions::tail`): it wakes them at once.
    pub arrivals: tokio::sync::broadcast::Sender<String>,
    /// The way out for every request people ask for (the Send page,
    /// replays): the one outbound guard, `allowed_subnets`, plus hookline's
    /// own listening address.
    pub outbound: hookline_engine::Outbound,
    /// Set when the server begins to shut down, so long-lived responses
    /// (event streams) end instead of holding the drain up.
    closing: tokio::sync::watch::Sender<bool>,
}

/// The cached sources: by name, and the names by their own exact path.
#[derive(Default)]
struct Sources {
    by_name: HashMap<String, Arc<SourceEntry>>,
    by_path: HashMap<String, String>,
    /// The store's fingerprint when these were loaded.
    fingerprint: Option<(i64, i64)>,
    /// Every route, by its source's name.
    routes: HashMap<String, Arc<[Route]>>,
    /// The store's route fingerprint when the routes were loaded.
    route_fingerprint: Option<(i64, i64)>,
}

impl Sources {
    fn put(&mut self, entry: Arc<SourceEntry>) {
        self.forget(&entry.source.name);
        if let Some(p) = &entry.source.path {
            self.by_path.insert(p.clone(), entry.source.name.clone());
        }
        self.by_name.insert(entry.source.name.clone(), entry);
    }

    fn forget(&mut self, name: &str) {
        if let Some(old) = self.by_name.remove(name) {
            if let Some(p) = &old.source.path {
                self.by_path.remove(p);
            }
        }
    }
}

/// How often each node checks whether another changed a source.
const SOURCE_CHECK: std::time::Duration = std::time::Duration::from_millis(250);

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        config: Config,
        admin: AdminToken,
    ) -> Result<AppState, reqwest::Error> {
        let require_client_cert = config.tls.as_ref().is_some_and(|t| t.client_ca.is_some());
        let metrics = Metrics::new(config.engine_metrics.as_ref());
        let guard = hookline_engine::ssrf::Guard::new(config.allowed_subnets.clone())
            .with_own(config.own_address);
        let outbound =
            hookline_engine::Outbound::for_people(guard, std::time::Duration::from_secs(30))?;
        Ok(AppState(Arc::new(Inner {
            store,
            config,
            metrics,
            admin,
            require_client_cert,
            idempotency: Default::default(),
            sources: RwLock::new(Sources::default()),
            node: format!("nod_{:016x}", rand::random::<u64>()),
            received: hookline_engine::Activity::default(),
            arrivals: tokio::sync::broadcast::channel(256).0,
            outbound,
            closing: tokio::sync::watch::channel(false).0,
        })))
    }

    /// Tells long-lived responses that the server is shutting down.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once the server is shutting down.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.closing.subscribe();
        async move {
            let _ = rx.wait_for(|closing| *closing).await;
        }
    }

    pub fn source(&self, name: &str) -> Option<Arc<SourceEntry>> {
        self.sources.read().ok()?.by_name.get(name).cloned()
    }

    /// The source of this name, from the cache or, if this node has not heard
    /// of it yet (another node just made it), from the store.
    pub async fn source_or_load(&self, name: &str) -> Result<Option<Arc<SourceEntry>>, StoreError> {
        if let Some(entry) = self.source(name) {
            return Ok(Some(entry));
        }
        if hookline_core::source::validate_name(name).is_err() {
            return Ok(None);
        }
        Ok(self
            .store
            .get_source(name)
            .await?
            .map(|s| self.put_source(s)))
    }

    /// The source answering at this exact path, if any.
    pub fn source_at(&self, path: &str) -> Option<Arc<SourceEntry>> {
        let sources = self.sources.read().ok()?;
        let name = sources.by_path.get(path)?;
        sources.by_name.get(name).cloned()
    }

    /// The name of the source other than `name` that answers at `path`, if any.
    pub fn path_taken(&self, path: &str, name: &str) -> Option<String> {
        let sources = self.sources.read().ok()?;
        sources.by_path.get(path).filter(|n| *n != name).cloned()
    }

    /// Caches a source just written to the store.
    pub fn put_source(&self, source: Source) -> Arc<SourceEntry> {
        let entry = Arc::new(SourceEntry::new(source, &self.metrics));
        if let Ok(mut sources) = self.sources.write() {
            sources.put(entry.clone());
        }
        entry
    }

    pub fn forget_source(&self, name: &str) {
        if let Ok(mut sources) = self.sources.write() {
            sources.forget(name);
        }
    }

    /// Reloads every source from the store.
    pub async fn reload_sources(&self) -> Result<(), StoreError> {
        let fingerprint = self.store.sources_fingerprint().await?;
        let all = self.store.list_sources().await?;
        if let Ok(mut sources) = self.sources.write() {
            sources.by_name.clear();
            sources.by_path.clear();
            sources.fingerprint = Some(fingerprint);
            for s in all {
                sources.put(Arc::new(SourceEntry::new(s, &self.metrics)));
            }
        }
        Ok(())
    }

    /// The routes of the source named `source`, if it has any (cached).
    pub fn routes_of(&self, source: &str) -> Option<Arc<[Route]>> {
        self.sources.read().ok()?.routes.get(source).cloned()
    }

    /// Reloads every route from the store.
    pub async fn reload_routes(&self) -> Result<(), StoreError> {
        let fingerprint = self.store.routes_fingerprint().await?;
        let mut by_source: HashMap<String, Vec<Route>> = HashMap::new();
        for r in self.store.list_routes(None).await? {
            by_source.entry(r.source.clone()).or_default().push(r);
        }
        if let Ok(mut sources) = self.sources.write() {
            sources.routes = by_source
                .into_iter()
                .map(|(k, v)| (k, Arc::from(v)))
                .collect();
            sources.route_fingerprint = Some(fingerprint);
        }
        Ok(())
    }

    /// Keeps the cached sources and routes fresh when other nodes change
    /// them: every 250 ms two cheap queries (a count and a checksum of update
    /// times each) and, only when one moved, a reload. Runs until the state is dropped.
    pub async fn watch_sources(self) {
        let weak = Arc::downgrade(&self.0);
        drop(self);
        let mut tick = tokio::time::interval(SOURCE_CHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(inner) = weak.upgrade() else { return };
            let state = AppState(inner);
            let known = state
                .sources
                .read()
                .ok()
                .map(|s| (s.fingerprint, s.route_fingerprint));
            let (sources, routes) = known.unwrap_or_default();
            match state.store.sources_fingerprint().await {
                Ok(now) if Some(now) != sources => {
                    if let Err(e) = state.reload_sources().await {
                        tracing::warn!(error = %e, "cannot reload the sources; trying again");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "cannot check the sources for changes"),
            }
            if let Err(e) = state.admin.refresh(state.store.as_ref()).await {
                tracing::debug!(error = %e, "cannot re-read the admin token");
            }
            match state.store.routes_fingerprint().await {
                Ok(now) if Some(now) != routes => {
                    if let Err(e) = state.reload_routes().await {
                        tracing::warn!(error = %e, "cannot reload the routes; trying again");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "cannot check the routes for changes"),
            }
        }
    }
}
