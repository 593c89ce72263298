//! Tokens. The admin token is configured (`admin_token` / `HOOKLINE_ADMIN_TOKEN`),
//! or else stored only as its SHA-256: generated at a single node's first
//! start and printed once, or on a cluster made by `hookline token admin
//! --rotate`. App-scoped tokens (`POST /api/v1/auth/app-portal-access/{app}`) open
//! one application's routes until they expire; source-scoped tokens
//! (`POST /api/v1/source/{name}/token`) only read and stream that source's
//! events. They too are stored hashed.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use hookline_core::{AppId, Store, StoreError};
use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};

use subtle::ConstantTimeEq;

use crate::error::{ApiError, Shape};
use crate::state::AppState;

const SETTING: &str = "admin_token_sha256";

/// The hash of the token that opens `/api/v1`: configured, or the one stored
/// in the database (re-read as the store changes, so a `hookline token admin
/// --rotate` reaches every node), or none yet on a cluster.
#[derive(Clone)]
pub struct AdminToken {
    hash: Arc<RwLock<Option<[u8; 32]>>>,
    configured: bool,
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// How the admin token was found at start, for the start-up message.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminOrigin {
    Configured,
    Stored,
    /// Made now (shown once).
    Generated(String),
    /// None is set and none was made (a cluster's node: one node must not
    /// make it silently).
    Missing,
}

impl AdminToken {
    pub fn matches(&self, token: &str) -> bool {
        let hash = self.hash.read().ok().and_then(|h| *h);
        hash.is_some_and(|h| bool::from(sha256(token).ct_eq(&h)))
    }

    /// Whether any admin token opens the API yet.
    pub fn is_set(&self) -> bool {
        self.hash.read().ok().is_some_and(|h| h.is_some())
    }

    /// The configured token; else the stored hash; else, if `generate`, a new
    /// token, stored hashed and returned so it can be shown once.
    pub async fn resolve(
        configured: Option<&str>,
        store: &dyn Store,
        generate: bool,
    ) -> Result<(AdminToken, AdminOrigin), StoreError> {
        let token = |hash: Option<[u8; 32]>, configured| AdminToken {
            hash: Arc::new(RwLock::new(hash)),
            configured,
        };
        if let Some(t) = configured {
            return Ok((token(Some(sha256(t)), true), AdminOrigin::Configured));
        }
        if let Some(hash) = stored_hash(store).await? {
            return Ok((token(Some(hash), false), AdminOrigin::Stored));
        }
        if !generate {
            return Ok((token(None, false), AdminOrigin::Missing));
        }
        let new = rotate_admin_token(store).await?;
        Ok((
            token(Some(sha256(&new)), false),
            AdminOrigin::Generated(new),
        ))
    }

    /// Re-reads the stored hash (a configured token never changes).
    pub async fn refresh(&self, store: &dyn Store) -> Result<(), StoreError> {
        if self.configured {
            return Ok(());
        }
        let now = stored_hash(store).await?;
        if let Ok(mut h) = self.hash.write() {
            *h = now;
        }
        Ok(())
    }
}

async fn stored_hash(store: &dyn Store) -> Result<Option<[u8; 32]>, StoreError> {
    let Some(stored) = store.get_setting(SETTING).await? else {
        return Ok(None);
    };
    let mut hash = [0u8; 32];
    if hex::decode_to_slice(stored.trim(), &mut hash).is_ok() {
        return Ok(Some(hash));
    }
    tracing::warn!(
        "the stored admin token hash is unreadable; run `hookline token admin --rotate`"
    );
    Ok(None)
}

/// Makes a new admin token and stores its hash (the old one stops working);
/// the token itself is returned to be shown once.
pub async fn rotate_admin_token(store: &dyn Store) -> Result<String, StoreError> {
    let token = format!(
        "hl_admin_{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
    );
    store
        .set_setting(SETTING, &hex::encode(sha256(&token)), None)
        .await?;
    Ok(token)
}

/// Whether an admin token's hash is stored.
pub async fn admin_token_stored(store: &dyn Store) -> Result<bool, StoreError> {
    Ok(stored_hash(store).await?.is_some())
}

/// What a scoped token opens: one application, or one source's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    App,
    Source,
}

impl Scope {
    fn field(self) -> &'static str {
        match self {
            Scope::App => "app",
            Scope::Source => "source",
        }
    }

    /// The settings key under which a token's grant is kept.
    fn key(self, token: &str) -> String {
        format!(
            "{}_token_sha256:{}",
            self.field(),
            hex::encode(sha256(token))
        )
    }
}

/// Issues a token for `scope` = `target` until `expires_at` (ms); only its hash is stored.
async fn issue(
    store: &dyn Store,
    scope: Scope,
    target: &str,
    expires_at: i64,
) -> Result<String, StoreError> {
    let token = format!(
        "hl_{}_{}",
        if scope == Scope::App { "app" } else { "src" },
        Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
    );
    let grant = serde_json::json!({ scope.field(): target, "expiresAt": expires_at }).to_string();
    store
        .set_setting(&scope.key(&token), &grant, Some(expires_at))
        .await?;
    Ok(token)
}

/// What a scoped token opens, if it is one of `scope` and has not expired.
async fn granted(
    store: &dyn Store,
    scope: Scope,
    token: &str,
) -> Result<Option<String>, StoreError> {
    let Some(grant) = store.get_setting(&scope.key(token)).await? else {
        return Ok(None);
    };
    let grant: serde_json::Value = serde_json::from_str(&grant).unwrap_or_default();
    let live = grant["expiresAt"]
        .as_i64()
        .is_some_and(|t| t > hookline_core::clock::now_ms());
    Ok(grant[scope.field()]
        .as_str()
        .filter(|_| live)
        .map(str::to_string))
}

/// Issues a token that sees only `app` until `expires_at` (ms).
pub async fn issue_app_token(
    store: &dyn Store,
    app: &AppId,
    expires_at: i64,
) -> Result<String, StoreError> {
    issue(store, Scope::App, app.as_str(), expires_at).await
}

/// Issues a token that only reads and streams `source`'s events until `expires_at` (ms).
pub async fn issue_source_token(
    store: &dyn Store,
    source: &str,
    expires_at: i64,
) -> Result<String, StoreError> {
    issue(store, Scope::Source, source, expires_at).await
}

/// The app an app-scoped token opens, if it is one and has not expired.
pub(crate) async fn app_of_token(
    store: &dyn Store,
    token: &str,
) -> Result<Option<AppId>, StoreError> {
    Ok(granted(store, Scope::App, token)
        .await?
        .and_then(|a| a.parse().ok()))
}

/// Whether a source-scoped token for `source` may make this request: only
/// reads (`GET`) of `/source/{source}/event…` (the list, one event, the stream).
fn source_may(source: &str, method: &axum::http::Method, path: &str) -> bool {
    let rest = path.strip_prefix("/api/v1").unwrap_or(path);
    let Some(rest) = rest.strip_prefix("/source/") else {
        return false;
    };
    let mut parts = rest.split('/');
    let named = parts.next() == Some(source);
    let events = parts.next() == Some("event");
    let read = parts.all(|p| p != "replay" && p != "forward");
    method == axum::http::Method::GET && named && events && read
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::api(StatusCode::UNAUTHORIZED, "authentication_failed", detail)
}

/// Middleware: `Authorization: Bearer <token>`. The admin token opens every
/// route; an app-scoped token only `/app/{its app}/…` (by id or uid); a
/// source-scoped token only reads of its source's events; else 401/403.
pub async fn require_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| unauthorized("Missing token: send 'Authorization: Bearer <token>'"))?;
    if state.admin.matches(given) {
        return Ok(next.run(req).await);
    }
    let store = state.store.as_ref();
    let internal = |e: StoreError| ApiError::storage(Shape::Api, e);
    if let Some(source) = granted(store, Scope::Source, given)
        .await
        .map_err(internal)?
    {
        if source_may(&source, req.method(), req.uri().path()) {
            return Ok(next.run(req).await);
        }
        return Err(ApiError::api(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("This token only reads and streams the events of source `{source}`."),
        ));
    }
    let app = app_of_token(store, given)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            if state.admin.is_set() {
                unauthorized("Invalid token")
            } else {
                unauthorized(
                    "Invalid token, and no admin token is set for this cluster yet: run \
                     `hookline token admin --rotate` against its database, or set \
                     HOOKLINE_ADMIN_TOKEN on every node",
                )
            }
        })?;
    let path = req.uri().path();
    let key = path
        .strip_prefix("/api/v1")
        .unwrap_or(path)
        .strip_prefix("/app/")
        .and_then(|rest| rest.split('/').next())
        .filter(|k| !k.is_empty());
    let allowed = match key {
        Some(k) => store
            .get_app(k)
            .await
            .map_err(internal)?
            .is_some_and(|a| a.id == app),
        None => false,
    };
    if !allowed {
        return Err(ApiError::api(
            StatusCode::FORBIDDEN,
            "forbidden",
            "This token only opens its own application.",
        ));
    }
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn a_source_token_reads_only_its_own_sources_events() {
        for (method, path, ok) in [
            (Method::GET, "/api/v1/source/gh/event", true),
            (Method::GET, "/api/v1/source/gh/event/stream", true),
            (Method::GET, "/api/v1/source/gh/event/evt_1", true),
            (Method::GET, "/api/v1/source/gh/event/evt_1/forward", false),
            (Method::POST, "/api/v1/source/gh/event/evt_1/replay", false),
            (Method::GET, "/api/v1/source/other/event", false),
            (Method::GET, "/api/v1/source/gh", false),
            (Method::GET, "/api/v1/app", false),
            (Method::POST, "/api/v1/source/gh/token", false),
        ] {
            assert_eq!(source_may("gh", &method, path), ok, "{method} {path}");
        }
    }
}
