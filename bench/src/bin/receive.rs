//! Receive benchmark: durable, verified, de-duplicated receiving against a
//! bare hyper server, same signed 1 KiB JSON webhooks, same concurrency.
//!
//! `cargo run --release -p hookline-bench --bin receive [-- COUNT CONCURRENCY]`

use std::time::Duration;

use hookline_bench::load::{self, Measured};
use hookline_bench::procs::{self, Proc};
use hookline_bench::report::{self, Row};
use serde_json::json;
use tokio::process::Command;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ROUNDS: usize = 3;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bare") {
        return hookline_bench::bare::serve().await;
    }
    let count: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(32);
    let hookline = procs::build_hookline()?;
    let dir = tempfile::tempdir()?;
    let payload = dir.path().join("payload.json");
    let pad = "x".repeat(1024 - 74);
    std::fs::write(
        &payload,
        format!(r#"{{"type":"invoice.paid","data":{{"id":"in_1","amount":4200,"pad":"{pad}"}}}}"#),
    )?;
    std::fs::write(
        dir.path().join("hookline.toml"),
        format!("[[source]]\nname = \"bench\"\nscheme = \"standard\"\nsecret = \"{SECRET}\"\ndedup = \"auto\"\n"),
    )?;

    let bare = {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.arg("bare");
        Proc::start(cmd).await?
    };
    let server = Proc::start(procs::hookline_serve(
        &hookline,
        dir.path(),
        "bench.db",
        &[],
    ))
    .await?;
    let systems = [
        ("bare hyper (answers 200)", &bare, "/"),
        ("hookline /in (sqlite, verify, dedup)", &server, "/in/bench"),
    ];
    // Interleaved rounds, so a slow phase of the machine hits both alike;
    // each system's row is its median round.
    let mut runs: Vec<Vec<Measured>> = vec![Vec::new(); systems.len()];
    for (name, proc, path) in &systems {
        eprintln!("warming up {name}…");
        load::run(
            &hookline,
            &format!("{}{path}", proc.url),
            &payload,
            SECRET,
            (count / 10).max(100),
            concurrency,
        )
        .await?;
    }
    for round in 1..=ROUNDS {
        for (i, (name, proc, path)) in systems.iter().enumerate() {
            eprintln!("round {round}/{ROUNDS}: {name}, {count} requests, {concurrency} in flight…");
            tokio::time::sleep(Duration::from_millis(200)).await;
            let url = format!("{}{path}", proc.url);
            runs[i].push(load::run(&hookline, &url, &payload, SECRET, count, concurrency).await?);
        }
    }
    let rows: Vec<Row> = systems
        .iter()
        .zip(runs)
        .map(|((name, proc, _), mut measured)| {
            measured.sort_by(|a, b| a.rps.total_cmp(&b.rps));
            Row {
                name: (*name).into(),
                measured: measured[measured.len() / 2].clone(),
                peak_rss_mib: proc.peak_rss_mib(),
            }
        })
        .collect();
    bare.stop().await;
    server.stop().await;

    let setup = json!({
        "count": count, "concurrency": concurrency, "payloadBytes": std::fs::metadata(&payload)?.len(),
        "scheme": "standard", "store": "sqlite WAL synchronous=FULL", "rounds": ROUNDS, "statistic": "median round",
        "cpus": std::thread::available_parallelism()?.get(),
    });
    report::emit("receive", setup, &rows)?;
    Ok(())
}
