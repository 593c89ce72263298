//! Contract checks of [`CatalogStore`](crate::CatalogStore): apps, endpoints
//! (with their policy overrides), event types.

use std::sync::Arc;
use std::time::Duration;

use hookline_signature::Secret;

use super::*;
use crate::clock::now_ms;
use crate::id::AppId;
use crate::outbound::{EndpointPolicy, EndpointSecret, EventType, RetryPolicy};
use crate::page::PageRequest;
use crate::store::{Store, StoreError};

pub async fn apps_are_found_by_id_or_uid_and_paged(store: Arc<dyn Store>) {
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
    store.delete_app(&a.id).await.unwrap();
    assert_eq!(store.get_app("acme").await.unwrap(), None);
}

pub async fn endpoints_are_scoped_by_app_and_updated_whole(store: Arc<dyn Store>) {
    let a = app("Acme", Some("acme"));
    store.create_app(&a).await.unwrap();
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
    let listed = store
        .list_endpoints(&a.id, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);
    store.delete_endpoint(&a.id, &e.id).await.unwrap();
    assert!(matches!(
        store.delete_endpoint(&a.id, &e.id).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn endpoint_policy_round_trips(store: Arc<dyn Store>) {
    let a = app("policy", None);
    store.create_app(&a).await.unwrap();
    let mut e = endpoint(&a.id, "http://p", None, None);
    store.create_endpoint(&e).await.unwrap();
    let got = store.get_endpoint(&a.id, e.id.as_str()).await.unwrap();
    assert_eq!(got.unwrap().policy, EndpointPolicy::default());
    e.policy = EndpointPolicy {
        retry: Some(RetryPolicy {
            schedule: vec![Duration::from_millis(10), Duration::from_secs(3600)],
        }),
        timeout: Some(Duration::from_millis(2500)),
        max_concurrency: Some(3),
    };
    store.update_endpoint(&e).await.unwrap();
    assert_eq!(
        store.get_endpoint(&a.id, e.id.as_str()).await.unwrap(),
        Some(e.clone()),
        "every override round-trips"
    );
    let listed = store
        .list_endpoints(&a.id, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.data, vec![e]);
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
