//! The delivery loop, for message deliveries and forwards alike. Publishing
//! (or receiving an event with routes) wakes it in-process, and on a store
//! shared by several nodes a publish on any node wakes it through the store,
//! so an idle engine sends within milliseconds; otherwise it sleeps until the
//! next one is due (or `poll`, whichever comes first) and the store stays the
//! source of truth.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hookline_core::clock::now_ms;
use hookline_core::{Claimed, ClaimedForward, DeliveryQueue, ForwardQueue, StoreError};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

use crate::attempt::Clients;
use crate::config::EngineConfig;
use crate::metrics::EngineMetrics;
use crate::operational::Operational;
use crate::ssrf::Guard;
use crate::throttle::{Pace, Throttles};
use crate::{client, deliver, forward};

/// Most deliveries claimed in one go.
const BATCH: usize = 64;

/// Wakes the engine (e.g. after a publish). Cheap to clone.
#[derive(Clone, Default)]
pub struct Waker(Arc<Notify>);

impl std::fmt::Debug for Waker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Waker")
    }
}

impl Waker {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot build the delivery HTTP client: {0}")]
    Client(String),
}

/// What every send shares.
pub(crate) struct Shared {
    pub store: Arc<dyn DeliveryQueue>,
    /// Forwards, when this engine runs them too.
    pub forwards: Option<Arc<dyn ForwardQueue>>,
    pub config: EngineConfig,
    pub clients: Clients,
    pub guard: Guard,
    pub throttles: Arc<Throttles>,
    pub metrics: EngineMetrics,
    pub operational: Operational,
    /// Wakes this loop (a publish, or an ordered route's head finishing).
    pub waker: Waker,
}

/// One claimed piece of work.
enum Job {
    Delivery(Claimed),
    Forward(ClaimedForward),
}

impl Job {
    fn pace(&self) -> Pace<'_> {
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
    async fn postpone(&self, s: &Shared, until: i64) -> Result<(), StoreError> {
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
async fn claim(
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
async fn next_due(s: &Shared) -> Option<i64> {
    let delivery = s.store.next_due().await.ok().flatten();
    let forward = match &s.forwards {
        Some(q) => q.next_forward_due().await.ok().flatten(),
        None => None,
    };
    delivery.into_iter().chain(forward).min()
}

/// The delivery engine; `run` it on a task.
pub struct Engine {
    shared: Arc<Shared>,
}

impl Engine {
    pub fn new(store: Arc<dyn DeliveryQueue>, config: EngineConfig) -> Result<Engine, EngineError> {
        let guard = Guard::new(config.allowed_subnets.clone());
        let clients = Clients {
            guarded: client::build(&config, Arc::new(guard.clone()))
                .map_err(|e| EngineError::Client(e.to_string()))?,
            trusted: client::build(&config, Arc::new(Guard::open()))
                .map_err(|e| EngineError::Client(e.to_string()))?,
        };
        Ok(Engine {
            shared: Arc::new(Shared {
                store,
                forwards: None,
                config,
                clients,
                guard,
                throttles: Arc::default(),
                metrics: EngineMetrics::default(),
                operational: Operational::disabled(),
                waker: Waker::default(),
            }),
        })
    }

    pub fn waker(&self) -> Waker {
        self.shared.waker.clone()
    }

    /// Sends operational webhooks through `op` (call before `run`).
    pub fn with_operational(mut self, op: Operational) -> Engine {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.operational = op;
        }
        self
    }

    /// Runs forwards from `queue` too (call before `run`).
    pub fn with_forwards(mut self, queue: Arc<dyn ForwardQueue>) -> Engine {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.forwards = Some(queue);
        }
        self
    }

    /// The engine's metrics, to register with the server's.
    pub fn metrics(&self) -> EngineMetrics {
        self.shared.metrics.clone()
    }

    /// Delivers until `shutdown` resolves, then lets sends in flight finish
    /// (each is bounded by the attempt timeout). Deliveries it had claimed but
    /// not started are retried by anyone once their lease ends.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let s = self.shared;
        let permits = Arc::new(Semaphore::new(s.config.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut forwards_first = false;
        tokio::pin!(shutdown);
        loop {
            while tasks.try_join_next().is_some() {}
            let free = permits.available_permits();
            if free == 0 {
                tokio::select! {
                    _ = tasks.join_next() => continue,
                    () = &mut shutdown => break,
                }
            }
            let now = now_ms();
            forwards_first = !forwards_first;
            let claimed = match claim(&s, now, free.min(BATCH), forwards_first).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim deliveries or forwards; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(s.config.poll) => continue,
                        () = &mut shutdown => break,
                    }
                }
            };
            if claimed.is_empty() {
                let poll = i64::try_from(s.config.poll.as_millis()).unwrap_or(1000);
                let wait = match next_due(&s).await {
                    Some(due) => (due - now).clamp(0, poll),
                    None => poll,
                };
                tokio::select! {
                    () = s.waker.0.notified() => {},
                    () = s.store.published_elsewhere() => {},
                    () = tokio::time::sleep(Duration::from_millis(wait.max(1).unsigned_abs())) => {},
                    () = &mut shutdown => break,
                }
                continue;
            }
            for job in claimed {
                // Over its destination's rate or concurrency, or cooling down:
                // back in the queue until it has room, holding no permit meanwhile.
                let admission = match s.throttles.admit(job.pace()) {
                    Ok(a) => a,
                    Err(wait) => {
                        s.metrics.postponed();
                        let until = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(0).max(1);
                        if let Err(e) = job.postpone(&s, until).await {
                            tracing::warn!(error = %e, "cannot postpone a throttled send; its lease will expire");
                        }
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    break;
                };
                match (job, &s.forwards) {
                    (Job::Delivery(c), _) => {
                        tasks.spawn(deliver::run(s.clone(), c, permit, admission));
                    }
                    (Job::Forward(c), Some(q)) => {
                        tasks.spawn(forward::run(s.clone(), q.clone(), c, permit, admission));
                    }
                    (Job::Forward(_), None) => {}
                }
            }
        }
        let drain = s.config.timeout + Duration::from_secs(5);
        if tokio::time::timeout(drain, async { while tasks.join_next().await.is_some() {} })
            .await
            .is_err()
        {
            tracing::warn!("deliveries still in flight at shutdown; their leases will expire and they will be retried");
        }
    }
}
