//! Receive benchmark: durable, verified, de-duplicated receiving against a
//! bare hyper server, same signed 1 KiB JSON webhooks, same concurrency, on
//! SQLite, on PostgreSQL with one node, and on PostgreSQL with two nodes
//! sharing the load. A second baseline, the durable floor, is the bare server
//! syncing each body to disk (group commit) before it answers: what the disk
//! alone allows any server that answers only after the data is on disk.
//!
//! Then an open loop: every system is offered the same fixed rate of arrivals
//! (one each can sustain), and the table compares latency instead.
//!
//! Rounds are interleaved and each round starts with a different system, so
//! no system always runs just after the same other one, and only once every
//! system's processes are idle (a server still indexing its last round's
//! events would otherwise slow the next system's); besides the median
//! round, each hookline row's ratio to the bare server is taken round by round
//! (the two measured a few seconds apart) and printed with its range.
//!
//! With `HOOKLINE_BENCH_BASELINE=PATH`, another `hookline` binary (the
//! build before a change) runs beside this one in the same rounds, on SQLite
//! and one PostgreSQL node.
//!
//! `cargo run --release -p hookline-bench --bin receive [-- COUNT CONCURRENCY RATE]`

use std::ffi::OsStr;
use std::path::Path;

use anyhow::Context;
use hookline_bench::db::{self, Postgres};
use hookline_bench::lag::{Index, Lag};
use hookline_bench::load::{self, Measured};
use hookline_bench::procs::{self, Proc};
use hookline_bench::report::{self, Row};
use hookline_bench::{bare, floor};
use serde_json::json;
use tokio::process::Command;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ROUNDS: usize = 5;
/// Open loop: requests in flight at most, and seconds of arrivals per round.
const OPEN_CONCURRENCY: usize = 256;
const OPEN_SECS: f64 = 3.0;
const FLOOR: &str = "durable floor (bare + fdatasync/group)";

/// A system under test: its name, its processes, the path loaded on each,
/// and where its search index's backlog is read (hookline's systems).
struct System {
    name: &'static str,
    procs: Vec<Proc>,
    path: &'static str,
    index: Option<Index>,
}

impl System {
    fn urls(&self) -> Vec<String> {
        self.procs
            .iter()
            .map(|p| format!("{}{}", p.url, self.path))
            .collect()
    }
}

/// Interleaved rounds, so a slow phase of the machine hits every system
/// alike: each system's measurements, one per round (and, for a system
/// with a search index, how far it trailed in each).
async fn rounds(
    systems: &[System],
    hookline: &Path,
    payload: &Path,
    count: u64,
    concurrency: usize,
    rate: Option<f64>,
) -> anyhow::Result<(Vec<Vec<Measured>>, Vec<Vec<Lag>>)> {
    let mut runs: Vec<Vec<Measured>> = vec![Vec::new(); systems.len()];
    let mut lags: Vec<Vec<Lag>> = vec![Vec::new(); systems.len()];
    for round in 1..=ROUNDS {
        // Each round starts one system further on.
        for i in (0..systems.len()).map(|k| (k + round - 1) % systems.len()) {
            let s = &systems[i];
            let pace = rate.map_or(format!("{concurrency} in flight"), |r| {
                format!("{r:.0}/s, at most {concurrency} in flight")
            });
            eprintln!(
                "round {round}/{ROUNDS}: {}, {count} requests, {pace}…",
                s.name
            );
            quiet(systems).await;
            let urls = s.urls();
            let load = load::run_split(hookline, &urls, payload, SECRET, count, concurrency, rate);
            // The backlog is read in the open loop, where the rate is known.
            let m = match s.index.as_ref().filter(|_| rate.is_some()) {
                Some(index) => {
                    let (m, lag) = index.during(load).await;
                    lags[i].extend(lag);
                    m?
                }
                None => load.await?,
            };
            runs[i].push(m);
        }
    }
    Ok((runs, lags))
}

/// Each system's search index over the open loop's rounds: the median
/// round's most events behind (and what that is in seconds at `rate`) and
/// how long after the load it had caught up.
fn index_lags(systems: &[System], lags: &[Vec<Lag>], rate: f64) -> serde_json::Value {
    let mut out = Vec::new();
    for (s, l) in systems.iter().zip(lags).filter(|(_, l)| !l.is_empty()) {
        let mut l = l.clone();
        l.sort_by_key(|x| x.max_events);
        let m = l[l.len() / 2];
        let behind_s = m.max_events as f64 / rate;
        println!(
            "{}: the search index at most {} events behind ({behind_s:.2} s at {rate:.0}/s), \
             caught up {:.0} ms after the last request (median of {} rounds; worst {} events)",
            s.name,
            m.max_events,
            m.caught_up_ms,
            l.len(),
            l.last().map_or(0, |x| x.max_events),
        );
        out.push(json!({
            "system": s.name, "maxEventsBehind": m.max_events, "secondsBehind": behind_s,
            "caughtUpMsAfterLoad": m.caught_up_ms,
            "rounds": l.iter().map(|x| json!({"maxEventsBehind": x.max_events, "caughtUpMs": x.caught_up_ms})).collect::<Vec<_>>(),
        }));
    }
    json!(out)
}

/// Waits until no system's process is busy (`procs::quiet`).
async fn quiet(systems: &[System]) {
    let pids: Vec<u32> = systems
        .iter()
        .flat_map(|s| &s.procs)
        .filter_map(|p| p.child.id())
        .collect();
    procs::quiet(&pids).await;
}

/// Each hookline system's req/s over the bare server's in the same round
/// (the first system is the bare server): every round's ratio, their median
/// and their range.
fn paired_ratios(
    systems: &[System],
    runs: &[Vec<Measured>],
) -> serde_json::Map<String, serde_json::Value> {
    let bare = &runs[0];
    systems
        .iter()
        .zip(runs)
        .filter(|(s, _)| s.name.starts_with("hookline"))
        .map(|(s, measured)| {
            let mut ratios: Vec<f64> = measured
                .iter()
                .zip(bare)
                .map(|(m, b)| m.rps / b.rps)
                .collect();
            let each = ratios.clone();
            ratios.sort_by(f64::total_cmp);
            let v = json!({
                "median": ratios[ratios.len() / 2],
                "min": ratios.first(),
                "max": ratios.last(),
                "rounds": each,
            });
            (s.name.to_string(), v)
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bare") => return bare::serve(None).await,
        Some("floor") => {
            let ring = args.get(1).context("floor needs the ring file's path")?;
            return bare::serve(Some(floor::Log::start(Path::new(ring))?)).await;
        }
        _ => {}
    }
    let (count, concurrency, rate) = load::count_concurrency_rate(&args, (20_000, 32, 5_000.0));
    let hookline = procs::build_hookline()?;
    let dir = tempfile::tempdir()?;
    let payload = load::write_payload(dir.path())?;
    std::fs::write(
        dir.path().join("hookline.toml"),
        format!("[[source]]\nname = \"bench\"\nscheme = \"standard\"\nsecret = \"{SECRET}\"\ndedup = \"auto\"\n"),
    )?;
    let serve = |db: &str| Proc::start(procs::hookline_serve(&hookline, dir.path(), db, &[]));
    let mut others_dirs = Vec::new();

    // The baselines are this binary again, with `bare` or `floor RING`.
    let this = std::env::current_exe()?;
    let baseline = |args: &[&OsStr]| {
        let mut cmd = Command::new(&this);
        cmd.args(args);
        cmd
    };
    let bare = Proc::start(baseline(&["bare".as_ref()])).await?;
    let ring = dir.path().join("floor.ring");
    let floor = Proc::start(baseline(&["floor".as_ref(), ring.as_os_str()])).await?;
    let mut systems = vec![
        System {
            name: "bare hyper (answers 200)",
            procs: vec![bare],
            path: "/",
            index: None,
        },
        System {
            name: FLOOR,
            procs: vec![floor],
            path: "/",
            index: None,
        },
        System {
            name: "hookline /in (sqlite, verify, dedup)",
            procs: vec![serve(&db::sqlite(dir.path())).await?],
            path: "/in/bench",
            index: Some(Index::Sqlite(dir.path().join("bench.db"))),
        },
    ];
    let (pg1, pg2) = (Postgres::fresh().await?, Postgres::fresh().await?);
    if let (Some(one), Some(two)) = (&pg1, &pg2) {
        systems.push(System {
            name: "hookline /in (postgres, 1 node)",
            procs: vec![serve(&one.url).await?],
            path: "/in/bench",
            index: Some(Index::Postgres(one.url.clone())),
        });
        systems.push(System {
            name: "hookline /in (postgres, 2 nodes)",
            procs: vec![serve(&two.url).await?, serve(&two.url).await?],
            path: "/in/bench",
            index: Some(Index::Postgres(two.url.clone())),
        });
    }
    // Another build beside this one, in the same rounds (the fairest before
    // and after on a machine whose speed drifts): SQLite and one node.
    let mut others = Vec::new();
    if let Some(other) = std::env::var_os("HOOKLINE_BENCH_BASELINE") {
        let other = std::path::PathBuf::from(other);
        eprintln!("beside it, the baseline build {}", other.display());
        let odir = tempfile::tempdir()?;
        std::fs::copy(
            dir.path().join("hookline.toml"),
            odir.path().join("hookline.toml"),
        )?;
        let oserve = |db: &str| Proc::start(procs::hookline_serve(&other, odir.path(), db, &[]));
        systems.push(System {
            name: "hookline /in (sqlite, baseline build)",
            procs: vec![oserve(&db::sqlite(odir.path())).await?],
            path: "/in/bench",
            index: Some(Index::Sqlite(odir.path().join("bench.db"))),
        });
        if let Some(pg) = Postgres::fresh().await? {
            systems.push(System {
                name: "hookline /in (postgres, 1 node, baseline build)",
                procs: vec![oserve(&pg.url).await?],
                path: "/in/bench",
                index: Some(Index::Postgres(pg.url.clone())),
            });
            others.push(pg);
        }
        others_dirs.push(odir);
    }
    for s in &systems {
        eprintln!("warming up {}…", s.name);
        let warm = (count / 10).max(100);
        load::run_split(
            &hookline,
            &s.urls(),
            &payload,
            SECRET,
            warm,
            concurrency,
            None,
        )
        .await?;
    }
    let (runs, _) = rounds(&systems, &hookline, &payload, count, concurrency, None).await?;
    let open_count = (rate * OPEN_SECS) as u64;
    let (open_runs, open_lags) = rounds(
        &systems,
        &hookline,
        &payload,
        open_count,
        OPEN_CONCURRENCY,
        Some(rate),
    )
    .await?;
    // Each system's median round: by req/s closed, by p99 latency open.
    let median = |runs: Vec<Vec<Measured>>, key: fn(&Measured) -> f64| -> Vec<Row> {
        systems
            .iter()
            .zip(runs)
            .map(|(s, mut measured)| {
                measured.sort_by(|a, b| key(a).total_cmp(&key(b)));
                Row {
                    name: s.name.into(),
                    measured: measured[measured.len() / 2].clone(),
                    peak_rss_mib: Proc::peak_rss_sum(&s.procs),
                }
            })
            .collect()
    };
    let paired = paired_ratios(&systems, &runs);
    let lags = index_lags(&systems, &open_lags, rate);
    let rows = median(runs, |m| m.rps);
    let open_rows = median(open_runs, |m| m.p99_ms);
    for s in systems {
        for p in s.procs {
            p.stop().await;
        }
    }
    for pg in [pg1, pg2].into_iter().flatten().chain(others) {
        pg.drop_schema().await;
    }
    drop(others_dirs);

    // hookline's rows against the floor: what hookline costs beyond the disk.
    let floor_rps = rows
        .iter()
        .find(|r| r.name == FLOOR)
        .map_or(f64::NAN, |r| r.measured.rps);
    let vs_floor: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .filter(|r| r.name.starts_with("hookline"))
        .map(|r| (r.name.clone(), json!(r.measured.rps / floor_rps)))
        .collect();
    let setup = json!({
        "count": count, "concurrency": concurrency, "payloadBytes": std::fs::metadata(&payload)?.len(),
        "scheme": "standard", "stores": "sqlite WAL synchronous=FULL; postgres synchronous_commit=on",
        "twoNodes": "the load split evenly over both nodes; req/s summed, latency the worse node's",
        "rounds": ROUNDS, "statistic": "median round",
        "cpus": std::thread::available_parallelism()?.get(),
        "floor": "bare hyper appending each body to a preallocated ring file, one fdatasync per group before answering",
        "ratioToFloor": vs_floor,
        "ratioToBarePerRound": paired,
    });
    report::emit("receive", setup, &rows)?;
    report::emit_open_loop("receive", rate, &open_rows)?;
    report::write(
        "receive-index",
        &json!({ "bench": "receive", "offeredPerSec": rate, "searchIndex": lags }),
    )?;
    for (name, r) in &paired {
        println!(
            "{name}: {:.2} of bare, round by round (median; {:.2}–{:.2} over {ROUNDS} rounds)",
            r["median"].as_f64().unwrap_or(f64::NAN),
            r["min"].as_f64().unwrap_or(f64::NAN),
            r["max"].as_f64().unwrap_or(f64::NAN),
        );
    }
    for (name, ratio) in &vs_floor {
        println!(
            "{name}: {:.2} of the durable floor",
            ratio.as_f64().unwrap_or(f64::NAN)
        );
    }
    Ok(())
}
