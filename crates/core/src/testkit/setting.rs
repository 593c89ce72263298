//! Contract checks of [`SettingStore`](crate::SettingStore).

use std::sync::Arc;

use crate::clock::now_ms;
use crate::store::Store;

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
