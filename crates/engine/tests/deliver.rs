//! The engine against a real database (every test runs on SQLite and on
//! PostgreSQL) and a local capturing receiver, with a fast retry schedule.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_core::outbound::EndpointSecret;
use hookline_core::testkit::{app, endpoint, message};
use hookline_core::{Delivery, DeliveryStatus, Endpoint, Message, PageRequest, RetryPolicy, Store};
use hookline_engine::testkit::{Captured, Receiver, Reply};
use hookline_engine::{Engine, EngineConfig, Waker};
use hookline_signature::{Scheme, Secret, DEFAULT_TOLERANCE};
use hookline_testkit::FreshDb;
use tokio::sync::oneshot;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Harness {
    store: Arc<dyn Store>,
    waker: Waker,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _db: FreshDb,
}

impl Harness {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }
}

fn fast(schedule_ms: &[u64]) -> EngineConfig {
    EngineConfig {
        retry: RetryPolicy {
            schedule: schedule_ms
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
        },
        jitter: 0.0,
        timeout: Duration::from_secs(2),
        lease: Duration::from_secs(5),
        poll: Duration::from_millis(100),
        allowed_subnets: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        ..EngineConfig::default()
    }
}

async fn start(config: EngineConfig) -> Harness {
    let db = FreshDb::new().await;
    let store = db.open().await;
    let engine = Engine::new(store.clone(), config).unwrap();
    let waker = engine.waker();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(engine.run(async {
        let _ = stopped.await;
    }));
    Harness {
        store,
        waker,
        stop: Some(stop),
        task: Some(task),
        _db: db,
    }
}

async fn endpoint_at(h: &Harness, url: &str) -> Endpoint {
    let a = app("acme", None);
    h.store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, url, None, None);
    h.store.create_endpoint(&e).await.unwrap();
    e
}

async fn publish(h: &Harness, e: &Endpoint) -> Message {
    let m = message(&e.app_id, "invoice.paid", None, None);
    h.store.publish(&m).await.unwrap();
    h.waker.wake();
    m
}

/// Polls the delivery until `done` holds (bounded).
async fn delivery_when(h: &Harness, m: &Message, done: impl Fn(&Delivery) -> bool) -> Delivery {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let d = h
            .store
            .list_deliveries(&m.app_id, &m.id)
            .await
            .unwrap()
            .remove(0);
        if done(&d) || Instant::now() > deadline {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

use hookline_testkit::now_secs as now;

fn verify(c: &Captured, secrets: &[&str]) {
    let secrets: Vec<Secret> = secrets.iter().map(|s| Secret::new(*s)).collect();
    Scheme::Standard
        .verify(&c.headers, &c.body, &secrets, now(), DEFAULT_TOLERANCE)
        .unwrap();
}

async fn signed_retried_with_one_id_until_delivered() {
    let rx = Receiver::start_sequence(vec![
        Reply {
            status: 500,
            body: "boom",
            ..Reply::default()
        },
        Reply::status(503),
        Reply::default(),
    ])
    .await;
    let h = start(fast(&[20, 20, 20])).await;
    let e = endpoint_at(&h, &rx.url("/hook")).await;
    let m = publish(&h, &e).await;

    let d = delivery_when(&h, &m, |d| d.status == DeliveryStatus::Success).await;
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Success, 3, None)
    );
    let got = rx.captured();
    assert_eq!(got.len(), 3);
    for c in &got {
        assert_eq!(
            c.headers["webhook-id"],
            m.id.as_str(),
            "the same id on every retry"
        );
        assert_eq!(&c.body[..], m.payload.as_bytes(), "the payload byte-exact");
        assert_eq!(c.headers["content-type"], "application/json");
        verify(c, &[SECRET]);
    }
    let attempts = h
        .store
        .list_attempts(&m.app_id, Some(&m.id), None, &PageRequest::default())
        .await
        .unwrap();
    let codes: Vec<u16> = attempts
        .data
        .iter()
        .map(|a| a.response_status_code)
        .collect();
    assert_eq!(codes, vec![200, 503, 500], "newest first");
    assert_eq!(
        attempts.data[2].response, "boom",
        "the response body is kept"
    );
    h.stop().await;
}

async fn exhausted_retries_end_in_the_failed_state() {
    let rx = Receiver::start(Reply::status(500)).await;
    let h = start(fast(&[10, 10])).await;
    let e = endpoint_at(&h, &rx.url("/")).await;
    let m = publish(&h, &e).await;
    let d = delivery_when(&h, &m, |d| d.status == DeliveryStatus::Failed).await;
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Failed, 3, None)
    );
    assert_eq!(rx.captured().len(), 3, "1 try + 2 retries");
    assert_eq!(h.store.next_due().await.unwrap(), None);
    h.stop().await;
}

async fn gone_disables_the_endpoint_and_3xx_is_a_failure() {
    let rx = Receiver::start(Reply::status(410)).await;
    let h = start(fast(&[10, 10])).await;
    let e = endpoint_at(&h, &rx.url("/")).await;
    let m = publish(&h, &e).await;
    let d = delivery_when(&h, &m, |d| d.status == DeliveryStatus::Failed).await;
    assert_eq!(d.attempts, 1, "410 stops at once");
    assert!(
        h.store
            .get_endpoint(&e.app_id, e.id.as_str())
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    h.stop().await;

    let redirect = Receiver::start(Reply {
        status: 302,
        headers: vec![("location", "http://127.0.0.1:1/")],
        ..Reply::default()
    })
    .await;
    let h = start(fast(&[])).await;
    let e = endpoint_at(&h, &redirect.url("/")).await;
    let m = publish(&h, &e).await;
    let d = delivery_when(&h, &m, |d| d.status == DeliveryStatus::Failed).await;
    assert_eq!(
        (d.status, redirect.captured().len()),
        (DeliveryStatus::Failed, 1),
        "not followed, not a success"
    );
    h.stop().await;
}

async fn retry_after_is_honoured() {
    let rx = Receiver::start_sequence(vec![
        Reply {
            status: 429,
            headers: vec![("retry-after", "1")],
            ..Reply::default()
        },
        Reply::default(),
    ])
    .await;
    let h = start(fast(&[10])).await;
    let e = endpoint_at(&h, &rx.url("/")).await;
    let m = publish(&h, &e).await;
    let d = delivery_when(&h, &m, |d| d.attempts == 1).await;
    let first = h
        .store
        .list_attempts(&m.app_id, Some(&m.id), None, &PageRequest::default())
        .await
        .unwrap();
    let waited = d.next_attempt_at.unwrap() - first.data[0].created_at;
    assert!(
        waited >= 1000,
        "the retry waits for Retry-After (1 s), not the 10 ms schedule: {waited} ms"
    );
    let d = delivery_when(&h, &m, |d| d.status == DeliveryStatus::Success).await;
    assert_eq!(d.attempts, 2);
    h.stop().await;
}

async fn ssrf_guard_refuses_loopback_unless_allowed() {
    let rx = Receiver::start(Reply::default()).await;
    let h = start(EngineConfig {
        allowed_subnets: vec![],
        ..fast(&[])
    })
    .await;
    for url in [
        rx.url("/literal"),
        format!("http://localhost:{}/name", rx.addr.port()),
        format!("http://[::ffff:127.0.0.1]:{}/", rx.addr.port()),
    ] {
        let e = endpoint_at(&h, &url).await;
        let m = publish(&h, &e).await;
        let d = delivery_when(&h, &m, |d| d.status == DeliveryStatus::Failed).await;
        assert_eq!(d.status, DeliveryStatus::Failed, "{url}");
        let a = h
            .store
            .list_attempts(&m.app_id, Some(&m.id), None, &PageRequest::default())
            .await
            .unwrap();
        assert_eq!(a.data[0].response_status_code, 0);
        assert!(
            a.data[0].response.contains("loopback"),
            "{url}: {}",
            a.data[0].response
        );
    }
    assert!(
        rx.captured().is_empty(),
        "nothing reached the loopback receiver"
    );
    h.stop().await;
}

async fn slow_receivers_time_out() {
    let rx = Receiver::start(Reply {
        delay: Duration::from_secs(5),
        ..Reply::default()
    })
    .await;
    let h = start(EngineConfig {
        timeout: Duration::from_millis(300),
        ..fast(&[])
    })
    .await;
    let e = endpoint_at(&h, &rx.url("/")).await;
    let m = publish(&h, &e).await;
    delivery_when(&h, &m, |d| d.status == DeliveryStatus::Failed).await;
    let a = h
        .store
        .list_attempts(&m.app_id, Some(&m.id), None, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(a.data[0].response_status_code, 0);
    assert!(
        a.data[0].response.contains("timed out after 300 ms"),
        "{}",
        a.data[0].response
    );
    h.stop().await;
}

async fn a_dead_workers_lease_expires_and_the_delivery_is_retried() {
    let rx = Receiver::start(Reply::default()).await;
    let db = FreshDb::new().await;
    let store = db.open().await;
    let a = app("lease", None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, &rx.url("/"), None, None);
    store.create_endpoint(&e).await.unwrap();
    let m = message(&a.id, "t", None, None);
    store.publish(&m).await.unwrap();
    // A worker claims it and dies without sending.
    let claimed = store
        .claim_due(
            hookline_core::clock::now_ms() + 1,
            10,
            Duration::from_millis(300),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    let engine = Engine::new(store.clone(), fast(&[])).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(engine.run(async {
        let _ = stopped.await;
    }));
    let got = rx.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "delivered once the lease ran out");
    assert_eq!(got[0].headers["webhook-id"], m.id.as_str());
    let _ = stop.send(());
    task.await.unwrap();
}

async fn fan_out_headers_and_rotation() {
    let rx = Receiver::start(Reply::default()).await;
    let h = start(fast(&[])).await;
    let a = app("fan", None);
    h.store.create_app(&a).await.unwrap();
    let mut rotating = endpoint(&a.id, &rx.url("/rotating"), None, None);
    rotating.secrets = vec![
        EndpointSecret {
            key: Secret::new("whsec_bmV3IHNlY3JldCBvZiAzMiBieXRlcyBsb25nIQ=="),
            expires_at: None,
        },
        EndpointSecret {
            key: Secret::new(SECRET),
            expires_at: Some(hookline_core::clock::now_ms() + 60_000),
        },
    ];
    rotating.headers.insert("x-tenant".into(), "acme".into());
    let only_paid = endpoint(&a.id, &rx.url("/paid"), Some(&["invoice.paid"]), None);
    let only_other = endpoint(&a.id, &rx.url("/other"), Some(&["user.created"]), None);
    for e in [&rotating, &only_paid, &only_other] {
        h.store.create_endpoint(e).await.unwrap();
    }
    let m = message(&a.id, "invoice.paid", None, None);
    assert_eq!(h.store.publish(&m).await.unwrap(), 2);
    h.waker.wake();
    let got = rx.wait_for(2, Duration::from_secs(10)).await;
    let mut paths: Vec<&str> = got.iter().map(|c| c.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, vec!["/paid", "/rotating"]);
    let r = got.iter().find(|c| c.path == "/rotating").unwrap();
    assert_eq!(r.headers["x-tenant"], "acme");
    assert_eq!(
        r.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2,
        "both secrets sign during rotation"
    );
    verify(r, &["whsec_bmV3IHNlY3JldCBvZiAzMiBieXRlcyBsb25nIQ=="]);
    verify(r, &[SECRET]);
    h.stop().await;
}

async fn throttle_rate_is_enforced_at_the_receiver() {
    let rx = Receiver::start(Reply::default()).await;
    let h = start(fast(&[])).await;
    let a = app("throttled", None);
    h.store.create_app(&a).await.unwrap();
    let mut e = endpoint(&a.id, &rx.url("/"), None, None);
    e.throttle_rate = Some(5);
    h.store.create_endpoint(&e).await.unwrap();
    // Timed from before the first publish: deliveries may start while the
    // rest are still being published.
    let started = Instant::now();
    for _ in 0..15 {
        h.store
            .publish(&message(&a.id, "t", None, None))
            .await
            .unwrap();
    }
    h.waker.wake();
    let got = rx.wait_for(15, Duration::from_secs(20)).await;
    let took = started.elapsed();
    assert_eq!(got.len(), 15);
    // A burst of 5, then one every 200 ms: the last 10 need about 2 s.
    assert!(
        took >= Duration::from_millis(1800),
        "15 messages at 5/s took only {took:?}"
    );
    let per_sec = rx.captured().len() as f64 / took.as_secs_f64();
    eprintln!("throttled to 5/s: 15 delivered in {took:?} ({per_sec:.1}/s)");
    h.stop().await;
}

async fn an_overloaded_endpoint_cools_down() {
    let rx = Receiver::start_sequence(vec![
        Reply {
            status: 429,
            headers: vec![("retry-after", "1")],
            ..Reply::default()
        },
        Reply::default(),
    ])
    .await;
    let h = start(fast(&[10])).await;
    let e = endpoint_at(&h, &rx.url("/")).await;
    let first = publish(&h, &e).await;
    rx.wait_for(1, Duration::from_secs(10)).await;
    delivery_when(&h, &first, |d| d.attempts == 1).await;
    // Published after the 429: held back for the cool-down, not sent at once
    // (without one it would be delivered within milliseconds).
    let second = publish(&h, &e).await;
    let published_at = Instant::now();
    let d = delivery_when(&h, &second, |d| d.status == DeliveryStatus::Success).await;
    assert_eq!(
        (d.status, d.attempts),
        (DeliveryStatus::Success, 1),
        "postponed, not failed"
    );
    assert!(
        published_at.elapsed() >= Duration::from_millis(800),
        "sent during the cool-down: {:?}",
        published_at.elapsed()
    );
    h.stop().await;
}

async fn retention_expires_payloads_and_an_expired_delivery_fails_cleanly() {
    let rx = Receiver::start(Reply::default()).await;
    let db = FreshDb::new().await;
    let store = db.open().await;
    let a = app("ret", None);
    store.create_app(&a).await.unwrap();
    let e = endpoint(&a.id, &rx.url("/"), None, None);
    store.create_endpoint(&e).await.unwrap();
    let day = 86_400_000;
    let mut old = message(&a.id, "t", None, None);
    old.id = hookline_core::MessageId::at(old.created_at - 40 * day);
    old.created_at -= 40 * day;
    store.publish(&old).await.unwrap();

    // One pass (shutdown is already due), keeping 30 days.
    hookline_engine::retention::run(
        store.clone(),
        Duration::from_secs(30 * 86_400),
        Duration::from_secs(3600),
        async {},
    )
    .await;
    assert_eq!(
        store
            .get_message(&a.id, &old.id)
            .await
            .unwrap()
            .unwrap()
            .payload,
        ""
    );

    // Its delivery was still pending: it fails at once with a reason, nothing is sent.
    let engine = Engine::new(store.clone(), fast(&[10, 10])).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(engine.run(async {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + Duration::from_secs(10);
    let d = loop {
        let d = store
            .list_deliveries(&a.id, &old.id)
            .await
            .unwrap()
            .remove(0);
        if d.status == DeliveryStatus::Failed || Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 1));
    let at = store
        .list_attempts(&a.id, Some(&old.id), None, &PageRequest::default())
        .await
        .unwrap();
    assert!(
        at.data[0].response.contains("payload expired"),
        "{}",
        at.data[0].response
    );
    assert!(rx.captured().is_empty());
    let _ = stop.send(());
    task.await.unwrap();
}

async fn an_endpoint_failing_for_too_long_is_disabled() {
    let rx = Receiver::start(Reply::status(500)).await;
    let h = start(EngineConfig {
        disable_after: Duration::from_millis(50),
        ..fast(&[100, 100, 100])
    })
    .await;
    let e = endpoint_at(&h, &rx.url("/")).await;
    let m = publish(&h, &e).await;
    let d = delivery_when(&h, &m, |d| d.status == DeliveryStatus::Failed).await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    let ep = h
        .store
        .get_endpoint(&e.app_id, e.id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(
        ep.disabled,
        "every attempt failed for longer than disable_after"
    );
    assert_eq!(
        rx.captured().len(),
        2,
        "the second failure disabled it; no more sends"
    );
    let a = h
        .store
        .list_attempts(&m.app_id, Some(&m.id), None, &PageRequest::default())
        .await
        .unwrap();
    assert!(
        a.data[0].response.contains("endpoint is disabled"),
        "{}",
        a.data[0].response
    );
    // New messages do not go to a disabled endpoint at all.
    let later = message(&e.app_id, "t", None, None);
    assert_eq!(h.store.publish(&later).await.unwrap(), 0);
    h.stop().await;
}

async fn operational_webhooks_report_exhaustion_recovery_and_disabling() {
    let ops_rx = Receiver::start(Reply::default()).await;
    let always_failing = Receiver::start(Reply::status(500)).await;
    let recovering = Receiver::failing_once().await;
    let gone = Receiver::start(Reply::status(410)).await;

    let db = FreshDb::new().await;
    let store = db.open().await;
    let engine = Engine::new(store.clone(), fast(&[20, 20])).unwrap();
    let waker = engine.waker();
    let ops = hookline_engine::Operational::setup(
        store.as_ref(),
        store.clone(),
        &ops_rx.url("/ops"),
        SECRET,
        waker.clone(),
    )
    .await
    .unwrap();
    let engine = engine.with_operational(ops);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(engine.run(async {
        let _ = stopped.await;
    }));

    let a = app("customer", None);
    store.create_app(&a).await.unwrap();
    let mut ids = Vec::new();
    for rx in [&always_failing, &recovering, &gone] {
        let e = endpoint(&a.id, &rx.url("/"), None, None);
        store.create_endpoint(&e).await.unwrap();
        ids.push(e.id);
    }
    let m = message(&a.id, "invoice.paid", Some("evt-ops"), None);
    store.publish(&m).await.unwrap();
    waker.wake();

    // exhausted (always failing, and the 410), recovered, endpoint.disabled (410)
    let got = ops_rx.wait_for(4, Duration::from_secs(15)).await;
    let mut events: Vec<(String, serde_json::Value)> = got
        .iter()
        .map(|c| {
            let v: serde_json::Value = serde_json::from_slice(&c.body).unwrap();
            verify(c, &[SECRET]);
            (v["type"].as_str().unwrap().to_string(), v["data"].clone())
        })
        .collect();
    events.sort_by(|x, y| x.0.cmp(&y.0));
    let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "endpoint.disabled",
            "message.attempt.exhausted",
            "message.attempt.exhausted",
            "message.attempt.recovered"
        ]
    );
    let recovered = &events[3].1;
    assert_eq!(
        (
            recovered["msgId"].as_str(),
            recovered["msgEventId"].as_str()
        ),
        (Some(m.id.as_str()), Some("evt-ops"))
    );
    assert_eq!(recovered["endpointId"], ids[1].as_str());
    assert_eq!(
        events[0].1["endpointId"],
        ids[2].as_str(),
        "the 410 endpoint was disabled"
    );
    let _ = stop.send(());
    task.await.unwrap();
}

// Every test above runs twice: on SQLite and on PostgreSQL.
hookline_testkit::on_both_backends!(
    signed_retried_with_one_id_until_delivered,
    exhausted_retries_end_in_the_failed_state,
    gone_disables_the_endpoint_and_3xx_is_a_failure,
    retry_after_is_honoured,
    ssrf_guard_refuses_loopback_unless_allowed,
    slow_receivers_time_out,
    a_dead_workers_lease_expires_and_the_delivery_is_retried,
    fan_out_headers_and_rotation,
    throttle_rate_is_enforced_at_the_receiver,
    an_overloaded_endpoint_cools_down,
    retention_expires_payloads_and_an_expired_delivery_fails_cleanly,
    an_endpoint_failing_for_too_long_is_disabled,
    operational_webhooks_report_exhaustion_recovery_and_disabling,
);
