//! Forward benchmark: signed webhooks into a source with one route to a
//! local counting receiver, beside the same receiving into a source without
//! routes (same process, same database) and the bare hyper server, in one run,
//! on SQLite and on PostgreSQL (one node). Beside them, the forwarding
//! floor: the bare server posting each body on to the same receiver (with
//! hyper's client, and with reqwest), so the cheapest possible forward's cost
//! is measured in the same run.
//!
//! Each run also reads the whole machine's busy CPU time (every process: load
//! generator, servers, receiver, database; less SQLite's search indexer,
//! an idle-priority thread that takes whatever CPU is left over) per
//! received request. (Per request it is not a constant: a busier machine
//! batches more per system call and wake-up, so it does not add up from one
//! system to another.)
//!
//! Rounds are interleaved, and each starts only once every server is idle
//! (a server still indexing the last round's events would slow the next).
//!
//! Per system: receive req/s (closed loop) and the ratio with/without the
//! route round by round; for the routed source, forwarded/s (arrivals over
//! the time from the load's start to the last arrival) and receive → arrival
//! latency (the event id's time to the arrival), closed loop and open loop.
//!
//! With `HOOKLINE_BENCH_BASELINE=PATH`, another `hookline` binary (the
//! build before a change) runs beside this one in the same rounds, on SQLite.
//!
//! `cargo run --release -p hookline-bench --bin forward [-- COUNT CONCURRENCY RATE]`

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hookline_bench::db::{self, Postgres};
use hookline_bench::load::{self, Measured};
use hookline_bench::procs::{self, Proc};
use hookline_bench::report::{self, Row};
use hookline_bench::{bare, counter, relay};
use serde_json::{json, Value};
use tokio::process::Command;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ROUNDS: usize = 3;
const OPEN_CONCURRENCY: usize = 256;
const OPEN_SECS: f64 = 3.0;
/// Longest wait for the forwards of one run to arrive.
const DRAIN: Duration = Duration::from_secs(120);
/// The name of hookline's SQLite search indexer thread.
const INDEXER_THREAD: &str = "hl-search-index";

/// A system under test: a name, the URL loaded, and whether it forwards.
struct System {
    name: String,
    url: String,
    routed: bool,
    /// The server process, whose CPU time a run costs.
    pid: Option<u32>,
    /// The system this one's receive rate is compared with (the same
    /// receiving without the forward).
    plain: Option<usize>,
}

/// What one run cost the server: CPU microseconds per received request
/// (for a routed run, its forwards included).
#[derive(Clone, Debug)]
struct Cost {
    cpu_us_per_request: f64,
    /// The whole machine's busy CPU per received request, less the search
    /// indexer's: an idle-priority thread that soaks up whatever CPU the
    /// load leaves over, off the request path.
    machine_us_per_request: f64,
}

/// What a routed run's forwards did.
#[derive(Clone, Debug)]
struct Forwarded {
    count: u64,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

/// The machine's busy CPU seconds, less the search indexer threads' of `pid`.
fn machine_less_indexer(pid: Option<u32>) -> Option<f64> {
    let indexer = pid.and_then(|p| procs::thread_cpu_seconds(p, INDEXER_THREAD));
    Some(procs::machine_busy_seconds()? - indexer.unwrap_or(0.0))
}

/// Waits until `want` forwards have arrived (bounded), then reads them.
async fn drained(
    client: &reqwest::Client,
    counter: &str,
    want: u64,
    started_ms: f64,
) -> anyhow::Result<Forwarded> {
    let deadline = Instant::now() + DRAIN;
    loop {
        let s: Value = counter::stats_of(client, counter).await?;
        let count = s["count"].as_u64().unwrap_or(0);
        if count >= want || Instant::now() > deadline {
            let last = s["lastMs"].as_f64().unwrap_or(started_ms);
            return Ok(Forwarded {
                count,
                per_sec: count as f64 / ((last - started_ms) / 1e3).max(1e-3),
                p50_ms: s["p50Ms"].as_f64().unwrap_or(f64::NAN),
                p99_ms: s["p99Ms"].as_f64().unwrap_or(f64::NAN),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Interleaved rounds (each starting one system further on): every system's
/// load measurements and, for routed ones, what their forwards did.
async fn rounds(
    systems: &[System],
    hookline: &Path,
    payload: &Path,
    counter: &str,
    count: u64,
    concurrency: usize,
    rate: Option<f64>,
) -> anyhow::Result<Vec<Vec<Run>>> {
    let client = reqwest::Client::new();
    let mut runs = vec![Vec::new(); systems.len()];
    let pids: Vec<u32> = systems.iter().filter_map(|s| s.pid).collect();
    for round in 1..=ROUNDS {
        for i in (0..systems.len()).map(|k| (k + round - 1) % systems.len()) {
            let s = &systems[i];
            eprintln!("round {round}/{ROUNDS}: {}, {count} requests…", s.name);
            tokio::time::sleep(Duration::from_millis(200)).await;
            procs::quiet(&pids).await;
            counter::reset(&client, counter).await?;
            let started = now_ms();
            let cpu = s.pid.and_then(procs::cpu_seconds);
            let busy = machine_less_indexer(s.pid);
            let m = load::run(hookline, &s.url, payload, SECRET, count, concurrency, rate).await?;
            let f = match s.routed {
                true => Some(drained(&client, counter, m.ok, started).await?),
                false => None,
            };
            let per = |a: f64, b: f64| (b - a) * 1e6 / m.ok.max(1) as f64;
            let machine = busy.zip(machine_less_indexer(s.pid));
            let cost = match (cpu.zip(s.pid.and_then(procs::cpu_seconds)), machine) {
                (Some((a, b)), Some((x, y))) => Some(Cost {
                    cpu_us_per_request: per(a, b),
                    machine_us_per_request: per(x, y),
                }),
                _ => None,
            };
            runs[i].push((m, f, cost));
        }
    }
    Ok(runs)
}

/// The median round of each system (by `key`), as table rows, with its forwards.
/// One run: the load's measurements, the forwards', the server's CPU.
type Run = (Measured, Option<Forwarded>, Option<Cost>);

fn medians(
    systems: &[System],
    runs: &[Vec<Run>],
    key: fn(&Measured) -> f64,
) -> (Vec<Row>, Vec<Option<Forwarded>>, Vec<Option<Cost>>) {
    let mut rows = Vec::new();
    let mut forwards = Vec::new();
    let mut costs = Vec::new();
    for (s, r) in systems.iter().zip(runs) {
        let mut r = r.clone();
        r.sort_by(|a, b| key(&a.0).total_cmp(&key(&b.0)));
        let (m, f, c) = r[r.len() / 2].clone();
        rows.push(Row {
            name: s.name.clone(),
            measured: m,
            peak_rss_mib: None,
        });
        forwards.push(f);
        costs.push(c);
    }
    (rows, forwards, costs)
}

/// Routed req/s over unrouted req/s, round by round, for each store.
fn route_cost(systems: &[System], runs: &[Vec<Run>]) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for (i, s) in systems.iter().enumerate() {
        let Some(plain) = s.plain.map(|p| &runs[p]) else {
            continue;
        };
        let mut ratios: Vec<f64> = runs[i]
            .iter()
            .zip(plain)
            .map(|((m, _, _), (p, _, _))| m.rps / p.rps)
            .collect();
        let each = ratios.clone();
        ratios.sort_by(f64::total_cmp);
        out.insert(
            s.name.clone(),
            json!({"median": ratios[ratios.len() / 2], "min": ratios.first(), "max": ratios.last(), "rounds": each}),
        );
    }
    out
}

fn print_forwards(
    title: &str,
    systems: &[System],
    rows: &[Row],
    forwards: &[Option<Forwarded>],
) -> Vec<Value> {
    println!("\n{title}");
    println!(
        "{:<40} {:>10} {:>12} {:>12} {:>11} {:>11}",
        "system", "forwarded", "received/s", "forwarded/s", "arrival p50", "arrival p99"
    );
    let mut out = Vec::new();
    for ((s, r), f) in systems.iter().zip(rows).zip(forwards) {
        let Some(f) = f else { continue };
        // The relays' arrivals carry no time of receipt.
        let ms = |v: f64| match v.is_nan() {
            true => "-".to_string(),
            false => format!("{v:.2} ms"),
        };
        println!(
            "{:<40} {:>10} {:>12.0} {:>12.0} {:>11} {:>11}",
            s.name,
            format!("{}/{}", f.count, r.measured.ok),
            r.measured.rps,
            f.per_sec,
            ms(f.p50_ms),
            ms(f.p99_ms)
        );
        out.push(json!({
            "system": s.name, "received": r.measured.ok, "forwarded": f.count,
            "receivedPerSec": r.measured.rps, "forwardedPerSec": f.per_sec,
            "arrivalP50Ms": f.p50_ms, "arrivalP99Ms": f.p99_ms,
        }));
    }
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bare") => return bare::serve(None).await,
        Some("counter") => return counter::serve().await,
        Some("relay") => {
            let (client, to) = (args.get(1), args.get(2));
            let (Some(client), Some(to)) = (client, to) else {
                anyhow::bail!("relay needs a client (hyper or reqwest) and a URL");
            };
            return relay::serve(client, to.clone()).await;
        }
        _ => {}
    }
    let (count, concurrency, rate) = load::count_concurrency_rate(&args, (20_000, 32, 5_000.0));
    let hookline = procs::build_hookline()?;
    let this = std::env::current_exe()?;
    let child = |arg: &str| {
        let mut c = Command::new(&this);
        c.arg(OsStr::new(arg));
        c
    };
    let bare = Proc::start(child("bare")).await?;
    let counter = Proc::start(child("counter")).await?;
    let dir = tempfile::tempdir()?;
    let payload = load::write_payload(dir.path())?;
    std::fs::write(
        dir.path().join("hookline.toml"),
        format!(
            "[[source]]\nname = \"plain\"\nscheme = \"standard\"\nsecret = \"{SECRET}\"\n\n\
             [[source]]\nname = \"routed\"\nscheme = \"standard\"\nsecret = \"{SECRET}\"\n\n\
             [[route]]\nname = \"to-counter\"\nsource = \"routed\"\nurl = \"{}/hook\"\n",
            counter.url
        ),
    )?;
    let serve = |db: &str| Proc::start(procs::hookline_serve(&hookline, dir.path(), db, &[]));
    let mut servers = vec![("sqlite", serve(&db::sqlite(dir.path())).await?)];
    let pg = Postgres::fresh().await?;
    if let Some(pg) = &pg {
        servers.push(("postgres", serve(&pg.url).await?));
    }
    // Another build beside this one, in the same rounds, on SQLite (in a
    // directory of its own, kept until the end).
    let mut odir = None;
    if let Some(other) = std::env::var_os("HOOKLINE_BENCH_BASELINE") {
        let other = std::path::PathBuf::from(other);
        let odir = odir.insert(tempfile::tempdir()?);
        eprintln!("beside it, the baseline build {}", other.display());
        std::fs::copy(
            dir.path().join("hookline.toml"),
            odir.path().join("hookline.toml"),
        )?;
        let cmd = procs::hookline_serve(&other, odir.path(), &db::sqlite(odir.path()), &[]);
        servers.push(("sqlite, baseline build", Proc::start(cmd).await?));
    }
    let mut systems = vec![System {
        name: "bare hyper (answers 200)".into(),
        url: bare.url.clone(),
        routed: false,
        pid: bare.child.id(),
        plain: None,
    }];
    let mut relays = Vec::new();
    for client in ["hyper", "reqwest"] {
        let mut c = child("relay");
        c.args([client, &format!("{}/hook", counter.url)]);
        let r = Proc::start(c).await?;
        systems.push(System {
            name: format!("bare + forward ({client} client)"),
            url: r.url.clone(),
            routed: true,
            pid: r.child.id(),
            plain: Some(0),
        });
        relays.push(r);
    }
    for (store, p) in &servers {
        systems.push(System {
            name: format!("hookline /in ({store}, no route)"),
            url: format!("{}/in/plain", p.url),
            routed: false,
            pid: p.child.id(),
            plain: None,
        });
        systems.push(System {
            name: format!("hookline /in ({store}, 1 route)"),
            url: format!("{}/in/routed", p.url),
            routed: true,
            pid: p.child.id(),
            plain: Some(systems.len() - 1),
        });
    }
    let client = reqwest::Client::new();
    for s in &systems {
        eprintln!("warming up {}…", s.name);
        let warm = (count / 10).max(100);
        let m = load::run(&hookline, &s.url, &payload, SECRET, warm, concurrency, None).await?;
        if s.routed {
            drained(&client, &counter.url, m.ok, now_ms()).await?;
        }
    }
    let closed = rounds(
        &systems,
        &hookline,
        &payload,
        &counter.url,
        count,
        concurrency,
        None,
    )
    .await?;
    let open_count = (rate * OPEN_SECS) as u64;
    let open = rounds(
        &systems,
        &hookline,
        &payload,
        &counter.url,
        open_count,
        OPEN_CONCURRENCY,
        Some(rate),
    )
    .await?;
    let cost = route_cost(&systems, &closed);
    let (rows, forwards, costs) = medians(&systems, &closed, |m| m.rps);
    let (open_rows, open_forwards, _) = medians(&systems, &open, |m| m.p99_ms);
    for (_, p) in servers {
        p.stop().await;
    }
    bare.stop().await;
    counter.stop().await;
    for r in relays {
        r.stop().await;
    }
    if let Some(pg) = pg {
        pg.drop_schema().await;
    }

    println!("\nCPU per received request (closed loop, median round; a routed run includes its forwards)");
    println!("{:<40} {:>10} {:>14}", "system", "server", "whole machine");
    let (mut cpu, mut machine) = (serde_json::Map::new(), serde_json::Map::new());
    for (s, c) in systems.iter().zip(&costs) {
        if let Some(c) = c {
            println!(
                "{:<40} {:>7.1} µs {:>11.1} µs",
                s.name, c.cpu_us_per_request, c.machine_us_per_request
            );
            cpu.insert(s.name.clone(), json!(c.cpu_us_per_request));
            machine.insert(s.name.clone(), json!(c.machine_us_per_request));
        }
    }
    let closed_fw = print_forwards(
        "forwards, closed loop (median round by received req/s)",
        &systems,
        &rows,
        &forwards,
    );
    let open_fw = print_forwards(
        &format!("forwards, open loop at {rate:.0}/s (median round by p99)"),
        &systems,
        &open_rows,
        &open_forwards,
    );
    let setup = json!({
        "count": count, "concurrency": concurrency, "payloadBytes": std::fs::metadata(&payload)?.len(),
        "scheme": "standard", "route": "one route, no filter, to a local counting receiver",
        "rounds": ROUNDS, "statistic": "median round",
        "cpus": std::thread::available_parallelism()?.get(),
        "arrivalLatency": "arrival time minus the event id's time (taken when the request reached hookline, before its commit)",
        "routedOverUnroutedPerRound": cost,
        "forwardsClosed": closed_fw, "forwardsOpen": open_fw, "cpuMicrosPerRequest": cpu,
        "machineCpuMicrosPerRequest": machine,
    });
    report::emit("forward", setup, &rows)?;
    report::emit_open_loop("forward", rate, &open_rows)?;
    for (name, r) in &cost {
        println!(
            "{name}: {:.2} of the same source without a route, round by round (median; {:.2}–{:.2})",
            r["median"].as_f64().unwrap_or(f64::NAN),
            r["min"].as_f64().unwrap_or(f64::NAN),
            r["max"].as_f64().unwrap_or(f64::NAN),
        );
    }
    Ok(())
}
