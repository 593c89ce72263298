//! Contract checks of [`SourceStore`](crate::SourceStore).

use std::sync::Arc;
use std::time::Duration;

use hookline_signature::{Scheme, Secret};

use crate::source::{DedupRule, Source};
use crate::store::{Store, StoreError};

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

/// A source's own path, replies, event-type rule and auth round-trip; a path
/// is held by one source only.
pub async fn source_paths_and_options_round_trip(store: Arc<dyn Store>) {
    let spec: crate::SourceSpec = serde_json::from_value(serde_json::json!({
        "name": "recipe", "scheme": "hmac-sha256", "secret": "s3cret", "path": "/webhooks",
        "eventType": "json:/type",
        "reply": {"received": {"body": "{\"status\": \"ok\"}"}, "rejected": {"status": 400}},
        "auth": {"header": "X-API-Key", "values": ["k1", "k0"]},
    }))
    .unwrap();
    let s = spec.into_source(None).unwrap();
    store.create_source(&s).await.unwrap();
    assert_eq!(store.get_source("recipe").await.unwrap(), Some(s.clone()));
    let mut clash = Source::new("other", Scheme::Hex).unwrap();
    clash.path = Some("/webhooks".into());
    match store.create_source(&clash).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("/webhooks"), "{m}"),
        other => panic!("a second source at the same path: {other:?}"),
    }
    clash.path = Some("/payment-webhook".into());
    store.create_source(&clash).await.unwrap();
    clash.path = Some("/webhooks".into());
    assert!(matches!(
        store.update_source(&clash).await,
        Err(StoreError::Conflict(_))
    ));
}

/// The fingerprint changes on every create, change and delete of a source.
pub async fn the_sources_fingerprint_follows_every_change(store: Arc<dyn Store>) {
    let empty = store.sources_fingerprint().await.unwrap();
    let mut s = Source::new("fp", Scheme::Hex).unwrap();
    store.create_source(&s).await.unwrap();
    let created = store.sources_fingerprint().await.unwrap();
    assert_ne!(created, empty);
    s.secrets = vec![Secret::new("rotated")];
    s.updated_at += 1;
    store.update_source(&s).await.unwrap();
    let rotated = store.sources_fingerprint().await.unwrap();
    assert_ne!(rotated, created);
    store.delete_source("fp").await.unwrap();
    assert_eq!(store.sources_fingerprint().await.unwrap(), empty);
}
