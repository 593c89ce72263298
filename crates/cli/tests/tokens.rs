//! `hookline token` offline against the database, the cluster's first start
//! (no node makes the admin token by itself; each says how to get it), the
//! exit-code rule, and what a delivery attempt leaves in the log.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use hookline_testkit::{Backend, FreshDb};
use support::*;

/// The admin token every node accepts, polled until it does (nodes re-read it).
async fn opens_the_api(addr: std::net::SocketAddr, token: &str) -> bool {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        let r = client
            .get(format!("http://{addr}/api/v1/app"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_cluster_start_makes_no_admin_token_and_token_admin_rotate_opens_every_node() {
    if !Backend::Postgres.available() {
        return;
    }
    let db = FreshDb::on(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let unset = [("HOOKLINE_ADMIN_TOKEN", "")];
    let a = start(dir.path(), &db.url, &[], &unset).await;
    let b = start(dir.path(), &db.url, &[], &unset).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for node in [&a, &b] {
        let log = node.log_text();
        assert!(
            log.contains("No admin token is set for this cluster")
                && log.contains("hookline token admin --rotate"),
            "every node says how: {log}"
        );
        assert!(!log.contains("Generated an admin token"), "{log}");
        assert!(!log.contains("NOTICE"), "no notices below warning: {log}");
    }
    let r = reqwest::Client::new()
        .get(format!("http://{}/api/v1/app", a.addr))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("token admin --rotate"));

    let out = hookline(&["token", "admin", "--database-url", &db.url], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("No admin token is stored"));
    let out = hookline(
        &[
            "token",
            "admin",
            "--rotate",
            "--json",
            "--database-url",
            &db.url,
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("hl_admin_"));
    for node in [&a, &b] {
        assert!(
            opens_the_api(node.addr, &token).await,
            "{} accepts it",
            node.addr
        );
    }
    // A third node started now is told the token is stored.
    let c = start(dir.path(), &db.url, &[], &unset).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        c.log_text().contains("stored (hashed) in the database"),
        "{}",
        c.log_text()
    );
}

#[tokio::test]
async fn token_app_issues_a_token_for_one_application_offline() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_in(dir.path());
    let mut server = start(dir.path(), &db, &[], &[]).await;
    let client = reqwest::Client::new();
    for uid in ["mine", "theirs"] {
        let r = client
            .post(api(server.addr, "/app"))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({ "name": uid, "uid": uid }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let out = hookline(
        &[
            "token",
            "app",
            "mine",
            "--expiry",
            "600",
            "--json",
            "--database-url",
            &db,
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let token = v["token"].as_str().unwrap();
    let status = |path: &'static str| {
        let client = client.clone();
        let token = token.to_string();
        let url = api(server.addr, path);
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(status("/app/mine/endpoint").await, 200);
    assert_eq!(status("/app/theirs/endpoint").await, 403);

    // The exit-code rule: 2 for input to fix, 1 for a failure of the attempt.
    for (args, code) in [
        (
            vec!["token", "app", "nosuch", "--database-url", db.as_str()],
            2,
        ),
        (
            vec![
                "token",
                "app",
                "mine",
                "--expiry",
                "0",
                "--database-url",
                db.as_str(),
            ],
            2,
        ),
        (vec!["token", "admin", "--database-url", "mysql://x"], 2),
        (
            vec![
                "serve",
                "--database-url",
                "postgres://127.0.0.1:1/x?sslmode=sometimes",
            ],
            2,
        ),
        (vec!["send", "http://127.0.0.1:1/webhook/x"], 1),
        (
            vec![
                "verify",
                "--scheme",
                "github",
                "-s",
                "s3cret",
                "--body-file",
                "/nonexistent",
            ],
            2,
        ),
    ] {
        let out = hookline(&args, None).await;
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        if code == 2 {
            assert!(
                stderr(&out).starts_with("error: "),
                "{args:?}: {}",
                stderr(&out)
            );
        }
    }
    server.child.kill().await.unwrap();
}

/// A delivery attempt's log line: the transport failure named, the next try
/// as a duration and an RFC 3339 time.
#[tokio::test]
async fn a_delivery_line_says_why_and_when_next() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("HOOKLINE_ALLOWED_SUBNETS", "127.0.0.0/8")];
    let server = start(dir.path(), &sqlite_in(dir.path()), &[], &env).await;
    let client = reqwest::Client::new();
    app_with_endpoint(
        &client,
        server.addr,
        &format!("http://127.0.0.1:{}/hook", free_port()),
    )
    .await;
    let r = client
        .post(api(server.addr, "/app/a/msg"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({ "eventType": "t", "payload": {} }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let started = Instant::now();
    let line = loop {
        let log = server.log_text();
        if let Some(l) = log.lines().find(|l| l.contains("delivery attempt")) {
            break l.to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(line.contains("status=0"), "{line}");
    assert!(line.to_lowercase().contains("connection refused"), "{line}");
    let next = line.split("next=").nth(1).unwrap_or_default();
    assert!(next.starts_with("next try in "), "{line}");
    let at = next.split(" at ").nth(1).unwrap().trim_matches('"');
    assert!(
        humantime::parse_rfc3339(at.split_whitespace().next().unwrap()).is_ok(),
        "{line}"
    );
    assert!(!line.contains("RetryAt("), "{line}");
}
