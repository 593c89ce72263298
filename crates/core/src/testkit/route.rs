//! Contract checks of [`RouteStore`](crate::RouteStore) and
//! [`ForwardQueue`](crate::ForwardQueue): routes by name, the hand-off in
//! the inbox transaction, claims (ordered routes by their head), pause,
//! resend and recover.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::clock::now_ms;
use crate::id::RouteId;
use crate::outbound::{DeliveryStatus, Next};
use crate::route::{ForwardTry, NewForward, Route};
use crate::store::{Inserted, Store, StoreError};

const LEASE: Duration = Duration::from_secs(30);

/// A route named `name` from `source`, unordered, running, no filter.
pub fn route(name: &str, source: &str) -> Route {
    let now = now_ms();
    Route {
        id: RouteId::at(now),
        name: name.into(),
        source: source.into(),
        url: "http://127.0.0.1:9/hook".into(),
        filter: None,
        policy: Default::default(),
        rate_limit: None,
        ordered: false,
        paused: false,
        headers: Default::default(),
        sign: None,
        trusted: false,
        created_at: now,
        updated_at: now,
    }
}

/// Stores an accepted event of `source` with forwards down `routes`.
async fn receive(store: &dyn Store, source: &str, at: i64, routes: &[&Route]) -> EventId {
    let e = event(source, at, b"{\"n\":1}", Verdict::Verified, None);
    let ids = routes
        .iter()
        .map(|r| NewForward::pending(r.id.clone()))
        .collect();
    match store.insert_event(e, WINDOW, 100, ids).await.unwrap() {
        Inserted::Stored(id) => id,
        other => panic!("stored, not {other:?}"),
    }
}

fn tried(code: u16) -> ForwardTry {
    ForwardTry {
        status_code: code,
        response: "r".into(),
        duration_ms: 2,
        at: now_ms(),
    }
}

pub async fn routes_are_found_by_name_or_id_and_listed_by_source(store: Arc<dyn Store>) {
    let mut a = route("to-app", "gh");
    a.ordered = true;
    a.rate_limit = Some(3);
    let b = route("to-audit", "stripe");
    store.create_route(&a).await.unwrap();
    store.create_route(&b).await.unwrap();
    assert_eq!(store.get_route("to-app").await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.get_route(a.id.as_str()).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.list_routes(Some("gh")).await.unwrap(),
        vec![a.clone()]
    );
    assert_eq!(store.list_routes(None).await.unwrap().len(), 2);
    let taken = route("to-app", "other");
    assert!(matches!(
        store.create_route(&taken).await,
        Err(StoreError::Conflict(_))
    ));
    let mut changed = a.clone();
    changed.url = "http://127.0.0.1:9/v2".into();
    changed.updated_at += 1;
    let before = store.routes_fingerprint().await.unwrap();
    store.update_route(&changed).await.unwrap();
    assert_ne!(store.routes_fingerprint().await.unwrap(), before);
    assert_eq!(store.get_route("to-app").await.unwrap(), Some(changed));
    store.delete_route(&b.id).await.unwrap();
    assert_eq!(store.get_route("to-audit").await.unwrap(), None);
    assert!(matches!(
        store.delete_route(&b.id).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn a_stored_event_gets_one_pending_forward_per_route(store: Arc<dyn Store>) {
    let (a, b) = (route("a", "gh"), route("b", "gh"));
    store.create_route(&a).await.unwrap();
    store.create_route(&b).await.unwrap();
    let now = now_ms();
    let id = receive(&*store, "gh", now, &[&a, &b]).await;
    let forwards = store.list_forwards("gh", &id).await.unwrap();
    assert_eq!(forwards.len(), 2);
    assert!(forwards
        .iter()
        .all(|f| f.status == DeliveryStatus::Pending && f.next_attempt_at == Some(now)));
    // A rejected event and a duplicate are never forwarded.
    let forged = event("gh", now, b"x", Verdict::Rejected, None);
    let Inserted::Stored(forged) = store
        .insert_event(forged, WINDOW, 100, vec![NewForward::pending(a.id.clone())])
        .await
        .unwrap()
    else {
        panic!("rejected events are stored")
    };
    assert!(store.list_forwards("gh", &forged).await.unwrap().is_empty());
    let first = event("gh", now, b"1", Verdict::Verified, Some("k"));
    store
        .insert_event(first, WINDOW, 100, vec![])
        .await
        .unwrap();
    let dup = event("gh", now + 1, b"1", Verdict::Verified, Some("k"));
    let dup_id = dup.id.clone();
    let got = store
        .insert_event(dup, WINDOW, 100, vec![NewForward::pending(a.id.clone())])
        .await;
    assert!(matches!(got, Ok(Inserted::Duplicate(_))));
    assert!(store.list_forwards("gh", &dup_id).await.unwrap().is_empty());
}

pub async fn a_claimed_forward_carries_its_route_and_event_until_recorded(store: Arc<dyn Store>) {
    let r = route("a", "gh");
    store.create_route(&r).await.unwrap();
    let now = now_ms();
    let id = receive(&*store, "gh", now, &[&r]).await;
    let claimed = store.claim_forwards(now, 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let c = &claimed[0];
    assert_eq!((c.route.name.as_str(), &c.event.id), ("a", &id));
    assert_eq!(c.event.body, b"{\"n\":1}");
    assert_eq!(c.forward.status, DeliveryStatus::Sending);
    assert!(store
        .claim_forwards(now, 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    let v = c.forward.version;
    store
        .record_forward(&r.id, &id, v, &tried(500), Next::RetryAt(now + 1000))
        .await
        .unwrap();
    let f = &store.list_forwards("gh", &id).await.unwrap()[0];
    assert_eq!((f.status, f.attempts), (DeliveryStatus::Pending, 1));
    assert_eq!(f.last.as_ref().map(|t| t.status_code), Some(500));
    assert_eq!(store.next_forward_due().await.unwrap(), Some(now + 1000));
    assert_eq!(
        store.pending_forwards().await.unwrap(),
        vec![(r.id.clone(), 1)]
    );
    let again = store.claim_forwards(now + 1000, 10, LEASE).await.unwrap();
    store
        .record_forward(
            &r.id,
            &id,
            again[0].forward.version,
            &tried(200),
            Next::Success,
        )
        .await
        .unwrap();
    let f = &store.list_forwards("gh", &id).await.unwrap()[0];
    assert_eq!((f.status, f.attempts), (DeliveryStatus::Success, 2));
    // A stale try (an old version) is kept as the last try but moves nothing.
    store
        .record_forward(&r.id, &id, v, &tried(503), Next::Failed)
        .await
        .unwrap();
    let f = &store.list_forwards("gh", &id).await.unwrap()[0];
    assert_eq!(f.status, DeliveryStatus::Success);
    assert!(
        store.pending_forwards().await.unwrap().is_empty(),
        "none open"
    );
}

pub async fn a_paused_route_holds_its_forwards_until_resumed(store: Arc<dyn Store>) {
    let r = route("a", "gh");
    store.create_route(&r).await.unwrap();
    let now = now_ms();
    receive(&*store, "gh", now, &[&r]).await;
    store.pause_route(&r.id, now).await.unwrap();
    assert!(store.get_route("a").await.unwrap().unwrap().paused);
    assert!(store
        .claim_forwards(now, 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.next_forward_due().await.unwrap(), None);
    store.set_route_paused(&r.id, false, now).await.unwrap();
    assert_eq!(store.next_forward_due().await.unwrap(), Some(now));
    assert_eq!(store.claim_forwards(now, 10, LEASE).await.unwrap().len(), 1);
}

pub async fn an_ordered_route_gives_out_only_its_head(store: Arc<dyn Store>) {
    let mut r = route("a", "gh");
    r.ordered = true;
    let free = route("b", "gh");
    store.create_route(&r).await.unwrap();
    store.create_route(&free).await.unwrap();
    let now = now_ms();
    let first = receive(&*store, "gh", now, &[&r, &free]).await;
    let second = receive(&*store, "gh", now, &[&r, &free]).await;
    let claimed = store.claim_forwards(now, 10, LEASE).await.unwrap();
    let ordered: Vec<_> = claimed.iter().filter(|c| c.route.id == r.id).collect();
    assert_eq!(ordered.len(), 1, "one at a time");
    assert_eq!(ordered[0].event.id, first, "in arrival order");
    assert_eq!(claimed.len(), 3, "the unordered route gives both");
    // A failed try keeps the head where it is: the second waits behind it.
    let v = ordered[0].forward.version;
    store
        .record_forward(&r.id, &first, v, &tried(500), Next::RetryAt(now))
        .await
        .unwrap();
    let next = store.claim_forwards(now, 10, LEASE).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].event.id, first);
    // Once the head fails for good, the next one goes.
    store
        .record_forward(
            &r.id,
            &first,
            next[0].forward.version,
            &tried(500),
            Next::Failed,
        )
        .await
        .unwrap();
    let next = store.claim_forwards(now, 10, LEASE).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].event.id, second);
}

pub async fn resend_and_recover_requeue_forwards(store: Arc<dyn Store>) {
    let r = route("a", "gh");
    store.create_route(&r).await.unwrap();
    let now = now_ms();
    let old = receive(&*store, "gh", now - 10_000, &[&r]).await;
    let new = receive(&*store, "gh", now, &[&r]).await;
    for c in store.claim_forwards(now, 10, LEASE).await.unwrap() {
        let v = c.forward.version;
        store
            .record_forward(&r.id, &c.event.id, v, &tried(500), Next::Failed)
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .requeue_forwards(&r.id, None, now - 1000, now)
            .await
            .unwrap(),
        1,
        "recover takes only the failed forwards since the time"
    );
    let f = &store.list_forwards("gh", &new).await.unwrap()[0];
    assert!(f.manual && f.status == DeliveryStatus::Pending && f.attempts == 0);
    assert_eq!(
        store.list_forwards("gh", &old).await.unwrap()[0].status,
        DeliveryStatus::Failed
    );
    assert_eq!(
        store
            .requeue_forwards(&r.id, Some(&old), 0, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.list_forwards("gh", &old).await.unwrap()[0].status,
        DeliveryStatus::Pending
    );
    // A resend of an event that never went down the route makes its forward.
    let other = route("b", "gh");
    store.create_route(&other).await.unwrap();
    assert_eq!(
        store
            .requeue_forwards(&other.id, Some(&old), 0, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.list_forwards("gh", &old).await.unwrap().len(), 2);
    assert_eq!(
        store
            .requeue_forwards(&other.id, Some(&EventId::new()), 0, now)
            .await
            .unwrap(),
        0
    );
    store.delete_route(&other.id).await.unwrap();
    assert_eq!(store.list_forwards("gh", &old).await.unwrap().len(), 1);
}

pub async fn a_handed_off_forward_is_stored_in_flight_until_its_lease_ends(store: Arc<dyn Store>) {
    let r = route("a", "gh");
    store.create_route(&r).await.unwrap();
    let now = now_ms();
    let e = event("gh", now, b"{}", Verdict::Verified, None);
    let id = e.id.clone();
    let lease = NewForward {
        route: r.id.clone(),
        leased_until: Some(now + 30_000),
    };
    store
        .insert_event(e, WINDOW, 100, vec![lease])
        .await
        .unwrap();
    let f = &store.list_forwards("gh", &id).await.unwrap()[0];
    assert_eq!((f.status, f.version), (DeliveryStatus::Sending, 1));
    assert!(
        store
            .claim_forwards(now, 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    store
        .record_forward(&r.id, &id, 1, &tried(200), Next::Success)
        .await
        .unwrap();
    let f = &store.list_forwards("gh", &id).await.unwrap()[0];
    assert_eq!(
        f.status,
        DeliveryStatus::Success,
        "the handed-off try is recorded"
    );
    // Had it never been sent, it would be claimed once the lease ran out.
    let e = event("gh", now, b"{}", Verdict::Verified, None);
    let lease = NewForward {
        route: r.id.clone(),
        leased_until: Some(now + 30_000),
    };
    store
        .insert_event(e, WINDOW, 100, vec![lease])
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_forwards(now + 30_000, 10, LEASE)
            .await
            .unwrap()
            .len(),
        1
    );
}
