//! Prometheus metrics, served as text at `GET /metrics`.

use hookline_core::store::CommitStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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
pub struct RouteLabel {
    pub route: String,
}

pub struct Metrics {
    registry: Registry,
    /// Requests that reached a source, by verdict (verified, unverified, rejected,
    /// duplicate, refused, invalid_body).
    pub requests: Family<SourceVerdict, Counter>,
    pub body_bytes: Family<SourceLabel, Histogram>,
    pub latency: Family<RouteLabel, Histogram>,
    commits: Counter,
    committed_writes: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("hookline");
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
        }
    }

    pub fn count(&self, source: &str, verdict: &str) {
        self.requests
            .get_or_create(&SourceVerdict {
                source: source.into(),
                verdict: verdict.into(),
            })
            .inc();
    }

    /// The exposition text, with the store's commit counters brought up to date.
    pub fn render(&self, stats: CommitStats) -> String {
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
