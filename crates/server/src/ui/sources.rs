//! Sources: the list, creating one (a secret generated and shown once),
//! editing and deleting one. The form becomes the API's own `SourceSpec`, and
//! `actions::source` saves it, so the UI and the API validate alike.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use hookline_core::source::{AuthSpec, OneOrMany, RepliesSpec, DEFAULT_SOURCE};
use hookline_core::{AuthKind, Source, SourceSpec};
use serde::{Deserialize, Serialize};

use super::session::{CsrfForm, Session};
use super::views;
use crate::actions;
use crate::actions::endpoint::new_secret;
use crate::api::model::SourceOut;
use crate::error::ApiError;
use crate::state::AppState;

/// The source form as posted.
#[derive(Deserialize, Serialize, Default)]
pub struct SourceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    scheme: String,
    /// Empty: generate one (creating) or keep the current ones (editing).
    #[serde(default, skip_serializing)]
    secret: String,
    /// No secret at all: the source checks credentials, or nothing.
    #[serde(default)]
    no_secret: Option<String>,
    #[serde(default)]
    tolerance: String,
    #[serde(default)]
    dedup: String,
    #[serde(default)]
    dedup_window: String,
    #[serde(default)]
    allow_ips: String,
    #[serde(default)]
    rate_limit: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    event_type: String,
    /// `none`, `header`, `bearer` or `basic`.
    #[serde(default)]
    auth: String,
    #[serde(default)]
    auth_header: String,
    /// Empty keeps the current value(s) when the kind is unchanged.
    #[serde(default, skip_serializing)]
    auth_value: String,
    /// The replies as JSON (`{"received": {"status": 202, "body": "ok"}}`).
    #[serde(default)]
    reply: String,
    #[serde(default, skip_deserializing)]
    existing: bool,
}

fn number<T: std::str::FromStr>(s: &str, what: &str) -> Result<Option<T>, String> {
    match s.trim() {
        "" => Ok(None),
        n => n
            .parse()
            .map(Some)
            .map_err(|_| format!("{what} must be a whole number (got `{n}`)")),
    }
}

impl SourceForm {
    /// The form filled in from a stored source (secrets and credentials are never shown).
    fn of(s: &Source) -> SourceForm {
        let out = SourceOut::from(s);
        let kind = s.auth.as_ref().map(|a| &a.kind);
        let auth = kind.map_or("none", Self::kind_name);
        let auth_header = match kind {
            Some(AuthKind::Header(h)) => h.clone(),
            _ => String::new(),
        };
        let replies =
            s.reply.received.is_some() || s.reply.duplicate.is_some() || s.reply.rejected.is_some();
        SourceForm {
            name: s.name.clone(),
            scheme: out.scheme.to_string(),
            no_secret: s.secrets.is_empty().then(|| "on".to_string()),
            tolerance: out.tolerance.to_string(),
            dedup: out.dedup,
            dedup_window: out.dedup_window.to_string(),
            allow_ips: out.allow_ips.join(", "),
            rate_limit: s.rate_limit.map(|r| r.to_string()).unwrap_or_default(),
            path: s.path.clone().unwrap_or_default(),
            event_type: out.event_type,
            auth: auth.to_string(),
            auth_header,
            reply: if replies {
                serde_json::to_string_pretty(&out.reply).unwrap_or_default()
            } else {
                String::new()
            },
            existing: true,
            ..SourceForm::default()
        }
    }

    /// What the form says, as the API's spec, and the secret generated for
    /// it (to be shown once). `existing` keeps the secrets and credentials
    /// the form left empty.
    fn spec(&self, existing: Option<&Source>) -> Result<(SourceSpec, Option<String>), String> {
        let (secrets, generated) = match (self.secret.trim(), existing) {
            _ if self.no_secret.is_some() => (Vec::new(), None),
            ("", Some(old)) if !old.secrets.is_empty() => (
                old.secrets.iter().map(|s| s.expose().to_string()).collect(),
                None,
            ),
            ("", _) => {
                let fresh = new_secret();
                (vec![fresh.clone()], Some(fresh))
            }
            (s, _) => (vec![s.to_string()], None),
        };
        let kept = existing
            .and_then(|s| s.auth.as_ref())
            .filter(|a| self.auth == Self::kind_name(&a.kind))
            .map(|a| a.values.iter().map(|v| v.expose().to_string()).collect());
        let value = match (self.auth_value.trim(), kept) {
            ("", Some(kept)) => Some(OneOrMany::Many(kept)),
            ("", None) => None,
            (v, _) => Some(OneOrMany::One(v.to_string())),
        };
        let auth = match self.auth.as_str() {
            "" | "none" => None,
            "header" => Some(AuthSpec {
                header: Some(self.auth_header.trim().to_string()),
                value,
                ..AuthSpec::default()
            }),
            "bearer" => Some(AuthSpec {
                bearer: value,
                ..AuthSpec::default()
            }),
            "basic" => Some(AuthSpec {
                basic: value,
                ..AuthSpec::default()
            }),
            other => return Err(format!("unknown authentication `{other}`")),
        };
        let reply = match self.reply.trim() {
            "" => None,
            r => Some(
                serde_json::from_str::<RepliesSpec>(r)
                    .map_err(|e| format!("the replies are not valid: {e}"))?,
            ),
        };
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let spec = SourceSpec {
            name: self.name.trim().to_string(),
            scheme: text(&self.scheme),
            secret: None,
            secrets,
            tolerance: number(&self.tolerance, "the tolerance")?,
            dedup: text(&self.dedup),
            dedup_window: number(&self.dedup_window, "the dedup window")?,
            allow_ips: self
                .allow_ips
                .split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            rate_limit: number(&self.rate_limit, "the rate limit")?,
            path: text(&self.path),
            reply,
            event_type: text(&self.event_type),
            auth,
        };
        Ok((spec, generated))
    }

    /// The form's name for a kind of credentials.
    fn kind_name(kind: &AuthKind) -> &'static str {
        match kind {
            AuthKind::Header(_) => "header",
            AuthKind::Bearer => "bearer",
            AuthKind::Basic => "basic",
        }
    }
}

/// Saves what the form says over `existing` (or as a new source): the saved
/// source and the secret generated for it.
async fn save(
    state: &AppState,
    form: &SourceForm,
    existing: Option<&Source>,
) -> Result<(Source, Option<String>), ApiError> {
    let (spec, secret) = form.spec(existing).map_err(ApiError::validation)?;
    let source = actions::source::save(state, spec, existing).await?;
    Ok((source, secret))
}

async fn list_page(
    state: &AppState,
    s: &Session,
    form: SourceForm,
    error: Option<String>,
) -> Result<Response, Response> {
    let sources: Vec<SourceOut> = state
        .store
        .list_sources()
        .await
        .map_err(|e| s.failed(e.into()))?
        .iter()
        .map(SourceOut::from)
        .collect();
    Ok(views::render(
        views::form_status(&error),
        "sources.html",
        minijinja::context! {
            nav => "sources", csrf => s.csrf, admin => true, sources, error,
            f => form, schemes => views::schemes(), form_action => "/ui/sources",
        },
    ))
}

async fn source_page(
    s: &Session,
    source: &Source,
    form: SourceForm,
    error: Option<String>,
    secret: Option<String>,
) -> Result<Response, Response> {
    Ok(views::render(
        views::form_status(&error),
        "source.html",
        minijinja::context! {
            nav => "sources", csrf => s.csrf, admin => true, error, secret,
            src => SourceOut::from(source), default => source.name == DEFAULT_SOURCE,
            f => form, schemes => views::schemes(),
            form_action => format!("/ui/sources/{}/edit", source.name),
        },
    ))
}

async fn source_of(state: &AppState, s: &Session, name: &str) -> Result<Source, Response> {
    match state.store.get_source(name).await {
        Ok(Some(source)) => Ok(source),
        Ok(None) => Err(s.error(StatusCode::NOT_FOUND, format!("No source `{name}`."))),
        Err(e) => Err(s.failed(e.into())),
    }
}

pub async fn list(State(state): State<AppState>, s: Session) -> Result<Response, Response> {
    s.require_admin()?;
    list_page(&state, &s, SourceForm::default(), None).await
}

pub async fn create(
    State(state): State<AppState>,
    s: Session,
    Form(form): Form<SourceForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    match save(&state, &form, None).await {
        // The new source's page, with its generated secret shown this once.
        Ok((source, secret)) => {
            source_page(&s, &source, SourceForm::of(&source), None, secret).await
        }
        Err(e) => list_page(&state, &s, form, Some(s.refusal(e)?)).await,
    }
}

pub async fn page(
    State(state): State<AppState>,
    s: Session,
    Path(name): Path<String>,
) -> Result<Response, Response> {
    s.require_admin()?;
    let source = source_of(&state, &s, &name).await?;
    source_page(&s, &source, SourceForm::of(&source), None, None).await
}

pub async fn edit(
    State(state): State<AppState>,
    s: Session,
    Path(name): Path<String>,
    Form(mut form): Form<SourceForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let old = source_of(&state, &s, &name).await?;
    form.name.clone_from(&old.name);
    form.existing = true;
    match save(&state, &form, Some(&old)).await {
        Ok((source, secret)) => {
            source_page(&s, &source, SourceForm::of(&source), None, secret).await
        }
        Err(e) => source_page(&s, &old, form, Some(s.refusal(e)?), None).await,
    }
}

pub async fn delete(
    State(state): State<AppState>,
    s: Session,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    actions::source::delete(&state, &name)
        .await
        .map_err(|e| s.failed(e))?;
    Ok(Redirect::to("/ui/sources").into_response())
}
