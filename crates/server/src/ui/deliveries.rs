//! Deliveries: applications → endpoints → messages → attempts, and what
//! people do with them: create and edit an endpoint, enable or disable it,
//! rotate its secret (shown once), resend one delivery, recover a time range.
//! An application's token sees only its own application.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use hookline_core::clock::{now_ms, rfc3339};
use hookline_core::{App, Attempt, Endpoint, MessageId, PageRequest, Trigger};
use hookline_signature::Secret;
use serde::{Deserialize, Serialize};

use super::session::{CsrfForm, Session};
use super::views;
use crate::actions::endpoint::{apply, new_secret, report, rotate_to};
use crate::actions::{app_of, endpoint_of};
use crate::api::send_model::EndpointIn;
use crate::state::AppState;

/// The app a path names, if this session may see it (else a 404 page, so
/// other apps' existence is not revealed).
pub(super) async fn visible_app(state: &AppState, s: &Session, key: &str) -> Result<App, Response> {
    match app_of(state, key).await {
        Ok(app) if s.sees(&app.id) => Ok(app),
        Err(e) if e.status.is_server_error() => Err(s.failed(e)),
        _ => Err(s.error(StatusCode::NOT_FOUND, format!("No application `{key}`."))),
    }
}

pub(super) async fn visible_endpoint(
    state: &AppState,
    s: &Session,
    app: &str,
    ep: &str,
) -> Result<(App, Endpoint), Response> {
    let app = visible_app(state, s, app).await?;
    let e = endpoint_of(state, &app, ep)
        .await
        .map_err(|e| s.failed(e))?;
    Ok((app, e))
}

#[derive(Serialize)]
struct AppRow {
    id: String,
    name: String,
    uid: Option<String>,
    created: String,
}

fn app_row(a: &App) -> AppRow {
    AppRow {
        id: a.id.to_string(),
        name: a.name.clone(),
        uid: a.uid.clone(),
        created: rfc3339(a.created_at),
    }
}

pub async fn apps(State(state): State<AppState>, s: Session) -> Result<Response, Response> {
    apps_page(&state, &s, None).await
}

/// The applications, with the form to create one (and why the last try failed).
pub(super) async fn apps_page(
    state: &AppState,
    s: &Session,
    error: Option<String>,
) -> Result<Response, Response> {
    let apps: Vec<AppRow> = match s.app() {
        Some(mine) => visible_app(state, s, mine.as_str())
            .await
            .map(|a| vec![app_row(&a)])?,
        None => state
            .store
            .list_apps(&PageRequest::new(Some(250), None))
            .await
            .map_err(|e| s.failed(e.into()))?
            .data
            .iter()
            .map(app_row)
            .collect(),
    };
    Ok(views::render(
        views::form_status(&error),
        "apps.html",
        minijinja::context! { nav => "deliveries", csrf => s.csrf, admin => s.admin(), apps, error },
    ))
}

#[derive(Serialize)]
struct EndpointRow {
    id: String,
    url: String,
    description: String,
    event_types: String,
    disabled: bool,
    throttle_rate: Option<u16>,
    /// The JSON filter as it was saved; empty: none.
    filter: String,
}

fn endpoint_row(e: &Endpoint) -> EndpointRow {
    EndpointRow {
        id: e.id.to_string(),
        url: e.url.clone(),
        description: e.description.clone(),
        event_types: e
            .event_types
            .as_ref()
            .map(|t| t.join(", "))
            .unwrap_or_default(),
        disabled: e.disabled,
        throttle_rate: e.throttle_rate,
        filter: e
            .filter
            .as_ref()
            .map(|f| f.as_json().to_string())
            .unwrap_or_default(),
    }
}

async fn app_page(
    state: &AppState,
    s: &Session,
    app: &App,
    secret: Option<String>,
) -> Result<Response, Response> {
    let endpoints: Vec<EndpointRow> = state
        .store
        .list_endpoints(&app.id, &PageRequest::new(Some(250), None))
        .await
        .map_err(|e| s.failed(e.into()))?
        .data
        .iter()
        .map(endpoint_row)
        .collect();
    let messages: Vec<_> = state
        .store
        .list_messages(&app.id, &PageRequest::new(Some(50), None))
        .await
        .map_err(|e| s.failed(e.into()))?
        .data
        .iter()
        .map(|m| {
            minijinja::context! { id => m.id.to_string(), event_type => m.event_type.clone(), created => rfc3339(m.created_at) }
        })
        .collect();
    Ok(views::page(
        "app.html",
        minijinja::context! {
            nav => "deliveries", csrf => s.csrf, admin => s.admin(),
            app => app_row(app), endpoints, messages, secret,
        },
    ))
}

pub async fn app(
    State(state): State<AppState>,
    s: Session,
    Path(app): Path<String>,
) -> Result<Response, Response> {
    let app = visible_app(&state, &s, &app).await?;
    app_page(&state, &s, &app, None).await
}

#[derive(Deserialize)]
pub struct EndpointForm {
    csrf: String,
    url: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    event_types: String,
    #[serde(default)]
    throttle_rate: String,
    /// A JSON filter over the message (body, headers, …); empty: none.
    #[serde(default)]
    filter: String,
}

impl EndpointForm {
    /// The form as the API's input, so both are validated by the same code
    /// (`a, b` → `["a", "b"]`; no types → every type).
    fn input(&self) -> Result<EndpointIn, String> {
        let rate = self.throttle_rate.trim();
        let throttle_rate = match rate {
            "" => None,
            r => Some(r.parse::<u16>().ok().filter(|r| *r > 0).ok_or_else(|| {
                format!("The rate limit `{r}` must be a whole number of messages per second, 1 to 65535.")
            })?),
        };
        Ok(EndpointIn {
            url: Some(self.url.trim().to_string()),
            description: Some(self.description.trim().to_string()),
            event_types: Some(
                self.event_types
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            throttle_rate,
            // `{}` clears a filter, as in the API.
            filter: Some(match self.filter.trim() {
                "" => serde_json::json!({}),
                f => {
                    serde_json::from_str(f).map_err(|e| format!("The filter is not JSON: {e}."))?
                }
            }),
            ..EndpointIn::default()
        })
    }
}

pub async fn create_endpoint(
    State(state): State<AppState>,
    s: Session,
    Path(app): Path<String>,
    Form(form): Form<EndpointForm>,
) -> Result<Response, Response> {
    s.check_csrf(&form.csrf)?;
    let app = visible_app(&state, &s, &app).await?;
    let input = form
        .input()
        .map_err(|m| s.error(StatusCode::UNPROCESSABLE_ENTITY, m))?;
    let secret = new_secret();
    let mut e = Endpoint::new(&app, String::new(), Secret::new(secret.clone()), now_ms());
    apply(&mut e, input, false).map_err(|x| s.failed(x))?;
    state
        .store
        .create_endpoint(&e)
        .await
        .map_err(|x| s.failed(x.into()))?;
    report(&state, "endpoint.created", &e).await;
    app_page(&state, &s, &app, Some(secret)).await
}

#[derive(Serialize)]
struct AttemptRow {
    time: String,
    msg: String,
    url: String,
    status: &'static str,
    code: u16,
    ms: u64,
    response: String,
    manual: bool,
}

fn attempt_row(a: &Attempt) -> AttemptRow {
    AttemptRow {
        time: rfc3339(a.created_at),
        msg: a.message_id.to_string(),
        url: a.url.clone(),
        status: a.status.text(),
        code: a.response_status_code,
        ms: a.duration_ms,
        response: a.response.clone(),
        manual: a.trigger == Trigger::Manual,
    }
}

async fn endpoint_page(
    state: &AppState,
    s: &Session,
    app: &App,
    e: &Endpoint,
    secret: Option<String>,
) -> Result<Response, Response> {
    let stats = state
        .store
        .endpoint_stats(&app.id, &e.id, 0, i64::MAX)
        .await
        .map_err(|x| s.failed(x.into()))?;
    let attempts: Vec<AttemptRow> = state
        .store
        .list_attempts(
            &app.id,
            None,
            Some(&e.id),
            &PageRequest::new(Some(50), None),
        )
        .await
        .map_err(|x| s.failed(x.into()))?
        .data
        .iter()
        .map(attempt_row)
        .collect();
    // datetime-local wants `YYYY-MM-DDTHH:MM`: a day ago, by default.
    let since_default: String = rfc3339(now_ms() - 86_400_000).chars().take(16).collect();
    Ok(views::page(
        "endpoint.html",
        minijinja::context! {
            nav => "deliveries", csrf => s.csrf, admin => s.admin(),
            app => app_row(app), e => endpoint_row(e), secret, attempts, since_default,
            stats => minijinja::context! { success => stats.success, pending => stats.pending, sending => stats.sending, fail => stats.fail },
        },
    ))
}

pub async fn endpoint(
    State(state): State<AppState>,
    s: Session,
    Path((app, ep)): Path<(String, String)>,
) -> Result<Response, Response> {
    let (app, e) = visible_endpoint(&state, &s, &app, &ep).await?;
    endpoint_page(&state, &s, &app, &e, None).await
}

async fn save(state: &AppState, s: &Session, e: &Endpoint) -> Result<(), Response> {
    state
        .store
        .update_endpoint(e)
        .await
        .map_err(|x| s.failed(x.into()))?;
    report(state, "endpoint.updated", e).await;
    Ok(())
}

fn back_to(app: &App, e: &Endpoint) -> Response {
    Redirect::to(&format!("/ui/apps/{}/endpoints/{}", app.id, e.id)).into_response()
}

pub async fn edit(
    State(state): State<AppState>,
    s: Session,
    Path((app, ep)): Path<(String, String)>,
    Form(form): Form<EndpointForm>,
) -> Result<Response, Response> {
    s.check_csrf(&form.csrf)?;
    let (app, mut e) = visible_endpoint(&state, &s, &app, &ep).await?;
    let mut input = form
        .input()
        .map_err(|m| s.error(StatusCode::UNPROCESSABLE_ENTITY, m))?;
    // The edit form always shows the rate limit: empty clears it.
    input.rate_limit = None;
    let clear_rate = input.throttle_rate.is_none();
    apply(&mut e, input, false).map_err(|x| s.failed(x))?;
    if clear_rate {
        e.throttle_rate = None;
    }
    save(&state, &s, &e).await?;
    Ok(back_to(&app, &e))
}

pub async fn toggle(
    State(state): State<AppState>,
    s: Session,
    Path((app, ep)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Response> {
    s.check_csrf(&form.csrf)?;
    let (app, mut e) = visible_endpoint(&state, &s, &app, &ep).await?;
    e.disabled = !e.disabled;
    e.updated_at = now_ms();
    save(&state, &s, &e).await?;
    Ok(back_to(&app, &e))
}

pub async fn rotate(
    State(state): State<AppState>,
    s: Session,
    Path((app, ep)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Response> {
    s.check_csrf(&form.csrf)?;
    let (app, mut e) = visible_endpoint(&state, &s, &app, &ep).await?;
    let secret = new_secret();
    rotate_to(&mut e, secret.clone(), now_ms());
    save(&state, &s, &e).await?;
    endpoint_page(&state, &s, &app, &e, Some(secret)).await
}

#[derive(Deserialize)]
pub struct RecoverForm {
    csrf: String,
    since: String,
}

pub async fn recover(
    State(state): State<AppState>,
    s: Session,
    Path((app, ep)): Path<(String, String)>,
    Form(form): Form<RecoverForm>,
) -> Result<Response, Response> {
    s.check_csrf(&form.csrf)?;
    let (app, e) = visible_endpoint(&state, &s, &app, &ep).await?;
    let since = super::parse_local_time(&form.since)
        .map_err(|x| s.error(StatusCode::UNPROCESSABLE_ENTITY, x))?;
    state
        .store
        .requeue(&app.id, &e.id, None, since, now_ms())
        .await
        .map_err(|x| s.failed(x.into()))?;
    state.config.waker.wake();
    Ok(back_to(&app, &e))
}

pub async fn message(
    State(state): State<AppState>,
    s: Session,
    Path((app, msg)): Path<(String, String)>,
) -> Result<Response, Response> {
    let app = visible_app(&state, &s, &app).await?;
    let missing = || s.error(StatusCode::NOT_FOUND, format!("No message `{msg}`."));
    let id: MessageId = msg.parse().map_err(|_| missing())?;
    let m = state
        .store
        .get_message(&app.id, &id)
        .await
        .map_err(|x| s.failed(x.into()))?
        .ok_or_else(missing)?;
    let mut destinations = Vec::new();
    for d in state
        .store
        .list_deliveries(&app.id, &id)
        .await
        .map_err(|x| s.failed(x.into()))?
    {
        let url = state
            .store
            .get_endpoint(&app.id, d.endpoint_id.as_str())
            .await
            .ok()
            .flatten()
            .map(|e| e.url)
            .unwrap_or_default();
        destinations.push(minijinja::context! {
            endpoint_id => d.endpoint_id.to_string(), url, status => d.status.text(),
            attempts => d.attempts, next => d.next_attempt_at.map(rfc3339),
        });
    }
    let attempts: Vec<AttemptRow> = state
        .store
        .list_attempts(&app.id, Some(&id), None, &PageRequest::new(Some(100), None))
        .await
        .map_err(|x| s.failed(x.into()))?
        .data
        .iter()
        .map(attempt_row)
        .collect();
    let payload = serde_json::from_str::<serde_json::Value>(&m.payload)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| "(expired by retention)".into());
    Ok(views::page(
        "message.html",
        minijinja::context! {
            nav => "deliveries", csrf => s.csrf, admin => s.admin(), app => app_row(&app),
            m => minijinja::context! { id => m.id.to_string(), event_type => m.event_type, event_id => m.event_id, created => rfc3339(m.created_at), payload },
            destinations, attempts,
        },
    ))
}

pub async fn resend(
    State(state): State<AppState>,
    s: Session,
    Path((app, msg, ep)): Path<(String, String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Response> {
    s.check_csrf(&form.csrf)?;
    let (app, e) = visible_endpoint(&state, &s, &app, &ep).await?;
    let id: MessageId = msg
        .parse()
        .map_err(|_| s.error(StatusCode::NOT_FOUND, format!("No message `{msg}`.")))?;
    state
        .store
        .requeue(&app.id, &e.id, Some(&id), 0, now_ms())
        .await
        .map_err(|x| s.failed(x.into()))?;
    state.config.waker.wake();
    Ok(Redirect::to(&format!("/ui/apps/{}/msg/{}", app.id, id)).into_response())
}
