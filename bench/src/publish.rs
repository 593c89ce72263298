//! Publishing through hookline's API: apps, endpoints, and timed messages.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use serde_json::json;

pub const TOKEN: &str = "bench-admin-token";

/// Creates app `bench` with `endpoints` endpoints posting to `url`.
pub async fn setup(
    client: &reqwest::Client,
    api: &str,
    url: &str,
    endpoints: usize,
) -> anyhow::Result<()> {
    let r = client
        .post(format!("{api}/api/v1/app"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "bench", "uid": "bench"}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("creating the app: {}", r.text().await?);
    }
    for i in 0..endpoints {
        let body = json!({"url": format!("{url}/ep{i}")});
        let r = client
            .post(format!("{api}/api/v1/app/bench/endpoint"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("creating an endpoint: {}", r.text().await?);
        }
    }
    Ok(())
}

/// What publishing took: the wall time and each request's latency (ms, sorted).
pub struct Published {
    pub wall: Duration,
    pub latencies_ms: Vec<f64>,
}

impl Published {
    pub fn pct(&self, q: f64) -> f64 {
        let n = self.latencies_ms.len();
        self.latencies_ms
            .get(((q * n as f64).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0.0)
    }
}

/// Publishes one 1 KiB message to `url` (an app's `/msg`); its payload
/// carries `t`, the publish time in Unix milliseconds.
async fn post_one(client: &reqwest::Client, url: &str, pad: &str) -> anyhow::Result<()> {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0);
    let body = json!({"eventType": "order.placed", "payload": {"t": t, "pad": pad}});
    let r = client
        .post(url)
        .bearer_auth(TOKEN)
        .json(&body)
        .timeout(Duration::from_secs(30))
        .send()
        .await?;
    if r.status() != 202 {
        bail!("publish answered {}", r.status());
    }
    Ok(())
}

fn msg_url(api: &str) -> String {
    format!("{api}/api/v1/app/bench/msg")
}

/// Publishes `count` 1 KiB messages with `concurrency` in flight (a closed
/// loop); each payload carries `t`, its publish time.
pub async fn messages(
    client: &reqwest::Client,
    api: &str,
    count: u64,
    concurrency: usize,
) -> anyhow::Result<Published> {
    let next = Arc::new(AtomicU64::new(0));
    let pad: Arc<str> = "x".repeat(960).into();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next, url, pad) = (client.clone(), next.clone(), msg_url(api), pad.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let begun = Instant::now();
                post_one(&client, &url, &pad).await?;
                lat.push(begun.elapsed().as_secs_f64() * 1e3);
            }
            anyhow::Ok(lat)
        }));
    }
    let mut latencies_ms = Vec::new();
    for t in tasks {
        latencies_ms.extend(t.await.context("publisher")??);
    }
    latencies_ms.sort_by(f64::total_cmp);
    Ok(Published {
        wall: started.elapsed(),
        latencies_ms,
    })
}

/// Most open-loop publishes in flight (more would measure the client).
const OPEN_IN_FLIGHT: usize = 512;

/// Publishes `count` messages at `rate` per second (an open loop), spread
/// over `apis` in turn; each latency counts from when its publish was due,
/// so a slow answer delays no later arrival's measure.
pub async fn messages_at(
    client: &reqwest::Client,
    apis: &[String],
    count: u64,
    rate: f64,
) -> anyhow::Result<Published> {
    let pad: Arc<str> = "x".repeat(960).into();
    let gate = Arc::new(tokio::sync::Semaphore::new(OPEN_IN_FLIGHT));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let due = started + Duration::from_secs_f64(i as f64 / rate.max(1.0));
        tokio::time::sleep_until(due.into()).await;
        let permit = gate.clone().acquire_owned().await?;
        let url = msg_url(&apis[i as usize % apis.len().max(1)]);
        let (client, pad) = (client.clone(), pad.clone());
        tasks.spawn(async move {
            let _permit = permit;
            post_one(&client, &url, &pad).await?;
            anyhow::Ok(due.elapsed().as_secs_f64() * 1e3)
        });
    }
    let mut latencies_ms = Vec::new();
    while let Some(t) = tasks.join_next().await {
        latencies_ms.push(t.context("publisher")??);
    }
    latencies_ms.sort_by(f64::total_cmp);
    Ok(Published {
        wall: started.elapsed(),
        latencies_ms,
    })
}

/// [`messages`] spread over several nodes' APIs at once (`count` and
/// `concurrency` are the totals); the wall time is the longest node's.
pub async fn messages_split(
    client: &reqwest::Client,
    apis: &[String],
    count: u64,
    concurrency: usize,
) -> anyhow::Result<Published> {
    let n = apis.len().max(1);
    let each = apis
        .iter()
        .map(|api| messages(client, api, count / n as u64, (concurrency / n).max(1)));
    let all = futures_util::future::try_join_all(each).await?;
    let wall = all.iter().map(|p| p.wall).max().unwrap_or_default();
    let mut latencies_ms: Vec<f64> = all.into_iter().flat_map(|p| p.latencies_ms).collect();
    latencies_ms.sort_by(f64::total_cmp);
    Ok(Published { wall, latencies_ms })
}
