//! `hookline events`: the inbox from the command line against a real server:
//! list (a table and JSON), show, replay to a local receiver, tail.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{hookline, start, stderr, stdout, Receiver, Reply, TOKEN};
use tokio::io::{AsyncBufReadExt, BufReader};

async fn post(addr: std::net::SocketAddr, body: &str) {
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/webhook/order.paid"))
        .header("content-type", "application/json")
        .header("x-dup", "1")
        .header("x-dup", "2")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn list_show_replay_and_tail_the_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let db = support::sqlite_in(dir.path());
    let server = start(
        dir.path(),
        &db,
        &[],
        &[("HOOKLINE_ALLOWED_SUBNETS", "127.0.0.0/8")],
    )
    .await;
    let from = format!("http://{}", server.addr);
    post(server.addr, r#"{"n":1}"#).await;
    post(server.addr, r#"{"n":2}"#).await;
    let conn = ["--from", from.as_str(), "--token", TOKEN];

    let out = hookline(&[&["events", "list"][..], &conn].concat(), None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.starts_with("ID"), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.contains("order.paid")).count(),
        2,
        "{table}"
    );

    let out = hookline(&[&["events", "list", "--json"][..], &conn].concat(), None).await;
    let listed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let newest = listed[0]["id"].as_str().unwrap().to_string();

    let out = hookline(&[&["events", "show", &newest][..], &conn].concat(), None).await;
    let shown = stdout(&out);
    assert!(
        shown.contains("POST /webhook/order.paid") && shown.contains(r#"{"n":2}"#),
        "{shown}"
    );
    assert!(
        shown.contains("x-dup: 1") && shown.contains("x-dup: 2"),
        "{shown}"
    );

    let rx = Receiver::start(Reply::default()).await;
    let to = rx.url("/again");
    let out = hookline(
        &[&["events", "replay", &newest, "--to", &to][..], &conn].concat(),
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("Response: 200"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        &rx.wait_for(1, Duration::from_secs(5)).await[0].body[..],
        br#"{"n":2}"#
    );

    let out = hookline(
        &["events", "list", "--from", &from, "--token", "wrong"],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the token was refused"),
        "{}",
        stderr(&out)
    );

    let mut tail = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args(["events", "tail"])
        .args(conn)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    tokio::time::sleep(Duration::from_millis(500)).await;
    post(server.addr, r#"{"n":3}"#).await;
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("tail printed the new event")
        .unwrap()
        .unwrap();
    assert!(
        line.contains("order.paid") && line.contains("POST /webhook/order.paid"),
        "{line}"
    );
    tail.start_kill().unwrap();
}
