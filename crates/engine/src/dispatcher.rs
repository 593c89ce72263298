//! The delivery loop. Publishing wakes it in-process (and, on a store shared
//! by several nodes, a publish on any node wakes it through the store), so an
//! idle engine delivers within milliseconds; otherwise it sleeps until the next
//! delivery is due (or `poll`, whichever comes first) and the store stays the
//! source of truth.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hookline_core::clock::{now_ms, rfc3339};
use hookline_core::{Attempt, AttemptId, Claimed, DeliveryQueue, DeliveryStatus, Next, Trigger};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::config::EngineConfig;
use crate::metrics::EngineMetrics;
use crate::operational::Operational;
use crate::ssrf::Guard;
use crate::throttle::{Admission, Throttles};
use crate::{attempt, client, retry};

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

struct Shared {
    store: Arc<dyn DeliveryQueue>,
    config: EngineConfig,
    client: reqwest::Client,
    guard: Guard,
    throttles: Arc<Throttles>,
    metrics: EngineMetrics,
    operational: Operational,
}

/// The delivery engine; `run` it on a task.
pub struct Engine {
    shared: Arc<Shared>,
    waker: Waker,
}

impl Engine {
    pub fn new(store: Arc<dyn DeliveryQueue>, config: EngineConfig) -> Result<Engine, EngineError> {
        let guard = Guard::new(config.allowed_subnets.clone());
        let client = client::build(&config, Arc::new(guard.clone()))
            .map_err(|e| EngineError::Client(e.to_string()))?;
        Ok(Engine {
            shared: Arc::new(Shared {
                store,
                config,
                client,
                guard,
                throttles: Arc::default(),
                metrics: EngineMetrics::default(),
                operational: Operational::disabled(),
            }),
            waker: Waker::default(),
        })
    }

    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// Sends operational webhooks through `op` (call before `run`).
    pub fn with_operational(mut self, op: Operational) -> Engine {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.operational = op;
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
            let claimed = match s
                .store
                .claim_due(now, free.min(BATCH), s.config.lease)
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim deliveries; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(s.config.poll) => continue,
                        () = &mut shutdown => break,
                    }
                }
            };
            if claimed.is_empty() {
                let poll = i64::try_from(s.config.poll.as_millis()).unwrap_or(1000);
                let wait = match s.store.next_due().await {
                    Ok(Some(due)) => (due - now).clamp(0, poll),
                    _ => poll,
                };
                tokio::select! {
                    () = self.waker.0.notified() => {},
                    () = s.store.published_elsewhere() => {},
                    () = tokio::time::sleep(Duration::from_millis(wait.max(1).unsigned_abs())) => {},
                    () = &mut shutdown => break,
                }
                continue;
            }
            for c in claimed {
                // Over its endpoint's rate or concurrency, or cooling down:
                // back in the queue until it has room, holding no permit meanwhile.
                let admission = match s.throttles.admit(&c.endpoint) {
                    Ok(a) => a,
                    Err(wait) => {
                        s.metrics.postponed();
                        let until = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(0).max(1);
                        let d = &c.delivery;
                        if let Err(e) = s
                            .store
                            .postpone(&d.message_id, &d.endpoint_id, d.version, until)
                            .await
                        {
                            tracing::warn!(error = %e, "cannot postpone a throttled delivery; its lease will expire");
                        }
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    break;
                };
                tasks.spawn(deliver(s.clone(), c, permit, admission));
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

/// One attempt of one delivery, recorded; the permit bounds concurrency
/// overall, the admission the endpoint's own.
async fn deliver(s: Arc<Shared>, c: Claimed, _permit: OwnedSemaphorePermit, admission: Admission) {
    let started_at = now_ms();
    let outcome = attempt::send(&s.client, &s.guard, &s.config, &c, started_at).await;
    admission.finish();
    let schedule = c.endpoint.policy.retry.as_ref().unwrap_or(&s.config.retry);
    let next = retry::next(
        schedule,
        s.config.jitter,
        c.delivery.attempts,
        &outcome,
        now_ms(),
    );
    let label = match (next, outcome.status) {
        (_, 410) => "gone",
        (Next::Success, _) => "delivered",
        (Next::RetryAt(_), _) => "retry",
        (Next::Failed, _) => "failed",
    };
    s.metrics.attempt(label, outcome.duration.as_secs_f64());
    if matches!(outcome.status, 429 | 502 | 504) {
        s.throttles.cool_down(&c.endpoint.id, outcome.retry_after);
    }
    let attempt = Attempt {
        id: AttemptId::at(started_at),
        message_id: c.message.id.clone(),
        endpoint_id: c.endpoint.id.clone(),
        app_id: c.message.app_id.clone(),
        url: c.endpoint.url.clone(),
        status: if outcome.ok() {
            DeliveryStatus::Success
        } else {
            DeliveryStatus::Failed
        },
        response_status_code: outcome.status,
        response: outcome.response,
        duration_ms: u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
        trigger: if c.delivery.manual {
            Trigger::Manual
        } else {
            Trigger::Scheduled
        },
        created_at: started_at,
    };
    tracing::info!(
        msg = %c.message.id, endpoint = %c.endpoint.id, status = outcome.status,
        attempt = c.delivery.attempts + 1, next = ?next, "delivery attempt"
    );
    if outcome.status == 410 {
        // The receiver says the endpoint is gone for good: stop sending to
        // it. Only its flag is written, so an edit made since the claim stays.
        if let Err(e) = s.store.disable_endpoint(&c.endpoint.id, now_ms()).await {
            tracing::warn!(endpoint = %c.endpoint.id, error = %e, "cannot disable the endpoint");
        }
    }
    if let Err(e) = s
        .store
        .record_attempt(&attempt, c.delivery.version, next)
        .await
    {
        tracing::warn!(error = %e, "cannot record the attempt; the delivery is retried after its lease");
    }
    let mut disabled_now = false;
    if attempt.status != DeliveryStatus::Success && !c.endpoint.disabled {
        let since =
            now_ms() - i64::try_from(s.config.disable_after.as_millis()).unwrap_or(i64::MAX);
        match s
            .store
            .disable_if_failing_since(&c.endpoint.id, since)
            .await
        {
            Ok(true) => {
                disabled_now = true;
                tracing::warn!(
                    endpoint = %c.endpoint.id,
                    after = ?s.config.disable_after,
                    "endpoint disabled: every attempt failed for too long; its messages are kept for recover"
                );
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check the endpoint's failure streak"),
        }
    }
    if let Next::Failed = next {
        tracing::warn!(msg = %c.message.id, endpoint = %c.endpoint.id, "delivery failed for good (dead letter)");
    }
    report(
        &s,
        &c,
        &attempt,
        next,
        attempt.response_status_code == 410 || disabled_now,
    )
    .await;
}

/// Operational webhooks about this attempt: exhausted (failed for good),
/// failing (the 4th failure in a row), recovered (delivered after failures),
/// endpoint.disabled.
async fn report(s: &Shared, c: &Claimed, attempt: &Attempt, next: Next, endpoint_disabled: bool) {
    let ops = &s.operational;
    let app = &c.message.app_id;
    if ops.is_internal(app) {
        return;
    }
    let tried = c.delivery.attempts + 1;
    let event = match next {
        Next::Failed if !c.endpoint.disabled => Some("message.attempt.exhausted"),
        Next::RetryAt(_) if tried == 4 => Some("message.attempt.failing"),
        Next::Success if c.delivery.attempts > 0 => Some("message.attempt.recovered"),
        _ => None,
    };
    if let Some(event) = event {
        let data = serde_json::json!({
            "appId": app, "endpointId": c.endpoint.id, "msgId": c.message.id, "msgEventId": c.message.event_id,
            "lastAttempt": {
                "id": attempt.id, "timestamp": rfc3339(attempt.created_at),
                "responseStatusCode": attempt.response_status_code, "response": attempt.response,
            },
        });
        ops.emit(app, event, data).await;
    }
    if endpoint_disabled {
        let data = serde_json::json!({ "appId": app, "endpointId": c.endpoint.id, "endpointUid": c.endpoint.uid, "failSince": rfc3339(attempt.created_at) });
        ops.emit(app, "endpoint.disabled", data).await;
    }
}
