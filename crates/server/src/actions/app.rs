//! Applications: the one validation of an application's fields (API and UI
//! forms alike): creating, changing and deleting one.

use hookline_core::clock::now_ms;
use hookline_core::{App, AppId};

use crate::api::send_model::{check_token, AppIn};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest application name (its uid, like every id, at most 256 of a-z, A-Z, 0-9, `-_.`).
const MAX_NAME: usize = 256;

pub(crate) fn apply(app: &mut App, input: AppIn, replace: bool) -> Result<(), ApiError> {
    match input.name {
        Some(n) if n.chars().count() > MAX_NAME => {
            return Err(ApiError::validation(format!(
                "name must be at most {MAX_NAME} characters"
            )))
        }
        Some(n) if !n.trim().is_empty() => app.name = n,
        Some(_) => return Err(ApiError::validation("name must not be empty")),
        None if replace => return Err(ApiError::validation("name is required")),
        None => {}
    }
    if let Some(uid) = &input.uid {
        check_token("uid", uid)?;
    }
    if replace || input.uid.is_some() {
        app.uid = input.uid;
    }
    if replace || input.metadata.is_some() {
        app.metadata = input.metadata.unwrap_or_default();
    }
    if replace || input.throttle_rate.is_some() {
        app.throttle_rate = input.throttle_rate;
    }
    app.updated_at = now_ms();
    Ok(())
}

/// Creates an application from `input` (a name is required).
pub(crate) async fn create(state: &AppState, input: AppIn) -> Result<App, ApiError> {
    let now = now_ms();
    let mut app = App {
        id: AppId::at(now),
        uid: None,
        name: String::new(),
        metadata: Default::default(),
        throttle_rate: None,
        created_at: now,
        updated_at: now,
    };
    apply(&mut app, input, true)?;
    state.store.create_app(&app).await?;
    Ok(app)
}

/// Changes the application `key` (an id or uid): every field with `replace`,
/// else only those given.
pub(crate) async fn change(
    state: &AppState,
    key: &str,
    input: AppIn,
    replace: bool,
) -> Result<App, ApiError> {
    let mut app = super::app_of(state, key).await?;
    apply(&mut app, input, replace)?;
    state.store.update_app(&app).await?;
    Ok(app)
}

/// Deletes an application with its endpoints and messages.
pub(crate) async fn delete(state: &AppState, app: &App) -> Result<(), ApiError> {
    Ok(state.store.delete_app(&app.id).await?)
}
