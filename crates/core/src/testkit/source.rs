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
