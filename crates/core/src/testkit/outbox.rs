//! Contract checks of [`OutboxStore`](crate::OutboxStore): fan-out, targeted
//! publish, resend and recover, stats, attempts.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::clock::now_ms;
use crate::id::{AppId, EndpointId, MessageId};
use crate::outbound::{App, DeliveryStatus, Endpoint, EndpointStats, Message, Next, Trigger};
use crate::page::PageRequest;
use crate::store::{Store, StoreError};

pub async fn publish_fans_out_by_filters(store: Arc<dyn Store>) {
    let a = app("fan", None);
    store.create_app(&a).await.unwrap();
    let all = endpoint(&a.id, "http://all", None, None);
    let typed = endpoint(&a.id, "http://typed", Some(&["invoice.paid"]), None);
    let channel = endpoint(&a.id, "http://channel", None, Some(&["eu"]));
    let mut off = endpoint(&a.id, "http://off", None, None);
    off.disabled = true;
    for e in [&all, &typed, &channel, &off] {
        store.create_endpoint(e).await.unwrap();
    }
    let m = message(&a.id, "invoice.paid", Some("evt-1"), Some(&["eu"]));
    assert_eq!(store.publish(&m).await.unwrap(), 3);
    assert_eq!(
        store.get_message(&a.id, &m.id).await.unwrap(),
        Some(m.clone()),
        "payload byte-exact"
    );
    assert_eq!(
        store
            .publish(&message(&a.id, "user.created", None, None))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .publish(&message(&a.id, "invoice.paid", None, None))
            .await
            .unwrap(),
        2
    );
    let dup = message(&a.id, "x", Some("evt-1"), None);
    assert!(
        matches!(store.publish(&dup).await, Err(StoreError::Conflict(_))),
        "eventId is unique per app"
    );
    let deliveries = store.list_deliveries(&a.id, &m.id).await.unwrap();
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Pending && d.attempts == 0));
    assert_eq!(
        store
            .list_messages(&a.id, &PageRequest::default())
            .await
            .unwrap()
            .data
            .len(),
        3
    );
}

/// An app with an endpoint taking `t` and one taking `other`.
async fn two_endpoints(store: &dyn Store, name: &str) -> (App, Endpoint, Endpoint) {
    let a = app(name, None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, "http://x", Some(&["t"]), None);
    let late = endpoint(&a.id, "http://late", Some(&["other"]), None);
    store.create_endpoint(&e).await.unwrap();
    store.create_endpoint(&late).await.unwrap();
    (a, e, late)
}

/// Publishes `m` and fails its delivery to `e` for good.
async fn publish_and_fail(store: &dyn Store, m: &Message, e: &EndpointId) {
    store.publish(m).await.unwrap();
    let failed = attempt(m, e, false, Trigger::Scheduled);
    let v = delivery(store, m, e).await.version;
    store
        .record_attempt(&failed, v, Next::Failed)
        .await
        .unwrap();
}

pub async fn recover_requeues_only_failed_deliveries_since_a_time(store: Arc<dyn Store>) {
    let (a, e, _) = two_endpoints(&*store, "recover").await;
    let old = message(&a.id, "t", None, None);
    publish_and_fail(&*store, &old, &e.id).await;
    let cutoff = now_ms() + 5;
    let mut recent = message(&a.id, "t", None, None);
    recent.created_at = cutoff + 10;
    publish_and_fail(&*store, &recent, &e.id).await;
    let later = now_ms() + 100;
    let depth = store.queue_depth(later).await.unwrap();
    assert_eq!((depth.failed, depth.due), (2, 0), "two dead letters");
    assert_eq!(
        store
            .requeue(&a.id, &e.id, None, cutoff, later)
            .await
            .unwrap(),
        1,
        "recover only since the cutoff"
    );
    let d = delivery(&*store, &recent, &e.id).await;
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at, d.manual),
        (DeliveryStatus::Pending, 0, Some(later), true),
        "a recovered delivery's next attempt is manual"
    );
    assert_eq!(
        delivery(&*store, &old, &e.id).await.status,
        DeliveryStatus::Failed
    );
}

pub async fn resend_requeues_one_delivery_or_makes_one_to_a_new_endpoint(store: Arc<dyn Store>) {
    let (a, e, late) = two_endpoints(&*store, "resend").await;
    let old = message(&a.id, "t", None, None);
    publish_and_fail(&*store, &old, &e.id).await;
    let later = now_ms() + 100;
    let resend = |ep: EndpointId, m: MessageId| {
        let (store, app) = (store.clone(), a.id.clone());
        async move { store.requeue(&app, &ep, Some(&m), 0, later).await.unwrap() }
    };
    assert_eq!(resend(e.id.clone(), old.id.clone()).await, 1, "resend");
    assert_eq!(
        delivery(&*store, &old, &e.id).await.status,
        DeliveryStatus::Pending
    );
    assert_eq!(
        resend(late.id.clone(), old.id.clone()).await,
        1,
        "to a new destination"
    );
    assert_eq!(
        store.list_deliveries(&a.id, &old.id).await.unwrap().len(),
        2
    );
    assert_eq!(
        resend(e.id.clone(), MessageId::new()).await,
        0,
        "no such message"
    );
}

/// A resend while a try is in flight: that try's outcome must not replace
/// the resend, whether the try was scheduled or itself a resend.
pub async fn a_resend_during_a_try_is_not_overwritten_by_its_outcome(store: Arc<dyn Store>) {
    let (a, e, _) = two_endpoints(&*store, "busy").await;
    let busy = message(&a.id, "t", None, None);
    store.publish(&busy).await.unwrap();
    let t = now_ms() + 1000;
    let claim = |at: i64| {
        let (store, id) = (store.clone(), busy.id.clone());
        async move {
            let claimed = store
                .claim_due(at, 100, Duration::from_secs(30))
                .await
                .unwrap();
            claimed
                .into_iter()
                .find(|c| c.message.id == id)
                .expect("claimed")
        }
    };
    let scheduled = claim(t).await;
    store
        .requeue(&a.id, &e.id, Some(&busy.id), 0, t + 1)
        .await
        .unwrap();
    let in_flight = attempt(&busy, &e.id, false, Trigger::Scheduled);
    store
        .record_attempt(
            &in_flight,
            scheduled.delivery.version,
            Next::RetryAt(t + 3_600_000),
        )
        .await
        .unwrap();
    let d = delivery(&*store, &busy, &e.id).await;
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at, d.manual),
        (DeliveryStatus::Pending, 0, Some(t + 1), true),
        "the resend still happens"
    );
    let attempts = store
        .list_attempts(&a.id, Some(&busy.id), None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(attempts.data, vec![in_flight], "the try is recorded");

    let manual = claim(t + 1).await;
    assert!(manual.delivery.manual);
    store
        .requeue(&a.id, &e.id, Some(&busy.id), 0, t + 2)
        .await
        .unwrap();
    let first_resend = attempt(&busy, &e.id, false, Trigger::Manual);
    store
        .record_attempt(&first_resend, manual.delivery.version, Next::Failed)
        .await
        .unwrap();
    let d = delivery(&*store, &busy, &e.id).await;
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at, d.manual),
        (DeliveryStatus::Pending, 0, Some(t + 2), true),
        "the second resend still happens"
    );
}

pub async fn publish_to_makes_one_delivery_to_that_endpoint_only(store: Arc<dyn Store>) {
    let a = app("targeted", None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, "http://s", None, None);
    let other = endpoint(&a.id, "http://o", None, None);
    store.create_endpoint(&e).await.unwrap();
    store.create_endpoint(&other).await.unwrap();
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
}

/// One delivered, one failed for good and one pending, all to `e`.
async fn three_outcomes(store: &dyn Store, name: &str) -> (App, Endpoint, Message, Message) {
    let a = app(name, None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, "http://s", None, None);
    store.create_endpoint(&e).await.unwrap();
    store
        .publish_to(&message(&a.id, "t", None, None), &e.id)
        .await
        .unwrap();
    let ok = message(&a.id, "t", None, None);
    store.publish(&ok).await.unwrap();
    let first = attempt(&ok, &e.id, true, Trigger::Scheduled);
    let v = delivery(store, &ok, &e.id).await.version;
    store
        .record_attempt(&first, v, Next::Success)
        .await
        .unwrap();
    let bad = message(&a.id, "t", None, None);
    publish_and_fail(store, &bad, &e.id).await;
    (a, e, ok, bad)
}

pub async fn stats_and_failing_endpoints_follow_the_attempts(store: Arc<dyn Store>) {
    let (a, e, _, bad) = three_outcomes(&*store, "stats").await;
    let failing = store.failing_endpoints(10).await.unwrap();
    assert_eq!(
        failing.len(),
        1,
        "a failure after the success starts a streak"
    );
    let last = store
        .list_attempts(&a.id, Some(&bad.id), None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        (failing[0].0.id.clone(), failing[0].1),
        (e.id.clone(), last.data[0].created_at)
    );
    let stats = store
        .endpoint_stats(&a.id, &e.id, 0, i64::MAX)
        .await
        .unwrap();
    let expected = EndpointStats {
        success: 1,
        pending: 1,
        sending: 0,
        fail: 1,
    };
    assert_eq!(stats, expected);
    let none = store
        .endpoint_stats(&a.id, &e.id, now_ms() + 60_000, i64::MAX)
        .await
        .unwrap();
    assert_eq!(none, EndpointStats::default(), "by message time");
}

pub async fn a_resend_marks_the_next_attempt_manual_until_it_is_recorded(store: Arc<dyn Store>) {
    let (a, e, ok, bad) = three_outcomes(&*store, "manual").await;
    store
        .requeue(&a.id, &e.id, Some(&bad.id), 0, now_ms())
        .await
        .unwrap();
    let mine = delivery(&*store, &bad, &e.id).await;
    assert!(mine.manual);
    let manual = attempt(&bad, &e.id, true, Trigger::Manual);
    store
        .record_attempt(&manual, mine.version, Next::Success)
        .await
        .unwrap();
    let mine = delivery(&*store, &bad, &e.id).await;
    assert!(!mine.manual);
    assert_eq!(mine.status, DeliveryStatus::Success);
    assert!(
        store.failing_endpoints(10).await.unwrap().is_empty(),
        "a success ends the streak"
    );
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
            .get_attempt(&AppId::new(), &bad.id, &manual.id)
            .await
            .unwrap(),
        None,
        "scoped by app"
    );
}

/// An endpoint's filter round-trips, and publishing skips endpoints whose
/// filter the payload does not match.
pub async fn publish_skips_endpoints_whose_filter_does_not_match(store: Arc<dyn Store>) {
    let a = app("filtered", None);
    store.create_app(&a).await.unwrap();
    let mut eu = endpoint(&a.id, "http://eu", None, None);
    eu.filter = Some(
        crate::filter::Filter::parse(&serde_json::json!({"body": {"z": {"$gte": 1}, "a": "é"}}))
            .unwrap(),
    );
    let all = endpoint(&a.id, "http://all", None, None);
    store.create_endpoint(&eu).await.unwrap();
    store.create_endpoint(&all).await.unwrap();
    assert_eq!(
        store.get_endpoint(&a.id, eu.id.as_str()).await.unwrap(),
        Some(eu.clone())
    );
    // The fixture's payload is {"z":1,"a":"é"}: it matches.
    let matching = message(&a.id, "t", None, None);
    assert_eq!(store.publish(&matching).await.unwrap(), 2);
    let mut other = message(&a.id, "t", None, None);
    other.payload = r#"{"z":0,"a":"é"}"#.into();
    assert_eq!(
        store.publish(&other).await.unwrap(),
        1,
        "only the unfiltered endpoint"
    );
    let to = store.list_deliveries(&a.id, &other.id).await.unwrap();
    assert_eq!(to[0].endpoint_id, all.id);
}
