//! Routes: the list with what each has waiting, creating and editing one,
//! pause and resume, recover; and resending one event's forward from its page.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use hookline_core::clock::{now_ms, rfc3339};
use hookline_core::{Route, RouteSpec};
use serde::{Deserialize, Serialize};

use super::session::{CsrfForm, Session};
use super::views;
use crate::actions::route::{self, route_of};
use crate::api::route_model::RouteOut;
use crate::error::ApiError;
use crate::state::AppState;

/// The route form as posted.
#[derive(Deserialize, Serialize, Default)]
pub struct RouteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    filter: String,
    #[serde(default)]
    retry_schedule: String,
    #[serde(default)]
    rate_limit: String,
    #[serde(default)]
    max_concurrency: String,
    #[serde(default)]
    headers: String,
    #[serde(default)]
    sign: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    ordered: Option<String>,
    /// Editing an existing route (the name is then fixed).
    #[serde(default, skip_deserializing)]
    existing: bool,
}

impl RouteForm {
    /// The form filled in from a stored route (the secret is never shown).
    fn of(r: &Route) -> RouteForm {
        let out = RouteOut::from(r);
        RouteForm {
            name: r.name.clone(),
            source: r.source.clone(),
            url: r.url.clone(),
            filter: out.filter.map(|f| f.to_string()).unwrap_or_default(),
            retry_schedule: out
                .retry_schedule
                .map(|s| s.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            rate_limit: r.rate_limit.map(|n| n.to_string()).unwrap_or_default(),
            max_concurrency: r
                .policy
                .max_concurrency
                .map(|n| n.to_string())
                .unwrap_or_default(),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("\n"),
            sign: out.sign.to_string(),
            ordered: r.ordered.then(|| "on".to_string()),
            existing: true,
            ..RouteForm::default()
        }
    }

    /// What the form says, as a spec; `existing` keeps what the form cannot
    /// show (the secret, the timeout, the paused flag).
    fn spec(&self, existing: Option<&Route>) -> Result<RouteSpec, String> {
        let number = |s: &str, what: &str| -> Result<Option<u16>, String> {
            match s.trim() {
                "" => Ok(None),
                n => n
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{what} must be a whole number (got `{n}`)")),
            }
        };
        let filter = match self.filter.trim() {
            "" => None,
            f => Some(serde_json::Value::String(f.to_string())),
        };
        let retry_schedule = match self.retry_schedule.trim() {
            "" => None,
            list => Some(
                list.split(',')
                    .map(|d| d.trim().parse::<u64>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        format!("retry schedule `{list}` must be seconds, comma-separated")
                    })?,
            ),
        };
        let mut headers = BTreeMap::new();
        for line in self.headers.lines().filter(|l| !l.trim().is_empty()) {
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| format!("header line `{line}` must be `Name: value`"))?;
            headers.insert(k.trim().to_string(), v.trim().to_string());
        }
        let secret = match (self.secret.trim(), existing.and_then(|r| r.sign.as_ref())) {
            ("", Some(kept)) if self.sign == "standard" => Some(kept.expose().to_string()),
            ("", _) => None,
            (s, _) => Some(s.to_string()),
        };
        Ok(RouteSpec {
            name: self.name.trim().to_string(),
            source: self.source.clone(),
            url: self.url.trim().to_string(),
            filter,
            retry_schedule,
            timeout: existing.and_then(|r| r.policy.timeout.map(|t| t.as_secs())),
            rate_limit: number(&self.rate_limit, "the rate limit")?,
            max_concurrency: number(&self.max_concurrency, "max in flight")?,
            ordered: Some(self.ordered.is_some()),
            paused: existing.map(|r| r.paused),
            headers,
            sign: Some(if self.sign.is_empty() {
                "none".into()
            } else {
                self.sign.clone()
            }),
            secret: secret.filter(|_| self.sign == "standard"),
        })
    }
}

/// Saves what the form says over `existing` (or as a new route).
async fn save(
    state: &AppState,
    form: &RouteForm,
    existing: Option<&Route>,
) -> Result<Route, ApiError> {
    let spec = form.spec(existing).map_err(ApiError::validation)?;
    route::save(state, spec, existing, false).await
}

#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    route: RouteOut,
    pending: u64,
}

async fn source_names(state: &AppState) -> Vec<String> {
    let all = state.store.list_sources().await.unwrap_or_default();
    all.into_iter().map(|s| s.name).collect()
}

async fn waiting_on(state: &AppState, r: &Route) -> u64 {
    let all = route::with_waiting(state).await.unwrap_or_default();
    all.iter().find(|(x, _)| x.id == r.id).map_or(0, |p| p.1)
}

async fn list_page(
    state: &AppState,
    s: &Session,
    form: RouteForm,
    error: Option<String>,
) -> Result<Response, Response> {
    let rows: Vec<Row> = route::with_waiting(state)
        .await
        .map_err(|e| s.failed(e))?
        .iter()
        .map(|(r, pending)| Row {
            route: RouteOut::from(r),
            pending: *pending,
        })
        .collect();
    Ok(views::render(
        views::form_status(&error),
        "routes.html",
        minijinja::context! {
            nav => "routes", csrf => s.csrf, admin => true, routes => rows, error,
            sources => source_names(state).await, f => form, form_action => "/ui/routes",
        },
    ))
}

async fn route_page(
    state: &AppState,
    s: &Session,
    r: &Route,
    form: RouteForm,
    error: Option<String>,
    recovered: Option<usize>,
) -> Result<Response, Response> {
    let since_default: String = rfc3339(now_ms() - 86_400_000).chars().take(16).collect();
    Ok(views::render(
        views::form_status(&error),
        "route.html",
        minijinja::context! {
            nav => "routes", csrf => s.csrf, admin => true, r => RouteOut::from(r), error,
            pending => waiting_on(state, r).await, since_default, recovered,
            sources => source_names(state).await, f => form,
            form_action => format!("/ui/routes/{}/edit", r.name),
        },
    ))
}

pub async fn list(State(state): State<AppState>, s: Session) -> Result<Response, Response> {
    s.require_admin()?;
    list_page(&state, &s, RouteForm::default(), None).await
}

pub async fn create(
    State(state): State<AppState>,
    s: Session,
    Form(form): Form<RouteForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    match save(&state, &form, None).await {
        Ok(r) => Ok(Redirect::to(&format!("/ui/routes/{}", r.name)).into_response()),
        Err(e) => list_page(&state, &s, form, Some(s.refusal(e)?)).await,
    }
}

pub async fn page(
    State(state): State<AppState>,
    s: Session,
    Path(name): Path<String>,
) -> Result<Response, Response> {
    s.require_admin()?;
    let r = route_of(&state, &name).await.map_err(|e| s.failed(e))?;
    route_page(&state, &s, &r, RouteForm::of(&r), None, None).await
}

pub async fn edit(
    State(state): State<AppState>,
    s: Session,
    Path(name): Path<String>,
    Form(mut form): Form<RouteForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let r = route_of(&state, &name).await.map_err(|e| s.failed(e))?;
    form.name.clone_from(&r.name);
    form.existing = true;
    match save(&state, &form, Some(&r)).await {
        Ok(r) => Ok(Redirect::to(&format!("/ui/routes/{}", r.name)).into_response()),
        Err(e) => route_page(&state, &s, &r, form, Some(s.refusal(e)?), None).await,
    }
}

pub async fn toggle(
    State(state): State<AppState>,
    s: Session,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let r = route_of(&state, &name).await.map_err(|e| s.failed(e))?;
    route::set_paused(&state, &r, !r.paused)
        .await
        .map_err(|e| s.failed(e))?;
    Ok(Redirect::to(&format!("/ui/routes/{}", r.name)).into_response())
}

#[derive(Deserialize)]
pub struct RecoverForm {
    csrf: String,
    since: String,
}

pub async fn recover(
    State(state): State<AppState>,
    s: Session,
    Path(name): Path<String>,
    Form(form): Form<RecoverForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let r = route_of(&state, &name).await.map_err(|e| s.failed(e))?;
    let since = super::parse_local_time(&form.since)
        .map_err(|x| s.error(StatusCode::UNPROCESSABLE_ENTITY, x))?;
    let n = route::requeue(&state, &r, None, since)
        .await
        .map_err(|e| s.failed(e))?;
    route_page(&state, &s, &r, RouteForm::of(&r), None, Some(n)).await
}

/// From an event's page: its forward down one route, again, now.
pub async fn resend(
    State(state): State<AppState>,
    s: Session,
    Path((source, id, name)): Path<(String, String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let r = route_of(&state, &name).await.map_err(|e| s.failed(e))?;
    let event = id
        .parse()
        .map_err(|_| s.error(StatusCode::NOT_FOUND, format!("No event `{id}`.")))?;
    route::requeue(&state, &r, Some(&event), 0)
        .await
        .map_err(|e| s.failed(e))?;
    Ok(Redirect::to(&format!("/ui/inbox/{source}/{id}")).into_response())
}
