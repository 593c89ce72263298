//! `hookline serve` as a process: configuration layers, clear start-up errors,
//! and the crash test (SIGKILL under load, restart, nothing acknowledged lost).

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookline_signature::Scheme;
use hookline_testkit::{Backend, FreshDb};
use serde_json::Value;
use support::{get_json, hookline, sqlite_in, start, stderr, TOKEN};

fn signed_headers(secret: &str, body: &[u8]) -> reqwest::header::HeaderMap {
    hookline_testkit::signed(Scheme::HmacSha256, secret, body, "x", 0)
}

async fn all_bodies(client: &reqwest::Client, addr: SocketAddr, source: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut iterator = String::new();
    loop {
        let url =
            format!("http://{addr}/api/v1/source/{source}/event?limit=250&iterator={iterator}");
        let page: Value = get_json(client, url).await;
        for e in page["data"].as_array().unwrap() {
            let id = e["id"].as_str().unwrap();
            let url = format!("http://{addr}/api/v1/source/{source}/event/{id}");
            let one: Value = get_json(client, url).await;
            out.push(
                base64::engine::general_purpose::STANDARD
                    .decode(one["bodyBase64"].as_str().unwrap())
                    .unwrap(),
            );
        }
        if page["done"] == true {
            return out;
        }
        iterator = page["iterator"].as_str().unwrap().to_string();
    }
}

async fn sigkill_under_load_loses_no_acknowledged_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let db = FreshDb::new().await;
    let secret = "crash-secret";
    let mut server = start(dir.path(), &db.url, &[], &[("WEBHOOK_SECRET", secret)]).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/webhook/crash", server.addr);

    let acked = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let failed = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(20);
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (client, url, acked, failed, next, stop) = (
                client.clone(),
                url.clone(),
                acked.clone(),
                failed.clone(),
                next.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                // Bounded in count and time.
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= 20_000 {
                        break;
                    }
                    // ~4 KiB on average, so that SQLite's WAL starts over
                    // several times before the kill.
                    let body = format!(
                        "{{\"seq\":{i},\"pad\":\"{}\",\"bytes\":\"caf\u{e9}\"}}",
                        "x".repeat((i % 16) * 512 + i % 200)
                    )
                    .into_bytes();
                    let sent = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .headers(signed_headers(secret, &body))
                        .body(body.clone())
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 200 => acked.lock().unwrap().push(body),
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();

    // Kill once the load is well under way: past 24 MiB acknowledged.
    let acked_bytes = || acked.lock().unwrap().iter().map(Vec::len).sum::<usize>();
    while acked_bytes() < 24 << 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.start_kill().unwrap(); // SIGKILL
    server.child.wait().await.unwrap();
    if db.backend == Backend::Sqlite {
        // The kill came after the WAL had started over (the riskiest moment
        // for recovery is a WAL whose front was rewritten).
        let wal = format!("{}-wal", db.url.trim_start_matches("sqlite://"));
        let wal = std::fs::metadata(wal).map_or(0, |m| m.len());
        assert!(
            (wal as usize) < acked_bytes() / 2,
            "the WAL ({wal} bytes) did not start over under {} acknowledged bytes",
            acked_bytes()
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 400,
        "the load ran: {} acknowledged",
        acked.len()
    );
    assert!(
        failed.load(Ordering::Relaxed) > 0,
        "requests were in flight when the server died"
    );

    let server = start(dir.path(), &db.url, &[], &[("WEBHOOK_SECRET", secret)]).await;
    let stored: HashSet<Vec<u8>> = all_bodies(&client, server.addr, "default")
        .await
        .into_iter()
        .collect();
    let lost: Vec<String> = acked
        .iter()
        .filter(|b| !stored.contains(*b))
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged webhooks lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    assert!(stored.len() >= acked.len());
    eprintln!(
        "acknowledged {}, stored {}, failed {}",
        acked.len(),
        stored.len(),
        failed.load(Ordering::Relaxed)
    );
}

#[tokio::test]
async fn config_file_env_and_flags_in_layers() {
    let dir = tempfile::tempdir().unwrap();
    // The file says port 1 (not ours to take); the --port 0 flag wins over it.
    std::fs::write(
        dir.path().join("hookline.toml"),
        r#"
port = 1
body_limit = 2048

[[source]]
name = "gh"
scheme = "github"
secrets = ["new-secret", "old-secret"]
dedup = "auto"
"#,
    )
    .unwrap();
    let server = start(dir.path(), &sqlite_in(dir.path()), &[], &[]).await;
    let url = format!("http://{}/in/gh", server.addr);
    let ok = hookline(
        &["send", &url, "--scheme", "github", "--secret", "old-secret"],
        None,
    )
    .await;
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let bad = hookline(
        &["send", &url, "--scheme", "github", "--secret", "nope"],
        None,
    )
    .await;
    assert_eq!(bad.status.code(), Some(1));
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(4096));
    let too_big = hookline(&["send", &url, "--data", &big], None).await;
    assert!(
        String::from_utf8_lossy(&too_big.stdout).contains("413"),
        "body_limit from the file applies"
    );
}

#[tokio::test]
async fn start_up_errors_say_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("typo.toml"), "prot = 3000\n").unwrap();
    let run = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        hookline(&args, None).await
    };
    let p = |s: &str| dir.path().join(s).display().to_string();
    let cases = [
        (
            vec![
                "serve".into(),
                "--config".into(),
                p("typo.toml"),
                "--port".into(),
                "0".into(),
            ],
            "unknown field `prot`",
        ),
        (
            vec!["serve".into(), "--config".into(), p("missing.toml")],
            "does not exist",
        ),
        (
            vec![
                "serve".into(),
                "--port".into(),
                "0".into(),
                "--database-url".into(),
                "mysql://x".into(),
            ],
            "must start with sqlite://",
        ),
        (
            vec!["serve".into(), "--host".into(), "example.com".into()],
            "not an IP address",
        ),
    ];
    for (args, expect) in cases {
        let out = run(args.clone()).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(expect), "{args:?}: {}", stderr(&out));
    }
    // A PostgreSQL that does not answer is named, with what to check.
    let out = run(vec![
        "serve".into(),
        "--port".into(),
        "0".into(),
        "--database-url".into(),
        "postgres://hookline:pw@127.0.0.1:1/hookline".into(),
    ])
    .await;
    assert_ne!(out.status.code(), Some(0));
    let said = stderr(&out);
    assert!(
        said.contains("cannot connect to PostgreSQL at 127.0.0.1:1/hookline"),
        "{said}"
    );
    assert!(
        !said.contains(":pw@"),
        "the password is not printed: {said}"
    );
    // So are a URL tokio-postgres cannot read and a root certificate file
    // that is not there, before any connection is tried.
    for (query, expect) in [
        (
            "?sslmode=verify-full&sslrootcert=/no/such/ca.pem",
            "cannot read sslrootcert /no/such/ca.pem",
        ),
        (
            "?sslmode=on",
            "sslmode=on in the PostgreSQL URL is not one of",
        ),
        ("?bogus=1", "unknown option `bogus`"),
    ] {
        let out = run(vec![
            "serve".into(),
            "--port".into(),
            "0".into(),
            "--database-url".into(),
            format!("postgres://hookline:pw@127.0.0.1:1/hookline{query}"),
        ])
        .await;
        let said = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "a URL to fix is bad input: {said}"
        );
        assert!(said.contains(expect) && !said.contains(":pw@"), "{said}");
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(vec![
        "serve".into(),
        "--host".into(),
        "127.0.0.1".into(),
        "--port".into(),
        port,
        "--database-url".into(),
        format!("sqlite://{}", p("x.db")),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("choose another port"),
        "{}",
        stderr(&out)
    );
}

async fn roles_split_the_api_from_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    let db = FreshDb::new().await;
    let client = reqwest::Client::new();
    let api = start(dir.path(), &db.url, &["--role", "api"], &[]).await;
    let r = client
        .get(format!("http://{}/api/v1/app", api.addr))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "api nodes serve the API");
    drop(api);
    let worker = start(dir.path(), &db.url, &["--role", "worker"], &[]).await;
    for (path, status) in [
        ("/health", 200),
        ("/ready", 200),
        ("/metrics", 200),
        ("/api/v1/app", 404),
        ("/webhook/x", 404),
    ] {
        let r = client
            .get(format!("http://{}{path}", worker.addr))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "worker {path}");
    }
}

// The tests above without an attribute run twice: on SQLite and on PostgreSQL.
hookline_testkit::on_both_backends!(
    sigkill_under_load_loses_no_acknowledged_webhook,
    roles_split_the_api_from_the_workers,
);
