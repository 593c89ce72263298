//! The retention cleaner: in the background, in bounded batches, message
//! payloads and inbox events older than the retention period go, and expired
//! dedup keys; attempts and delivery statuses stay.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hookline_core::clock::now_ms;
use hookline_core::Maintenance;

/// Rows of each kind per transaction, so the writer is never held for long.
const BATCH: usize = 1000;

/// Runs a pass now and then every `every`, until `shutdown`.
pub async fn run(
    store: Arc<dyn Maintenance>,
    keep: Duration,
    every: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let now = now_ms();
        let before = now - i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
        let mut removed = 0;
        loop {
            match store.expire(before, now, BATCH).await {
                Ok(0) => break,
                Ok(n) => removed += n,
                Err(e) => {
                    tracing::warn!(error = %e, "retention pass failed; trying again later");
                    break;
                }
            }
            tokio::task::yield_now().await;
        }
        if removed > 0 {
            tracing::info!(
                removed,
                "retention: expired payloads, inbox events and dedup keys"
            );
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {},
            () = &mut shutdown => return,
        }
    }
}
