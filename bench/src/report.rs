//! Results: a table on stdout and a JSON file under target/bench/.

use serde_json::{json, Value};

use crate::load::Measured;

/// One row: a system under test and what it did.
pub struct Row {
    pub name: String,
    pub measured: Measured,
    pub peak_rss_mib: Option<f64>,
}

/// Writes `target/bench/{name}.json`.
pub fn write(name: &str, v: &Value) -> anyhow::Result<std::path::PathBuf> {
    let dir = crate::procs::root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(v)?)?;
    println!("\nwritten {}", path.display());
    Ok(path)
}

/// An open-loop run's table: every system offered the same arrivals per
/// second, so what differs is latency (p99 also as a multiple of the first
/// row's, the baseline) and how many requests could not start on time.
/// Writes `target/bench/{bench}-open.json`.
pub fn emit_open_loop(bench: &str, rate: f64, rows: &[Row]) -> anyhow::Result<std::path::PathBuf> {
    let base = rows.first().map_or(1.0, |r| r.measured.p99_ms.max(1e-9));
    println!("\nopen loop: {rate:.0} requests/s offered to each system");
    println!(
        "{:<38} {:>10} {:>9} {:>9} {:>9} {:>9} {:>12}",
        "system", "requests", "req/s", "p50 ms", "p99 ms", "late", "p99 vs bare"
    );
    let mut out = Vec::new();
    for r in rows {
        let m = &r.measured;
        let ratio = m.p99_ms / base;
        println!(
            "{:<38} {:>10} {:>9.0} {:>9.2} {:>9.2} {:>9} {:>12.2}",
            r.name,
            format!("{}/{}", m.ok, m.requests),
            m.rps,
            m.p50_ms,
            m.p99_ms,
            m.late,
            ratio
        );
        out.push(json!({
            "system": r.name, "requests": m.requests, "ok": m.ok, "requestsPerSec": m.rps,
            "p50Ms": m.p50_ms, "p99Ms": m.p99_ms, "late": m.late, "p99RatioToBare": ratio,
        }));
    }
    write(
        &format!("{bench}-open"),
        &json!({ "bench": bench, "offeredPerSec": rate, "results": out }),
    )
}

/// Prints the table (each row's requests/s also as a ratio to the first row,
/// the baseline) and writes `target/bench/{bench}.json`.
pub fn emit(bench: &str, setup: Value, rows: &[Row]) -> anyhow::Result<std::path::PathBuf> {
    let base = rows.first().map_or(1.0, |r| r.measured.rps.max(1e-9));
    println!(
        "\n{:<38} {:>10} {:>9} {:>9} {:>9} {:>10} {:>9}",
        "system", "requests", "req/s", "p50 ms", "p99 ms", "peak MiB", "vs bare"
    );
    let mut out = Vec::new();
    for r in rows {
        let m = &r.measured;
        let ratio = m.rps / base;
        println!(
            "{:<38} {:>10} {:>9.0} {:>9.2} {:>9.2} {:>10} {:>9.2}",
            r.name,
            format!("{}/{}", m.ok, m.requests),
            m.rps,
            m.p50_ms,
            m.p99_ms,
            r.peak_rss_mib.map_or("-".into(), |v| format!("{v:.1}")),
            ratio
        );
        out.push(json!({
            "system": r.name, "requests": m.requests, "ok": m.ok, "requestsPerSec": m.rps,
            "p50Ms": m.p50_ms, "p99Ms": m.p99_ms, "peakRssMiB": r.peak_rss_mib, "ratioToBare": ratio,
        }));
    }
    write(
        bench,
        &json!({ "bench": bench, "setup": setup, "results": out }),
    )
}
