//! Routes as the API, the UI and the config file change them: validated
//! once here (the source exists; a route made through the API passes the
//! outbound guard), stored, and the cache every request reads refreshed.

use std::net::IpAddr;

use axum::http::StatusCode;
use hookline_core::clock::now_ms;
use hookline_core::{EventId, Route, RouteError, RouteSpec, StoreError};

use crate::api::route_model::ForwardOut;
use crate::error::ApiError;
use crate::state::AppState;

/// The route named by its name or `route_…` id, or 404.
pub(crate) async fn route_of(state: &AppState, key: &str) -> Result<Route, ApiError> {
    state
        .store
        .get_route(key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no route named `{key}`")))
}

/// Refuses a URL whose host is, or resolves to, an address the outbound
/// guard blocks, in one sentence that says what to do. A name that does not
/// resolve now is let through: the engine checks again at every send.
async fn check_guard(state: &AppState, url: &str) -> Result<(), ApiError> {
    let Ok(u) = url::Url::parse(url) else {
        return Ok(());
    };
    let port = u.port_or_known_default().unwrap_or(80);
    let addrs: Vec<IpAddr> = match u.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(name)) => match tokio::net::lookup_host((name, port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            Err(_) => Vec::new(),
        },
        None => Vec::new(),
    };
    for ip in addrs {
        if let Err(blocked) = state.outbound.guard().at_port(port).check(ip) {
            return Err(ApiError::validation(format!(
                "`{url}` is {blocked}; a route made through the API may reach it only if that \
                 network is in allowed_subnets (or write the route in hookline.toml)"
            )));
        }
    }
    Ok(())
}

/// Validates `spec` into a route (a new one, or `existing` changed) and
/// stores it. `declared`: written in `hookline.toml`, so trusted.
pub(crate) async fn save(
    state: &AppState,
    spec: RouteSpec,
    existing: Option<&Route>,
    declared: bool,
) -> Result<Route, ApiError> {
    if state.store.get_source(&spec.source).await?.is_none() {
        return Err(ApiError::validation(format!(
            "route `{}`: no source named `{}`; create the source first",
            spec.name, spec.source
        )));
    }
    let route = spec
        .into_route(existing, declared, now_ms())
        .map_err(|e| match e {
            RouteError::Filter(m) => ApiError::api(StatusCode::BAD_REQUEST, "invalid_filter", m),
            RouteError::Invalid(m) => ApiError::validation(m),
        })?;
    if !declared {
        check_guard(state, &route.url).await?;
    }
    match existing {
        Some(_) => state.store.update_route(&route).await?,
        None => state.store.create_route(&route).await?,
    }
    state.reload_routes().await?;
    Ok(route)
}

/// Creates or updates a route written in `hookline.toml`, by name.
pub(crate) async fn declare(state: &AppState, spec: RouteSpec) -> Result<Route, ApiError> {
    let existing = state.store.get_route(&spec.name).await?;
    save(state, spec, existing.as_ref(), true).await
}

/// Pauses or resumes; a resumed route's held forwards go out at its rate.
pub(crate) async fn set_paused(
    state: &AppState,
    route: &Route,
    paused: bool,
) -> Result<Route, ApiError> {
    state
        .store
        .set_route_paused(&route.id, paused, now_ms())
        .await?;
    state.reload_routes().await?;
    if !paused {
        state.config.waker.wake();
    }
    route_of(state, route.id.as_str()).await
}

/// Requeues the route's failed forwards of events received since `since`
/// (recover), or one event's forward (resend). Returns how many.
pub(crate) async fn requeue(
    state: &AppState,
    route: &Route,
    event: Option<&EventId>,
    since: i64,
) -> Result<usize, ApiError> {
    let n = state
        .store
        .requeue_forwards(&route.id, event, since, now_ms())
        .await?;
    if n > 0 {
        state.config.waker.wake();
    }
    Ok(n)
}

/// Every route (by name) with how many forwards it has waiting.
pub(crate) async fn with_waiting(state: &AppState) -> Result<Vec<(Route, u64)>, ApiError> {
    let pending = state.store.pending_forwards().await?;
    let routes = state.store.list_routes(None).await?;
    Ok(routes
        .into_iter()
        .map(|r| {
            let n = pending
                .iter()
                .find(|(id, _)| *id == r.id)
                .map_or(0, |p| p.1);
            (r, n)
        })
        .collect())
}

/// One event's forwards as shown (the API and the UI alike), each named by
/// its route.
pub(crate) async fn forwards_of(
    state: &AppState,
    source: &str,
    event: &EventId,
) -> Result<Vec<ForwardOut>, ApiError> {
    let routes = state.store.list_routes(Some(source)).await?;
    let found = state.store.list_forwards(source, event).await?;
    Ok(found
        .iter()
        .map(|f| {
            let name = routes
                .iter()
                .find(|r| r.id == f.route_id)
                .map_or_else(|| f.route_id.to_string(), |r| r.name.clone());
            ForwardOut::new(f, name)
        })
        .collect())
}

/// Deletes a route and its forwards.
pub(crate) async fn delete(state: &AppState, route: &Route) -> Result<(), ApiError> {
    match state.store.delete_route(&route.id).await {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    state.reload_routes().await?;
    Ok(())
}
