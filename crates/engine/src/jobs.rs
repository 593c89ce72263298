//! What the loop works on: a claimed delivery or forward, its pace, putting
//! it back; claiming from the store by turns; when the next one is due.

use hookline_core::{Claimed, ClaimedForward, StoreError};

use crate::dispatcher::Shared;
use crate::throttle::Pace;

/// One claimed piece of work.
pub(crate) enum Job {
    Delivery(Claimed),
    Forward(ClaimedForward),
}

impl Job {
    pub fn pace(&self) -> Pace<'_> {
        match self {
            Job::Delivery(c) => Pace {
                key: c.endpoint.id.as_str(),
                rate: c.endpoint.throttle_rate,
                max_concurrency: c.endpoint.policy.max_concurrency,
            },
            Job::Forward(c) => Pace {
                key: c.route.id.as_str(),
                rate: c.route.rate_limit,
                max_concurrency: c.route.policy.max_concurrency,
            },
        }
    }

    /// Back in the queue, due at `until`, without counting a try.
    pub async fn postpone(&self, s: &Shared, until: i64) -> Result<(), StoreError> {
        match (self, &s.forwards) {
            (Job::Delivery(c), _) => {
                let d = &c.delivery;
                s.store
                    .postpone(&d.message_id, &d.endpoint_id, d.version, until)
                    .await
            }
            (Job::Forward(c), Some(q)) => {
                let f = &c.forward;
                q.postpone_forward(&f.route_id, &f.event_id, f.version, until)
                    .await
            }
            (Job::Forward(_), None) => Ok(()),
        }
    }
}

/// Claims up to `n` jobs, deliveries or forwards first by turns, so neither
/// starves the other.
pub(crate) async fn claim(
    s: &Shared,
    now: i64,
    n: usize,
    forwards_first: bool,
) -> Result<Vec<Job>, StoreError> {
    let mut jobs = Vec::new();
    for turn in 0..2 {
        let left = n.saturating_sub(jobs.len());
        if left == 0 {
            break;
        }
        if (turn == 0) == forwards_first {
            if let Some(q) = &s.forwards {
                let got = q.claim_forwards(now, left, s.config.lease).await?;
                jobs.extend(got.into_iter().map(Job::Forward));
            }
        } else {
            let got = s.store.claim_due(now, left, s.config.lease).await?;
            jobs.extend(got.into_iter().map(Job::Delivery));
        }
    }
    Ok(jobs)
}

/// When the earliest delivery or forward is due (ms), if any.
pub(crate) async fn next_due(s: &Shared) -> Option<i64> {
    let delivery = s.store.next_due().await.ok().flatten();
    let forward = match &s.forwards {
        Some(q) => q.next_forward_due().await.ok().flatten(),
        None => None,
    };
    delivery.into_iter().chain(forward).min()
}
