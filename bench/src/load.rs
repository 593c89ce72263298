//! Load through hookline's own load tool, `hookline send --count --concurrency
//! [--rate] --json`: closed loop (each request as soon as one of C is free) or
//! open loop (a fixed rate of arrivals).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::Value;

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct Measured {
    pub requests: u64,
    pub ok: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Open loop: requests that started after they were due (C in flight);
    /// their latency counts from when they were due.
    pub late: u64,
}

/// Sends `count` signed webhooks with `concurrency` in flight, or with
/// `rate`, an open loop: `rate` requests start each second (at most
/// `concurrency` in flight). Bounded by the count and by each request's 10 s
/// timeout.
pub async fn run(
    hookline: &Path,
    url: &str,
    payload: &Path,
    secret: &str,
    count: u64,
    concurrency: usize,
    rate: Option<f64>,
) -> anyhow::Result<Measured> {
    let mut cmd = tokio::process::Command::new(hookline);
    cmd.args([
        "send", url, "--scheme", "standard", "--secret", secret, "--json",
    ])
    .arg("--data")
    .arg(format!("@{}", payload.display()))
    .args([
        "--count",
        &count.to_string(),
        "--concurrency",
        &concurrency.to_string(),
    ]);
    if let Some(r) = rate {
        cmd.arg("--rate").arg(r.to_string());
    }
    let out = cmd.output().await.context("running hookline send")?;
    let v: Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("load summary: {}", String::from_utf8_lossy(&out.stderr)))?;
    let ok = v["byStatusClass"]["2xx"].as_u64().unwrap_or(0);
    if ok == 0 {
        bail!("no request succeeded against {url}: {v}");
    }
    Ok(Measured {
        requests: v["sent"].as_u64().unwrap_or(0),
        ok,
        rps: v["requestsPerSec"].as_f64().unwrap_or(0.0),
        p50_ms: v["latencyMs"]["p50"].as_f64().unwrap_or(0.0),
        p99_ms: v["latencyMs"]["p99"].as_f64().unwrap_or(0.0),
        late: v["late"].as_u64().unwrap_or(0),
    })
}

/// The same load split evenly over several servers at once (`count`,
/// `concurrency` and `rate` are the totals): requests/s add up; the latency
/// percentiles are the worst of the servers' (a conservative merge).
pub async fn run_split(
    hookline: &Path,
    urls: &[String],
    payload: &Path,
    secret: &str,
    count: u64,
    concurrency: usize,
    rate: Option<f64>,
) -> anyhow::Result<Measured> {
    let n = urls.len().max(1);
    let runs = urls.iter().map(|u| {
        run(
            hookline,
            u,
            payload,
            secret,
            count / n as u64,
            (concurrency / n).max(1),
            rate.map(|r| r / n as f64),
        )
    });
    let all = futures_util::future::try_join_all(runs).await?;
    Ok(Measured {
        requests: all.iter().map(|m| m.requests).sum(),
        ok: all.iter().map(|m| m.ok).sum(),
        rps: all.iter().map(|m| m.rps).sum(),
        p50_ms: all.iter().map(|m| m.p50_ms).fold(0.0, f64::max),
        p99_ms: all.iter().map(|m| m.p99_ms).fold(0.0, f64::max),
        late: all.iter().map(|m| m.late).sum(),
    })
}

/// Writes the receive benches' webhook, a 1 KiB JSON invoice, to
/// `dir/payload.json`; its path.
pub fn write_payload(dir: &Path) -> anyhow::Result<PathBuf> {
    let payload = dir.join("payload.json");
    let pad = "x".repeat(1024 - 74);
    std::fs::write(
        &payload,
        format!(r#"{{"type":"invoice.paid","data":{{"id":"in_1","amount":4200,"pad":"{pad}"}}}}"#),
    )?;
    Ok(payload)
}

/// A bench's `COUNT CONCURRENCY RATE` arguments, each defaulting to the
/// bench's own when absent or unreadable.
pub fn count_concurrency_rate(args: &[String], defaults: (u64, usize, f64)) -> (u64, usize, f64) {
    let at = |i: usize| args.get(i).map(String::as_str);
    (
        at(0).and_then(|s| s.parse().ok()).unwrap_or(defaults.0),
        at(1).and_then(|s| s.parse().ok()).unwrap_or(defaults.1),
        at(2).and_then(|s| s.parse().ok()).unwrap_or(defaults.2),
    )
}
