//! Forwarding survives a crash (`hookline serve` as a process): the app is
//! down, webhooks are acknowledged, hookline is SIGKILLed, the app comes up,
//! hookline restarts, and every acknowledged webhook reaches the app, where
//! Stripe's own library verifies it.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookline_signature::Scheme;
use hookline_testkit::{now_secs, signed, FreshDb};
use support::start;

const SECRET: &str = "whsec_test_forwarding_secret";
const N: usize = 60;

/// Event ids the app logged, each with how often it came and whether every
/// arrival verified.
fn arrivals(log: &Path) -> HashMap<String, (usize, bool)> {
    let mut out: HashMap<String, (usize, bool)> = HashMap::new();
    for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let id = v["id"].as_str().unwrap_or("-").to_string();
        let e = out.entry(id).or_insert((0, true));
        e.0 += 1;
        e.1 &= v["verdict"] == "ok";
    }
    out
}

async fn a_sigkill_after_the_ack_loses_no_forward() {
    if !support::reference_libraries() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = FreshDb::new().await;
    // The app's port, free for now: the app is down.
    let port = support::free_port();
    let config = format!(
        "[[source]]\nname = \"stripe\"\nscheme = \"stripe\"\nsecret = \"{SECRET}\"\n\n\
         [[route]]\nname = \"to-app\"\nsource = \"stripe\"\n\
         url = \"http://127.0.0.1:{port}/stripe/webhooks\"\nretry_schedule = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    );
    std::fs::write(dir.path().join("hookline.toml"), config).unwrap();
    let mut server = start(dir.path(), &db.url, &[], &[]).await;

    // Senders, bounded in count; only 200s count as acknowledged.
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let client = reqwest::Client::new();
    let senders: Vec<_> = (0..4)
        .map(|w| {
            let (client, acked, addr) = (client.clone(), acked.clone(), server.addr);
            tokio::spawn(async move {
                for i in 0..N / 4 {
                    let body = format!(
                        "{{\"id\":\"evt_{w}_{i}\",\"object\":\"event\",\"type\":\"invoice.paid\"}}"
                    );
                    let headers = signed(Scheme::Stripe, SECRET, body.as_bytes(), "", now_secs());
                    let r = client
                        .post(format!("http://{addr}/in/stripe"))
                        .headers(headers)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    let v: serde_json::Value = r.json().await.unwrap();
                    acked
                        .lock()
                        .unwrap()
                        .insert(v["id"].as_str().unwrap().to_string());
                }
            })
        })
        .collect();
    for s in senders {
        s.await.unwrap();
    }
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), N);

    let log = dir.path().join("app.log");
    let mut app = support::local_app(port, &log, &["--stripe", SECRET]);
    let server = start(dir.path(), &db.url, &[], &[]).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let seen = loop {
        let seen = arrivals(&log);
        if acked.iter().all(|id| seen.contains_key(id)) || Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let missing: Vec<_> = acked.iter().filter(|id| !seen.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged webhooks never reached the app, e.g. {:?}; log: {}",
        missing.len(),
        missing.first(),
        server.log_text()
    );
    let refused: Vec<_> = seen.iter().filter(|(_, (_, ok))| !ok).collect();
    assert!(refused.is_empty(), "Stripe's library refused {refused:?}");
    assert!(
        seen.keys().all(|id| acked.contains(id)),
        "only acknowledged events arrive, under their own X-Hookline-Event-Id"
    );
    let twice = seen.values().filter(|(n, _)| *n > 1).count();
    eprintln!("acknowledged {N}, all arrived and verified; {twice} arrived twice (same event id)");
    app.start_kill().unwrap();
    drop(server);
}

hookline_testkit::on_both_backends!(a_sigkill_after_the_ack_loses_no_forward);
