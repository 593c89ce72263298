//! Slow senders and graceful shutdown, over raw TCP so the test controls every byte.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hookline_server::testkit::TestApp;
use hookline_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn head(len: usize) -> String {
    format!("POST /webhook/slow HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n")
}

async fn read_all(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn a_body_that_never_finishes_gets_408() {
    let app = TestApp::spawn(Config {
        request_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(head(20).as_bytes()).await.unwrap();
    s.write_all(b"{\"id\":").await.unwrap();
    let answer = read_all(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#"{"error":"The request body was not received in time."}"#),
        "{answer}"
    );
    app.stop().await;
}

async fn headers_that_never_finish_close_the_connection() {
    let app = TestApp::spawn(Config {
        header_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(b"POST /webhook/slow HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let _ = read_all(&mut s).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the server hung up on the slow sender"
    );
    app.stop().await;
}

async fn shutdown_finishes_in_flight_requests_and_their_commits() {
    let app = TestApp::spawn(Config::default()).await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    let body = br#"{"in":"flight"}"#;
    // `Expect: 100-continue`: the server says `100 Continue` once it reads
    // the body, so the test knows the request is in flight before it asks
    // the server to stop (a fixed pause was not enough on a busy machine).
    let expecting = head(body.len()).replacen("\r\n\r\n", "\r\nexpect: 100-continue\r\n\r\n", 1);
    s.write_all(expecting.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).await.unwrap();
            seen.push(byte[0]);
        }
    })
    .await
    .expect("the server reads the body within 10 s");
    assert!(
        seen.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    s.write_all(&body[..9]).await.unwrap();
    let addr = app.addr;
    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.write_all(&body[9..]).await.unwrap();
    let answer = read_all(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(r#""receivedData":{"in":"flight"}"#),
        "{answer}"
    );
    let db = stopping.await.unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );

    // The acknowledged event is in the database.
    let store = db.open().await;
    let page = store
        .list_events(Some("default"), &Default::default(), &Default::default())
        .await
        .unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].body, body.to_vec(), "byte-exact");
}

// Every test above runs twice: on SQLite and on PostgreSQL.
hookline_server::testkit::on_both_backends!(
    a_body_that_never_finishes_gets_408,
    headers_that_never_finish_close_the_connection,
    shutdown_finishes_in_flight_requests_and_their_commits,
);
