//! Per-endpoint delivery policy (retry schedule, timeout, max concurrency)
//! and the endpoint extras of the Svix API: stats, send-example, one attempt,
//! manual attempts. Real HTTP, a real SQLite file, a local receiver.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hookline_server::testkit::{Receiver, Reply, TestApp};
use hookline_server::Config;
use reqwest::Method;
use serde_json::{json, Value};

/// An app `acme` with one endpoint at `url` with these extra fields; its id.
async fn endpoint(app: &TestApp, url: &str, extra: Value) -> String {
    if app.call(Method::GET, "/app/acme", None).await.0 == 404 {
        let (s, _) = app
            .call(
                Method::POST,
                "/app",
                Some(json!({"name": "Acme", "uid": "acme"})),
            )
            .await;
        assert_eq!(s, 201);
    }
    let mut body = json!({ "url": url });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (s, e) = app
        .call(Method::POST, "/app/acme/endpoint", Some(body))
        .await;
    assert_eq!(s, 201, "{e}");
    e["id"].as_str().unwrap().to_string()
}

async fn publish(app: &TestApp, payload: Value) -> String {
    let (s, m) = app
        .call(
            Method::POST,
            "/app/acme/msg",
            Some(json!({"eventType": "t", "payload": payload})),
        )
        .await;
    assert_eq!(s, 202, "{m}");
    m["id"].as_str().unwrap().to_string()
}

async fn an_endpoint_retry_schedule_overrides_the_default() {
    let rx = Receiver::start(Reply::status(500)).await;
    let app = TestApp::spawn(Config::default()).await;
    // The test engine retries twice (after 50 and 100 ms); this endpoint once.
    let ep = endpoint(&app, &rx.url("/x"), json!({"retrySchedule": [0.05]})).await;
    let (_, e) = app
        .call(Method::GET, &format!("/app/acme/endpoint/{ep}"), None)
        .await;
    assert_eq!(e["retrySchedule"], json!([0.05]));
    let msg = publish(&app, json!({"n": 1})).await;
    let dest = app
        .until(&format!("/app/acme/msg/{msg}/endpoint"), |v| {
            v["data"][0]["statusText"] == "fail"
        })
        .await;
    assert_eq!(dest["data"][0]["statusText"], "fail", "{dest}");
    assert_eq!(rx.captured().len(), 2, "the first try and one retry");

    // Cleared again (PUT without it): back to the default two retries.
    let (s, e) = app
        .call(
            Method::PUT,
            &format!("/app/acme/endpoint/{ep}"),
            Some(json!({"url": rx.url("/x")})),
        )
        .await;
    assert_eq!((s.as_u16(), &e["retrySchedule"]), (200, &Value::Null));
    publish(&app, json!({"n": 2})).await;
    let all = rx.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(all.len(), 5, "2 before, then 3 tries");
}

async fn an_endpoint_timeout_cuts_a_slow_receiver_short() {
    let rx = Receiver::start(Reply {
        delay: Duration::from_secs(3),
        ..Reply::default()
    })
    .await;
    let app = TestApp::spawn(Config::default()).await;
    let ep = endpoint(
        &app,
        &rx.url("/slow"),
        json!({"timeout": 0.3, "retrySchedule": [60]}),
    )
    .await;
    let msg = publish(&app, json!({})).await;
    let attempts = app
        .until(&format!("/app/acme/attempt/endpoint/{ep}"), |v| {
            !v["data"].as_array().unwrap().is_empty()
        })
        .await;
    let a = &attempts["data"][0];
    assert_eq!(a["responseStatusCode"], 0, "{a}");
    assert!(
        a["response"]
            .as_str()
            .unwrap()
            .contains("timed out after 300 ms"),
        "{a}"
    );
    assert!(a["responseDurationMs"].as_u64().unwrap() < 2000, "{a}");
    assert_eq!(a["msgId"], msg);
}

async fn max_concurrency_is_enforced_at_the_receiver() {
    let rx = Receiver::start(Reply {
        delay: Duration::from_millis(150),
        ..Reply::default()
    })
    .await;
    let app = TestApp::spawn(Config::default()).await;
    endpoint(&app, &rx.url("/c"), json!({"maxConcurrency": 2})).await;
    for n in 0..10 {
        publish(&app, json!({ "n": n })).await;
    }
    let got = rx.wait_for(10, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 10, "every message is delivered");
    assert_eq!(
        rx.most_at_once(),
        2,
        "never more than 2 at once (and the 2 are used)"
    );

    // Without a cap, the same load arrives in parallel.
    let wide = Receiver::start(Reply {
        delay: Duration::from_millis(150),
        ..Reply::default()
    })
    .await;
    let ep = endpoint(&app, &wide.url("/w"), json!({"eventTypes": ["wide"]})).await;
    for n in 0..6 {
        app.call(
            Method::POST,
            "/app/acme/msg",
            Some(json!({"eventType": "wide", "payload": {"n": n}})),
        )
        .await;
    }
    wide.wait_for(6, Duration::from_secs(10)).await;
    assert!(
        wide.most_at_once() > 2,
        "{} at once to {ep}",
        wide.most_at_once()
    );
}

async fn bad_policies_are_refused_with_reasons() {
    let app = TestApp::spawn(Config::default()).await;
    endpoint(&app, "http://127.0.0.1:9/", json!({})).await;
    for (body, says) in [
        (json!({"retrySchedule": []}), "1 to 20 delays"),
        (json!({"retrySchedule": [-1]}), "retrySchedule delay"),
        (json!({"timeout": 0}), "timeout must be between"),
        (json!({"timeout": 301}), "timeout must be between"),
        (json!({"maxConcurrency": 0}), "maxConcurrency"),
    ] {
        let mut b = json!({"url": "http://127.0.0.1:9/"});
        b.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let (s, e) = app
            .call(Method::POST, "/app/acme/endpoint", Some(b.clone()))
            .await;
        assert_eq!(s, 422, "{b}: {e}");
        assert!(e["detail"].as_str().unwrap().contains(says), "{e}");
    }
}

async fn stats_send_example_one_attempt_and_manual_resend() {
    let rx = Receiver::failing_once().await;
    let other = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn(Config::default()).await;
    let ep = endpoint(&app, &rx.url("/e"), json!({"retrySchedule": [3600]})).await;
    endpoint(&app, &other.url("/o"), json!({"eventTypes": ["nothing"]})).await;

    // The first attempt fails (500) and waits an hour for its retry.
    let msg = publish(&app, json!({"id": 1})).await;
    app.until(&format!("/app/acme/attempt/msg/{msg}"), |v| {
        v["data"].as_array().unwrap().len() == 1
    })
    .await;
    let stats_path = format!("/app/acme/endpoint/{ep}/stats");
    let stats = app.get_json(&stats_path).await;
    assert_eq!(
        stats,
        json!({"success": 0, "pending": 1, "sending": 0, "fail": 0, "canceled": 0})
    );
    let future = app
        .get_json(&format!("{stats_path}?since=2999-01-01T00:00:00Z"))
        .await;
    assert_eq!(future["pending"], 0, "filtered by message time");
    let (s, e) = app
        .call(Method::GET, &format!("{stats_path}?since=yesterday"), None)
        .await;
    assert_eq!(s, 422, "{e}");

    // Resend: a manual attempt, which succeeds.
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/app/acme/msg/{msg}/endpoint/{ep}/resend"),
            None,
        )
        .await;
    assert_eq!(s, 202);
    let attempts = app
        .until(&format!("/app/acme/attempt/msg/{msg}"), |v| {
            v["data"].as_array().unwrap().len() == 2
        })
        .await;
    let (newest, first) = (&attempts["data"][0], &attempts["data"][1]);
    assert_eq!(
        (
            newest["triggerType"].as_u64(),
            first["triggerType"].as_u64()
        ),
        (Some(1), Some(0)),
        "the resend is manual, the first try scheduled"
    );
    let one = app
        .get_json(&format!(
            "/app/acme/msg/{msg}/attempt/{}",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(&one, first);
    let (s, _) = app
        .call(
            Method::GET,
            &format!("/app/acme/msg/{msg}/attempt/atmpt_nope"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let stats = app.until(&stats_path, |v| v["success"] == 1).await;
    assert_eq!(
        (stats["success"].as_u64(), stats["pending"].as_u64()),
        (Some(1), Some(0))
    );

    // send-example: the schema's first example, to this endpoint only.
    let (s, _) = app
        .call(
            Method::POST,
            "/event-type",
            Some(
                json!({"name": "user.signup", "description": "d", "schemas": {"1": {
                "type": "object", "examples": [{"email": "a@example.com"}]}}}),
            ),
        )
        .await;
    assert_eq!(s, 201);
    let example_path = format!("/app/acme/endpoint/{ep}/send-example");
    let (s, m) = app
        .call(
            Method::POST,
            &example_path,
            Some(json!({"eventType": "user.signup"})),
        )
        .await;
    assert_eq!(s, 202, "{m}");
    assert_eq!(m["payload"], json!({"email": "a@example.com"}));
    let got = rx.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(&got[2].body[..], br#"{"email":"a@example.com"}"#);
    let (s, m) = app
        .call(
            Method::POST,
            &example_path,
            Some(json!({"eventType": "svix.ping"})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), &m["payload"]),
        (202, &json!({"success": true}))
    );
    rx.wait_for(4, Duration::from_secs(10)).await;
    assert!(
        other.captured().is_empty(),
        "examples go to one endpoint only"
    );

    app.call(
        Method::POST,
        "/event-type",
        Some(json!({"name": "bare", "description": "no example"})),
    )
    .await;
    let (s, e) = app
        .call(
            Method::POST,
            &example_path,
            Some(json!({"eventType": "bare"})),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("has no example"));
    let (s, _) = app
        .call(
            Method::POST,
            &example_path,
            Some(json!({"eventType": "ghost"})),
        )
        .await;
    assert_eq!(s, 404);
}

// Every test above runs twice: on SQLite and on PostgreSQL.
hookline_server::testkit::on_both_backends!(
    an_endpoint_retry_schedule_overrides_the_default,
    an_endpoint_timeout_cuts_a_slow_receiver_short,
    max_concurrency_is_enforced_at_the_receiver,
    bad_policies_are_refused_with_reasons,
    stats_send_example_one_attempt_and_manual_resend,
);
