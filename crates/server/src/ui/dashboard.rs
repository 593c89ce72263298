//! The dashboard: health, what was received and delivered per minute, the
//! delivery success rate and latency (SVG charts), queue depth, forwards
//! (done, failed, waiting), and the endpoints that are failing; every
//! figure is the whole cluster's (the counts per minute through
//! `crate::activity`).

use axum::extract::State;
use axum::response::Response;
use hookline_core::activity::Minute;
use hookline_core::clock::{now_ms, rfc3339};

use super::chart;
use super::session::Session;
use super::views;
use crate::activity::{self, Kind};
use crate::state::AppState;

#[derive(serde::Serialize)]
struct Failing {
    id: String,
    app_id: String,
    url: String,
    since: String,
    disabled: bool,
}

pub async fn page(State(state): State<AppState>, s: Session) -> Result<Response, Response> {
    s.require_admin()?;
    let now = now_ms();
    let healthy = state.store.ping().await.is_ok();
    let queue =
        state.store.queue_depth(now).await.ok().map(
            |q| serde_json::json!({ "due": q.due, "scheduled": q.scheduled, "failed": q.failed }),
        );
    let failing: Vec<Failing> = state
        .store
        .failing_endpoints(20)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(e, since)| Failing {
            id: e.id.to_string(),
            app_id: e.app_id.to_string(),
            url: e.url,
            since: rfc3339(since),
            disabled: e.disabled,
        })
        .collect();
    let (received, whole) = activity::last_hour(&state, Kind::Received).await;
    let (delivered, _) = activity::last_hour(&state, Kind::Delivered).await;
    let (forwarded, _) = activity::last_hour(&state, Kind::Forwarded).await;
    let waiting = state.store.pending_forwards().await.ok();
    let routes = state.store.list_routes(None).await.map(|r| r.len()).ok();
    let col = |m: &[Minute], f: fn(&Minute) -> u64| m.iter().map(f).collect::<Vec<_>>();
    let sum = |m: &[Minute], f: fn(&Minute) -> u64| m.iter().map(f).sum::<u64>();
    let (ok, failed) = (sum(&delivered, |m| m.ok), sum(&delivered, |m| m.failed));
    let rate: Vec<Option<f64>> = delivered
        .iter()
        .map(|m| (m.ok + m.failed > 0).then(|| 100.0 * m.ok as f64 / (m.ok + m.failed) as f64))
        .collect();
    let latency: Vec<Option<f64>> = delivered.iter().map(Minute::mean_ms).collect();
    Ok(views::page(
        "dashboard.html",
        minijinja::context! {
            nav => "dashboard", csrf => s.csrf, admin => true,
            healthy, queue, failing, whole,
            role => state.config.role,
            version => concat!("hookline ", env!("CARGO_PKG_VERSION")),
            received_total => sum(&received, |m| m.ok + m.failed),
            rejected_total => sum(&received, |m| m.failed),
            delivered_total => ok + failed,
            failed_total => failed,
            forwarded_total => sum(&forwarded, |m| m.ok),
            forward_failed_total => sum(&forwarded, |m| m.failed),
            forwards_waiting => waiting.map(|w| w.iter().map(|(_, n)| n).sum::<u64>()),
            routes,
            success_rate => if ok + failed > 0 {
                format!("{:.1}%", 100.0 * ok as f64 / (ok + failed) as f64)
            } else {
                "—".to_string()
            },
            received_chart => chart::bars(&col(&received, |m| m.ok), &col(&received, |m| m.failed), "#2b8a3e", "webhooks received per minute"),
            delivered_chart => chart::bars(&col(&delivered, |m| m.ok), &col(&delivered, |m| m.failed), "#3b5bdb", "delivery attempts per minute"),
            success_chart => chart::line(&rate, "%", Some(100.0), "delivery success rate per minute"),
            latency_chart => chart::line(&latency, " ms", None, "mean delivery latency per minute"),
        },
    ))
}
