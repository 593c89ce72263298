//! The cluster's activity: each node writes its counts per minute (received,
//! delivered, forwarded) to the store every few seconds, and the dashboard
//! adds every other node's to its own fresher ones. Costs a write of a few
//! rows per node every [`EVERY`], and a dashboard load reads at most one row
//! per node, kind and minute of the last hour.

use std::time::Duration;

use hookline_core::activity::{hour_of, Activity, Minute, MINUTES};
use hookline_core::clock::now_ms;

use crate::state::AppState;

/// How often a node writes its recent minutes.
pub const EVERY: Duration = Duration::from_secs(5);

/// What is counted, by the name the store keeps it under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Received,
    Delivered,
    Forwarded,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Received, Kind::Delivered, Kind::Forwarded];

    fn name(self) -> &'static str {
        match self {
            Kind::Received => "received",
            Kind::Delivered => "delivered",
            Kind::Forwarded => "forwarded",
        }
    }

    /// This node's own counts of it (empty where this node does not do it).
    fn local(self, state: &AppState) -> Activity {
        let engine = state.config.engine_metrics.as_ref();
        match self {
            Kind::Received => state.received.clone(),
            Kind::Delivered => engine.map(|m| m.activity()).unwrap_or_default(),
            Kind::Forwarded => engine.map(|m| m.forward_activity()).unwrap_or_default(),
        }
    }
}

/// Writes this node's last two minutes of each kind (the one before may
/// have counted more since the last write) every [`EVERY`], and once more
/// at shutdown.
pub async fn publish(state: AppState) {
    let closed = state.closed();
    tokio::pin!(closed);
    loop {
        let stop = tokio::select! {
            () = tokio::time::sleep(EVERY) => false,
            () = &mut closed => true,
        };
        write(&state).await;
        if stop {
            return;
        }
    }
}

async fn write(state: &AppState) {
    let since = now_ms() - 120_000;
    for kind in Kind::ALL {
        let minutes = kind.local(state).since(since);
        if minutes.is_empty() {
            continue;
        }
        if let Err(e) = state
            .store
            .put_activity(&state.node, kind.name(), &minutes)
            .await
        {
            tracing::debug!(error = %e, "cannot share this node's activity; the dashboards of other nodes miss it until the next try");
        }
    }
}

/// The last hour of `kind` across the cluster, oldest first, and whether the
/// other nodes' counts could be read (if not, it is this node's alone).
pub async fn last_hour(state: &AppState, kind: Kind) -> (Vec<Minute>, bool) {
    let now = now_ms();
    let first = now - now.rem_euclid(60_000) - (MINUTES as i64 - 1) * 60_000;
    let own = kind.local(state).since(first);
    match state
        .store
        .activity(kind.name(), first, Some(&state.node))
        .await
    {
        Ok(others) => (hour_of(now, own.into_iter().chain(others)), true),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the other nodes' activity; the dashboard shows this node's");
            (hour_of(now, own), false)
        }
    }
}
