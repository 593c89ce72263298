//! Results: a table on stdout and a JSON file under target/bench/.

use serde_json::{json, Value};

use crate::load::Measured;

/// One row: a system under test and what it did.
pub struct Row {
    pub name: String,
    pub measured: Measured,
    pub peak_rss_mib: Option<f64>,
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
    let dir = crate::procs::root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{bench}.json"));
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json!({ "bench": bench, "setup": setup, "results": out }))?,
    )?;
    println!("\nwritten {}", path.display());
    Ok(path)
}
