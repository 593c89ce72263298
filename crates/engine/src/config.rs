//! The engine's settings.

use std::time::Duration;

use hookline_core::{EndpointPolicy, RetryPolicy};
use ipnet::IpNet;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Deliveries in flight at once, across all endpoints.
    pub concurrency: usize,
    /// Time allowed for one attempt, connection to last byte.
    pub timeout: Duration,
    /// Delays after the first try; ±`jitter` is applied to each.
    pub retry: RetryPolicy,
    /// Fraction of each delay added or taken at random (0.2 = ±20 %).
    pub jitter: f64,
    /// How long a claimed delivery is ours before another worker may retry it.
    pub lease: Duration,
    /// Longest idle wait before looking for due work again (the fallback to wake-ups).
    pub poll: Duration,
    /// Networks that may be called although private, loopback, etc.
    pub allowed_subnets: Vec<IpNet>,
    /// hookline's own listening address, which deliveries may reach.
    pub own_address: Option<std::net::SocketAddr>,
    /// Refuse `http://` endpoints.
    pub https_only: bool,
    /// Response bodies kept per attempt.
    pub response_cap: usize,
    /// An endpoint whose every attempt has failed for this long is disabled
    /// (its messages are kept; re-enable it and `recover` them).
    pub disable_after: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            concurrency: 64,
            timeout: Duration::from_secs(15),
            retry: RetryPolicy::default(),
            jitter: 0.2,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            allowed_subnets: Vec::new(),
            own_address: None,
            https_only: false,
            response_cap: 16 * 1024,
            disable_after: Duration::from_secs(5 * 24 * 3600),
        }
    }
}

impl EngineConfig {
    /// The time one attempt may take under `policy`: its own timeout if any,
    /// but never longer than a claim's lease allows (an attempt that outlived
    /// its lease could be sent twice at once).
    pub fn timeout_for(&self, policy: &EndpointPolicy) -> Duration {
        let most = self.lease.saturating_sub(Duration::from_secs(5)) / 2;
        match policy.timeout {
            Some(t) => t.min(most.max(Duration::from_secs(1))),
            None => self.timeout,
        }
    }
}
