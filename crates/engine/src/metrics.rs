//! The engine's Prometheus metrics; the server registers them beside its own.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use hookline_core::activity::Activity;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteOutcome {
    route: String,
    outcome: &'static str,
}

impl std::fmt::Debug for EngineMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineMetrics")
    }
}

/// Cheap to clone; every clone counts into the same metrics.
#[derive(Clone)]
pub struct EngineMetrics {
    attempts: Family<Outcome, Counter>,
    forwards: Family<RouteOutcome, Counter>,
    latency: Histogram,
    postponed: Counter,
    activity: Activity,
    forward_activity: Activity,
}

impl Default for EngineMetrics {
    fn default() -> Self {
        EngineMetrics {
            attempts: Family::default(),
            forwards: Family::default(),
            latency: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            postponed: Counter::default(),
            activity: Activity::default(),
            forward_activity: Activity::default(),
        }
    }
}

impl EngineMetrics {
    /// Adds the engine's metrics to `registry` (prefix it with `hookline`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "delivery_attempts",
            "Delivery attempts by outcome: delivered, retry (failed, will retry), failed (dead letter), gone (410)",
            self.attempts.clone(),
        );
        registry.register(
            "delivery_attempt_duration_seconds",
            "Time of one delivery attempt",
            self.latency.clone(),
        );
        registry.register(
            "forward_attempts",
            "Forward attempts by route and outcome: delivered, retry, failed (dead letter), gone (410, route paused)",
            self.forwards.clone(),
        );
        registry.register(
            "delivery_postponed",
            "Deliveries and forwards put back because their destination's rate limit or concurrency was used up",
            self.postponed.clone(),
        );
    }

    pub(crate) fn attempt(&self, outcome: &'static str, seconds: f64) {
        self.attempts.get_or_create(&Outcome { outcome }).inc();
        self.latency.observe(seconds);
        self.activity.record(
            hookline_core::clock::now_ms(),
            outcome == "delivered",
            seconds * 1e3,
        );
    }

    pub(crate) fn forward_attempt(&self, route: &str, outcome: &'static str, seconds: f64) {
        self.forwards
            .get_or_create(&RouteOutcome {
                route: route.to_string(),
                outcome,
            })
            .inc();
        self.forward_activity.record(
            hookline_core::clock::now_ms(),
            outcome == "delivered",
            seconds * 1e3,
        );
    }

    /// Forward attempts per minute over the last hour (this node's).
    pub fn forward_activity(&self) -> Activity {
        self.forward_activity.clone()
    }

    /// Attempts per minute over the last hour (this node's), for the dashboard.
    pub fn activity(&self) -> Activity {
        self.activity.clone()
    }

    pub(crate) fn postponed(&self) {
        self.postponed.inc();
    }
}
