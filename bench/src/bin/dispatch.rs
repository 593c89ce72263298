//! Dispatch benchmark: messages published through the API and delivered to a
//! local receiver, to 1 and to 10 endpoints, on SQLite, on PostgreSQL with
//! one node and with two nodes, beside a bare hyper server.
//!
//! `cargo run --release -p hookline-bench --bin dispatch [-- COUNT CONCURRENCY]`

use std::time::{Duration, Instant};

use anyhow::bail;
use hookline_bench::db::{self, Postgres};
use hookline_bench::load::{self, Measured};
use hookline_bench::procs::{self, Proc};
use hookline_bench::publish;
use hookline_bench::report::{self, Row};
use hookline_bench::{bare, counter};
use serde_json::json;
use tokio::process::Command;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bare") => return bare::serve(None).await,
        Some("counter") => return counter::serve().await,
        _ => {}
    }
    let count: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let concurrency: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(32);
    let hookline = procs::build_hookline()?;
    let me = std::env::current_exe()?;
    let client = reqwest::Client::new();
    let mut rows = Vec::new();

    // Baseline: the bare server under the same load tool as the receive bench.
    let bare = Proc::start({
        let mut c = Command::new(&me);
        c.arg("bare");
        c
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let payload = dir.path().join("payload.json");
    std::fs::write(
        &payload,
        format!(
            r#"{{"eventType":"order.placed","payload":{{"pad":"{}"}}}}"#,
            "x".repeat(960)
        ),
    )?;
    load::run(
        &hookline,
        &bare.url,
        &payload,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        count / 10,
        concurrency,
        None,
    )
    .await?;
    let base = load::run(
        &hookline,
        &bare.url,
        &payload,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        count,
        concurrency,
        None,
    )
    .await?;
    rows.push(Row {
        name: "bare hyper (answers 200)".into(),
        measured: base,
        peak_rss_mib: bare.peak_rss_mib(),
    });
    bare.stop().await;

    // Each store and node count, to 1 and to 10 endpoints.
    let stores: [(&str, usize); 3] = [("sqlite", 1), ("postgres", 1), ("postgres", 2)];
    for (store, nodes) in stores {
        for endpoints in [1usize, 10] {
            let work = tempfile::tempdir()?;
            let pg = match store {
                "postgres" => match Postgres::fresh().await? {
                    Some(pg) => Some(pg),
                    None => continue,
                },
                _ => None,
            };
            let url = pg
                .as_ref()
                .map_or_else(|| db::sqlite(work.path()), |p| p.url.clone());
            let recv = Proc::start({
                let mut c = Command::new(&me);
                c.arg("counter");
                c
            })
            .await?;
            let mut servers = Vec::new();
            for _ in 0..nodes {
                servers.push(
                    Proc::start(procs::hookline_serve(&hookline, work.path(), &url, &[])).await?,
                );
            }
            publish::setup(&client, &servers[0].url, &recv.url, endpoints).await?;
            let label = if nodes == 1 {
                format!("{store}, {endpoints} ep")
            } else {
                format!("{store} x{nodes}, {endpoints} ep")
            };
            eprintln!("{label}: publishing {count} messages, {concurrency} in flight…");
            let started = Instant::now();
            let apis: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
            let published = publish::messages_split(&client, &apis, count, concurrency).await?;
            let want = count * endpoints as u64;
            let deadline = started + Duration::from_secs(600);
            let stats = loop {
                let s = counter::stats_of(&client, &recv.url).await?;
                if s["count"].as_u64() >= Some(want) {
                    break s;
                }
                if Instant::now() > deadline {
                    bail!(
                        "{label}: only {} of {want} delivered within 10 minutes",
                        s["count"]
                    );
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let delivered_in = started.elapsed();
            let rss = Proc::peak_rss_sum(&servers);
            rows.push(Row {
                name: format!("publish ({label}): accepted"),
                measured: Measured {
                    requests: count,
                    ok: count,
                    rps: count as f64 / published.wall.as_secs_f64(),
                    p50_ms: published.pct(0.5),
                    p99_ms: published.pct(0.99),
                    late: 0,
                },
                peak_rss_mib: rss,
            });
            rows.push(Row {
                name: format!("deliver ({label}): e2e"),
                measured: Measured {
                    requests: want,
                    ok: stats["count"].as_u64().unwrap_or(0),
                    rps: want as f64 / delivered_in.as_secs_f64(),
                    p50_ms: stats["p50Ms"].as_f64().unwrap_or(0.0),
                    p99_ms: stats["p99Ms"].as_f64().unwrap_or(0.0),
                    late: 0,
                },
                peak_rss_mib: rss,
            });
            for s in servers {
                s.stop().await;
            }
            recv.stop().await;
            if let Some(pg) = pg {
                pg.drop_schema().await;
            }
        }
    }
    let setup = json!({
        "count": count, "concurrency": concurrency, "payloadBytes": 1024, "stores": "sqlite WAL synchronous=FULL; postgres synchronous_commit=on (x2: two nodes, publishes split between them)",
        "note": "accepted = publish requests/s through the API; e2e = deliveries/s from the first publish to the last arrival; e2e latency = publish to arrival",
        "cpus": std::thread::available_parallelism()?.get(),
    });
    report::emit("dispatch", setup, &rows)?;
    Ok(())
}
