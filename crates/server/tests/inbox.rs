//! The inbox API: filters, pagination, search (`q=`, `filter=`, across
//! sources), one event, and replay (byte-exact or re-signed).

#![allow(clippy::unwrap_used)]

use hookline_core::SourceSpec;
use hookline_server::testkit::{Receiver, Reply, TestApp};
use hookline_server::Config;
use hookline_signature::{Scheme, Secret, SignInput, DEFAULT_TOLERANCE};
use reqwest::Method;
use serde_json::{json, Value};

use hookline_testkit::now_secs as now;

async fn app() -> TestApp {
    let spec = SourceSpec {
        name: "gh".into(),
        scheme: Some("github".into()),
        secret: Some("gh-secret".into()),
        ..Default::default()
    };
    TestApp::spawn(Config {
        sources: vec![spec.into_source(None).unwrap()],
        ..Config::default()
    })
    .await
}

async fn send_github(app: &TestApp, body: &[u8], event: &str, delivery: &str) {
    let input = SignInput {
        body,
        id: delivery,
        timestamp: now(),
        event: Some(event),
    };
    let headers = Scheme::Github
        .sign(&Secret::new("gh-secret"), &input)
        .unwrap();
    let r = app
        .client
        .post(app.url("/in/gh?installation=7"))
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/abc")
        .headers(headers)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn filters_and_pagination() {
    let app = app().await;
    for i in 0..7 {
        let event = if i % 2 == 0 { "push" } else { "issues" };
        send_github(
            &app,
            format!("{{\"n\":{i}}}").as_bytes(),
            event,
            &format!("d-{i}"),
        )
        .await;
    }
    let bad = app
        .client
        .post(app.url("/in/gh"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);

    let pushes = app.get_json("/source/gh/event?eventType=push").await;
    assert_eq!(pushes["data"].as_array().unwrap().len(), 4);
    let rejected = app.get_json("/source/gh/event?verdict=rejected").await;
    assert_eq!(rejected["data"].as_array().unwrap().len(), 1);
    let verified = app.get_json("/source/gh/event?verdict=verified").await;
    assert_eq!(verified["data"].as_array().unwrap().len(), 7);
    assert!(
        verified["data"][0].get("body").is_none(),
        "lists carry no bodies"
    );

    let mut seen = Vec::new();
    let mut path = "/source/gh/event?limit=3".to_string();
    loop {
        let page = app.get_json(&path).await;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_string()),
        );
        assert!(page.get("prevIterator").is_some());
        if page["done"] == true {
            break;
        }
        path = format!(
            "/source/gh/event?limit=3&iterator={}",
            page["iterator"].as_str().unwrap()
        );
    }
    assert_eq!(seen.len(), 8);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 8);

    let future = app
        .get_json("/source/gh/event?after=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(future["data"].as_array().unwrap().len(), 0);
    let past = app
        .get_json("/source/gh/event?before=2999-01-01T00:00:00Z&after=2000-01-01T00:00:00Z")
        .await;
    assert_eq!(past["data"].as_array().unwrap().len(), 8);

    let r = app
        .api(Method::GET, "/source/gh/event?after=yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .api(Method::GET, "/source/gh/event?verdict=maybe")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .api(Method::GET, "/source/gh/event/evt_doesnotexist")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .api(Method::GET, "/source/gh/event/not-an-id")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    app.stop().await;
}

async fn replay_byte_exact_with_original_headers() {
    let app = app().await;
    let body = b"{\"weird\" :\t[1,2 ,3],\n \"caf\xc3\xa9\": null}";
    send_github(&app, body, "push", "delivery-42").await;
    let id = app.get_json("/source/gh/event").await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let rx = Receiver::start(Reply {
        status: 202,
        body: "{\"ok\":true}",
        ..Reply::default()
    })
    .await;
    let r = app
        .api(Method::POST, &format!("/source/gh/event/{id}/replay"))
        .json(&json!({"url": rx.url("/replayed")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["status"], 202);
    assert_eq!(out["responseBody"], "{\"ok\":true}");

    let got = rx.only();
    assert_eq!(&got.body[..], &body[..], "the original bytes");
    assert_eq!(got.headers["x-github-event"], "push");
    assert_eq!(got.headers["x-github-delivery"], "delivery-42");
    assert_eq!(got.headers["user-agent"], "GitHub-Hookshot/abc");
    assert_ne!(
        got.headers["host"],
        app.addr.to_string().as_str(),
        "hop-by-hop headers are not copied"
    );
    // Still verifiable by the receiver with the original secret: nothing changed.
    Scheme::Github
        .verify(
            &got.headers,
            &got.body,
            &["gh-secret".into()],
            now(),
            DEFAULT_TOLERANCE,
        )
        .unwrap();
    app.stop().await;
}

async fn replay_resigned_with_a_fresh_timestamp() {
    let app = app().await;
    let body = br#"{"n":1}"#;
    send_github(&app, body, "push", "d-9").await;
    let id = app.get_json("/source/gh/event").await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rx = Receiver::start(Reply::default()).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let r = app
        .api(Method::POST, &format!("/source/gh/event/{id}/replay"))
        .json(
            &json!({"url": rx.url("/x"), "mode": "resign", "scheme": "standard", "secret": secret}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = rx.only();
    assert_eq!(&got.body[..], body);
    assert_eq!(
        got.headers["webhook-id"], "d-9",
        "the delivery id is kept, so receivers can de-duplicate"
    );
    assert_eq!(got.headers["x-event-type"], "push");
    Scheme::Standard
        .verify(
            &got.headers,
            &got.body,
            &[secret.into()],
            now(),
            DEFAULT_TOLERANCE,
        )
        .unwrap();

    let bad = app
        .api(Method::POST, &format!("/source/gh/event/{id}/replay"))
        .json(&json!({"url": rx.url("/x"), "mode": "resign"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let refused = app
        .api(Method::POST, &format!("/source/gh/event/{id}/replay"))
        .json(&json!({"url": "http://127.0.0.1:1/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 502);
    let v: Value = refused.json().await.unwrap();
    assert_eq!(v["code"], "replay_failed");
    let not_url = app
        .api(Method::POST, &format!("/source/gh/event/{id}/replay"))
        .json(&json!({"url": "ftp://x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_url.status(), 422);
    app.stop().await;
}

/// The bodies a search answers, newest first; panics unless 200.
async fn bodies(app: &TestApp, path: &str, query: &[(&str, &str)]) -> Vec<Value> {
    let r = app
        .api(Method::GET, path)
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path} {query:?}");
    let page: Value = r.json().await.unwrap();
    let mut out = Vec::new();
    for e in page["data"].as_array().unwrap() {
        let id = e["id"].as_str().unwrap();
        let source = e["source"].as_str().unwrap();
        let one = app.get_json(&format!("/source/{source}/event/{id}")).await;
        out.push(serde_json::from_str(one["body"].as_str().unwrap()).unwrap());
    }
    out
}

async fn text_and_filter_search_find_exactly_the_matching_events() {
    let app = app().await;
    send_github(
        &app,
        r#"{"customer":"Zoë Café","n":1}"#.as_bytes(),
        "push",
        "d-1",
    )
    .await;
    send_github(&app, r#"{"note":"refund","n":2}"#.as_bytes(), "push", "d-2").await;
    let tutorial = app
        .client
        .post(app.url("/webhook/order.refunded"))
        .json(&json!({"note": "refund requested", "n": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(tutorial.status(), 200);

    let gh = "/source/gh/event";
    let cafe = vec![json!({"customer": "Zoë Café", "n": 1})];
    assert_eq!(bodies(&app, gh, &[("q", "café")]).await, cafe);
    assert_eq!(bodies(&app, gh, &[("q", "ZOË CAFÉ")]).await, cafe);
    assert_eq!(
        bodies(&app, gh, &[("q", "hookshot")]).await.len(),
        2,
        "header values"
    );
    assert!(bodies(&app, gh, &[("q", "no such words")]).await.is_empty());
    assert_eq!(
        bodies(&app, "/event", &[("q", "refund")]).await,
        [
            json!({"note": "refund requested", "n": 3}),
            json!({"note": "refund", "n": 2})
        ],
        "across sources"
    );
    let two_up = r#"{"body": {"n": {"$gte": 2}}}"#;
    assert_eq!(bodies(&app, gh, &[("filter", two_up)]).await.len(), 1);
    assert_eq!(bodies(&app, "/event", &[("filter", two_up)]).await.len(), 2);
    let tutorial_only = r#"{"path": {"$startsWith": "/webhook/"}}"#;
    assert_eq!(
        bodies(
            &app,
            "/event",
            &[("q", "refund"), ("filter", tutorial_only)]
        )
        .await,
        [json!({"note": "refund requested", "n": 3})],
        "text and filter combine"
    );

    let bad = app
        .api(Method::GET, "/event")
        .query(&[("filter", r#"{"body": {"n": {"$bogus": 1}}}"#)])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let why: Value = bad.json().await.unwrap();
    assert!(why["detail"].as_str().unwrap().contains("$bogus"), "{why}");
    let not_json = app
        .api(Method::GET, "/event?filter=%7Bnope")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 422);
    app.stop().await;
}

// Every test above runs twice: on SQLite and on PostgreSQL.
hookline_server::testkit::on_both_backends!(
    filters_and_pagination,
    replay_byte_exact_with_original_headers,
    replay_resigned_with_a_fresh_timestamp,
    text_and_filter_search_find_exactly_the_matching_events,
);
