//! State shared by every request.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::ops::Deref;
use std::sync::{Arc, RwLock};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hookline_core::{Source, Store, StoreError};

use crate::auth::AdminToken;
use crate::config::Config;
use crate::metrics::{Metrics, SourceMetrics};

/// A source with its rate limiter and metrics, as the hot path needs it.
pub struct SourceEntry {
    pub source: Source,
    pub limiter: Option<DefaultDirectRateLimiter>,
    pub metrics: SourceMetrics,
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
        }
    }
}

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub metrics: Metrics,
    pub admin: AdminToken,
    /// HTTP client for replays.
    pub client: reqwest::Client,
    /// Whether ingress routes demand a verified client certificate.
    pub require_client_cert: bool,
    /// `Idempotency-Key`s whose first request is still running.
    pub idempotency: crate::api::InFlight,
    /// Sources by name, so the hot path never reads the database to find one.
    sources: RwLock<HashMap<String, Arc<SourceEntry>>>,
    /// Webhooks received per minute (this node), for the dashboard.
    pub received: hookline_engine::Activity,
    /// Every stored inbound event, for the live inbox.
    pub live: tokio::sync::broadcast::Sender<crate::ui::LiveEvent>,
    /// The SSRF-guarded client for requests people ask for (the Send page).
    pub outbound: reqwest::Client,
    pub guard: Arc<hookline_engine::ssrf::Guard>,
}

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
        client: reqwest::Client,
    ) -> Result<AppState, reqwest::Error> {
        let require_client_cert = config.tls.as_ref().is_some_and(|t| t.client_ca.is_some());
        let metrics = Metrics::new(config.engine_metrics.as_ref());
        let guard = Arc::new(hookline_engine::ssrf::Guard::new(
            config.allowed_subnets.clone(),
        ));
        let outbound =
            hookline_engine::outbound_client(guard.clone(), std::time::Duration::from_secs(30))?;
        Ok(AppState(Arc::new(Inner {
            store,
            config,
            metrics,
            admin,
            client,
            require_client_cert,
            idempotency: Default::default(),
            sources: RwLock::new(HashMap::new()),
            received: hookline_engine::Activity::default(),
            live: tokio::sync::broadcast::channel(256).0,
            outbound,
            guard,
        })))
    }

    pub fn source(&self, name: &str) -> Option<Arc<SourceEntry>> {
        self.sources.read().ok()?.get(name).cloned()
    }

    /// Caches a source just written to the store.
    pub fn put_source(&self, source: Source) {
        if let Ok(mut map) = self.sources.write() {
            map.insert(
                source.name.clone(),
                Arc::new(SourceEntry::new(source, &self.metrics)),
            );
        }
    }

    pub fn forget_source(&self, name: &str) {
        if let Ok(mut map) = self.sources.write() {
            map.remove(name);
        }
    }

    /// Reloads every source from the store.
    pub async fn reload_sources(&self) -> Result<(), StoreError> {
        let all = self.store.list_sources().await?;
        let fresh: HashMap<_, _> = all
            .into_iter()
            .map(|s| (s.name.clone(), Arc::new(SourceEntry::new(s, &self.metrics))))
            .collect();
        if let Ok(mut map) = self.sources.write() {
            *map = fresh;
        }
        Ok(())
    }
}
