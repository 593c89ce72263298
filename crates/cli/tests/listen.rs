//! `hookline listen` as real processes: a server, listeners, and a local app
//! that verifies with the providers' own libraries.
//! - Stripe, GitHub and Standard Webhooks events arrive at the local app and
//!   each provider's library verifies them; repeated headers and a form body
//!   arrive unchanged.
//! - Resume: a listener stopped while events arrive, a server restarted
//!   mid-stream, a local app down for a while: every event arrives, in
//!   order, none twice.
//! - Two nodes on PostgreSQL: node B receives, a listener on node A forwards.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use hookline_signature::Scheme;
use hookline_testkit::{now_secs, signed, Backend, FreshDb};
use serde_json::{json, Value};
use support::{app_log, free_port, local_app, start, start_at, TOKEN};
use tokio::process::{Child, Command};

const STRIPE: &str = "whsec_listen_stripe_secret";
const GITHUB: &str = "It's a Secret to Everybody";
const STANDARD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn config(dir: &Path) {
    let toml = format!(
        "[[source]]\nname = \"stripe\"\nscheme = \"stripe\"\nsecret = \"{STRIPE}\"\n\n\
         [[source]]\nname = \"github\"\nscheme = \"github\"\nsecret = \"{GITHUB}\"\n\n\
         [[source]]\nname = \"std\"\nscheme = \"standard\"\nsecret = \"{STANDARD}\"\n"
    );
    std::fs::write(dir.join("hookline.toml"), toml).unwrap();
}

/// A token that only reads and streams `source`'s events.
async fn source_token(addr: SocketAddr, source: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/source/{source}/token"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `hookline listen` from `from` for `source` to `to`, its cursor in `cursor`.
fn listen(from: &str, source: &str, token: &str, to: &str, cursor: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args([
            "listen",
            "--from",
            from,
            "--source",
            source,
            "--forward-to",
            to,
            "--json",
        ])
        .arg("--cursor-file")
        .arg(cursor)
        .env("HOOKLINE_TOKEN", token)
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Posts `body` to `/in/{source}` signed as `scheme`, with `extra` headers.
async fn post(
    addr: SocketAddr,
    source: &str,
    scheme: Scheme,
    secret: &str,
    body: &str,
    extra: &[(&str, &str)],
) {
    let mut h = signed(
        scheme,
        secret,
        body.as_bytes(),
        &hookline_core::EventId::new().to_string(),
        now_secs(),
    );
    h.insert(
        "x-github-delivery",
        hookline_core::EventId::new().to_string().parse().unwrap(),
    );
    let mut r = reqwest::Client::new()
        .post(format!("http://{addr}/in/{source}"))
        .headers(h);
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    let resp = r.body(body.to_string()).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

/// Posts `k` Standard Webhooks events numbered after `n` to `std`; the last number.
async fn post_numbered(addr: SocketAddr, n: i64, k: i64) -> i64 {
    for i in n + 1..=n + k {
        let body = json!({ "n": i }).to_string();
        post(addr, "std", Scheme::Standard, STANDARD, &body, &[]).await;
    }
    n + k
}

/// Waits (bounded) until the app has logged `n` requests; what it logged.
async fn arrived(log: &Path, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = app_log(log);
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `"n"` of each logged JSON body, in arrival order.
fn numbers(got: &[Value]) -> Vec<i64> {
    got.iter()
        .map(|v| {
            serde_json::from_str::<Value>(v["body"].as_str().unwrap()).unwrap()["n"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

/// Until the listener has connected (its first event is the proof): sends
/// a ping event and waits for it.
async fn started(addr: SocketAddr, log: &Path, before: usize) {
    post(
        addr,
        "std",
        Scheme::Standard,
        STANDARD,
        &json!({"n": -1}).to_string(),
        &[],
    )
    .await;
    let got = arrived(log, before + 1).await;
    assert_eq!(got.len(), before + 1, "the listener forwards");
}

async fn each_providers_library_verifies_what_listen_forwards() {
    if !support::reference_libraries() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    config(dir.path());
    let db = FreshDb::new().await;
    let server = start(dir.path(), &db.url, &[], &[]).await;
    let from = format!("http://{}", server.addr);
    let port = free_port();
    let log = dir.path().join("app.log");
    let _app = local_app(
        port,
        &log,
        &[
            "--stripe",
            STRIPE,
            "--github",
            GITHUB,
            "--standard",
            STANDARD,
        ],
    );
    let mut listeners = Vec::new();
    for (source, path) in [
        ("stripe", "/stripe"),
        ("github", "/github/hooks"),
        ("std", "/standard"),
    ] {
        let token = source_token(server.addr, source).await;
        let to = format!("http://127.0.0.1:{port}{path}");
        let cursor = dir.path().join(format!("{source}.cursor"));
        listeners.push(listen(
            &from,
            source,
            &token,
            &to,
            &cursor,
            &dir.path().join(format!("{source}.out")),
        ));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    post(
        server.addr,
        "stripe",
        Scheme::Stripe,
        STRIPE,
        r#"{"id":"evt_s1","object":"event","type":"invoice.paid"}"#,
        &[],
    )
    .await;
    post(
        server.addr,
        "github",
        Scheme::Github,
        GITHUB,
        "a=1&b=two%20words",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-dup", "1"),
            ("x-dup", "2"),
        ],
    )
    .await;
    post(
        server.addr,
        "std",
        Scheme::Standard,
        STANDARD,
        r#"{"type":"user.created","n":1}"#,
        &[],
    )
    .await;
    let got = arrived(&log, 3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    for g in &got {
        assert_eq!(
            g["verdict"], "ok",
            "the provider's library verifies it: {g}"
        );
    }
    let gh = got.iter().find(|g| g["path"] == "/github/hooks").unwrap();
    assert_eq!(
        gh["body"], "a=1&b=two%20words",
        "the form body arrives unchanged"
    );
    let dups: Vec<&Value> = gh["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0] == "x-dup")
        .collect();
    assert_eq!(
        dups,
        [&json!(["x-dup", "1"]), &json!(["x-dup", "2"])],
        "repeats kept, in order"
    );
    assert!(
        gh["id"].as_str().unwrap().starts_with("evt_"),
        "X-Hookline-Event-Id"
    );
    drop(listeners);
}

async fn listen_resumes_after_a_stop_a_server_restart_and_an_app_outage() {
    if !support::reference_libraries() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    config(dir.path());
    let db = FreshDb::new().await;
    let server_port = free_port();
    let mut server = start_at(dir.path(), &db.url, server_port, &[], &[]).await;
    let from = format!("http://127.0.0.1:{server_port}");
    let port = free_port();
    let log = dir.path().join("app.log");
    let mut app = local_app(port, &log, &["--standard", STANDARD]);
    let to = format!("http://127.0.0.1:{port}/standard");
    let cursor = dir.path().join("std.cursor");
    let out = dir.path().join("listen.out");
    let token = source_token(server.addr, "std").await;
    let mut l = listen(&from, "std", &token, &to, &cursor, &out);
    tokio::time::sleep(Duration::from_millis(500)).await;
    started(server.addr, &log, 0).await;
    let mut n = 0;

    n = post_numbered(server.addr, n, 3).await;
    arrived(&log, 4).await;

    // Stopped (killed) while events arrive: the next start forwards them.
    l.start_kill().unwrap();
    l.wait().await.unwrap();
    n = post_numbered(server.addr, n, 4).await;
    let mut l = listen(&from, "std", &token, &to, &cursor, &out);
    arrived(&log, 8).await;

    // The server restarts mid-stream: the listener reconnects by itself.
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    let server = start_at(dir.path(), &db.url, server_port, &[], &[]).await;
    n = post_numbered(server.addr, n, 3).await;
    arrived(&log, 11).await;

    // The app is down for a while: nothing is skipped.
    app.start_kill().unwrap();
    app.wait().await.unwrap();
    assert_eq!(post_numbered(server.addr, n, 2).await, 12);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _app = local_app(port, &log, &["--standard", STANDARD]);
    let got = arrived(&log, 13).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = if app_log(&log).len() > got.len() {
        app_log(&log)
    } else {
        got
    };
    assert!(got.iter().all(|g| g["verdict"] == "ok"), "{got:?}");
    assert_eq!(
        numbers(&got),
        [-1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        "all, in order, none twice"
    );
    let said = std::fs::read_to_string(out.with_extension("err")).unwrap_or_default();
    let lines = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        lines.contains("connection refused"),
        "the app's outage is reported: {lines}"
    );
    assert!(
        said.contains("reconnect") || said.contains("cannot reach"),
        "{said}"
    );
    // Another source's cursor file is refused, not silently reused.
    let other = support::hookline(
        &[
            "listen",
            "--from",
            &from,
            "--source",
            "stripe",
            "--token",
            &token,
            "--forward-to",
            &to,
            "--cursor-file",
            cursor.to_str().unwrap(),
        ],
        None,
    )
    .await;
    assert_eq!(other.status.code(), Some(2));
    assert!(
        support::stderr(&other).contains("is the cursor of source `std`"),
        "{}",
        support::stderr(&other)
    );
    l.start_kill().unwrap();
}

async fn a_listener_on_one_node_forwards_what_another_node_received() {
    if Backend::current() != Backend::Postgres {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    config(dir.path());
    let db = FreshDb::on(Backend::Postgres).await;
    let a = start(dir.path(), &db.url, &[], &[]).await;
    let b = start(dir.path(), &db.url, &[], &[]).await;
    let rx = hookline_server::testkit::Receiver::start(Default::default()).await;
    let token = source_token(a.addr, "std").await;
    let cursor = dir.path().join("std.cursor");
    let _l = listen(
        &format!("http://{}", a.addr),
        "std",
        &token,
        &rx.url("/hook"),
        &cursor,
        &dir.path().join("l.out"),
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let sent = Instant::now();
    post(b.addr, "std", Scheme::Standard, STANDARD, r#"{"n":1}"#, &[]).await;
    let got = rx.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "node A's stream carries node B's event");
    assert_eq!(&got[0].body[..], br#"{"n":1}"#);
    eprintln!("node B → listener on node A → app: {:?}", sent.elapsed());
}

hookline_testkit::on_both_backends!(
    each_providers_library_verifies_what_listen_forwards,
    listen_resumes_after_a_stop_a_server_restart_and_an_app_outage,
    a_listener_on_one_node_forwards_what_another_node_received
);
