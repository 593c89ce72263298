//! Running the `hookline` binary in tests; the capturing receiver is the
//! server testkit's.

#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[allow(unused_imports)]
pub use hookline_server::testkit::{Receiver, Reply};

/// Runs the `hookline` binary with `args` (and `stdin`), bounded by 60 s.
pub async fn hookline(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookline"));
    cmd.args(args)
        .env_remove("HOOKLINE_SECRET")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn hookline");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or_default())
        .await
        .expect("write stdin");
    drop(pipe);
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("hookline finished within 60 s")
        .expect("hookline ran")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub const TOKEN: &str = "crash-test-admin-token";

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Where its log (stderr) goes.
    pub log: std::path::PathBuf,
}

impl Server {
    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A SQLite database in `dir`.
pub fn sqlite_in(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("hookline.db").display())
}

/// Starts `hookline serve` on 127.0.0.1:0 over the database `db` (a URL),
/// in `dir`, and reads its address from stdout.
pub async fn start(dir: &Path, db: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
    start_at(dir, db, 0, args, env).await
}

/// A free loopback port (free now; for a process that must come back on it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The providers' reference libraries (interop/) for tests whose local app
/// verifies with them; missing ones skip the test, but fail it under CI.
pub fn reference_libraries() -> bool {
    let python = std::process::Command::new("python3")
        .args(["-c", "import stripe, standardwebhooks"])
        .status()
        .is_ok_and(|s| s.success());
    let node = interop_dir()
        .join("node_modules/@octokit/webhooks-methods")
        .exists();
    present(
        python && node,
        "the providers' libraries",
        "pip install -r interop/requirements.txt && (cd interop && npm install)",
    )
}

/// Whether `what` a test needs is here: if not, the test says `how` and
/// skips, except under `CI=true`, where a missing `what` fails it.
pub fn present(ready: bool, what: &str, how: &str) -> bool {
    assert!(
        ready || std::env::var("CI").as_deref() != Ok("true"),
        "{what} missing under CI: {how}"
    );
    if !ready {
        eprintln!("skipping: {what} missing; {how}");
    }
    ready
}

pub fn interop_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

/// `interop/local_app.py` on `port`, logging to `log`, verifying with `secrets`
/// (`--stripe S`, …); killed when dropped.
pub fn local_app(port: u16, log: &Path, secrets: &[&str]) -> Child {
    Command::new("python3")
        .arg(interop_dir().join("local_app.py"))
        .arg(port.to_string())
        .arg(log)
        .args(secrets)
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// What the local app logged, one JSON object per request.
pub fn app_log(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Starts `hookline serve` on 127.0.0.1:`port` (0: any) over `db`, in `dir`.
pub async fn start_at(
    dir: &Path,
    db: &str,
    port: u16,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    launch(
        Command::new(env!("CARGO_BIN_EXE_hookline")),
        dir,
        db,
        port,
        args,
        env,
    )
    .await
}

/// Like [`start`], with at most `nofile` open descriptors (by `prlimit`).
pub async fn start_with_nofile(
    dir: &Path,
    db: &str,
    nofile: u64,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--nofile={nofile}:{nofile}"))
        .arg(env!("CARGO_BIN_EXE_hookline"));
    launch(cmd, dir, db, 0, args, env).await
}

async fn launch(
    mut cmd: Command,
    dir: &Path,
    db: &str,
    port: u16,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let port = port.to_string();
    cmd.args([
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--database-url",
        db,
    ])
    .args(args)
    .current_dir(dir)
    .env("HOOKLINE_ADMIN_TOKEN", TOKEN)
    .env_remove("WEBHOOK_SECRET")
    .env_remove("PORT")
    .envs(env.iter().copied())
    .stdout(std::process::Stdio::piped())
    .kill_on_drop(true);
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = dir.join(format!("serve-{n}.log"));
    cmd.stderr(std::fs::File::create(&log).unwrap());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the server started within 30 s")
        .unwrap()
        .expect("a first line on stdout");
    let addr = line
        .strip_prefix("hookline listening on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .parse()
        .unwrap();
    Server { child, addr, log }
}

/// `/api/v1{path}` on the server at `addr`.
pub fn api(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}/api/v1{path}")
}

/// `GET /api/v1{path}` with the admin token, as JSON.
pub async fn get_api(client: &reqwest::Client, addr: SocketAddr, path: &str) -> serde_json::Value {
    get_json(client, api(addr, path)).await
}

/// `GET url` with the admin token, as JSON.
pub async fn get_json(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> serde_json::Value {
    client
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Creates an app `a` with one endpoint at `url`.
pub async fn app_with_endpoint(client: &reqwest::Client, addr: SocketAddr, url: &str) {
    let r = client
        .post(api(addr, "/app"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "a", "uid": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = client
        .post(api(addr, "/app/a/endpoint"))
        .bearer_auth(TOKEN)
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// Waits (bounded) until the receiver has seen every id in `want`; returns
/// how often each `webhook-id` arrived.
pub async fn received_all(
    rx: &Receiver,
    want: &HashSet<String>,
    limit: Duration,
) -> HashMap<String, usize> {
    let deadline = Instant::now() + limit;
    loop {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for c in rx.captured() {
            *seen
                .entry(c.headers["webhook-id"].to_str().unwrap().to_string())
                .or_default() += 1;
        }
        if want.iter().all(|id| seen.contains_key(id)) || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
