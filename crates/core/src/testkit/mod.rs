//! The store contract: every backend runs these against a real database.
//!
//! A backend's tests call [`store_contract!`] with an async expression that
//! opens a fresh, empty store (`None` to skip where the backend is missing);
//! it expands to one `#[tokio::test]` per check.
//! The checks of per-endpoint policy, stats and example messages are in `policy`.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::Arc;
use std::time::Duration;

use hookline_signature::{Scheme, Secret};

use crate::clock::now_ms;
use crate::id::{AppId, AttemptId, EndpointId, EventId, MessageId};
use crate::inbound::{EventFilter, InboundEvent, Verdict};
use crate::outbound::{
    App, Attempt, Delivery, DeliveryStatus, Endpoint, EndpointSecret, EventType, Message, Next,
    QueueDepth, Trigger,
};
use crate::page::PageRequest;
use crate::source::{DedupRule, Source};
use crate::store::{Inserted, Store, StoreError};

const WINDOW: Duration = Duration::from_secs(72 * 3600);

/// An event for `source`, received at `at` ms.
pub fn event(
    source: &str,
    at: i64,
    body: &[u8],
    verdict: Verdict,
    key: Option<&str>,
) -> InboundEvent {
    InboundEvent {
        id: EventId::at(at),
        source: source.into(),
        event_type: Some("user.created".into()),
        method: "POST".into(),
        path: format!("/in/{source}"),
        query: Some("a=1&b=%20".into()),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-dup".into(), "1".into()),
            ("x-dup".into(), "2".into()),
        ],
        body: body.to_vec(),
        remote_addr: Some("127.0.0.1:5555".into()),
        received_at: at,
        verdict,
        verdict_reason: (verdict == Verdict::Rejected).then(|| "no_matching_signature".into()),
        dedup_key: key.map(Into::into),
    }
}

pub async fn source_crud(store: Arc<dyn Store>) {
    let mut s = Source::new("github", Scheme::Github).unwrap();
    s.secrets = vec![Secret::new("new"), Secret::new("old")];
    s.dedup = DedupRule::JsonPointer("/id".into());
    s.allow_ips = vec!["10.0.0.0/8".parse().unwrap()];
    s.rate_limit = Some(50);
    s.tolerance = Duration::from_secs(60);
    store.create_source(&s).await.unwrap();
    assert_eq!(store.get_source("github").await.unwrap(), Some(s.clone()));
    assert!(matches!(
        store.create_source(&s).await,
        Err(StoreError::Conflict(_))
    ));

    s.scheme = Scheme::Stripe;
    s.secrets = vec![Secret::new("whsec_x")];
    store.update_source(&s).await.unwrap();
    assert_eq!(
        store.get_source("github").await.unwrap().unwrap().scheme,
        Scheme::Stripe
    );

    let other = Source::new("another", Scheme::Hex).unwrap();
    store.upsert_source(&other).await.unwrap();
    store.upsert_source(&other).await.unwrap();
    let names: Vec<_> = store
        .list_sources()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, vec!["another", "github"]);

    store.delete_source("another").await.unwrap();
    assert_eq!(store.get_source("another").await.unwrap(), None);
    assert!(matches!(
        store.delete_source("another").await,
        Err(StoreError::NotFound)
    ));
    let ghost = Source::new("ghost", Scheme::Hex).unwrap();
    assert!(matches!(
        store.update_source(&ghost).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn events_are_byte_exact(store: Arc<dyn Store>) {
    let body: Vec<u8> = (0..=255u8)
        .chain(b"\r\n{\"id\":1}\0".iter().copied())
        .collect();
    let e = event("src-a", now_ms(), &body, Verdict::Verified, None);
    let Inserted::Stored(id) = store.insert_event(e.clone(), WINDOW, 100).await.unwrap() else {
        panic!("stored")
    };
    assert_eq!(id, e.id);
    let got = store.get_event("src-a", &id).await.unwrap().expect("found");
    assert_eq!(got, e, "every field round-trips, the body byte for byte");
    assert_eq!(
        store.get_event("src-b", &id).await.unwrap(),
        None,
        "scoped by source"
    );
}

pub async fn duplicates_within_the_window(store: Arc<dyn Store>) {
    let now = now_ms();
    let first = event("s", now, b"1", Verdict::Verified, Some("d-1"));
    let Inserted::Stored(id) = store.insert_event(first, WINDOW, 100).await.unwrap() else {
        panic!("first is stored")
    };
    let again = event("s", now + 1, b"1", Verdict::Verified, Some("d-1"));
    assert_eq!(
        store.insert_event(again, WINDOW, 100).await.unwrap(),
        Inserted::Duplicate(id)
    );
    // The same key on another source is not a duplicate.
    let elsewhere = event("t", now + 2, b"1", Verdict::Verified, Some("d-1"));
    assert!(matches!(
        store.insert_event(elsewhere, WINDOW, 100).await.unwrap(),
        Inserted::Stored(_)
    ));
    // A rejected request never claims a key, so the genuine one still gets through.
    let forged = event("s", now + 3, b"x", Verdict::Rejected, Some("d-2"));
    assert!(matches!(
        store.insert_event(forged, WINDOW, 100).await.unwrap(),
        Inserted::Stored(_)
    ));
    let genuine = event("s", now + 4, b"x", Verdict::Verified, Some("d-2"));
    assert!(matches!(
        store.insert_event(genuine, WINDOW, 100).await.unwrap(),
        Inserted::Stored(_)
    ));
    // Outside the window the key is forgotten.
    let old = event("u", now - 10_000, b"o", Verdict::Verified, Some("d-3"));
    store
        .insert_event(old, Duration::from_secs(1), 100)
        .await
        .unwrap();
    let later = event("u", now, b"o", Verdict::Verified, Some("d-3"));
    assert!(matches!(
        store
            .insert_event(later, Duration::from_secs(1), 100)
            .await
            .unwrap(),
        Inserted::Stored(_)
    ));
    let all = store
        .list_events("s", &EventFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.data.len(), 3, "the duplicate was not stored");
}

pub async fn rejected_events_are_capped(store: Arc<dyn Store>) {
    let now = now_ms();
    for i in 0..10 {
        let e = event("flood", now + i, b"bad", Verdict::Rejected, None);
        store.insert_event(e, WINDOW, 4).await.unwrap();
    }
    let good = event("flood", now + 20, b"good", Verdict::Verified, None);
    store.insert_event(good, WINDOW, 4).await.unwrap();
    let rejected = EventFilter {
        verdict: Some(Verdict::Rejected),
        ..Default::default()
    };
    let page = store
        .list_events("flood", &rejected, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        page.data.len(),
        4,
        "only the newest rejected events are kept"
    );
    assert_eq!(page.data[0].received_at, now + 9);
    let all = store
        .list_events("flood", &EventFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        all.data.len(),
        5,
        "accepted events are never dropped by the cap"
    );
}

pub async fn listing_filters_and_pages(store: Arc<dyn Store>) {
    let base = now_ms() - 100_000;
    for i in 0..25 {
        let mut e = event("l", base + i * 1000, b"{}", Verdict::Verified, None);
        if i % 5 == 0 {
            e.event_type = Some("order.paid".into());
        }
        store.insert_event(e, WINDOW, 100).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::new(Some(10), None);
    loop {
        let p = store
            .list_events("l", &EventFilter::default(), &page)
            .await
            .unwrap();
        seen.extend(p.data.iter().map(|e| e.received_at));
        if p.done {
            break;
        }
        page.iterator = p.iterator;
    }
    assert_eq!(seen.len(), 25);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );

    let paid = EventFilter {
        event_type: Some("order.paid".into()),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_events("l", &paid, &PageRequest::default())
            .await
            .unwrap()
            .data
            .len(),
        5
    );
    let range = EventFilter {
        after: Some(base + 10_000),
        before: Some(base + 20_000),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_events("l", &range, &PageRequest::default())
            .await
            .unwrap()
            .data
            .len(),
        10
    );
}

pub async fn settings(store: Arc<dyn Store>) {
    assert_eq!(store.get_setting("k").await.unwrap(), None);
    store.set_setting("k", "v1", None).await.unwrap();
    store.set_setting("k", "v2", None).await.unwrap();
    assert_eq!(store.get_setting("k").await.unwrap().as_deref(), Some("v2"));
    let now = now_ms();
    store
        .set_setting("soon", "x", Some(now + 60_000))
        .await
        .unwrap();
    store.set_setting("gone", "x", Some(now - 1)).await.unwrap();
    assert_eq!(
        store.get_setting("soon").await.unwrap().as_deref(),
        Some("x")
    );
    assert_eq!(
        store.get_setting("gone").await.unwrap(),
        None,
        "an expired setting reads as absent"
    );
    assert!(store.expire(0, now, 100).await.unwrap() >= 1);
    store.set_setting("gone", "back", None).await.unwrap();
    assert_eq!(
        store.get_setting("gone").await.unwrap().as_deref(),
        Some("back"),
        "retention swept the expired one; a new value stands"
    );
    store.ping().await.unwrap();
}

/// Many concurrent writers (group commit): every one is answered and stored.
pub async fn concurrent_inserts_all_commit(store: Arc<dyn Store>) {
    let now = now_ms();
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let key = format!("k{}", i % 300);
                let e = event(
                    "c",
                    now + i,
                    format!("{i}").as_bytes(),
                    Verdict::Verified,
                    Some(&key),
                );
                store.insert_event(e, WINDOW, 100).await
            })
        })
        .collect();
    let mut stored = 0;
    for t in tasks {
        if let Inserted::Stored(_) = t.await.unwrap().unwrap() {
            stored += 1;
        }
    }
    assert_eq!(stored, 300, "exactly one event per distinct key");
    let mut n = 0;
    let mut page = PageRequest::new(Some(250), None);
    loop {
        let p = store
            .list_events("c", &EventFilter::default(), &page)
            .await
            .unwrap();
        n += p.data.len();
        if p.done {
            break;
        }
        page.iterator = p.iterator;
    }
    assert_eq!(n, 300);
}

// --- sending -----------------------------------------------------------------

pub fn app(name: &str, uid: Option<&str>) -> App {
    let now = now_ms();
    App {
        id: AppId::at(now),
        uid: uid.map(Into::into),
        name: name.into(),
        metadata: serde_json::Map::new(),
        throttle_rate: None,
        created_at: now,
        updated_at: now,
    }
}

pub fn endpoint(
    app: &AppId,
    url: &str,
    types: Option<&[&str]>,
    channels: Option<&[&str]>,
) -> Endpoint {
    let now = now_ms();
    let list = |v: Option<&[&str]>| v.map(|v| v.iter().map(|s| s.to_string()).collect());
    Endpoint {
        id: EndpointId::new(),
        app_id: app.clone(),
        uid: None,
        url: url.into(),
        description: String::new(),
        secrets: vec![EndpointSecret {
            key: Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            expires_at: None,
        }],
        event_types: list(types),
        channels: list(channels),
        headers: Default::default(),
        disabled: false,
        throttle_rate: None,
        policy: Default::default(),
        metadata: serde_json::Map::new(),
        created_at: now,
        updated_at: now,
    }
}

pub fn message(
    app: &AppId,
    event_type: &str,
    event_id: Option<&str>,
    channels: Option<&[&str]>,
) -> Message {
    let now = now_ms();
    Message {
        id: MessageId::at(now),
        app_id: app.clone(),
        event_type: event_type.into(),
        event_id: event_id.map(Into::into),
        payload: r#"{"z":1,"a":"\u00e9"}"#.into(),
        channels: channels.map(|c| c.iter().map(|s| s.to_string()).collect()),
        created_at: now,
    }
}

/// A try of `m` at `e`, now: a 200 when `ok`, else a 500.
pub fn attempt(m: &Message, e: &EndpointId, ok: bool, trigger: Trigger) -> Attempt {
    let t = now_ms();
    Attempt {
        id: AttemptId::at(t),
        message_id: m.id.clone(),
        endpoint_id: e.clone(),
        app_id: m.app_id.clone(),
        url: "http://s".into(),
        status: if ok {
            DeliveryStatus::Success
        } else {
            DeliveryStatus::Failed
        },
        response_status_code: if ok { 200 } else { 500 },
        response: "r".into(),
        duration_ms: 3,
        trigger,
        created_at: t,
    }
}

/// `m`'s delivery to `e` as stored now (its `version` is what a claim would
/// record an attempt with).
pub async fn delivery(store: &dyn Store, m: &Message, e: &EndpointId) -> Delivery {
    store
        .list_deliveries(&m.app_id, &m.id)
        .await
        .unwrap()
        .into_iter()
        .find(|d| &d.endpoint_id == e)
        .expect("a delivery to this endpoint")
}

pub async fn apps_and_endpoints(store: Arc<dyn Store>) {
    let mut a = app("Acme", Some("acme"));
    a.metadata.insert("plan".into(), "pro".into());
    store.create_app(&a).await.unwrap();
    assert_eq!(store.get_app(a.id.as_str()).await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.get_app("acme").await.unwrap(),
        Some(a.clone()),
        "by uid"
    );
    assert!(matches!(
        store.create_app(&app("Other", Some("acme"))).await,
        Err(StoreError::Conflict(_))
    ));
    for i in 0..4 {
        store
            .create_app(&app(&format!("n{i}"), None))
            .await
            .unwrap();
    }
    let first = store
        .list_apps(&PageRequest::new(Some(3), None))
        .await
        .unwrap();
    assert_eq!((first.data.len(), first.done), (3, false));
    let rest = store
        .list_apps(&PageRequest::new(Some(3), first.iterator))
        .await
        .unwrap();
    assert_eq!((rest.data.len(), rest.done), (2, true));

    a.name = "Acme Inc".into();
    store.update_app(&a).await.unwrap();
    assert_eq!(
        store.get_app("acme").await.unwrap().unwrap().name,
        "Acme Inc"
    );

    let mut e = endpoint(&a.id, "https://example.com/hook", Some(&["a"]), None);
    e.uid = Some("main".into());
    e.headers.insert("x-tenant".into(), "acme".into());
    store.create_endpoint(&e).await.unwrap();
    assert_eq!(
        store.get_endpoint(&a.id, e.id.as_str()).await.unwrap(),
        Some(e.clone())
    );
    assert_eq!(
        store.get_endpoint(&a.id, "main").await.unwrap(),
        Some(e.clone())
    );
    assert_eq!(
        store.get_endpoint(&AppId::new(), "main").await.unwrap(),
        None,
        "scoped by app"
    );
    e.disabled = true;
    e.secrets.push(EndpointSecret {
        key: Secret::new("whsec_b2xk"),
        expires_at: Some(5),
    });
    store.update_endpoint(&e).await.unwrap();
    assert_eq!(
        store.get_endpoint(&a.id, "main").await.unwrap(),
        Some(e.clone())
    );
    assert_eq!(
        store
            .list_endpoints(&a.id, &PageRequest::default())
            .await
            .unwrap()
            .data
            .len(),
        1
    );
    store.delete_endpoint(&a.id, &e.id).await.unwrap();
    assert!(matches!(
        store.delete_endpoint(&a.id, &e.id).await,
        Err(StoreError::NotFound)
    ));

    store.delete_app(&a.id).await.unwrap();
    assert_eq!(store.get_app("acme").await.unwrap(), None);
}

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

pub async fn claims_lease_and_attempts(store: Arc<dyn Store>) {
    let a = app("claims", None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, "http://x", None, None);
    store.create_endpoint(&e).await.unwrap();
    let m = message(&a.id, "t", None, None);
    store.publish(&m).await.unwrap();
    let now = now_ms() + 10;
    let lease = Duration::from_secs(30);
    assert_eq!(store.next_due().await.unwrap(), Some(m.created_at));

    let got = store.claim_due(now, 10, lease).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].message.clone(), got[0].endpoint.clone()),
        (m.clone(), e.clone())
    );
    assert_eq!(got[0].delivery.status, DeliveryStatus::Sending);
    assert!(
        store.claim_due(now, 10, lease).await.unwrap().is_empty(),
        "leased"
    );
    let again = store.claim_due(now + 30_001, 10, lease).await.unwrap();
    assert_eq!(
        again.len(),
        1,
        "a lease that runs out makes the delivery due again"
    );
    assert!(again[0].delivery.version > got[0].delivery.version);

    let attempt = |status, code, at| Attempt {
        id: AttemptId::at(at),
        message_id: m.id.clone(),
        endpoint_id: e.id.clone(),
        app_id: a.id.clone(),
        url: e.url.clone(),
        status,
        response_status_code: code,
        response: "nope".into(),
        duration_ms: 12,
        trigger: Trigger::Scheduled,
        created_at: at,
    };
    // The first claim's try, back after its lease ran out: recorded, but the
    // delivery belongs to the second claim now.
    store
        .record_attempt(
            &attempt(DeliveryStatus::Failed, 500, now),
            got[0].delivery.version,
            Next::RetryAt(now + 3_600_000),
        )
        .await
        .unwrap();
    let d = &store.list_deliveries(&a.id, &m.id).await.unwrap()[0];
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Sending, 0, Some(now + 30_001 + 30_000)),
        "a stale try moves nothing"
    );
    store
        .record_attempt(
            &attempt(DeliveryStatus::Failed, 500, now),
            again[0].delivery.version,
            Next::RetryAt(now + 5000),
        )
        .await
        .unwrap();
    let d = &store.list_deliveries(&a.id, &m.id).await.unwrap()[0];
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Pending, 1, Some(now + 5000))
    );
    assert!(store
        .claim_due(now + 4999, 10, lease)
        .await
        .unwrap()
        .is_empty());
    // Postponed (its endpoint is throttled), then claimed again.
    let throttled = store.claim_due(now + 5000, 10, lease).await.unwrap();
    assert_eq!(throttled.len(), 1);
    let d = &throttled[0].delivery;
    // Its own claim's postpone, then a stale one (the lost lease's).
    for (v, until) in [
        (d.version, now + 5500),
        (again[0].delivery.version, now + 9000),
    ] {
        store
            .postpone(&d.message_id, &d.endpoint_id, v, until)
            .await
            .unwrap();
    }
    let d = &store.list_deliveries(&a.id, &m.id).await.unwrap()[0];
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Pending, 1, Some(now + 5500)),
        "postponed by its claim only, without counting an attempt"
    );
    let retry = store.claim_due(now + 5500, 10, lease).await.unwrap();
    assert_eq!(retry.len(), 1);
    store
        .record_attempt(
            &attempt(DeliveryStatus::Success, 200, now + 5001),
            retry[0].delivery.version,
            Next::Success,
        )
        .await
        .unwrap();
    let d = &store.list_deliveries(&a.id, &m.id).await.unwrap()[0];
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
    assert_eq!(by_msg.data.len(), 3, "the stale try is recorded too");
    assert_eq!(by_msg.data[0].response_status_code, 200, "newest first");
    let by_ep = store
        .list_attempts(&a.id, None, Some(&e.id), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(by_ep.data, by_msg.data);
    // The success ended the failure streak: nothing to disable.
    assert!(!store
        .disable_if_failing_since(&e.id, now + 10_000_000)
        .await
        .unwrap());
    store
        .record_attempt(
            &attempt(DeliveryStatus::Failed, 500, now + 6000),
            delivery(&*store, &m, &e.id).await.version,
            Next::Failed,
        )
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
    assert!(
        store
            .get_endpoint(&a.id, e.id.as_str())
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    assert!(
        !store
            .disable_if_failing_since(&e.id, now + 6000)
            .await
            .unwrap(),
        "once"
    );
    let other = store
        .list_attempts(&AppId::new(), Some(&m.id), None, &PageRequest::default())
        .await
        .unwrap();
    assert!(other.data.is_empty(), "scoped by app");
}

pub async fn resend_and_recover(store: Arc<dyn Store>) {
    let a = app("requeue", None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, "http://x", Some(&["t"]), None);
    let late = endpoint(&a.id, "http://late", Some(&["other"]), None);
    store.create_endpoint(&e).await.unwrap();
    store.create_endpoint(&late).await.unwrap();
    let old = message(&a.id, "t", None, None);
    store.publish(&old).await.unwrap();
    let cutoff = now_ms() + 5;
    let mut recent = message(&a.id, "t", None, None);
    recent.created_at = cutoff + 10;
    store.publish(&recent).await.unwrap();
    // Both fail for good.
    for m in [&old, &recent] {
        let failed = attempt(m, &e.id, false, Trigger::Scheduled);
        let v = delivery(&*store, m, &e.id).await.version;
        store
            .record_attempt(&failed, v, Next::Failed)
            .await
            .unwrap();
    }
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
        store.list_deliveries(&a.id, &old.id).await.unwrap()[0].status,
        DeliveryStatus::Failed
    );

    assert_eq!(
        store
            .requeue(&a.id, &e.id, Some(&old.id), 0, later)
            .await
            .unwrap(),
        1,
        "resend"
    );
    assert_eq!(
        store.list_deliveries(&a.id, &old.id).await.unwrap()[0].status,
        DeliveryStatus::Pending
    );
    assert_eq!(
        store
            .requeue(&a.id, &late.id, Some(&old.id), 0, later)
            .await
            .unwrap(),
        1,
        "to a new destination"
    );
    assert_eq!(
        store.list_deliveries(&a.id, &old.id).await.unwrap().len(),
        2
    );
    assert_eq!(
        store
            .requeue(&a.id, &e.id, Some(&MessageId::new()), 0, later)
            .await
            .unwrap(),
        0
    );

    // A resend while a scheduled try is in flight: that try's outcome (retry
    // in an hour) must not replace the resend, which is due now.
    let busy = message(&a.id, "t", None, None);
    store.publish(&busy).await.unwrap();
    let t = now_ms() + 1000;
    let claimed = store
        .claim_due(t, 100, Duration::from_secs(30))
        .await
        .unwrap();
    let scheduled = claimed
        .iter()
        .find(|c| c.message.id == busy.id)
        .expect("claimed");
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

    // And a second resend while the first one's (manual) try is in flight:
    // that try's outcome must not replace it either.
    let manual = store
        .claim_due(t + 1, 100, Duration::from_secs(30))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.message.id == busy.id)
        .expect("the resend is claimed");
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

pub async fn event_types(store: Arc<dyn Store>) {
    let now = now_ms();
    let mut schemas = serde_json::Map::new();
    schemas.insert(
        "1".into(),
        serde_json::json!({"type": "object", "required": ["id"]}),
    );
    let mut t = EventType {
        name: "invoice.paid".into(),
        description: "An invoice was paid".into(),
        schemas: Some(schemas),
        archived: false,
        created_at: now,
        updated_at: now,
    };
    store.create_event_type(&t).await.unwrap();
    assert!(matches!(
        store.create_event_type(&t).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.get_event_type("invoice.paid").await.unwrap(),
        Some(t.clone())
    );
    t.archived = true;
    t.schemas = None;
    store.update_event_type(&t).await.unwrap();
    assert_eq!(
        store.get_event_type("invoice.paid").await.unwrap(),
        Some(t.clone())
    );
    for name in ["a.one", "b.two"] {
        store
            .create_event_type(&EventType {
                name: name.into(),
                ..t.clone()
            })
            .await
            .unwrap();
    }
    let first = store
        .list_event_types(&PageRequest::new(Some(2), None))
        .await
        .unwrap();
    assert_eq!(
        first
            .data
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        vec!["a.one", "b.two"]
    );
    let rest = store
        .list_event_types(&PageRequest::new(Some(2), first.iterator))
        .await
        .unwrap();
    assert_eq!((rest.data.len(), rest.done), (1, true));
    store.delete_event_type("a.one").await.unwrap();
    assert!(matches!(
        store.delete_event_type("a.one").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn retention(store: Arc<dyn Store>) {
    let now = now_ms();
    let day = 86_400_000;
    let a = app("ret", None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, "http://x", None, None);
    store.create_endpoint(&e).await.unwrap();
    let mut old = message(&a.id, "t", None, None);
    old.id = MessageId::at(now - 40 * day);
    old.created_at = now - 40 * day;
    let fresh = message(&a.id, "t", None, None);
    store.publish(&old).await.unwrap();
    store.publish(&fresh).await.unwrap();
    let src = Source::new("ret", hookline_signature::Scheme::Hex).unwrap();
    store.create_source(&src).await.unwrap();
    let old_evt = event(
        "ret",
        now - 40 * day,
        b"old",
        Verdict::Verified,
        Some("k-old"),
    );
    let new_evt = event("ret", now, b"new", Verdict::Verified, Some("k-new"));
    store
        .insert_event(old_evt.clone(), Duration::from_secs(3600), 100)
        .await
        .unwrap();
    store
        .insert_event(new_evt.clone(), Duration::from_secs(3600), 100)
        .await
        .unwrap();

    let cutoff = now - 30 * day;
    let mut changed = 0;
    loop {
        let n = store.expire(cutoff, now, 1).await.unwrap();
        assert!(n <= 3, "bounded: at most `limit` of each kind per pass");
        if n == 0 {
            break;
        }
        changed += n;
    }
    assert_eq!(changed, 3, "one payload, one inbound event, one dedup key");
    assert_eq!(
        store
            .get_message(&a.id, &old.id)
            .await
            .unwrap()
            .unwrap()
            .payload,
        "",
        "payload gone"
    );
    assert_eq!(
        store
            .get_message(&a.id, &fresh.id)
            .await
            .unwrap()
            .unwrap()
            .payload,
        fresh.payload
    );
    assert_eq!(
        store.list_deliveries(&a.id, &old.id).await.unwrap().len(),
        1,
        "statuses stay"
    );
    assert_eq!(store.get_event("ret", &old_evt.id).await.unwrap(), None);
    assert!(store.get_event("ret", &new_evt.id).await.unwrap().is_some());
    // The expired dedup key no longer blocks; the live one still does.
    let again = event("ret", now + 1, b"x", Verdict::Verified, Some("k-old"));
    assert!(matches!(
        store
            .insert_event(again, Duration::from_secs(3600), 100)
            .await
            .unwrap(),
        Inserted::Stored(_)
    ));
    let dup = event("ret", now + 2, b"x", Verdict::Verified, Some("k-new"));
    assert!(matches!(
        store
            .insert_event(dup, Duration::from_secs(3600), 100)
            .await
            .unwrap(),
        Inserted::Duplicate(_)
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

/// Expands to one `#[tokio::test]` per contract check; `$open` is an async
/// expression giving a fresh `Arc<dyn Store>`.
mod policy;
pub use policy::*;

#[macro_export]
macro_rules! store_contract {
    ($open:expr) => {
        $crate::store_contract!(@each $open;
            source_crud, events_are_byte_exact, duplicates_within_the_window,
            rejected_events_are_capped, listing_filters_and_pages, settings,
            concurrent_inserts_all_commit, apps_and_endpoints, publish_fans_out_by_filters,
            claims_lease_and_attempts, concurrent_claims_are_exclusive, resend_and_recover, event_types, retention,
            endpoint_policy_round_trips, stats_attempts_and_targeted_publish);
    };
    (@each $open:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                // `None`: this backend is not available here (the opener said why).
                let store: Option<std::sync::Arc<dyn $crate::Store>> = $open.await;
                if let Some(store) = store {
                    $crate::testkit::$name(store).await;
                }
            }
        )*
    };
}
