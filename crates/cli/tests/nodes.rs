//! Several `hookline serve` processes on one PostgreSQL database:
//! - two nodes share the work and deliver every message exactly once (no
//!   lease expired, so nothing may be sent twice);
//! - an api node and two workers; one worker is SIGKILLed mid-load; the other
//!   takes over its leases when they expire, and nothing is lost.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookline_server::testkit::{Receiver, Reply};
use hookline_testkit::{Backend, FreshDb};
use serde_json::{json, Value};
use support::{api, app_with_endpoint, get_api, get_json, received_all, start, Server, TOKEN};

/// Delivery timeout 1 s, so a claim's lease is 7 s.
const ENV: &[(&str, &str)] = &[
    ("HOOKLINE_ALLOWED_SUBNETS", "127.0.0.0/8"),
    ("HOOKLINE_DELIVERY_TIMEOUT", "1"),
];

/// Publishes `n` messages, spread over `nodes` and 8 concurrent publishers;
/// the ids of those accepted (202).
async fn publish(nodes: &[&Server], n: usize) -> HashSet<String> {
    let client = reqwest::Client::new();
    let accepted = Arc::new(Mutex::new(HashSet::new()));
    let addrs: Vec<_> = nodes.iter().map(|s| s.addr).collect();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (client, accepted, addrs) = (client.clone(), accepted.clone(), addrs.clone());
            tokio::spawn(async move {
                for i in (w..n).step_by(8) {
                    let addr = addrs[i % addrs.len()];
                    let r = client
                        .post(api(addr, "/app/a/msg"))
                        .bearer_auth(TOKEN)
                        .json(&json!({"eventType": "order.placed", "payload": {"n": i}}))
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 202);
                    let m: Value = r.json().await.unwrap();
                    accepted
                        .lock()
                        .unwrap()
                        .insert(m["id"].as_str().unwrap().to_string());
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let out = accepted.lock().unwrap().clone();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_the_work_and_send_each_message_once() {
    if !Backend::Postgres.available() {
        return;
    }
    let db = FreshDb::on(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(Reply {
        delay: Duration::from_millis(20),
        ..Reply::default()
    })
    .await;
    let a = start(dir.path(), &db.url, &[], ENV).await;
    let b = start(dir.path(), &db.url, &[], ENV).await;
    app_with_endpoint(&reqwest::Client::new(), a.addr, &rx.url("/hook")).await;

    let published = publish(&[&a, &b], 300).await;
    assert_eq!(published.len(), 300);
    let seen = received_all(&rx, &published, Duration::from_secs(60)).await;
    let missing = published
        .iter()
        .filter(|id| !seen.contains_key(*id))
        .count();
    assert_eq!(missing, 0, "every message is delivered");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "no lease expired, so no message may be sent twice: {twice:?}"
    );
    // Both nodes delivered: each one's metrics count attempts.
    let client = reqwest::Client::new();
    for node in [&a, &b] {
        let text = client
            .get(format!("http://{}/metrics", node.addr))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let delivered: f64 = text
            .lines()
            .find(|l| l.starts_with("hookline_delivery_attempts_total{outcome=\"delivered\"}"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        assert!(delivered > 0.0, "node {} delivered nothing", node.addr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_load_loses_nothing() {
    if !Backend::Postgres.available() {
        return;
    }
    let db = FreshDb::on(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let slow = Receiver::start(Reply {
        delay: Duration::from_millis(1500),
        ..Reply::default()
    })
    .await;
    // Attempts may take 3 s, so a claim's lease is 11 s.
    let env = [ENV[0], ("HOOKLINE_DELIVERY_TIMEOUT", "3")];
    let api_node = start(dir.path(), &db.url, &["--role", "api"], &env).await;
    let mut doomed = start(dir.path(), &db.url, &["--role", "worker"], &env).await;
    let survivor = start(dir.path(), &db.url, &["--role", "worker"], &env).await;
    app_with_endpoint(&reqwest::Client::new(), api_node.addr, &slow.url("/slow")).await;

    let published = publish(&[&api_node], 400).await;
    // Kill one worker while both have deliveries in flight.
    let deadline = Instant::now() + Duration::from_secs(30);
    while slow.captured().len() < 40 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    doomed.child.start_kill().unwrap(); // SIGKILL
    doomed.child.wait().await.unwrap();
    let at_kill = slow.captured().len();
    assert!(
        at_kill < published.len(),
        "killed mid-load ({at_kill} delivered)"
    );

    let seen = received_all(&slow, &published, Duration::from_secs(90)).await;
    let missing = published
        .iter()
        .filter(|id| !seen.contains_key(*id))
        .count();
    assert_eq!(missing, 0, "every message is delivered by the survivor");
    // The dead worker's claims come due when their leases end; the survivor
    // sends them again and the store records every delivery as a success.
    let client = reqwest::Client::new();
    let endpoint = get_api(&client, api_node.addr, "/app/a/endpoint").await;
    let stats_url = api(
        api_node.addr,
        &format!(
            "/app/a/endpoint/{}/stats",
            endpoint["data"][0]["id"].as_str().unwrap()
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let stats = loop {
        let stats: Value = get_json(&client, &stats_url).await;
        if stats["success"].as_u64() == Some(published.len() as u64) || Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        stats["success"].as_u64(),
        Some(published.len() as u64),
        "{stats}"
    );
    let seen = received_all(&slow, &published, Duration::from_secs(1)).await;
    let twice = seen.values().filter(|n| **n > 1).count();
    // Only what the dead worker had claimed can go twice (after its lease):
    // at most one claim batch.
    assert!(twice <= 64, "{twice} sent twice");
    eprintln!(
        "published {}, delivered {at_kill} before the kill, {twice} sent twice after a lease expired",
        published.len()
    );
    drop(survivor);
}
