//! What the loop does with a [`Job`]: its pace, whether its lease still
//! covers a try, putting it back; claiming from the store by turns; when the
//! next one is due.

use hookline_core::StoreError;

use crate::dispatcher::Shared;
pub use crate::handoff::Job;
use crate::throttle::Pace;

impl Job {
    pub(crate) fn pace(&self) -> Pace<'_> {
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

    /// Whether a try started `now` could outlast the job's lease (it waited
    /// too long in the hand-off queue): someone may claim it meanwhile, so it
    /// goes back to the store instead of out.
    pub(crate) fn lease_too_short(&self, s: &Shared, now: i64) -> bool {
        let (until, policy) = match self {
            Job::Delivery(c) => (c.delivery.next_attempt_at, &c.endpoint.policy),
            Job::Forward(c) => (c.forward.next_attempt_at, &c.route.policy),
        };
        let timeout = i64::try_from(s.config.timeout_for(policy).as_millis()).unwrap_or(i64::MAX);
        until.is_some_and(|u| now.saturating_add(timeout) > u)
    }

    /// Back in the queue, due at `until`, without counting a try.
    pub(crate) async fn postpone(&self, s: &Shared, until: i64) -> Result<(), StoreError> {
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
