//! The admin token. Configured (`admin_token` / `HOOKLINE_ADMIN_TOKEN`), or else
//! generated at first start, printed once, and stored only as its SHA-256.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use hookline_core::{Store, StoreError};
use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
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
        store.set_setting(SETTING, &hex::encode(hash)).await?;
        Ok((AdminToken { hash }, Some(token)))
    }
}

/// Middleware: `Authorization: Bearer <admin token>` or 401.
pub async fn require_admin(
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
        .map(str::trim);
    match given {
        Some(t) if state.admin.matches(t) => Ok(next.run(req).await),
        Some(_) => Err(ApiError::api(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "Invalid token",
        )),
        None => Err(ApiError::api(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "Missing token: send 'Authorization: Bearer <admin token>'",
        )),
    }
}
