//! [`Maintenance`]: health, retention, and the figures metrics read.

use async_trait::async_trait;

use super::StoreError;
use crate::outbound::QueueDepth;

/// How writes were committed: `writes / commits` is the mean batch size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    pub commits: u64,
    pub writes: u64,
}

#[async_trait]
pub trait Maintenance: Send + Sync + 'static {
    /// Checks that the store answers and, after a write failed, that it can
    /// write again (for `/ready`): `Unavailable` while it cannot.
    async fn ping(&self) -> Result<(), StoreError>;
    /// One bounded pass of retention: message payloads and inbound events from
    /// before `before` (ms) go (attempts and statuses stay), and dedup keys
    /// and settings that expired by `now`, and activity counted more than two
    /// hours before `now`; at most `limit` rows of each. Returns how many
    /// rows changed; 0 means nothing is left to do.
    async fn expire(&self, before: i64, now: i64, limit: usize) -> Result<usize, StoreError>;
    /// Deliveries due at `now`, scheduled later, and failed (for metrics; off
    /// the hot path, its cost grows with the queue).
    async fn queue_depth(&self, now: i64) -> Result<QueueDepth, StoreError>;
    /// Group-commit counters since start, for metrics.
    fn commit_stats(&self) -> CommitStats {
        CommitStats::default()
    }
}
