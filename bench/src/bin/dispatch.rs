//! Dispatch benchmark: messages published through the API and delivered to a
//! local counting receiver, to 1 and to 10 endpoints, on SQLite, on
//! PostgreSQL with one node and with two nodes, beside a bare hyper server.
//!
//! Per system, a closed loop (CONCURRENCY publishers at once, saturating it):
//! accepted/s (publishes answered), delivered/s (arrivals from the first
//! publish to the last arrival), their ratio (per endpoint: does delivery
//! keep up with accepting?), created → delivered latency (the payload's
//! publish time to its arrival), publish latency and peak RSS; then, to one
//! endpoint, an open loop at RATE messages/s for the latency when not
//! saturated.
//!
//! `cargo run --release -p hookline-bench --bin dispatch [-- COUNT CONCURRENCY RATE]`
//! (`HOOKLINE_BENCH_BIN=path` measures that hookline binary instead of
//! building this tree's).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::bail;
use hookline_bench::db::{self, Postgres};
use hookline_bench::load::{self, Measured};
use hookline_bench::procs::{self, Proc};
use hookline_bench::publish;
use hookline_bench::report::{self, Row};
use hookline_bench::{bare, counter};
use serde_json::{json, Value};
use tokio::process::Command;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// How long the open loop offers its rate.
const OPEN_SECS: f64 = 5.0;
/// Longest wait for one run's deliveries to arrive.
const DRAIN: Duration = Duration::from_secs(600);

/// What one system did.
struct Outcome {
    label: String,
    endpoints: usize,
    count: u64,
    accepted: publish::Published,
    delivered: u64,
    delivered_per_s: f64,
    e2e_p50: f64,
    e2e_p99: f64,
    open: Option<(f64, f64)>,
    rss: Option<f64>,
}

impl Outcome {
    fn accepted_per_s(&self) -> f64 {
        self.count as f64 / self.accepted.wall.as_secs_f64()
    }
    /// Deliveries per second over what accepting asked for (per endpoint).
    fn keep_up(&self) -> f64 {
        self.delivered_per_s / (self.accepted_per_s() * self.endpoints as f64)
    }
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

/// Waits (bounded) until `want` deliveries arrived; their stats.
async fn drained(client: &reqwest::Client, recv: &str, want: u64) -> anyhow::Result<Value> {
    let deadline = Instant::now() + DRAIN;
    loop {
        let s = counter::stats_of(client, recv).await?;
        if s["count"].as_u64() >= Some(want) {
            return Ok(s);
        }
        if Instant::now() > deadline {
            bail!("only {} of {want} delivered within {DRAIN:?}", s["count"]);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The bare server under the same load tool as the receive bench.
async fn bare_row(
    me: &std::path::Path,
    hookline: &std::path::Path,
    count: u64,
    concurrency: usize,
) -> anyhow::Result<Row> {
    let bare = Proc::start({
        let mut c = Command::new(me);
        c.arg("bare");
        c
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let payload = dir.path().join("payload.json");
    let pad = "x".repeat(960);
    std::fs::write(
        &payload,
        format!(r#"{{"eventType":"order.placed","payload":{{"pad":"{pad}"}}}}"#),
    )?;
    let run = |n| load::run(hookline, &bare.url, &payload, SECRET, n, concurrency, None);
    run(count / 10).await?;
    let measured = run(count).await?;
    let row = Row {
        name: "bare hyper (answers 200)".into(),
        measured,
        peak_rss_mib: bare.peak_rss_mib(),
    };
    bare.stop().await;
    Ok(row)
}

/// One system: a fresh database, `nodes` servers, `endpoints` endpoints.
#[allow(clippy::too_many_arguments)]
async fn system(
    me: &std::path::Path,
    hookline: &std::path::Path,
    store: &str,
    nodes: usize,
    endpoints: usize,
    count: u64,
    concurrency: usize,
    rate: f64,
) -> anyhow::Result<Option<Outcome>> {
    let client = reqwest::Client::new();
    let work = tempfile::tempdir()?;
    let pg = match store {
        "postgres" => match Postgres::fresh().await? {
            Some(pg) => Some(pg),
            None => return Ok(None),
        },
        _ => None,
    };
    let url = pg
        .as_ref()
        .map_or_else(|| db::sqlite(work.path()), |p| p.url.clone());
    let recv = Proc::start({
        let mut c = Command::new(me);
        c.arg("counter");
        c
    })
    .await?;
    let mut servers = Vec::new();
    for _ in 0..nodes {
        servers.push(Proc::start(procs::hookline_serve(hookline, work.path(), &url, &[])).await?);
    }
    publish::setup(&client, &servers[0].url, &recv.url, endpoints).await?;
    let label = match nodes {
        1 => format!("{store}, {endpoints} ep"),
        n => format!("{store} x{n}, {endpoints} ep"),
    };
    let apis: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    eprintln!("{label}: publishing {count} messages, {concurrency} in flight…");
    let started = now_ms();
    let accepted = publish::messages_split(&client, &apis, count, concurrency).await?;
    let want = count * endpoints as u64;
    let s = drained(&client, &recv.url, want).await?;
    let last = s["lastMs"].as_f64().unwrap_or(started);
    let mut out = Outcome {
        label: label.clone(),
        endpoints,
        count,
        accepted,
        delivered: s["count"].as_u64().unwrap_or(0),
        delivered_per_s: want as f64 / ((last - started) / 1e3).max(1e-3),
        e2e_p50: s["p50Ms"].as_f64().unwrap_or(f64::NAN),
        e2e_p99: s["p99Ms"].as_f64().unwrap_or(f64::NAN),
        open: None,
        rss: None,
    };
    if endpoints == 1 {
        let n = (rate * OPEN_SECS) as u64;
        eprintln!("{label}: open loop, {n} messages at {rate:.0}/s…");
        client.get(format!("{}/reset", recv.url)).send().await?;
        publish::messages_at(&client, &apis, n, rate).await?;
        let s = drained(&client, &recv.url, n).await?;
        let pct = |k: &str| s[k].as_f64().unwrap_or(f64::NAN);
        out.open = Some((pct("p50Ms"), pct("p99Ms")));
    }
    out.rss = Proc::peak_rss_sum(&servers);
    for s in servers {
        s.stop().await;
    }
    recv.stop().await;
    if let Some(pg) = pg {
        pg.drop_schema().await;
    }
    Ok(Some(out))
}

fn print(outcomes: &[Outcome], rate: f64, bare_rps: f64) -> Vec<Value> {
    println!(
        "\n{:<24} {:>10} {:>11} {:>8} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8} {:>8}",
        "system",
        "accepted/s",
        "delivered/s",
        "kept up",
        "e2e p50",
        "e2e p99",
        "pub p50",
        format!("@{rate:.0} p50"),
        format!("@{rate:.0} p99"),
        "peak MiB",
        "vs bare"
    );
    let ms = |v: f64| format!("{v:.1}");
    outcomes
        .iter()
        .map(|o| {
            let open = o
                .open
                .map_or(("-".into(), "-".into()), |(a, b)| (ms(a), ms(b)));
            println!(
                "{:<24} {:>10.0} {:>11.0} {:>8.2} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8} {:>8.2}",
                o.label,
                o.accepted_per_s(),
                o.delivered_per_s,
                o.keep_up(),
                ms(o.e2e_p50),
                ms(o.e2e_p99),
                ms(o.accepted.pct(0.5)),
                open.0,
                open.1,
                o.rss.map_or("-".into(), |v| format!("{v:.0}")),
                o.delivered_per_s / bare_rps.max(1e-9),
            );
            json!({
                "system": o.label, "endpoints": o.endpoints, "messages": o.count,
                "delivered": o.delivered, "acceptedPerSec": o.accepted_per_s(),
                "deliveredPerSec": o.delivered_per_s, "deliveredOverAccepted": o.keep_up(),
                "e2eP50Ms": o.e2e_p50, "e2eP99Ms": o.e2e_p99,
                "publishP50Ms": o.accepted.pct(0.5), "publishP99Ms": o.accepted.pct(0.99),
                "openLoopPerSec": o.open.map(|_| rate),
                "openE2eP50Ms": o.open.map(|o| o.0), "openE2eP99Ms": o.open.map(|o| o.1),
                "peakRssMiB": o.rss,
            })
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bare") => return bare::serve(None).await,
        Some("counter") => return counter::serve().await,
        _ => {}
    }
    let (count, concurrency, rate) = load::count_concurrency_rate(&args, (20_000, 64, 2_000.0));
    let hookline = procs::build_hookline()?;
    let me = std::env::current_exe()?;

    let bare = bare_row(&me, &hookline, count, concurrency).await?;
    let bare_rps = bare.measured.rps;
    let mut rows = vec![bare];
    let mut outcomes = Vec::new();
    for (store, nodes) in [("sqlite", 1), ("postgres", 1), ("postgres", 2)] {
        // Ten endpoints make ten deliveries a message: a fifth as many messages.
        for (endpoints, n) in [(1usize, count), (10, count / 5)] {
            let o = system(
                &me,
                &hookline,
                store,
                nodes,
                endpoints,
                n,
                concurrency,
                rate,
            )
            .await?;
            let Some(o) = o else { continue };
            rows.push(Row {
                name: format!("deliver ({}): e2e", o.label),
                measured: Measured {
                    requests: n * endpoints as u64,
                    ok: o.delivered,
                    rps: o.delivered_per_s,
                    p50_ms: o.e2e_p50,
                    p99_ms: o.e2e_p99,
                    late: 0,
                },
                peak_rss_mib: o.rss,
            });
            outcomes.push(o);
        }
    }
    let setup = json!({
        "count": count, "concurrency": concurrency, "openLoopPerSec": rate, "payloadBytes": 1024,
        "stores": "sqlite WAL synchronous=FULL; postgres synchronous_commit=on (x2: two nodes, publishes split between them)",
        "note": "accepted/s = publishes answered per second; delivered/s = deliveries from the first publish to the last arrival; kept up = delivered/s over accepted/s x endpoints; e2e = the payload's publish time to its arrival",
        "cpus": std::thread::available_parallelism()?.get(),
    });
    report::emit("dispatch", setup.clone(), &rows)?;
    let summary = print(&outcomes, rate, bare_rps);
    let path = procs::root().join("target/bench/dispatch-summary.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(
            &json!({"bench": "dispatch", "setup": setup, "results": summary}),
        )?,
    )?;
    println!("written {}", path.display());
    Ok(())
}
