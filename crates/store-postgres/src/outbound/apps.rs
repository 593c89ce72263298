//! Applications and event types: create, read, list, update, delete.

use hookline_core::{App, AppId, EventType, Page, PageRequest, StoreError};

use super::{exec, limit, page, rows, uid_taken, Db};
use crate::codec::{self, all, int, to_json, APP_COLUMNS, EVENT_TYPE_COLUMNS};

pub(crate) async fn insert_app(c: &Db, a: &App) -> Result<(), StoreError> {
    exec(
        c,
        &format!("INSERT INTO app ({APP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
        &[
            &a.id.as_str(),
            &a.uid,
            &a.name,
            &to_json(&a.metadata)?,
            &int(a.throttle_rate),
            &a.created_at,
            &a.updated_at,
        ],
    )
    .await
    .map(|_| ())
    .map_err(|e| uid_taken(e, "an application"))
}

pub(crate) async fn update_app(c: &Db, a: &App) -> Result<(), StoreError> {
    let n = exec(
        c,
        "UPDATE app SET uid = $2, name = $3, metadata = $4, throttle_rate = $5, updated_at = $6 WHERE id = $1",
        &[
            &a.id.as_str(),
            &a.uid,
            &a.name,
            &to_json(&a.metadata)?,
            &int(a.throttle_rate),
            &a.updated_at,
        ],
    )
    .await
    .map_err(|e| uid_taken(e, "an application"))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn delete_app(c: &Db, id: &AppId) -> Result<(), StoreError> {
    match exec(c, "DELETE FROM app WHERE id = $1", &[&id.as_str()]).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) async fn select_app(c: &Db, key: &str) -> Result<Option<App>, StoreError> {
    let sql = format!(
        "SELECT {APP_COLUMNS} FROM app WHERE id = $1 OR uid = $1 ORDER BY id = $1 DESC LIMIT 1"
    );
    rows(c, &sql, &[&key])
        .await?
        .first()
        .map(codec::app)
        .transpose()
}

pub(crate) async fn list_apps(c: &Db, req: &PageRequest) -> Result<Page<App>, StoreError> {
    let sql = format!(
        "SELECT {APP_COLUMNS} FROM app WHERE ($1::text IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
    );
    let found = rows(c, &sql, &[&req.iterator, &limit(req)]).await?;
    Ok(page(all(&found, codec::app)?, req, |a| a.id.to_string()))
}

pub(crate) async fn insert_event_type(c: &Db, t: &EventType) -> Result<(), StoreError> {
    let schemas = t.schemas.as_ref().map(to_json).transpose()?;
    exec(
        c,
        &format!("INSERT INTO event_type ({EVENT_TYPE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
        &[
            &t.name,
            &t.description,
            &schemas,
            &t.archived,
            &t.created_at,
            &t.updated_at,
        ],
    )
    .await
    .map(|_| ())
    .map_err(|e| match e {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("an event type named `{}` exists", t.name))
        }
        other => other,
    })
}

pub(crate) async fn update_event_type(c: &Db, t: &EventType) -> Result<(), StoreError> {
    let schemas = t.schemas.as_ref().map(to_json).transpose()?;
    let n = exec(
        c,
        "UPDATE event_type SET description = $2, schemas = $3, archived = $4, updated_at = $5 WHERE name = $1",
        &[&t.name, &t.description, &schemas, &t.archived, &t.updated_at],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn delete_event_type(c: &Db, name: &str) -> Result<(), StoreError> {
    match exec(c, "DELETE FROM event_type WHERE name = $1", &[&name]).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) async fn select_event_type(c: &Db, name: &str) -> Result<Option<EventType>, StoreError> {
    let sql = format!("SELECT {EVENT_TYPE_COLUMNS} FROM event_type WHERE name = $1");
    rows(c, &sql, &[&name])
        .await?
        .first()
        .map(codec::event_type)
        .transpose()
}

pub(crate) async fn list_event_types(
    c: &Db,
    req: &PageRequest,
) -> Result<Page<EventType>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_TYPE_COLUMNS} FROM event_type WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2"
    );
    let found = rows(c, &sql, &[&req.iterator, &limit(req)]).await?;
    Ok(page(all(&found, codec::event_type)?, req, |t| {
        t.name.clone()
    }))
}
