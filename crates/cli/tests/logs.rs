//! What `hookline serve` writes to its log about received webhooks: one short
//! line each at info, no header values, no credentials, and a flood of
//! rejected requests summarised rather than logged line by line.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::{sqlite_in, start};

#[tokio::test]
async fn rejected_floods_leave_short_lines_without_headers_or_credentials() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hookline.toml"),
        "[[source]]\nname = \"gh\"\nscheme = \"github\"\nsecret = \"s3cret\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &sqlite_in(dir.path()), &[], &[]).await;
    let client = reqwest::Client::new();
    let big = "Z".repeat(40_000);
    for _ in 0..100 {
        let r = client
            .post(format!("http://{}/in/gh", server.addr))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", "sha256=00")
            .header("x-api-key", "supersecret-api-key")
            .header("x-gitlab-token", "glpat-very-secret")
            .header("x-padding", &big)
            .body(r#"{"a":1}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    // One more a second later, so the flood's summary is written.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client
        .post(format!("http://{}/in/gh", server.addr))
        .header("x-hub-signature-256", "sha256=00")
        .body("{}")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log_text();
    for secret in [
        "supersecret-api-key",
        "glpat-very-secret",
        "ZZZZZZZZ",
        "s3cret",
    ] {
        assert!(
            !log.contains(secret),
            "{secret} is in the log:\n{}",
            &log[..log.len().min(2000)]
        );
    }
    let received: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("webhook received"))
        .collect();
    assert!(
        (10..=25).contains(&received.len()),
        "a flood is not logged line by line: {} lines",
        received.len()
    );
    assert!(
        log.contains("more rejected requests in the last second"),
        "{log}"
    );
    assert!(log.lines().all(|l| l.len() < 1500), "every line is short");
}
