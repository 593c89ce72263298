//! What only a shared database has: two stores (as two nodes would open) on
//! one schema. A publish through one wakes the other (LISTEN/NOTIFY), and
//! concurrent inbound inserts share commits (group commit).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use hookline_core::testkit::{app, endpoint, event, message};
use hookline_core::{Inserted, Store, Verdict};
use hookline_testkit::{Backend, FreshDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_on_one_node_wakes_the_others() {
    if !Backend::Postgres.available() {
        return;
    }
    let db = FreshDb::on(Backend::Postgres).await;
    let (a, b) = (db.open().await, db.open().await);
    let ap = app("wake", None);
    a.create_app(&ap).await.unwrap();
    a.create_endpoint(&endpoint(&ap.id, "http://x", None, None))
        .await
        .unwrap();
    // Let B's LISTEN connection come up (it wakes once when it does).
    let _ = tokio::time::timeout(Duration::from_secs(5), b.published_elsewhere()).await;
    let waiting = tokio::spawn({
        let b = b.clone();
        async move { b.published_elsewhere().await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    a.publish(&message(&ap.id, "t", None, None)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the other node was woken")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inbound_inserts_share_commits() {
    if !Backend::Postgres.available() {
        return;
    }
    let store: Arc<dyn Store> = FreshDb::on(Backend::Postgres).await.open().await;
    let now = hookline_core::clock::now_ms();
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let key = format!("k{}", i % 150);
                let e = event("s", now + i, b"{}", Verdict::Verified, Some(&key));
                store
                    .insert_event(e, Duration::from_secs(60), 10, vec![])
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut stored = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Inserted::Stored(_)) {
            stored += 1;
        }
    }
    assert_eq!(
        stored, 150,
        "each key stored once, its repeats are duplicates"
    );
    let stats = store.commit_stats();
    assert_eq!(stats.writes, 300);
    assert!(
        stats.commits < stats.writes,
        "writes were grouped: {} commits for {} writes",
        stats.commits,
        stats.writes
    );
}
