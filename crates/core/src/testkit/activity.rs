//! Contract checks of [`ActivityStore`](crate::ActivityStore).

use std::sync::Arc;

use crate::activity::Minute;
use crate::store::Store;

fn minute(at: i64, ok: u64, failed: u64) -> Minute {
    Minute {
        at,
        ok,
        failed,
        total_ms: (ok + failed) as f64 * 2.0,
    }
}

pub async fn activity_sums_every_nodes_minutes_and_a_put_replaces_its_own(store: Arc<dyn Store>) {
    let t = 1_700_000_040_000; // a minute's start
    store
        .put_activity(
            "a",
            "received",
            &[minute(t, 1, 0), minute(t + 60_000, 2, 1)],
        )
        .await
        .unwrap();
    store
        .put_activity("b", "received", &[minute(t + 60_000, 5, 0)])
        .await
        .unwrap();
    store
        .put_activity("b", "delivered", &[minute(t, 9, 9)])
        .await
        .unwrap();
    // A node's later count of the same minute replaces its earlier one.
    store
        .put_activity("a", "received", &[minute(t + 60_000, 3, 1)])
        .await
        .unwrap();
    let all = store.activity("received", t, None).await.unwrap();
    assert_eq!(all, vec![minute(t, 1, 0), minute(t + 60_000, 8, 1)]);
    let others = store.activity("received", t, Some("a")).await.unwrap();
    assert_eq!(
        others,
        vec![minute(t + 60_000, 5, 0)],
        "the asking node is left out"
    );
    let later = store.activity("received", t + 60_000, None).await.unwrap();
    assert_eq!(later.len(), 1, "minutes before `since` are not read");
    assert_eq!(store.activity("forwarded", t, None).await.unwrap(), vec![]);
}

pub async fn retention_forgets_activity_older_than_two_hours(store: Arc<dyn Store>) {
    let now = crate::clock::now_ms();
    let this = now - now % 60_000;
    let old = this - 3 * 3_600_000;
    store
        .put_activity("a", "received", &[minute(old, 1, 0), minute(this, 1, 0)])
        .await
        .unwrap();
    store.expire(0, now, 100).await.unwrap();
    let left = store.activity("received", 0, None).await.unwrap();
    assert_eq!(left, vec![minute(this, 1, 0)]);
}
