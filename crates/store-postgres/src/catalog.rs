//! [`CatalogStore`] on PostgreSQL: applications, endpoints, event types.

use async_trait::async_trait;
use hookline_core::{
    App, AppId, CatalogStore, Endpoint, EndpointId, EventType, Page, PageRequest, StoreError,
};

use crate::codec::{self, *};
use crate::sql::*;
use crate::store::PgStore;

#[async_trait]
impl CatalogStore for PgStore {
    async fn create_app(&self, app: &App) -> Result<(), StoreError> {
        insert_app(&self.db().await?, app).await
    }

    async fn get_app(&self, id_or_uid: &str) -> Result<Option<App>, StoreError> {
        select_app(&self.db().await?, id_or_uid).await
    }

    async fn list_apps(&self, page: &PageRequest) -> Result<Page<App>, StoreError> {
        list_apps(&self.db().await?, page).await
    }

    async fn update_app(&self, app: &App) -> Result<(), StoreError> {
        update_app(&self.db().await?, app).await
    }

    async fn delete_app(&self, id: &AppId) -> Result<(), StoreError> {
        delete_app(&self.db().await?, id).await
    }

    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        insert_endpoint(&self.db().await?, endpoint).await
    }

    async fn get_endpoint(
        &self,
        app: &AppId,
        id_or_uid: &str,
    ) -> Result<Option<Endpoint>, StoreError> {
        select_endpoint(&self.db().await?, app, id_or_uid).await
    }

    async fn list_endpoints(
        &self,
        app: &AppId,
        page: &PageRequest,
    ) -> Result<Page<Endpoint>, StoreError> {
        list_endpoints(&self.db().await?, app, page).await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        update_endpoint(&self.db().await?, endpoint).await
    }

    async fn delete_endpoint(&self, app: &AppId, id: &EndpointId) -> Result<(), StoreError> {
        delete_endpoint(&self.db().await?, app, id).await
    }

    async fn create_event_type(&self, event_type: &EventType) -> Result<(), StoreError> {
        insert_event_type(&self.db().await?, event_type).await
    }

    async fn get_event_type(&self, name: &str) -> Result<Option<EventType>, StoreError> {
        select_event_type(&self.db().await?, name).await
    }

    async fn list_event_types(&self, page: &PageRequest) -> Result<Page<EventType>, StoreError> {
        list_event_types(&self.db().await?, page).await
    }

    async fn update_event_type(&self, event_type: &EventType) -> Result<(), StoreError> {
        update_event_type(&self.db().await?, event_type).await
    }

    async fn delete_event_type(&self, name: &str) -> Result<(), StoreError> {
        delete_event_type(&self.db().await?, name).await
    }
}

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

pub(crate) async fn insert_endpoint(c: &Db, e: &Endpoint) -> Result<(), StoreError> {
    write(c, e, true).await
}

pub(crate) async fn update_endpoint(c: &Db, e: &Endpoint) -> Result<(), StoreError> {
    write(c, e, false).await
}

async fn write(c: &Db, e: &Endpoint, insert: bool) -> Result<(), StoreError> {
    let j = endpoint_json(e)?;
    let sql = if insert {
        format!(
            "INSERT INTO endpoint ({ENDPOINT_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        )
    } else {
        "UPDATE endpoint SET uid = $3, url = $4, description = $5, secrets = $6, event_types = $7, \
         channels = $8, headers = $9, disabled = $10, throttle_rate = $11, metadata = $12, \
         updated_at = $14, retry_schedule = $15, timeout_ms = $16, max_concurrency = $17, \
         filter = $18 WHERE id = $1 AND app_id = $2 AND $13::bigint IS NOT NULL"
            .to_string()
    };
    let n = exec(
        c,
        &sql,
        &[
            &e.id.as_str(),
            &e.app_id.as_str(),
            &e.uid,
            &e.url,
            &e.description,
            &j.secrets,
            &j.event_types,
            &j.channels,
            &j.headers,
            &e.disabled,
            &int(e.throttle_rate),
            &j.metadata,
            &e.created_at,
            &e.updated_at,
            &j.retry_schedule,
            &e.policy.timeout.map(ms),
            &int(e.policy.max_concurrency),
            &j.filter,
        ],
    )
    .await
    .map_err(|x| uid_taken(x, "an endpoint"))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn delete_endpoint(
    c: &Db,
    app: &AppId,
    id: &EndpointId,
) -> Result<(), StoreError> {
    match exec(
        c,
        "DELETE FROM endpoint WHERE id = $1 AND app_id = $2",
        &[&id.as_str(), &app.as_str()],
    )
    .await?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) async fn select_endpoint(
    c: &Db,
    app: &AppId,
    key: &str,
) -> Result<Option<Endpoint>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE app_id = $1 AND (id = $2 OR uid = $2) \
         ORDER BY id = $2 DESC LIMIT 1"
    );
    rows(c, &sql, &[&app.as_str(), &key])
        .await?
        .first()
        .map(codec::endpoint)
        .transpose()
}

pub(crate) async fn list_endpoints(
    c: &Db,
    app: &AppId,
    req: &PageRequest,
) -> Result<Page<Endpoint>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoint WHERE app_id = $1 AND ($2::text IS NULL OR id < $2) \
         ORDER BY id DESC LIMIT $3"
    );
    let found = rows(c, &sql, &[&app.as_str(), &req.iterator, &limit(req)]).await?;
    Ok(page(all(&found, codec::endpoint)?, req, |e| {
        e.id.to_string()
    }))
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
