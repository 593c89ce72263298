//! Connection policing over real sockets: silent connections are closed in
//! time, stalled bodies are cut off, and a flood of silent connections under
//! a low descriptor limit leaves `/health` and the ingress answering.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use support::*;

/// Reads until the server closes the connection (or `within` passes).
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut got))
        .await
        .ok()
        .map(|_| got)
}

#[tokio::test]
async fn a_flood_of_silent_connections_under_a_low_descriptor_limit_leaves_the_server_answering() {
    let dir = tempfile::tempdir().unwrap();
    // Silent connections would stay 60 s: only the cap's eviction can make room.
    let env = [("HOOKLINE_HEADER_TIMEOUT", "60")];
    let server = start_with_nofile(dir.path(), &sqlite_in(dir.path()), 256, &[], &env).await;
    let mut silent = Vec::new();
    for _ in 0..400 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for round in 0..5 {
        let started = Instant::now();
        let health = client
            .get(format!("http://{}/health", server.addr))
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: /health did not answer: {e}"));
        assert_eq!(health.status(), 200);
        let hook = client
            .post(format!("http://{}/webhook/flood.test", server.addr))
            .json(&serde_json::json!({ "round": round }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: the webhook did not answer: {e}"));
        assert!(hook.status().is_success(), "{}", hook.status());
        assert!(started.elapsed() < Duration::from_secs(5));
        // More silence arrives between rounds.
        for _ in 0..50 {
            silent.push(TcpStream::connect(server.addr).await.unwrap());
        }
    }
    assert!(
        !server.log_text().contains("Too many open files"),
        "{}",
        server.log_text()
    );
    drop(silent);
}

#[tokio::test]
async fn silent_and_idle_connections_are_closed_and_stalled_bodies_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("HOOKLINE_HEADER_TIMEOUT", "1"),
        ("HOOKLINE_IDLE_TIMEOUT", "1"),
        ("HOOKLINE_REQUEST_TIMEOUT", "1"),
    ];
    let server = start(dir.path(), &sqlite_in(dir.path()), &[], &env).await;
    let within = Duration::from_secs(4);

    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let got = read_until_closed(&mut silent, within).await;
    assert_eq!(
        got.as_deref(),
        Some(&b""[..]),
        "a silent connection is closed"
    );

    // HTTP/2: the preface and an empty SETTINGS frame, then nothing.
    let mut h2 = TcpStream::connect(server.addr).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    assert!(
        read_until_closed(&mut h2, within).await.is_some(),
        "an HTTP/2 connection that sends no request is closed"
    );

    // Keep-alive: one request answered, then idle.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let got = read_until_closed(&mut idle, within)
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));

    // A stalled body on the API, the UI's login and the ingress.
    for (path, auth) in [
        ("/api/v1/app", true),
        ("/ui/login", false),
        ("/webhook/stall", false),
    ] {
        let mut stalled = TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {}\r\n\
             Content-Length: 100\r\n{}\r\n{{\"name\":",
            if path == "/ui/login" {
                "application/x-www-form-urlencoded"
            } else {
                "application/json"
            },
            if auth {
                format!("Authorization: Bearer {TOKEN}\r\n")
            } else {
                String::new()
            }
        );
        stalled.write_all(head.as_bytes()).await.unwrap();
        let got = read_until_closed(&mut stalled, within)
            .await
            .unwrap_or_else(|| panic!("{path}: a stalled body is cut off"));
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.starts_with("HTTP/1.1 408") || text.starts_with("HTTP/1.1 400"),
            "{path}: {text}"
        );
        if path != "/ui/login" {
            assert!(text.starts_with("HTTP/1.1 408"), "{path}: {text}");
            assert!(text.contains("in time"), "{path}: {text}");
        }
    }
}
