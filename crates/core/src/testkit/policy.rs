//! Contract checks: per-endpoint policy, manual attempts, endpoint stats,
//! one attempt by id, and publishing to one endpoint.

use std::sync::Arc;
use std::time::Duration;

use super::{app, attempt, delivery, endpoint, message};
use crate::clock::now_ms;
use crate::id::EndpointId;
use crate::outbound::{DeliveryStatus, EndpointPolicy, EndpointStats, Next, RetryPolicy, Trigger};
use crate::page::PageRequest;
use crate::store::{Store, StoreError};

pub async fn endpoint_policy_round_trips(store: Arc<dyn Store>) {
    let a = app("policy", None);
    store.create_app(&a).await.unwrap();
    let mut e = endpoint(&a.id, "http://p", None, None);
    store.create_endpoint(&e).await.unwrap();
    let got = store.get_endpoint(&a.id, e.id.as_str()).await.unwrap();
    assert_eq!(got.unwrap().policy, EndpointPolicy::default());
    e.policy = EndpointPolicy {
        retry: Some(RetryPolicy {
            schedule: vec![Duration::from_millis(10), Duration::from_secs(3600)],
        }),
        timeout: Some(Duration::from_millis(2500)),
        max_concurrency: Some(3),
    };
    store.update_endpoint(&e).await.unwrap();
    assert_eq!(
        store.get_endpoint(&a.id, e.id.as_str()).await.unwrap(),
        Some(e.clone()),
        "every override round-trips"
    );
    let listed = store
        .list_endpoints(&a.id, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.data, vec![e]);
}

pub async fn stats_attempts_and_targeted_publish(store: Arc<dyn Store>) {
    let a = app("stats", None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, "http://s", None, None);
    let other = endpoint(&a.id, "http://o", None, None);
    store.create_endpoint(&e).await.unwrap();
    store.create_endpoint(&other).await.unwrap();

    // Targeted: only `e` gets a delivery.
    let only = message(&a.id, "t", None, None);
    store.publish_to(&only, &e.id).await.unwrap();
    let d = store.list_deliveries(&a.id, &only.id).await.unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].endpoint_id, e.id);
    assert!(!d[0].manual);
    let stray = message(&a.id, "t", None, None);
    assert!(
        matches!(
            store.publish_to(&stray, &EndpointId::new()).await,
            Err(StoreError::NotFound)
        ),
        "no such endpoint"
    );
    assert_eq!(store.get_message(&a.id, &stray.id).await.unwrap(), None);

    // One delivered, one failed for good, one pending (to `e`).
    let ok = message(&a.id, "t", None, None);
    let bad = message(&a.id, "t", None, None);
    for m in [&ok, &bad] {
        store.publish(m).await.unwrap();
    }
    let first = attempt(&ok, &e.id, true, Trigger::Scheduled);
    let v = delivery(&*store, &ok, &e.id).await.version;
    store
        .record_attempt(&first, v, Next::Success)
        .await
        .unwrap();
    let failed = attempt(&bad, &e.id, false, Trigger::Scheduled);
    let v = delivery(&*store, &bad, &e.id).await.version;
    store
        .record_attempt(&failed, v, Next::Failed)
        .await
        .unwrap();
    let failing = store.failing_endpoints(10).await.unwrap();
    assert_eq!(
        failing.len(),
        1,
        "a failure after the success starts a streak"
    );
    assert_eq!(
        (failing[0].0.id.clone(), failing[0].1),
        (e.id.clone(), failed.created_at)
    );
    let stats = store
        .endpoint_stats(&a.id, &e.id, 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(
        stats,
        EndpointStats {
            success: 1,
            pending: 1,
            sending: 0,
            fail: 1
        }
    );
    let none = store
        .endpoint_stats(&a.id, &e.id, now_ms() + 60_000, i64::MAX)
        .await
        .unwrap();
    assert_eq!(none, EndpointStats::default(), "by message time");

    // A resend marks the next attempt manual; recording it clears the mark.
    store
        .requeue(&a.id, &e.id, Some(&bad.id), 0, now_ms())
        .await
        .unwrap();
    let d = store.list_deliveries(&a.id, &bad.id).await.unwrap();
    let mine = d.iter().find(|d| d.endpoint_id == e.id).unwrap();
    assert!(mine.manual);
    let manual = attempt(&bad, &e.id, true, Trigger::Manual);
    store
        .record_attempt(&manual, mine.version, Next::Success)
        .await
        .unwrap();
    let d = store.list_deliveries(&a.id, &bad.id).await.unwrap();
    let mine = d.iter().find(|d| d.endpoint_id == e.id).unwrap();
    assert!(!mine.manual);
    assert!(
        store.failing_endpoints(10).await.unwrap().is_empty(),
        "a success ends the streak"
    );
    assert_eq!(mine.status, DeliveryStatus::Success);

    assert_eq!(
        store.get_attempt(&a.id, &bad.id, &manual.id).await.unwrap(),
        Some(manual.clone())
    );
    assert_eq!(
        store.get_attempt(&a.id, &ok.id, &manual.id).await.unwrap(),
        None,
        "scoped by message"
    );
    assert_eq!(
        store
            .get_attempt(&crate::AppId::new(), &bad.id, &manual.id)
            .await
            .unwrap(),
        None,
        "scoped by app"
    );
}
