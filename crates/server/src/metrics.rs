//! Prometheus metrics, served as text at `GET /metrics`.

use hookline_core::store::CommitStats;
use hookline_core::QueueDepth;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceVerdict {
    pub source: String,
    pub verdict: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabel {
    pub state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub route: String,
}

/// A forwarding route, by name (not an HTTP route).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ForwardLabel {
    pub route: String,
}

/// The verdict labels of `hookline_inbound_requests_total`.
pub const VERDICTS: [&str; 7] = [
    "verified",
    "unverified",
    "rejected",
    "duplicate",
    "refused",
    "invalid_body",
    "auth_failed",
];

/// A source's metrics, shared with the registry.
#[derive(Clone)]
pub struct SourceMetrics {
    verdicts: [(&'static str, Counter); 7],
    pub body_bytes: Histogram,
}

impl SourceMetrics {
    /// Counts one request under `verdict` (one of [`VERDICTS`]).
    pub fn count(&self, verdict: &str) {
        if let Some((_, c)) = self.verdicts.iter().find(|(v, _)| *v == verdict) {
            c.inc();
        }
    }
}

pub struct Metrics {
    registry: Registry,
    /// Requests that reached a source, by verdict (verified, unverified, rejected,
    /// duplicate, refused, invalid_body).
    requests: Family<SourceVerdict, Counter>,
    body_bytes: Family<SourceLabel, Histogram>,
    latency: Family<RouteLabel, Histogram>,
    commits: Counter,
    committed_writes: Counter,
    queue: Family<QueueLabel, Gauge>,
    forward_pending: Family<ForwardLabel, Gauge>,
    routes: std::sync::RwLock<std::collections::HashMap<String, Histogram>>,
}

impl Metrics {
    pub fn new(engine: Option<&hookline_engine::EngineMetrics>) -> Metrics {
        let mut registry = Registry::with_prefix("hookline");
        if let Some(engine) = engine {
            engine.register(&mut registry);
        }
        let queue = Family::<QueueLabel, Gauge>::default();
        registry.register(
            "delivery_queue",
            "Deliveries due now, scheduled for later, and failed for good",
            queue.clone(),
        );
        let forward_pending = Family::<ForwardLabel, Gauge>::default();
        registry.register(
            "forward_pending",
            "Forwards waiting (pending or in flight) by route",
            forward_pending.clone(),
        );
        let requests = Family::<SourceVerdict, Counter>::default();
        registry.register(
            "inbound_requests",
            "Requests received by source and verdict",
            requests.clone(),
        );
        let body_bytes = Family::<SourceLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(64.0, 4.0, 10))
        });
        registry.register(
            "inbound_body_bytes",
            "Size of received bodies",
            body_bytes.clone(),
        );
        let latency = Family::<RouteLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_1, 2.0, 18))
        });
        registry.register(
            "http_request_duration_seconds",
            "Request handling time by route",
            latency.clone(),
        );
        let commits = Counter::default();
        registry.register(
            "store_commits",
            "Store transactions committed (group commits)",
            commits.clone(),
        );
        let committed_writes = Counter::default();
        registry.register(
            "store_committed_writes",
            "Writes carried by those commits; writes/commits is the mean batch size",
            committed_writes.clone(),
        );
        Metrics {
            registry,
            requests,
            body_bytes,
            latency,
            commits,
            committed_writes,
            queue,
            forward_pending,
            routes: Default::default(),
        }
    }

    /// One source's counters and histogram, made once so the hot path
    /// allocates no labels.
    pub fn for_source(&self, source: &str) -> SourceMetrics {
        let counter = |verdict: &str| {
            self.requests
                .get_or_create(&SourceVerdict {
                    source: source.into(),
                    verdict: verdict.into(),
                })
                .clone()
        };
        SourceMetrics {
            verdicts: VERDICTS.map(|v| (v, counter(v))),
            body_bytes: self
                .body_bytes
                .get_or_create(&SourceLabel {
                    source: source.into(),
                })
                .clone(),
        }
    }

    /// Records a request's handling time under its route.
    pub fn observe_route(&self, route: &str, secs: f64) {
        let cached = self.routes.read().ok().and_then(|m| m.get(route).cloned());
        let histogram = match cached {
            Some(h) => h,
            None => {
                let h = self
                    .latency
                    .get_or_create(&RouteLabel {
                        route: route.into(),
                    })
                    .clone();
                if let Ok(mut m) = self.routes.write() {
                    m.insert(route.to_string(), h.clone());
                }
                h
            }
        };
        histogram.observe(secs);
    }

    /// The exposition text, with the store's commit counters, the delivery
    /// queue and the forwards waiting per route brought up to date.
    pub fn render(
        &self,
        stats: CommitStats,
        queue: Option<QueueDepth>,
        forwards: Option<Vec<(String, u64)>>,
    ) -> String {
        if let Some(forwards) = forwards {
            self.forward_pending.clear();
            for (route, n) in forwards {
                self.forward_pending
                    .get_or_create(&ForwardLabel { route })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        if let Some(q) = queue {
            for (state, n) in [
                ("due", q.due),
                ("scheduled", q.scheduled),
                ("failed", q.failed),
            ] {
                self.queue
                    .get_or_create(&QueueLabel { state })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        let set = |c: &Counter, v: u64| {
            c.inner().store(v, std::sync::atomic::Ordering::Relaxed);
        };
        set(&self.commits, stats.commits);
        set(&self.committed_writes, stats.writes);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
