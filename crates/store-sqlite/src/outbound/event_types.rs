//! Event types and their JSON Schemas.

use super::*;

pub(super) const EVENT_TYPE_COLUMNS: &str =
    "name, description, schemas, archived, created_at, updated_at";

pub(super) fn event_type(r: &Row<'_>) -> rusqlite::Result<EventType> {
    Ok(EventType {
        name: r.get(0)?,
        description: r.get(1)?,
        schemas: r
            .get::<_, Option<String>>(2)?
            .map(|s| from_json("schemas", &s))
            .transpose()?,
        archived: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

pub(super) fn event_type_params(t: &EventType) -> Result<Vec<V>, StoreError> {
    Ok(vec![
        V::Text(t.name.clone()),
        V::Text(t.description.clone()),
        t.schemas
            .as_ref()
            .map(to_json)
            .transpose()?
            .map_or(V::Null, V::Text),
        V::Integer(t.archived.into()),
        V::Integer(t.created_at),
        V::Integer(t.updated_at),
    ])
}

pub(crate) fn insert_event_type(c: &Connection, t: &EventType) -> Result<(), StoreError> {
    c.execute(
        &format!("INSERT INTO event_type ({EVENT_TYPE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params_from_iter(event_type_params(t)?),
    )
    .map(|_| ())
    .map_err(|e| match backend(e) {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("an event type named `{}` exists", t.name))
        }
        other => other,
    })
}

pub(crate) fn update_event_type(c: &Connection, t: &EventType) -> Result<(), StoreError> {
    let sql = "UPDATE event_type SET description = ?2, schemas = ?3, archived = ?4, updated_at = ?6 WHERE name = ?1";
    match c
        .execute(sql, params_from_iter(event_type_params(t)?))
        .map_err(backend)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn delete_event_type(c: &Connection, name: &str) -> Result<(), StoreError> {
    match c
        .execute("DELETE FROM event_type WHERE name = ?1", [name])
        .map_err(backend)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn select_event_type(
    c: &Connection,
    name: &str,
) -> Result<Option<EventType>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {EVENT_TYPE_COLUMNS} FROM event_type WHERE name = ?1"
    ))
    .and_then(|mut st| st.query_row([name], event_type).optional())
    .map_err(backend)
}

pub(crate) fn list_event_types(
    c: &Connection,
    req: &PageRequest,
) -> Result<Page<EventType>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {EVENT_TYPE_COLUMNS} FROM event_type WHERE (?1 IS NULL OR name > ?1) ORDER BY name LIMIT ?2"
        ))
        .map_err(backend)?;
    let rows = st
        .query_map(params![req.iterator, (req.limit + 1) as i64], event_type)
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    Ok(page(rows, req, |t| t.name.clone()))
}
