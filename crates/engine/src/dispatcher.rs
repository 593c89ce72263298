//! The delivery loop, for message deliveries and forwards alike. Publishing
//! (or receiving an event with routes) wakes it in-process, and on a store
//! shared by several nodes a publish on any node wakes it through the store,
//! so an idle engine sends within milliseconds; otherwise it sleeps until the
//! next one is due (or `poll`, whichever comes first) and the store stays the
//! source of truth.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_core::clock::now_ms;
use hookline_core::{ClaimedForward, DeliveryQueue, ForwardQueue};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::task::JoinSet;

use crate::attempt::Clients;
use crate::config::EngineConfig;
use crate::handoff::{self, Handoff};
use crate::jobs::{claim, next_due, Job};
use crate::metrics::EngineMetrics;
use crate::operational::Operational;
use crate::ssrf::Guard;
use crate::throttle::Throttles;
use crate::{client, deliver, forward};

/// Without a wake-up, the store is still checked this often while handed-off
/// forwards keep the loop busy (retries come due meanwhile).
const STORE_CHECK: Duration = Duration::from_millis(100);

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
    pub throttles: Arc<Throttles>,
    pub metrics: EngineMetrics,
    pub operational: Operational,
    /// Wakes this loop (a publish, or an ordered route's head finishing).
    pub waker: Waker,
    /// Routes this engine paused (their destination answered 410), and
    /// when: a handed-off forward whose copy of the route is older than
    /// that pause goes back to the store instead of out.
    pub paused_here: std::sync::Mutex<std::collections::HashMap<hookline_core::RouteId, i64>>,
}

impl Shared {
    /// Whether `c`'s route was paused here after the copy it carries.
    pub fn paused_since(&self, c: &ClaimedForward) -> bool {
        self.paused_here
            .lock()
            .ok()
            .and_then(|m| m.get(&c.route.id).copied())
            .is_some_and(|t| t >= c.route.updated_at)
    }
}

/// The delivery engine; `run` it on a task.
pub struct Engine {
    shared: Arc<Shared>,
    handed: mpsc::Receiver<Job>,
    tx: mpsc::Sender<Job>,
}

impl Engine {
    pub fn new(store: Arc<dyn DeliveryQueue>, config: EngineConfig) -> Result<Engine, EngineError> {
        let guard = Guard::new(config.allowed_subnets.clone()).with_own(config.own_address);
        let clients = Clients {
            guarded: client::Outbound::new(guard, |g| client::build(&config, g))
                .map_err(|e| EngineError::Client(e.to_string()))?,
            trusted: client::build(&config, Arc::new(Guard::open()))
                .map_err(|e| EngineError::Client(e.to_string()))?,
        };
        let (tx, handed) = mpsc::channel(handoff::CAPACITY);
        Ok(Engine {
            handed,
            tx,
            shared: Arc::new(Shared {
                store,
                forwards: None,
                config,
                clients,
                throttles: Arc::default(),
                metrics: EngineMetrics::default(),
                operational: Operational::disabled(),
                waker: Waker::default(),
                paused_here: Default::default(),
            }),
        })
    }

    pub fn waker(&self) -> Waker {
        self.shared.waker.clone()
    }

    /// Where the request path hands work straight to this engine: published
    /// deliveries always, received forwards only if it runs them
    /// (`with_forwards`), so nothing handed off is stranded.
    pub fn handoff(&self) -> Handoff {
        Handoff::new(
            self.tx.clone(),
            self.shared.config.lease,
            self.shared.forwards.is_some(),
        )
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
        let Engine {
            shared: s,
            mut handed,
            tx,
        } = self;
        // Only the request path's clones may keep the channel open.
        drop(tx);
        let permits = Arc::new(Semaphore::new(s.config.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut forwards_first = false;
        let mut check_store = true;
        let mut last_check = Instant::now();
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
            let room = free.min(BATCH);
            let mut jobs = Vec::new();
            while jobs.len() < room {
                match handed.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            if (check_store || last_check.elapsed() >= STORE_CHECK) && jobs.len() < room {
                forwards_first = !forwards_first;
                last_check = Instant::now();
                match claim(&s, now_ms(), room - jobs.len(), forwards_first).await {
                    // Nothing due: wait for a wake-up or the next due time.
                    Ok(c) => {
                        check_store = !c.is_empty();
                        jobs.extend(c);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot claim deliveries or forwards; retrying");
                        tokio::select! {
                            () = tokio::time::sleep(s.config.poll) => continue,
                            () = &mut shutdown => break,
                        }
                    }
                }
            }
            if jobs.is_empty() {
                let now = now_ms();
                let poll = i64::try_from(s.config.poll.as_millis()).unwrap_or(1000);
                let wait = match next_due(&s).await {
                    Some(due) => (due - now).clamp(0, poll),
                    None => poll,
                };
                tokio::select! {
                    () = s.waker.0.notified() => check_store = true,
                    () = s.store.published_elsewhere() => check_store = true,
                    () = tokio::time::sleep(Duration::from_millis(wait.max(1).unsigned_abs())) => check_store = true,
                    Some(job) = handed.recv() => jobs.push(job),
                    () = &mut shutdown => break,
                }
                if jobs.is_empty() {
                    continue;
                }
            }
            for job in jobs {
                let paused = matches!(&job, Job::Forward(c) if s.paused_since(c));
                if paused || job.lease_too_short(&s, now_ms()) {
                    // Back to the store, due now (a paused route's once resumed).
                    if let Err(e) = job.postpone(&s, now_ms()).await {
                        tracing::warn!(error = %e, "cannot put a handed-off send back; its lease will expire");
                    }
                    continue;
                }
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
