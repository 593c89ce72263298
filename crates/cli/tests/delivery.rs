//! Sending survives crashes and hang-ups (`hookline serve` as a process):
//! - SIGKILL while deliveries are in flight, restart: every accepted message
//!   is delivered at least once, duplicates carry the same `webhook-id`;
//! - SIGKILL with deliveries handed off in memory (stored claimed, waiting in
//!   the engine's queue), restart: the store wins: each arrives once its
//!   lease ends, and only what was in flight may arrive twice;
//! - clients that drop their requests mid-publish: every message that was
//!   stored is delivered, none is stored and forgotten.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookline_server::testkit::{Receiver, Reply};
use hookline_testkit::FreshDb;
use serde_json::{json, Value};
use support::{api, app_with_endpoint, get_api, received_all, start, TOKEN};

const ENV: &[(&str, &str)] = &[
    ("HOOKLINE_ALLOWED_SUBNETS", "127.0.0.0/8"),
    ("HOOKLINE_DELIVERY_TIMEOUT", "1"),
];

/// Every message id stored for app `a`.
async fn stored_messages(client: &reqwest::Client, addr: SocketAddr) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut iterator = String::new();
    loop {
        let page = get_api(
            client,
            addr,
            &format!("/app/a/msg?limit=250&iterator={iterator}"),
        )
        .await;
        out.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string()),
        );
        if page["done"] == true {
            return out;
        }
        iterator = page["iterator"].as_str().unwrap().to_string();
    }
}

/// 8 publishers of 40 messages each to app `a`; each stops at its first
/// failure (the server died under it). The ids of the 202s, as they come.
fn publish(
    client: &reqwest::Client,
    addr: SocketAddr,
) -> (
    Arc<Mutex<HashSet<String>>>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let accepted = Arc::new(Mutex::new(HashSet::new()));
    let publishers = (0..8)
        .map(|w| {
            let (client, accepted) = (client.clone(), accepted.clone());
            tokio::spawn(async move {
                for i in 0..40 {
                    let body =
                        json!({"eventType": "order.placed", "payload": {"worker": w, "n": i}});
                    let sent = client
                        .post(api(addr, "/app/a/msg"))
                        .bearer_auth(TOKEN)
                        .json(&body)
                        .send()
                        .await;
                    let Ok(r) = sent else { return };
                    if r.status() != 202 {
                        return;
                    }
                    let Ok(m) = r.json::<Value>().await else {
                        return;
                    };
                    let id = m["id"].as_str().unwrap().to_string();
                    accepted.lock().unwrap().insert(id);
                }
            })
        })
        .collect();
    (accepted, publishers)
}

async fn sigkill_mid_delivery_loses_no_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = FreshDb::new().await;
    let slow = Receiver::start(Reply {
        delay: Duration::from_secs(1),
        ..Reply::default()
    })
    .await;
    let mut server = start(dir.path(), &db.url, &[], ENV).await;
    let client = reqwest::Client::new();
    app_with_endpoint(&client, server.addr, &slow.url("/slow")).await;

    // Publishers run until the server dies under them; only 202s count as accepted.
    let (accepted, publishers) = publish(&client, server.addr);

    // Kill halfway through publishing, with deliveries in flight.
    let halfway = Instant::now() + Duration::from_secs(30);
    while accepted.lock().unwrap().len() < 160 && Instant::now() < halfway {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    for p in publishers {
        p.await.unwrap();
    }
    let at_kill = slow.captured().len();
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() >= 20,
        "the load ran: {} accepted",
        accepted.len()
    );
    assert!(
        at_kill < accepted.len(),
        "killed before everything was delivered ({at_kill} of {})",
        accepted.len()
    );

    let server = start(dir.path(), &db.url, &[], ENV).await;
    let seen = received_all(&slow, &accepted, Duration::from_secs(60)).await;
    let missing: Vec<_> = accepted
        .iter()
        .filter(|id| !seen.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} accepted messages never delivered, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    let repeats = seen.values().filter(|n| **n > 1).count();
    eprintln!(
        "accepted {}, delivered {at_kill} before the kill; {repeats} delivered twice (same webhook-id)",
        accepted.len()
    );
    drop(server);
}

/// An endpoint's deliveries by status, from the API.
async fn endpoint_stats(client: &reqwest::Client, addr: SocketAddr) -> Value {
    let eps = get_api(client, addr, "/app/a/endpoint").await;
    let ep = eps["data"][0]["id"].as_str().unwrap();
    get_api(client, addr, &format!("/app/a/endpoint/{ep}/stats")).await
}

async fn sigkill_with_deliveries_handed_off_in_memory_loses_and_repeats_none() {
    let dir = tempfile::tempdir().unwrap();
    let db = FreshDb::new().await;
    // Slow enough that the engine's 64 sends are busy and the rest wait in memory.
    let slow = Receiver::start(Reply {
        delay: Duration::from_millis(500),
        ..Reply::default()
    })
    .await;
    let mut server = start(dir.path(), &db.url, &[], ENV).await;
    let client = reqwest::Client::new();
    app_with_endpoint(&client, server.addr, &slow.url("/slow")).await;
    let (accepted, publishers) = publish(&client, server.addr);
    for p in publishers {
        p.await.unwrap();
    }
    let stats = endpoint_stats(&client, server.addr).await;
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    let before: HashSet<String> = slow
        .captured()
        .iter()
        .map(|c| c.headers["webhook-id"].to_str().unwrap().to_string())
        .collect();
    let accepted = accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 320);
    // Handed off: stored claimed ("sending"), not pending for a claim.
    let sending = stats["sending"].as_u64().unwrap();
    assert!(
        sending > stats["pending"].as_u64().unwrap() && sending > 64,
        "most deliveries were handed to the engine in memory: {stats}"
    );
    assert!(before.len() < accepted.len(), "killed with work left");

    let server = start(dir.path(), &db.url, &[], ENV).await;
    let seen = received_all(&slow, &accepted, Duration::from_secs(60)).await;
    let missing = accepted.iter().filter(|id| !seen.contains_key(*id)).count();
    assert_eq!(missing, 0, "accepted messages never delivered");
    let repeats: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeats.iter().all(|(id, _)| before.contains(*id)),
        "only a send in flight at the kill may arrive again, not one waiting in memory"
    );
    assert!(repeats.len() <= 64, "{} repeats", repeats.len());
    eprintln!(
        "{sending} handed off, {} arrived before the kill, {} again after it",
        before.len(),
        repeats.len()
    );
    drop(server);
}

async fn clients_that_hang_up_leave_no_orphaned_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = FreshDb::new().await;
    let rx = Receiver::start(Reply::default()).await;
    let server = start(dir.path(), &db.url, &[], ENV).await;
    let client = reqwest::Client::new();
    app_with_endpoint(&client, server.addr, &rx.url("/")).await;

    // Publishers whose deadline is so short that many give up mid-request,
    // as a load tool does when its time is up. Bounded in count and time.
    let (dropped, answered) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let stop_at = Instant::now() + Duration::from_secs(3);
    let tasks: Vec<_> = (0..32)
        .map(|w| {
            let (dropped, answered, addr) = (dropped.clone(), answered.clone(), server.addr);
            tokio::spawn(async move {
                // Half the clients wait for the answer; half give up within 0.5-19 ms.
                let deadline = if w % 2 == 0 {
                    Duration::from_secs(10)
                } else {
                    Duration::from_micros(500 + 600 * w)
                };
                let impatient = reqwest::Client::builder()
                    .timeout(deadline)
                    .build()
                    .unwrap();
                let mut i = 0;
                while Instant::now() < stop_at && i < 2000 {
                    i += 1;
                    let body = json!({"eventType": "t", "payload": {"w": w, "i": i}});
                    match impatient
                        .post(api(addr, "/app/a/msg"))
                        .bearer_auth(TOKEN)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 202 => answered.fetch_add(1, Ordering::Relaxed),
                        Ok(r) => panic!("unexpected {}", r.status()),
                        Err(_) => dropped.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let (dropped, answered) = (
        dropped.load(Ordering::Relaxed),
        answered.load(Ordering::Relaxed),
    );
    assert!(
        dropped > 0 && answered > 0,
        "some requests were dropped mid-flight, some answered"
    );

    let stored = stored_messages(&client, server.addr).await;
    assert!(stored.len() >= answered, "every 202 was stored");
    let seen = received_all(&rx, &stored, Duration::from_secs(60)).await;
    let orphans: Vec<_> = stored.iter().filter(|id| !seen.contains_key(*id)).collect();
    eprintln!(
        "answered {answered}, dropped {dropped}, stored {}, orphaned {}",
        stored.len(),
        orphans.len()
    );
    assert!(
        orphans.is_empty(),
        "{} stored messages were never delivered",
        orphans.len()
    );
}

// The tests above without an attribute run twice: on SQLite and on PostgreSQL.
hookline_testkit::on_both_backends!(
    sigkill_mid_delivery_loses_no_message,
    sigkill_with_deliveries_handed_off_in_memory_loses_and_repeats_none,
    clients_that_hang_up_leave_no_orphaned_message,
);
