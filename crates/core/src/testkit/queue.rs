//! Contract checks of [`DeliveryQueue`](crate::DeliveryQueue): leases, stale
//! tries, postponing, finishing, failure streaks, exclusive claims.

use std::sync::Arc;
use std::time::Duration;

use hookline_signature::Secret;

use super::*;
use crate::clock::now_ms;
use crate::id::{AppId, AttemptId, EndpointId};
use crate::outbound::{
    App, Attempt, DeliveryStatus, Endpoint, EndpointSecret, Message, Next, QueueDepth, Trigger,
};
use crate::page::PageRequest;
use crate::store::{Store, StoreError};

/// An app with one endpoint and one message published to it.
async fn one_delivery(store: &dyn Store, name: &str) -> (App, Endpoint, Message) {
    let a = app(name, None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, "http://x", None, None);
    store.create_endpoint(&e).await.unwrap();
    let m = message(&a.id, "t", None, None);
    store.publish(&m).await.unwrap();
    (a, e, m)
}

/// `a` as tried at `at` ms with this status and outcome.
fn tried_at(mut a: Attempt, at: i64, status: DeliveryStatus, code: u16) -> Attempt {
    a.id = AttemptId::at(at);
    a.created_at = at;
    a.status = status;
    a.response_status_code = code;
    a
}

const LEASE: Duration = Duration::from_secs(30);

pub async fn a_claim_leases_the_delivery_until_the_lease_runs_out(store: Arc<dyn Store>) {
    let (_, e, m) = one_delivery(&*store, "lease").await;
    let now = now_ms() + 10;
    assert_eq!(store.next_due().await.unwrap(), Some(m.created_at));
    let got = store.claim_due(now, 10, LEASE).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].message.clone(), got[0].endpoint.clone()),
        (m.clone(), e.clone())
    );
    assert_eq!(got[0].delivery.status, DeliveryStatus::Sending);
    assert!(
        store.claim_due(now, 10, LEASE).await.unwrap().is_empty(),
        "leased"
    );
    let again = store.claim_due(now + 30_001, 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1, "a lease that runs out makes it due again");
    assert!(again[0].delivery.version > got[0].delivery.version);
}

pub async fn a_stale_attempt_is_recorded_but_moves_nothing(store: Arc<dyn Store>) {
    let (a, e, m) = one_delivery(&*store, "stale").await;
    let now = now_ms() + 10;
    let first = store.claim_due(now, 10, LEASE).await.unwrap();
    let second = store.claim_due(now + 30_001, 10, LEASE).await.unwrap();
    let failed = tried_at(
        attempt(&m, &e.id, false, Trigger::Scheduled),
        now,
        DeliveryStatus::Failed,
        500,
    );
    // The first claim's try, back after its lease ran out.
    store
        .record_attempt(
            &failed,
            first[0].delivery.version,
            Next::RetryAt(now + 3_600_000),
        )
        .await
        .unwrap();
    let d = delivery(&*store, &m, &e.id).await;
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Sending, 0, Some(now + 30_001 + 30_000)),
        "a stale try moves nothing"
    );
    let current = tried_at(failed.clone(), now + 1, DeliveryStatus::Failed, 500);
    store
        .record_attempt(
            &current,
            second[0].delivery.version,
            Next::RetryAt(now + 5000),
        )
        .await
        .unwrap();
    let d = delivery(&*store, &m, &e.id).await;
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Pending, 1, Some(now + 5000))
    );
    assert!(store
        .claim_due(now + 4999, 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    let tries = store
        .list_attempts(&a.id, Some(&m.id), None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(tries.data.len(), 2, "the stale try is recorded too");
}

pub async fn postpone_moves_only_its_own_claim_and_counts_no_attempt(store: Arc<dyn Store>) {
    let (_, e, m) = one_delivery(&*store, "postpone").await;
    let now = now_ms() + 10;
    let lost = store.claim_due(now, 10, LEASE).await.unwrap();
    let mine = store.claim_due(now + 30_001, 10, LEASE).await.unwrap();
    let d = &mine[0].delivery;
    // Its own claim's postpone, then a stale one (the lost lease's).
    for (v, until) in [
        (d.version, now + 40_000),
        (lost[0].delivery.version, now + 90_000),
    ] {
        store
            .postpone(&d.message_id, &d.endpoint_id, v, until)
            .await
            .unwrap();
    }
    let d = delivery(&*store, &m, &e.id).await;
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Pending, 0, Some(now + 40_000)),
        "postponed by its claim only, without counting an attempt"
    );
    assert_eq!(
        store
            .claim_due(now + 40_000, 10, LEASE)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn a_success_finishes_the_delivery_and_lists_every_attempt(store: Arc<dyn Store>) {
    let (a, e, m) = one_delivery(&*store, "success").await;
    let now = now_ms() + 10;
    let c = store.claim_due(now, 10, LEASE).await.unwrap();
    let failed = tried_at(
        attempt(&m, &e.id, false, Trigger::Scheduled),
        now,
        DeliveryStatus::Failed,
        500,
    );
    store
        .record_attempt(&failed, c[0].delivery.version, Next::RetryAt(now + 5000))
        .await
        .unwrap();
    let c = store.claim_due(now + 5000, 10, LEASE).await.unwrap();
    let ok = tried_at(
        attempt(&m, &e.id, true, Trigger::Scheduled),
        now + 5001,
        DeliveryStatus::Success,
        200,
    );
    store
        .record_attempt(&ok, c[0].delivery.version, Next::Success)
        .await
        .unwrap();
    let d = delivery(&*store, &m, &e.id).await;
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Success, 2, None)
    );
    assert_eq!(store.next_due().await.unwrap(), None);
    assert_eq!(
        store.queue_depth(now).await.unwrap(),
        QueueDepth::default(),
        "delivered rows are not queued"
    );
    let by_msg = store
        .list_attempts(&a.id, Some(&m.id), None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(by_msg.data, vec![ok, failed], "newest first");
    let by_ep = store
        .list_attempts(&a.id, None, Some(&e.id), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(by_ep.data, by_msg.data);
    let other = store
        .list_attempts(&AppId::new(), Some(&m.id), None, &PageRequest::default())
        .await
        .unwrap();
    assert!(other.data.is_empty(), "scoped by app");
}

pub async fn a_failure_streak_disables_the_endpoint_once(store: Arc<dyn Store>) {
    let (a, e, m) = one_delivery(&*store, "streak").await;
    let now = now_ms();
    let ok = tried_at(
        attempt(&m, &e.id, true, Trigger::Scheduled),
        now,
        DeliveryStatus::Success,
        200,
    );
    let v = delivery(&*store, &m, &e.id).await.version;
    store.record_attempt(&ok, v, Next::Success).await.unwrap();
    assert!(
        !store
            .disable_if_failing_since(&e.id, now + 10_000_000)
            .await
            .unwrap(),
        "a success ends the failure streak: nothing to disable"
    );
    let failed = tried_at(
        attempt(&m, &e.id, false, Trigger::Scheduled),
        now + 6000,
        DeliveryStatus::Failed,
        500,
    );
    let v = delivery(&*store, &m, &e.id).await.version;
    store
        .record_attempt(&failed, v, Next::Failed)
        .await
        .unwrap();
    assert!(
        !store
            .disable_if_failing_since(&e.id, now + 5999)
            .await
            .unwrap(),
        "failing since 6000, not before"
    );
    assert!(store
        .disable_if_failing_since(&e.id, now + 6000)
        .await
        .unwrap());
    let got = store
        .get_endpoint(&a.id, e.id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(got.disabled);
    assert!(
        !store
            .disable_if_failing_since(&e.id, now + 6000)
            .await
            .unwrap(),
        "once"
    );
}

/// A `410 Gone` arrives for a try claimed before the endpoint's secret was
/// rotated: disabling it must keep the new secret (and every other edit).
pub async fn disabling_on_410_keeps_a_rotation_made_meanwhile(store: Arc<dyn Store>) {
    let (a, e, m) = one_delivery(&*store, "gone").await;
    let claimed = store.claim_due(now_ms() + 10, 10, LEASE).await.unwrap();
    assert_eq!(
        claimed[0].endpoint, e,
        "the claim carries the endpoint as it was"
    );
    let mut rotated = e.clone();
    rotated.secrets.insert(
        0,
        EndpointSecret {
            key: Secret::new("whsec_cm90YXRlZC1kdXJpbmctdGhlLXRyeQ=="),
            expires_at: None,
        },
    );
    rotated.description = "edited during the try".into();
    store.update_endpoint(&rotated).await.unwrap();

    let later = now_ms() + 20;
    store
        .disable_endpoint(&claimed[0].endpoint.id, later)
        .await
        .unwrap();
    let gone = tried_at(
        attempt(&m, &e.id, false, Trigger::Scheduled),
        later,
        DeliveryStatus::Failed,
        410,
    );
    store
        .record_attempt(&gone, claimed[0].delivery.version, Next::Failed)
        .await
        .unwrap();
    let got = store
        .get_endpoint(&a.id, e.id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(got.disabled, "disabled");
    assert_eq!(got.updated_at, later);
    assert_eq!(
        (got.secrets, got.description),
        (rotated.secrets, rotated.description),
        "the rotation and the edit made during the try are kept"
    );
    assert!(matches!(
        store.disable_endpoint(&EndpointId::new(), later).await,
        Err(StoreError::NotFound)
    ));
}

/// Concurrent claimers never get the same delivery.
pub async fn concurrent_claims_are_exclusive(store: Arc<dyn Store>) {
    let a = app("race", None);
    store.create_app(&a).await.unwrap();
    store
        .create_endpoint(&endpoint(&a.id, "http://x", None, None))
        .await
        .unwrap();
    for _ in 0..200 {
        store
            .publish(&message(&a.id, "t", None, None))
            .await
            .unwrap();
    }
    let now = now_ms() + 10;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = store
                        .claim_due(now, 7, Duration::from_secs(60))
                        .await
                        .unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|c| c.message.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (200, 200));
}

pub async fn a_handed_off_delivery_is_stored_in_flight_until_its_lease_ends(store: Arc<dyn Store>) {
    let a = app("handed", None);
    store.create_app(&a).await.unwrap();
    for _ in 0..3 {
        let e = endpoint(&a.id, "http://x", None, None);
        store.create_endpoint(&e).await.unwrap();
    }
    let m = message(&a.id, "t", None, None);
    let until = m.created_at + 30_000;
    let hand = crate::HandOut {
        slots: 2,
        lease_until: until,
    };
    let out = store.publish_handing(&m, hand).await.unwrap();
    assert_eq!((out.made, out.handed.len()), (3, 2));
    assert!(out.left_pending());
    for c in &out.handed {
        assert_eq!(c.message, m, "handed out with its message");
        assert_eq!(delivery(&*store, &m, &c.endpoint.id).await, c.delivery);
        assert_eq!(
            (
                c.delivery.status,
                c.delivery.version,
                c.delivery.next_attempt_at
            ),
            (DeliveryStatus::Sending, 1, Some(until)),
            "stored as a claim leaves it"
        );
    }
    let now = m.created_at + 10;
    let rest = store.claim_due(now, 10, LEASE).await.unwrap();
    assert_eq!(rest.len(), 1, "only the pending one is claimable");
    assert!(out
        .handed
        .iter()
        .all(|c| c.endpoint.id != rest[0].endpoint.id));
    let (sent, lost) = (&out.handed[0], &out.handed[1]);
    let ok = attempt(&m, &sent.endpoint.id, true, Trigger::Scheduled);
    store
        .record_attempt(&ok, sent.delivery.version, Next::Success)
        .await
        .unwrap();
    let d = delivery(&*store, &m, &sent.endpoint.id).await;
    assert_eq!(
        d.status,
        DeliveryStatus::Success,
        "recorded with its version"
    );
    // The other was never sent (its process died): due again once the lease ends.
    assert!(store
        .claim_due(until - 1, 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    let again = store.claim_due(until, 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].endpoint.id, lost.endpoint.id);
    assert!(again[0].delivery.version > lost.delivery.version);
}
