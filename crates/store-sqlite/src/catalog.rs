//! [`CatalogStore`] on SQLite: applications, endpoints, event types.

use async_trait::async_trait;
use hookline_core::{
    App, AppId, CatalogStore, Endpoint, EndpointId, EventType, Page, PageRequest, StoreError,
};
use rusqlite::types::Value as V;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::backend;
use crate::rows::*;
use crate::store::SqliteStore;

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn create_app(&self, app: &App) -> Result<(), StoreError> {
        let app = app.clone();
        self.writer.write(move |c| insert_app(c, &app)).await
    }

    async fn get_app(&self, id_or_uid: &str) -> Result<Option<App>, StoreError> {
        let key = id_or_uid.to_string();
        self.readers.read(move |c| select_app(c, &key)).await
    }

    async fn list_apps(&self, page: &PageRequest) -> Result<Page<App>, StoreError> {
        let page = page.clone();
        self.readers.read(move |c| list_apps(c, &page)).await
    }

    async fn update_app(&self, app: &App) -> Result<(), StoreError> {
        let app = app.clone();
        self.writer.write(move |c| update_app(c, &app)).await
    }

    async fn delete_app(&self, id: &AppId) -> Result<(), StoreError> {
        let id = id.clone();
        self.writer.write(move |c| delete_app(c, &id)).await
    }

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let e = endpoint.clone();
        self.writer.write(move |c| insert_endpoint(c, &e)).await
    }

    async fn get_endpoint(
        &self,
        app: &AppId,
        id_or_uid: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        let (app, key) = (app.clone(), id_or_uid.to_string());
        self.readers
            .read(move |c| select_endpoint(c, &app, &key))
            .await
    }

    async fn list_endpoints(
        &self,
        app: &AppId,
        page: &PageRequest,
    ) -> Result<Page<Endpoint>, StoreError> {
        let (app, page) = (app.clone(), page.clone());
        self.readers
            .read(move |c| list_endpoints(c, &app, &page))
            .await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let e = endpoint.clone();
        self.writer.write(move |c| update_endpoint(c, &e)).await
    }

    async fn delete_endpoint(&self, app: &AppId, id: &EndpointId) -> Result<(), StoreError> {
        let (app, id) = (app.clone(), id.clone());
        self.writer
            .write(move |c| delete_endpoint(c, &app, &id))
            .await
    }

    async fn create_event_type(&self, event_type: &EventType) -> Result<(), StoreError> {
        let t = event_type.clone();
        self.writer.write(move |c| insert_event_type(c, &t)).await
    }

    async fn get_event_type(&self, name: &str) -> Result<Option<EventType>, StoreError> {
        let name = name.to_string();
        self.readers
            .read(move |c| select_event_type(c, &name))
            .await
    }

    async fn list_event_types(&self, page: &PageRequest) -> Result<Page<EventType>, StoreError> {
        let page = page.clone();
        self.readers.read(move |c| list_event_types(c, &page)).await
    }

    async fn update_event_type(&self, event_type: &EventType) -> Result<(), StoreError> {
        let t = event_type.clone();
        self.writer.write(move |c| update_event_type(c, &t)).await
    }

    async fn delete_event_type(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.writer
            .write(move |c| delete_event_type(c, &name))
            .await
    }
}

pub(crate) const APP_COLUMNS: &str =
    "id, uid, name, metadata, throttle_rate, created_at, updated_at";

pub(crate) fn app(r: &Row<'_>) -> rusqlite::Result<App> {
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

pub(crate) fn uid_conflict(e: rusqlite::Error, what: &str) -> StoreError {
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

pub(crate) fn endpoint_params(e: &Endpoint) -> Result<Vec<V>, StoreError> {
    let secrets: Vec<(&str, Option<i64>)> = e
        .secrets
        .iter()
        .map(|s| (s.key.expose(), s.expires_at))
        .collect();
    let opt_list = |l: &Option<Vec<String>>| {
        l.as_ref()
            .map(to_json)
            .transpose()
            .map(|o| o.map_or(V::Null, V::Text))
    };
    Ok(vec![
        V::Text(e.id.to_string()),
        V::Text(e.app_id.to_string()),
        e.uid.clone().map_or(V::Null, V::Text),
        V::Text(e.url.clone()),
        V::Text(e.description.clone()),
        V::Text(to_json(&secrets)?),
        opt_list(&e.event_types)?,
        opt_list(&e.channels)?,
        V::Text(to_json(&e.headers)?),
        V::Integer(e.disabled.into()),
        e.throttle_rate.map_or(V::Null, |r| V::Integer(r.into())),
        V::Text(to_json(&e.metadata)?),
        V::Integer(e.created_at),
        V::Integer(e.updated_at),
        e.policy
            .retry
            .as_ref()
            .map(|r| to_json(&r.schedule.iter().map(|d| ms(*d)).collect::<Vec<_>>()))
            .transpose()?
            .map_or(V::Null, V::Text),
        e.policy.timeout.map_or(V::Null, |t| V::Integer(ms(t))),
        e.policy
            .max_concurrency
            .map_or(V::Null, |n| V::Integer(n.into())),
        e.filter
            .as_ref()
            .map_or(V::Null, |f| V::Text(f.as_json().to_string())),
    ])
}

pub(crate) fn insert_endpoint(c: &Connection, e: &Endpoint) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO endpoint ({ENDPOINT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
    );
    c.execute(&sql, params_from_iter(endpoint_params(e)?))
        .map(|_| ())
        .map_err(|x| uid_conflict(x, "an endpoint"))
}

pub(crate) fn update_endpoint(c: &Connection, e: &Endpoint) -> Result<(), StoreError> {
    let sql = "UPDATE endpoint SET uid = ?3, url = ?4, description = ?5, secrets = ?6, event_types = ?7, \
               channels = ?8, headers = ?9, disabled = ?10, throttle_rate = ?11, metadata = ?12, updated_at = ?14, \
               retry_schedule = ?15, timeout_ms = ?16, max_concurrency = ?17, filter = ?18 \
               WHERE id = ?1 AND app_id = ?2";
    match c
        .execute(sql, params_from_iter(endpoint_params(e)?))
        .map_err(|x| uid_conflict(x, "an endpoint"))?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn delete_endpoint(
    c: &Connection,
    app: &AppId,
    ep: &EndpointId,
) -> Result<(), StoreError> {
    match c
        .execute(
            "DELETE FROM endpoint WHERE id = ?1 AND app_id = ?2",
            [ep.as_str(), app.as_str()],
        )
        .map_err(backend)?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn select_endpoint(
    c: &Connection,
    app: &AppId,
    id_or_uid: &str,
) -> Result<Option<Endpoint>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE app_id = ?1 AND (id = ?2 OR uid = ?2) ORDER BY id = ?2 DESC LIMIT 1"
    ))
    .and_then(|mut st| st.query_row([app.as_str(), id_or_uid], endpoint).optional())
    .map_err(backend)
}

pub(crate) fn list_endpoints(
    c: &Connection,
    app: &AppId,
    req: &PageRequest,
) -> Result<Page<Endpoint>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE app_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = st
        .query_map(
            params![app.as_str(), req.iterator, (req.limit + 1) as i64],
            endpoint,
        )
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(backend)?;
    Ok(page(rows, req, |e| e.id.to_string()))
}

pub(crate) const EVENT_TYPE_COLUMNS: &str =
    "name, description, schemas, archived, created_at, updated_at";

pub(crate) fn event_type(r: &Row<'_>) -> rusqlite::Result<EventType> {
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

pub(crate) fn event_type_params(t: &EventType) -> Result<Vec<V>, StoreError> {
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
