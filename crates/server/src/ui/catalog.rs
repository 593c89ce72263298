//! The catalog from the UI: creating, renaming and deleting an application,
//! deleting an endpoint, and the event types (listed, created with an
//! optional JSON Schema, edited, archived, deleted). Each form becomes the
//! API's own input and goes through `actions`, so both validate alike.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use hookline_core::{EventType, PageRequest};
use serde::{Deserialize, Serialize};

use super::deliveries::{visible_app, visible_endpoint};
use super::session::{CsrfForm, Session};
use super::views;
use crate::actions;
use crate::api::event_types::{EventTypeIn, EventTypeOut};
use crate::api::send_model::AppIn;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct AppForm {
    csrf: String,
    name: String,
    #[serde(default)]
    uid: String,
}

/// `POST /ui/apps`: a new application, then its page (to add endpoints).
pub async fn create_app(
    State(state): State<AppState>,
    s: Session,
    Form(form): Form<AppForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let input = AppIn {
        name: Some(form.name.trim().to_string()),
        uid: Some(form.uid.trim().to_string()).filter(|u| !u.is_empty()),
        metadata: None,
        throttle_rate: None,
    };
    match actions::app::create(&state, input).await {
        Ok(app) => Ok(Redirect::to(&format!("/ui/apps/{}", app.id)).into_response()),
        Err(e) => super::deliveries::apps_page(&state, &s, Some(s.refusal(e)?)).await,
    }
}

/// The event type form as posted.
#[derive(Deserialize, Serialize, Default)]
pub struct EventTypeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// A JSON Schema for version 1 of its payload; empty: none.
    #[serde(default)]
    schema: String,
}

impl EventTypeForm {
    /// What the form says, as the API's input. Editing `kept`, a schema that
    /// differs from its latest is added as the next version (the earlier ones
    /// stay), and an empty one removes them all.
    fn input(&self, kept: Option<&EventType>) -> Result<EventTypeIn, String> {
        let schemas = match (self.schema.trim(), kept) {
            ("", None) => None,
            ("", Some(_)) => Some(serde_json::Map::new()),
            (text, kept) => {
                let schema: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| format!("the schema is not JSON: {e}"))?;
                let mut versions = kept.and_then(|t| t.schemas.clone()).unwrap_or_default();
                if kept.and_then(EventType::latest_schema) != Some(&schema) {
                    let next = versions.keys().filter_map(|v| v.parse::<u64>().ok()).max();
                    versions.insert((next.unwrap_or(0) + 1).to_string(), schema);
                }
                Some(versions)
            }
        };
        Ok(EventTypeIn {
            name: Some(self.name.trim().to_string()),
            description: Some(self.description.trim().to_string()),
            schemas,
            archived: None,
        })
    }
}

async fn event_types_page(
    state: &AppState,
    s: &Session,
    form: EventTypeForm,
    error: Option<String>,
) -> Result<Response, Response> {
    let types: Vec<EventTypeOut> = state
        .store
        .list_event_types(&PageRequest::new(Some(PageRequest::MAX_LIMIT), None))
        .await
        .map_err(|e| s.failed(e.into()))?
        .data
        .iter()
        .map(EventTypeOut::from)
        .collect();
    Ok(views::render(
        views::form_status(&error),
        "event_types.html",
        minijinja::context! {
            nav => "event-types", csrf => s.csrf, admin => true, types, error, f => form,
        },
    ))
}

pub async fn event_types(State(state): State<AppState>, s: Session) -> Result<Response, Response> {
    s.require_admin()?;
    event_types_page(&state, &s, EventTypeForm::default(), None).await
}

pub async fn create_event_type(
    State(state): State<AppState>,
    s: Session,
    Form(form): Form<EventTypeForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let created = match form.input(None) {
        Ok(input) => actions::event_type::create(&state, input).await,
        Err(e) => Err(ApiError::validation(e)),
    };
    match created {
        Ok(_) => Ok(Redirect::to("/ui/event-types").into_response()),
        Err(e) => event_types_page(&state, &s, form, Some(s.refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct AppEditForm {
    csrf: String,
    name: String,
}

/// `POST /ui/apps/{app}/edit`: renames the application.
pub async fn edit_app(
    State(state): State<AppState>,
    s: Session,
    Path(key): Path<String>,
    Form(form): Form<AppEditForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let input = AppIn {
        name: Some(form.name.trim().to_string()),
        ..AppIn::default()
    };
    let app = actions::app::change(&state, &key, input, false)
        .await
        .map_err(|e| s.failed(e))?;
    Ok(Redirect::to(&format!("/ui/apps/{}", app.id)).into_response())
}

/// `POST /ui/apps/{app}/delete`: the application goes, with its endpoints and messages.
pub async fn delete_app(
    State(state): State<AppState>,
    s: Session,
    Path(key): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    let app = visible_app(&state, &s, &key).await?;
    actions::app::delete(&state, &app)
        .await
        .map_err(|e| s.failed(e))?;
    Ok(Redirect::to("/ui/apps").into_response())
}

/// `POST /ui/apps/{app}/endpoints/{ep}/delete`.
pub async fn delete_endpoint(
    State(state): State<AppState>,
    s: Session,
    Path((app, ep)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Response> {
    s.check_csrf(&form.csrf)?;
    let (app, e) = visible_endpoint(&state, &s, &app, &ep).await?;
    actions::endpoint::delete(&state, &app, &e)
        .await
        .map_err(|e| s.failed(e))?;
    Ok(Redirect::to(&format!("/ui/apps/{}", app.id)).into_response())
}

/// `GET /ui/event-types/{name}`: one event type, to edit, archive or delete.
pub async fn event_type(
    State(state): State<AppState>,
    s: Session,
    Path(name): Path<String>,
) -> Result<Response, Response> {
    s.require_admin()?;
    event_type_page(&state, &s, &name, None, None).await
}

async fn event_type_page(
    state: &AppState,
    s: &Session,
    name: &str,
    form: Option<EventTypeForm>,
    error: Option<String>,
) -> Result<Response, Response> {
    let t = actions::event_type::event_type_of(state, name)
        .await
        .map_err(|e| s.failed(e))?;
    let form = form.unwrap_or_else(|| EventTypeForm {
        name: t.name.clone(),
        description: t.description.clone(),
        schema: t
            .latest_schema()
            .and_then(|v| serde_json::to_string_pretty(v).ok())
            .unwrap_or_default(),
        ..EventTypeForm::default()
    });
    Ok(views::render(
        views::form_status(&error),
        "event_type.html",
        minijinja::context! {
            nav => "event-types", csrf => s.csrf, admin => true,
            t => EventTypeOut::from(&t), f => form, error,
        },
    ))
}

/// `POST /ui/event-types/{name}/edit`: a new description and schema.
pub async fn edit_event_type(
    State(state): State<AppState>,
    s: Session,
    Path(name): Path<String>,
    Form(mut form): Form<EventTypeForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    form.name.clone_from(&name);
    let kept = actions::event_type::event_type_of(&state, &name)
        .await
        .map_err(|e| s.failed(e))?;
    let changed = match form.input(Some(&kept)) {
        Ok(input) => actions::event_type::change(&state, &name, input, false).await,
        Err(e) => Err(ApiError::validation(e)),
    };
    match changed {
        Ok(_) => Ok(Redirect::to("/ui/event-types").into_response()),
        Err(e) => event_type_page(&state, &s, &name, Some(form), Some(s.refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: String,
    /// Delete for good instead of archiving.
    #[serde(default)]
    expunge: Option<String>,
}

/// `POST /ui/event-types/{name}/delete`: archived, or deleted for good.
pub async fn delete_event_type(
    State(state): State<AppState>,
    s: Session,
    Path(name): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    actions::event_type::delete(&state, &name, form.expunge.is_some())
        .await
        .map_err(|e| s.failed(e))?;
    Ok(Redirect::to("/ui/event-types").into_response())
}
