//! Contract checks of [`InboxStore`](crate::InboxStore): byte-exact storage,
//! de-duplication, the rejected cap, listing, group commit.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::clock::now_ms;
use crate::inbound::{EventFilter, Verdict};
use crate::page::PageRequest;
use crate::store::{Inserted, Store};

pub async fn events_are_byte_exact(store: Arc<dyn Store>) {
    let body: Vec<u8> = (0..=255u8)
        .chain(b"\r\n{\"id\":1}\0".iter().copied())
        .collect();
    let e = event("src-a", now_ms(), &body, Verdict::Verified, None);
    let Inserted::Stored(id) = store
        .insert_event(e.clone(), WINDOW, 100, vec![])
        .await
        .unwrap()
    else {
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
    let Inserted::Stored(id) = store
        .insert_event(first, WINDOW, 100, vec![])
        .await
        .unwrap()
    else {
        panic!("first is stored")
    };
    let again = event("s", now + 1, b"1", Verdict::Verified, Some("d-1"));
    assert_eq!(
        store
            .insert_event(again, WINDOW, 100, vec![])
            .await
            .unwrap(),
        Inserted::Duplicate(id)
    );
    // The same key on another source is not a duplicate.
    let elsewhere = event("t", now + 2, b"1", Verdict::Verified, Some("d-1"));
    assert!(matches!(
        store
            .insert_event(elsewhere, WINDOW, 100, vec![])
            .await
            .unwrap(),
        Inserted::Stored(_)
    ));
    // A rejected request never claims a key, so the genuine one still gets through.
    let forged = event("s", now + 3, b"x", Verdict::Rejected, Some("d-2"));
    assert!(matches!(
        store
            .insert_event(forged, WINDOW, 100, vec![])
            .await
            .unwrap(),
        Inserted::Stored(_)
    ));
    let genuine = event("s", now + 4, b"x", Verdict::Verified, Some("d-2"));
    assert!(matches!(
        store
            .insert_event(genuine, WINDOW, 100, vec![])
            .await
            .unwrap(),
        Inserted::Stored(_)
    ));
    // Outside the window the key is forgotten.
    let old = event("u", now - 10_000, b"o", Verdict::Verified, Some("d-3"));
    store
        .insert_event(old, Duration::from_secs(1), 100, vec![])
        .await
        .unwrap();
    let later = event("u", now, b"o", Verdict::Verified, Some("d-3"));
    assert!(matches!(
        store
            .insert_event(later, Duration::from_secs(1), 100, vec![])
            .await
            .unwrap(),
        Inserted::Stored(_)
    ));
    let all = store
        .list_events(Some("s"), &EventFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.data.len(), 3, "the duplicate was not stored");
}

pub async fn rejected_events_are_capped(store: Arc<dyn Store>) {
    let now = now_ms();
    for i in 0..10 {
        let e = event("flood", now + i, b"bad", Verdict::Rejected, None);
        store.insert_event(e, WINDOW, 4, vec![]).await.unwrap();
    }
    let good = event("flood", now + 20, b"good", Verdict::Verified, None);
    store.insert_event(good, WINDOW, 4, vec![]).await.unwrap();
    let rejected = EventFilter {
        verdict: Some(Verdict::Rejected),
        ..Default::default()
    };
    let page = store
        .list_events(Some("flood"), &rejected, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        page.data.len(),
        4,
        "only the newest rejected events are kept"
    );
    assert_eq!(page.data[0].received_at, now + 9);
    let all = store
        .list_events(
            Some("flood"),
            &EventFilter::default(),
            &PageRequest::default(),
        )
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
        store.insert_event(e, WINDOW, 100, vec![]).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::new(Some(10), None);
    loop {
        let p = store
            .list_events(Some("l"), &EventFilter::default(), &page)
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
            .list_events(Some("l"), &paid, &PageRequest::default())
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
            .list_events(Some("l"), &range, &PageRequest::default())
            .await
            .unwrap()
            .data
            .len(),
        10
    );
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
                store.insert_event(e, WINDOW, 100, vec![]).await
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
            .list_events(Some("c"), &EventFilter::default(), &page)
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

pub async fn events_after_a_cursor_come_oldest_first(store: Arc<dyn Store>) {
    let now = now_ms();
    let mut ids = Vec::new();
    for i in 0..5 {
        let e = event("s", now + i, b"{}", Verdict::Verified, None);
        ids.push(e.id.clone());
        store.insert_event(e, WINDOW, 100, vec![]).await.unwrap();
    }
    store
        .insert_event(
            event("other", now, b"{}", Verdict::Verified, None),
            WINDOW,
            100,
            vec![],
        )
        .await
        .unwrap();
    let all: Vec<_> = store
        .events_after("s", None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(all, ids, "oldest first, this source only");
    let next: Vec<_> = store
        .events_after("s", Some(&ids[1]), 2)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(next, ids[2..4], "after the cursor, at most the limit");
}
