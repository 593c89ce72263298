//! Inbox search over HTTP: `q=` (text of the body and header values) and
//! `filter=` (the routes' JSON dialect), on one source and across sources.

#![allow(clippy::unwrap_used)]

use hookline_core::SourceSpec;
use hookline_server::testkit::TestApp;
use hookline_server::Config;
use hookline_signature::{Scheme, Secret, SignInput};
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

async fn send_github(app: &TestApp, body: &str, delivery: &str) {
    let input = SignInput {
        body: body.as_bytes(),
        id: delivery,
        timestamp: now(),
        event: Some("push"),
    };
    let headers = Scheme::Github
        .sign(&Secret::new("gh-secret"), &input)
        .unwrap();
    let r = app
        .client
        .post(app.url("/in/gh"))
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/abc")
        .headers(headers)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
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
    send_github(&app, r#"{"customer":"Zoë Café","n":1}"#, "d-1").await;
    send_github(&app, r#"{"note":"refund","n":2}"#, "d-2").await;
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
    text_and_filter_search_find_exactly_the_matching_events,
);
