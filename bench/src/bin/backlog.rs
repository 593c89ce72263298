//! Backlog benchmark: build a backlog of pending deliveries on an `api` node
//! (no deliveries happen), then start a `worker` node with the receiver up and
//! sample the drain rate as the backlog shrinks. The rate must not fall as the
//! backlog grows: no step may scan in proportion to it.
//!
//! `cargo run --release -p hookline-bench --bin backlog [-- COUNT]` (default 1,000,000)

use std::time::{Duration, Instant};

use hookline_bench::counter;
use hookline_bench::procs::{self, Proc};
use hookline_bench::publish;
use serde_json::json;
use tokio::process::Command;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("counter") {
        return counter::serve().await;
    }
    let count: u64 = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let hookline = procs::build_hookline()?;
    let client = reqwest::Client::new();
    let dir = tempfile::tempdir()?;
    let recv = Proc::start({
        let mut c = Command::new(std::env::current_exe()?);
        c.arg("counter");
        c
    })
    .await?;

    let api = Proc::start(procs::hookline_serve(
        &hookline,
        dir.path(),
        &hookline_bench::db::sqlite(dir.path()),
        &["--role", "api"],
    ))
    .await?;
    publish::setup(&client, &api.url, &recv.url, 1).await?;
    eprintln!("building a backlog of {count} deliveries (no worker running)…");
    let published = publish::messages(&client, &api.url, count, 32).await?;
    eprintln!(
        "published in {:.1} s ({:.0}/s)",
        published.wall.as_secs_f64(),
        count as f64 / published.wall.as_secs_f64()
    );
    api.stop().await;

    let worker = Proc::start(procs::hookline_serve(
        &hookline,
        dir.path(),
        &hookline_bench::db::sqlite(dir.path()),
        &["--role", "worker"],
    ))
    .await?;
    let started = Instant::now();
    // Sample the delivered count; record the time each 10 % of the backlog took.
    let mut marks = vec![(0u64, Duration::ZERO)];
    let deadline = started + Duration::from_secs(3600);
    while marks.last().map(|m| m.0) < Some(count) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let n = counter::stats_of(&client, &recv.url).await?["count"]
            .as_u64()
            .unwrap_or(0);
        let decile = (marks.len() as u64) * count / 10;
        if n >= decile {
            marks.push((n, started.elapsed()));
        }
    }
    let rss = worker.peak_rss_mib();
    worker.stop().await;
    recv.stop().await;

    println!(
        "\n{:<10} {:>12} {:>14}",
        "decile", "delivered", "deliveries/s"
    );
    let mut rates = Vec::new();
    for w in marks.windows(2) {
        let rate = (w[1].0 - w[0].0) as f64 / (w[1].1 - w[0].1).as_secs_f64().max(1e-9);
        rates.push(rate);
        println!(
            "{:<10} {:>12} {:>14.0}",
            format!("{}%", rates.len() * 10),
            w[1].0,
            rate
        );
    }
    let first = rates.first().copied().unwrap_or(0.0);
    let last = rates.last().copied().unwrap_or(0.0);
    let total = marks.last().map_or(Duration::ZERO, |m| m.1);
    println!(
        "\ndrained {count} in {:.1} s ({:.0}/s); first decile {first:.0}/s, last {last:.0}/s (ratio {:.2}); peak RSS {:.1} MiB",
        total.as_secs_f64(),
        count as f64 / total.as_secs_f64().max(1e-9),
        last / first.max(1e-9),
        rss.unwrap_or(0.0)
    );
    let out = procs::root().join("target/bench");
    std::fs::create_dir_all(&out)?;
    let json = json!({
        "bench": "backlog", "count": count, "publishPerSec": count as f64 / published.wall.as_secs_f64(),
        "drainSecs": total.as_secs_f64(), "decileRates": rates, "peakRssMiB": rss,
    });
    std::fs::write(
        out.join("backlog.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    println!("written {}", out.join("backlog.json").display());
    Ok(())
}
