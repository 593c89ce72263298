//! Applications: create, read, list, update, delete.

use super::*;

pub(super) const APP_COLUMNS: &str =
    "id, uid, name, metadata, throttle_rate, created_at, updated_at";

pub(super) fn app(r: &Row<'_>) -> rusqlite::Result<App> {
    Ok(App {
        id: id(r, 0)?,
        uid: r.get(1)?,
        name: r.get(2)?,
        metadata: from_json("metadata", &r.get::<_, String>(3)?)?,
        throttle_rate: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

pub(super) fn uid_conflict(e: rusqlite::Error, what: &str) -> StoreError {
    match backend(e) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("{what} with this uid already exists"))
        }
        other => other,
    }
}

pub(crate) fn insert_app(c: &Connection, a: &App) -> Result<(), StoreError> {
    c.execute(
        &format!("INSERT INTO app ({APP_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            a.id.as_str(),
            a.uid,
            a.name,
            to_json(&a.metadata)?,
            a.throttle_rate,
            a.created_at,
            a.updated_at
        ],
    )
    .map(|_| ())
    .map_err(|e| uid_conflict(e, "an application"))
}

pub(crate) fn update_app(c: &Connection, a: &App) -> Result<(), StoreError> {
    let n = c
        .execute(
            "UPDATE app SET uid = ?2, name = ?3, metadata = ?4, throttle_rate = ?5, updated_at = ?6 WHERE id = ?1",
            params![a.id.as_str(), a.uid, a.name, to_json(&a.metadata)?, a.throttle_rate, a.updated_at],
        )
        .map_err(|e| uid_conflict(e, "an application"))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) fn delete_app(c: &Connection, app: &AppId) -> Result<(), StoreError> {
    match c
        .execute("DELETE FROM app WHERE id = ?1", [app.as_str()])
        .map_err(backend)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn select_app(c: &Connection, id_or_uid: &str) -> Result<Option<App>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {APP_COLUMNS} FROM app WHERE id = ?1 OR uid = ?1 ORDER BY id = ?1 DESC LIMIT 1"
    ))
    .and_then(|mut st| st.query_row([id_or_uid], app).optional())
    .map_err(backend)
}

pub(crate) fn list_apps(c: &Connection, req: &PageRequest) -> Result<Page<App>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {APP_COLUMNS} FROM app WHERE (?1 IS NULL OR id < ?1) ORDER BY id DESC LIMIT ?2"
        ))
        .map_err(backend)?;
    let rows = st
        .query_map(params![req.iterator, (req.limit + 1) as i64], app)
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    Ok(page(rows, req, |a| a.id.to_string()))
}
