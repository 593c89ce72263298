//! Logging in: a token (the admin's, or an application's) is exchanged for a
//! session: a random id in an `HttpOnly; SameSite=Strict` cookie, whose hash
//! keys a setting in the store (so every node knows it) that expires in 12
//! hours. Each session has a CSRF token that every form carries back.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use hookline_core::clock::now_ms;
use hookline_core::AppId;
use rand::distributions::{Alphanumeric, DistString};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::views;
use crate::error::ApiError;
use crate::state::AppState;

const COOKIE: &str = "hl_session";
/// The login form's own CSRF token (double-submit: cookie and field must match).
const LOGIN_COOKIE: &str = "hl_login";
const LIFETIME_MS: i64 = 12 * 3600 * 1000;

/// Who is logged in, and the token their forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    /// `None`: the admin; else the one application this session may see.
    app: Option<AppId>,
    pub csrf: String,
    key: String,
}

fn random() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
}

fn setting_key(id: &str) -> String {
    format!("ui_session:{}", hex::encode(Sha256::digest(id.as_bytes())))
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn equal(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl Session {
    pub fn admin(&self) -> bool {
        self.app.is_none()
    }

    /// The application an app-scoped session is limited to.
    pub fn app(&self) -> Option<&AppId> {
        self.app.as_ref()
    }

    /// Whether this session may see `app`.
    pub fn sees(&self, app: &AppId) -> bool {
        self.app.as_ref().is_none_or(|mine| mine == app)
    }

    /// `Err` (a 403 page) unless this is the admin.
    pub fn require_admin(&self) -> Result<(), Response> {
        if self.admin() {
            Ok(())
        } else {
            Err(self.error(
                StatusCode::FORBIDDEN,
                "This page needs the admin token; an application's token opens only its own application.",
            ))
        }
    }

    /// `Err` (a 403 page) unless the form carried this session's CSRF token.
    pub fn check_csrf(&self, given: &str) -> Result<(), Response> {
        if equal(given, &self.csrf) {
            Ok(())
        } else {
            Err(self.error(
                StatusCode::FORBIDDEN,
                "This form is out of date (its security token does not match); reload the page and try again.",
            ))
        }
    }

    /// An error page for this session.
    pub fn error(&self, status: StatusCode, message: impl Into<String>) -> Response {
        views::error(status, message, &self.csrf, self.admin())
    }

    /// The UI's one error policy for a failed action: what the person can fix
    /// (not found, invalid, conflict) in its own words and status; a failure of
    /// the server (already logged where it happened) as a plain "try again"
    /// page, never its internal text and never a 404.
    pub fn failed(&self, e: ApiError) -> Response {
        if e.status.is_server_error() {
            return self.error(
                StatusCode::SERVICE_UNAVAILABLE,
                "hookline could not do this just now (the cause is in its log). Try again in a moment.",
            );
        }
        self.error(e.status, e.detail)
    }

    /// Why a form was refused, to show beside it; a failure of the server's
    /// own (5xx) is not the form's fault and gets [`Session::failed`]'s page.
    pub fn refusal(&self, e: ApiError) -> Result<String, Response> {
        match e.status.is_server_error() {
            true => Err(self.failed(e)),
            false => Ok(e.detail),
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || {
            // The UI is nested: the original URI has the `/ui` prefix.
            let uri = parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map_or(&parts.uri, |o| &o.0);
            let next = uri.path_and_query().map_or("/ui/", |p| p.as_str());
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            Redirect::to(&format!("/ui/login?next={next}")).into_response()
        };
        let Some(id) = cookie(&parts.headers, COOKIE) else {
            return Err(to_login());
        };
        let key = setting_key(&id);
        let stored = state.store.get_setting(&key).await.map_err(|e| {
            views::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("The store does not answer: {e}"),
                "",
                false,
            )
        })?;
        let Some(stored) = stored else {
            return Err(to_login());
        };
        let v: serde_json::Value = serde_json::from_str(&stored).unwrap_or_default();
        let csrf = v["csrf"].as_str().unwrap_or_default().to_string();
        if csrf.is_empty() {
            return Err(to_login());
        }
        let app = v["app"].as_str().and_then(|a| a.parse().ok());
        if v["scope"] != "admin" && app.is_none() {
            return Err(to_login());
        }
        Ok(Session { app, csrf, key })
    }
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only paths within the UI, so `next` cannot send anyone elsewhere.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/ui/") && !n.starts_with("/ui//") && !n.contains('\\'))
        .unwrap_or("/ui/")
        .to_string()
}

fn login_form(status: StatusCode, next: &str, error: Option<&str>) -> Response {
    let csrf = random();
    let mut resp = views::render(
        status,
        "login.html",
        minijinja::context! { csrf, next, error },
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={csrf}; HttpOnly; SameSite=Strict; Path=/ui/login; Max-Age=3600"
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    login_form(StatusCode::OK, &safe_next(q.next.as_deref()), None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    csrf: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !equal(&expected, &form.csrf) {
        return login_form(
            StatusCode::FORBIDDEN,
            &next,
            Some("The login form expired; try again."),
        );
    }
    let token = form.token.trim();
    let scope = if state.admin.matches(token) {
        json!({ "scope": "admin" })
    } else {
        match crate::auth::app_of_token(state.store.as_ref(), token).await {
            Ok(Some(app)) => json!({ "scope": "app", "app": app }),
            Ok(None) => {
                return login_form(
                    StatusCode::UNAUTHORIZED,
                    &next,
                    Some("That token is not valid (or has expired)."),
                )
            }
            Err(e) => {
                return views::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("The store does not answer: {e}"),
                    "",
                    false,
                )
            }
        }
    };
    let id = random();
    let mut value = scope;
    value["csrf"] = json!(random());
    let saved = state
        .store
        .set_setting(
            &setting_key(&id),
            &value.to_string(),
            Some(now_ms() + LIFETIME_MS),
        )
        .await;
    if let Err(e) = saved {
        return views::error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("Cannot save the session: {e}"),
            "",
            false,
        );
    }
    let secure = if state.config.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    let mut resp = Redirect::to(&next).into_response();
    for c in [
        format!(
            "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age={}{secure}",
            LIFETIME_MS / 1000
        ),
        format!("{LOGIN_COOKIE}=; HttpOnly; SameSite=Strict; Path=/ui/login; Max-Age=0"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    s: Session,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(r) = s.check_csrf(&form.csrf) {
        return r;
    }
    // Expire it in the store, so the cookie is worthless even if kept.
    let _ = state
        .store
        .set_setting(&s.key, "{}", Some(now_ms() - 1))
        .await;
    let mut resp = Redirect::to("/ui/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0"
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}
