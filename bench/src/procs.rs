//! Processes under test: build, start, find their address, measure peak memory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The workspace root (the parent of bench/).
pub fn root() -> PathBuf {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    bench.parent().unwrap_or(bench).to_path_buf()
}

/// Builds the release `hookline` binary and returns its path; with
/// `HOOKLINE_BENCH_BIN` set, that binary instead (to measure another build,
/// such as the one before a change, with the same bench).
pub fn build_hookline() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("HOOKLINE_BENCH_BIN") {
        eprintln!("measuring {}", Path::new(&bin).display());
        return Ok(PathBuf::from(bin));
    }
    eprintln!("building hookline (release)…");
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "hookline"])
        .current_dir(root())
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p hookline failed");
    }
    Ok(root().join("target/release/hookline"))
}

/// `hookline serve` on 127.0.0.1:0 over the database `db` (a URL), in `dir`,
/// with the bench admin token, loopback deliveries allowed and quiet logs;
/// `extra` args follow.
pub fn hookline_serve(hookline: &Path, dir: &Path, db: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(hookline);
    c.args([
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--database-url",
        db,
    ])
    .args(extra)
    .current_dir(dir)
    .env("HOOKLINE_ADMIN_TOKEN", crate::publish::TOKEN)
    .env("HOOKLINE_ALLOWED_SUBNETS", "127.0.0.0/8")
    .env("HOOKLINE_LOG", "warn");
    c
}

/// A started server process and its address.
pub struct Proc {
    pub child: Child,
    pub url: String,
}

impl Proc {
    /// Starts `cmd` and waits (up to 60 s) for a stdout line containing
    /// `listening on http://ADDR`.
    pub async fn start(mut cmd: Command) -> anyhow::Result<Proc> {
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let mut child = cmd.spawn().context("starting the server")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .context("the server did not start within 60 s")??
            .context("the server exited before listening")?;
        let url = line
            .split("listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .with_context(|| format!("unexpected first line: {line}"))?
            .to_string();
        // Keep reading stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Proc { child, url })
    }

    /// Peak resident memory (VmHWM) in MiB.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }

    /// Peak resident memory of several processes, added up.
    pub fn peak_rss_sum(procs: &[Proc]) -> Option<f64> {
        procs.iter().map(Proc::peak_rss_mib).sum()
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// A `/proc/…/stat` file's command name and CPU time (user + system) in
/// seconds (Linux).
fn stat_at(path: &Path) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The name is in parentheses and may hold spaces; the fields follow `)`.
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_string();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some((name, ticks / 100.0))
}

/// CPU time (user + system) process `pid` has used, in seconds (Linux).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    stat_at(Path::new(&format!("/proc/{pid}/stat"))).map(|(_, s)| s)
}

/// CPU time (user + system) the threads of process `pid` named `name` have
/// used, in seconds (Linux; 0 when none has that name).
pub fn thread_cpu_seconds(pid: u32, name: &str) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let seconds = tasks
        .flatten()
        .filter_map(|t| stat_at(&t.path().join("stat")))
        .filter(|(comm, _)| comm == name)
        .map(|(_, s)| s)
        .sum();
    Some(seconds)
}

/// CPU time the whole machine has spent busy (every core; user, nice,
/// system, interrupts, steal), in seconds (Linux): what a run cost every
/// process together (load generator, servers, receivers, databases).
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let f: Vec<f64> = cpu
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| f.get(i))
        .sum::<f64>();
    Some(busy / 100.0)
}

/// Waits (at most 5 minutes) until none of processes `pids` is busy (under
/// 5 % of one core over a quarter second): servers stay up between their
/// rounds, and what one does after its load (its search indexer catching
/// up) must not run during another system's round.
pub async fn quiet(pids: &[u32]) {
    let busy = || pids.iter().filter_map(|&p| cpu_seconds(p)).sum::<f64>();
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let mut last = busy();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = busy();
        if now - last < 0.0125 || std::time::Instant::now() > deadline {
            return;
        }
        last = now;
    }
}
