//! Operational webhooks: events about delivery itself (`message.attempt.exhausted`,
//! `message.attempt.failing`, `message.attempt.recovered`, `endpoint.disabled`,
//! `endpoint.created/updated/deleted`), sent to one configured URL.
//!
//! They are ordinary messages of an internal application (uid
//! `hookline-operational`) with one endpoint, so they are signed, retried and
//! recorded like any other; events about that application are never emitted,
//! so a failing operational endpoint cannot feed itself.

use std::sync::Arc;

use hookline_core::clock::now_ms;
use hookline_core::outbound::EndpointSecret;
use hookline_core::{
    App, AppId, CatalogStore, Endpoint, EndpointId, Message, MessageId, OutboxStore, StoreError,
};
use hookline_signature::Secret;
use serde_json::{json, Value};

use crate::Waker;

/// The internal application's uid.
pub const APP_UID: &str = "hookline-operational";

/// Where operational webhooks go; cheap to clone. `disabled()` sends nothing.
#[derive(Clone, Default)]
pub struct Operational {
    target: Option<(Arc<dyn OutboxStore>, AppId, Waker)>,
}

impl std::fmt::Debug for Operational {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.target.is_some() {
            "Operational(on)"
        } else {
            "Operational(off)"
        })
    }
}

impl Operational {
    /// Sends nothing.
    pub fn disabled() -> Operational {
        Operational::default()
    }

    /// Makes (or updates) the internal application and its endpoint at `url`,
    /// signed with `secret`; the webhooks are then published to `outbox`.
    pub async fn setup(
        store: &dyn CatalogStore,
        outbox: Arc<dyn OutboxStore>,
        url: &str,
        secret: &str,
        waker: Waker,
    ) -> Result<Operational, StoreError> {
        let now = now_ms();
        let app = match store.get_app(APP_UID).await? {
            Some(a) => a,
            None => {
                let a = App {
                    id: AppId::at(now),
                    uid: Some(APP_UID.into()),
                    name: "hookline operational webhooks".into(),
                    metadata: Default::default(),
                    throttle_rate: None,
                    created_at: now,
                    updated_at: now,
                };
                store.create_app(&a).await?;
                a
            }
        };
        let secrets = vec![EndpointSecret {
            key: Secret::new(secret),
            expires_at: None,
        }];
        match store.get_endpoint(&app.id, "operational").await? {
            Some(mut e) => {
                e.url = url.into();
                e.secrets = secrets;
                e.disabled = false;
                e.updated_at = now;
                store.update_endpoint(&e).await?;
            }
            None => {
                let e = Endpoint {
                    id: EndpointId::at(now),
                    app_id: app.id.clone(),
                    uid: Some("operational".into()),
                    url: url.into(),
                    description: "operational webhooks".into(),
                    secrets,
                    event_types: None,
                    channels: None,
                    headers: Default::default(),
                    disabled: false,
                    throttle_rate: None,
                    policy: Default::default(),
                    filter: None,
                    metadata: Default::default(),
                    created_at: now,
                    updated_at: now,
                };
                store.create_endpoint(&e).await?;
            }
        }
        Ok(Operational {
            target: Some((outbox, app.id, waker)),
        })
    }

    /// Whether `app` is the internal application (its events are not reported).
    pub fn is_internal(&self, app: &AppId) -> bool {
        self.target.as_ref().is_some_and(|(_, id, _)| id == app)
    }

    /// Publishes `{type, data}` to the operational endpoint, unless about the
    /// internal application itself. Failures are logged, never raised.
    pub async fn emit(&self, about: &AppId, event_type: &str, data: Value) {
        let Some((store, app, waker)) = &self.target else {
            return;
        };
        if about == app {
            return;
        }
        let now = now_ms();
        let m = Message {
            id: MessageId::at(now),
            app_id: app.clone(),
            event_type: event_type.into(),
            event_id: None,
            payload: json!({ "type": event_type, "data": data }).to_string(),
            channels: None,
            created_at: now,
        };
        match store.publish(&m).await {
            Ok(_) => waker.wake(),
            Err(e) => {
                tracing::warn!(error = %e, event_type, "cannot publish an operational webhook")
            }
        }
    }
}
