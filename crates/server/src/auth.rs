//! Tokens. The admin token is configured (`admin_token` / `HOOKLINE_ADMIN_TOKEN`),
//! or else generated at first start, printed once, and stored only as its
//! SHA-256. App-scoped tokens (`POST /api/v1/auth/app-portal-access/{app}`) open
//! one application's routes until they expire; they too are stored hashed.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use hookline_core::{AppId, Store, StoreError};
use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, Shape};
use crate::state::AppState;

const SETTING: &str = "admin_token_sha256";

/// The hash of the token that opens `/api/v1`.
#[derive(Clone)]
pub struct AdminToken {
    hash: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl AdminToken {
    pub fn matches(&self, token: &str) -> bool {
        bool::from(sha256(token).ct_eq(&self.hash))
    }

    /// The configured token; else the stored hash; else a new token, stored
    /// hashed and returned so it can be shown once.
    pub async fn resolve(
        configured: Option<&str>,
        store: &dyn Store,
    ) -> Result<(AdminToken, Option<String>), StoreError> {
        if let Some(t) = configured {
            return Ok((AdminToken { hash: sha256(t) }, None));
        }
        if let Some(stored) = store.get_setting(SETTING).await? {
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(stored.trim(), &mut hash).is_ok() {
                return Ok((AdminToken { hash }, None));
            }
            tracing::warn!("the stored admin token hash is unreadable; generating a new token");
        }
        let token = format!(
            "hl_admin_{}",
            Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
        );
        let hash = sha256(&token);
        store.set_setting(SETTING, &hex::encode(hash), None).await?;
        Ok((AdminToken { hash }, Some(token)))
    }
}

/// The settings key under which an app-scoped token's grant is kept.
fn app_token_key(token: &str) -> String {
    format!("app_token_sha256:{}", hex::encode(sha256(token)))
}

/// Issues a token that sees only `app` until `expires_at` (ms); only its hash is stored.
pub async fn issue_app_token(
    store: &dyn Store,
    app: &AppId,
    expires_at: i64,
) -> Result<String, StoreError> {
    let token = format!(
        "hl_app_{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
    );
    let grant = serde_json::json!({ "app": app, "expiresAt": expires_at }).to_string();
    store
        .set_setting(&app_token_key(&token), &grant, Some(expires_at))
        .await?;
    Ok(token)
}

/// The app an app-scoped token opens, if it is one and has not expired.
pub(crate) async fn app_of_token(
    store: &dyn Store,
    token: &str,
) -> Result<Option<AppId>, StoreError> {
    let Some(grant) = store.get_setting(&app_token_key(token)).await? else {
        return Ok(None);
    };
    let grant: serde_json::Value = serde_json::from_str(&grant).unwrap_or_default();
    let live = grant["expiresAt"]
        .as_i64()
        .is_some_and(|t| t > hookline_core::clock::now_ms());
    Ok(grant["app"]
        .as_str()
        .filter(|_| live)
        .and_then(|a| a.parse().ok()))
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::api(StatusCode::UNAUTHORIZED, "authentication_failed", detail)
}

/// Middleware: `Authorization: Bearer <token>`. The admin token opens every
/// route; an app-scoped token only `/app/{its app}/…` (by id or uid); else 401/403.
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
    let app = app_of_token(store, given)
        .await
        .map_err(|e| ApiError::internal(Shape::Api, e))?
        .ok_or_else(|| unauthorized("Invalid token"))?;
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
            .map_err(|e| ApiError::internal(Shape::Api, e))?
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
