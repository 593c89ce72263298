//! Contract checks of [`Maintenance`](crate::Maintenance): retention.

use std::sync::Arc;
use std::time::Duration;

use hookline_signature::Scheme;

use super::*;
use crate::clock::now_ms;
use crate::id::MessageId;
use crate::inbound::Verdict;
use crate::source::Source;
use crate::store::{Inserted, Store};

/// Runs retention passes of `limit` 1 until nothing is left; how many rows changed.
async fn expire_all(store: &dyn Store, cutoff: i64, now: i64) -> usize {
    let mut changed = 0;
    loop {
        let n = store.expire(cutoff, now, 1).await.unwrap();
        assert!(n <= 3, "bounded: at most `limit` of each kind per pass");
        if n == 0 {
            return changed;
        }
        changed += n;
    }
}

const DAY: i64 = 86_400_000;

pub async fn retention_drops_old_payloads_and_keeps_statuses(store: Arc<dyn Store>) {
    let now = now_ms();
    let a = app("ret", None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, "http://x", None, None);
    store.create_endpoint(&e).await.unwrap();
    let mut old = message(&a.id, "t", None, None);
    old.id = MessageId::at(now - 40 * DAY);
    old.created_at = now - 40 * DAY;
    let fresh = message(&a.id, "t", None, None);
    store.publish(&old).await.unwrap();
    store.publish(&fresh).await.unwrap();
    assert_eq!(
        expire_all(&*store, now - 30 * DAY, now).await,
        1,
        "one payload"
    );
    let payload = |id: MessageId| {
        let (store, app) = (store.clone(), a.id.clone());
        async move { store.get_message(&app, &id).await.unwrap().unwrap().payload }
    };
    assert_eq!(payload(old.id.clone()).await, "", "payload gone");
    assert_eq!(payload(fresh.id.clone()).await, fresh.payload);
    assert_eq!(
        store.list_deliveries(&a.id, &old.id).await.unwrap().len(),
        1,
        "statuses stay"
    );
}

pub async fn retention_drops_old_events_and_frees_expired_dedup_keys(store: Arc<dyn Store>) {
    let now = now_ms();
    let hour = Duration::from_secs(3600);
    let src = Source::new("ret", Scheme::Hex).unwrap();
    store.create_source(&src).await.unwrap();
    let old = event(
        "ret",
        now - 40 * DAY,
        b"old",
        Verdict::Verified,
        Some("k-old"),
    );
    let new = event("ret", now, b"new", Verdict::Verified, Some("k-new"));
    store
        .insert_event(old.clone(), hour, 100, vec![])
        .await
        .unwrap();
    store
        .insert_event(new.clone(), hour, 100, vec![])
        .await
        .unwrap();
    assert_eq!(
        expire_all(&*store, now - 30 * DAY, now).await,
        2,
        "one inbound event, one dedup key"
    );
    assert_eq!(store.get_event("ret", &old.id).await.unwrap(), None);
    assert!(store.get_event("ret", &new.id).await.unwrap().is_some());
    // The expired dedup key no longer blocks; the live one still does.
    let again = event("ret", now + 1, b"x", Verdict::Verified, Some("k-old"));
    assert!(matches!(
        store.insert_event(again, hour, 100, vec![]).await.unwrap(),
        Inserted::Stored(_)
    ));
    let dup = event("ret", now + 2, b"x", Verdict::Verified, Some("k-new"));
    assert!(matches!(
        store.insert_event(dup, hour, 100, vec![]).await.unwrap(),
        Inserted::Duplicate(_)
    ));
}
