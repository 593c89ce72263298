//! The classic Express tutorial's surface, over real HTTP against a real SQLite file.

#![allow(clippy::unwrap_used)]

use hookline_server::testkit::TestApp;
use hookline_server::Config;
use hookline_signature::Scheme;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn signed(secret: &str, body: &[u8]) -> String {
    let h = hookline_testkit::signed(Scheme::HmacSha256, secret, body, "x", 0);
    h["x-webhook-signature"].to_str().unwrap().to_string()
}

async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let body = r.text().await.unwrap();
    assert!(
        ct.is_some_and(|c| c.contains("application/json")),
        "JSON expected, got {body}"
    );
    (status, serde_json::from_str(&body).unwrap())
}

async fn index_health_ready() {
    let app = TestApp::spawn(Config::default()).await;
    let (s, v) = json_of(app.client.get(app.url("/")).send().await.unwrap()).await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        json!({"message":"Webhook server is running.","endpoints":["/health","/webhook/:event"]})
    );
    let (_, v) = json_of(app.client.get(app.url("/health")).send().await.unwrap()).await;
    assert_eq!(v, json!({"status":"ok"}));
    let (s, v) = json_of(app.client.get(app.url("/ready")).send().await.unwrap()).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"status":"ok"})));
    app.stop().await;
}

async fn webhook_without_secret_echoes_the_tutorial_answer() {
    let app = TestApp::spawn(Config::default()).await;
    let r = app
        .client
        .post(app.url("/webhook/user.created"))
        .header("content-type", "application/json")
        .body(r#"{"id": 1, "name": "Alice"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "*",
        "CORS is open"
    );
    let (s, v) = json_of(r).await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        json!({"message":"Webhook received successfully.","event":"user.created","receivedData":{"id":1,"name":"Alice"}})
    );
    // X-Event-Type wins over the path.
    let r = app
        .client
        .post(app.url("/webhook/ignored"))
        .header("content-type", "application/json")
        .header("x-event-type", "order.paid")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await.1["event"], "order.paid");
    app.stop().await;
}

async fn webhook_secret_is_checked_over_the_raw_body() {
    let app = TestApp::spawn(Config {
        webhook_secret: Some("s3cr3t".into()),
        ..Config::default()
    })
    .await;
    let body = br#"{ "spaced":  true, "b": [1,2] }"#;
    let post = |sig: Option<String>, body: &'static [u8]| {
        let mut r = app
            .client
            .post(app.url("/webhook/e"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = sig {
            r = r.header("x-webhook-signature", s);
        }
        r.send()
    };
    let (s, v) = json_of(post(Some(signed("s3cr3t", body)), body).await.unwrap()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["receivedData"], json!({"spaced": true, "b": [1, 2]}));

    for bad in [
        None,
        Some(signed("wrong", body)),
        Some("sha256=00".into()),
        Some("garbage".into()),
    ] {
        let (s, v) = json_of(post(bad, body).await.unwrap()).await;
        assert_eq!(s, 401);
        assert_eq!(
            v,
            json!({"error":"Invalid signature."}),
            "exactly the tutorial's body"
        );
    }
    // Signed over other bytes (a re-serialised body) does not pass.
    let (s, _) = json_of(
        post(
            Some(signed("s3cr3t", br#"{"spaced":true,"b":[1,2]}"#)),
            body,
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, 401);
    app.stop().await;
}

async fn urlencoded_bodies() {
    let app = TestApp::spawn(Config::default()).await;
    let r = app
        .client
        .post(app.url("/webhook/form"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Alice+B&tag=a&tag=b&empty=")
        .send()
        .await
        .unwrap();
    let (s, v) = json_of(r).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["receivedData"],
        json!({"name":"Alice B","tag":["a","b"],"empty":""})
    );
    app.stop().await;
}

async fn bad_input_gets_clear_json_errors() {
    let app = TestApp::spawn(Config {
        body_limit: 1024,
        ..Config::default()
    })
    .await;
    let post = |ct: &'static str, body: Vec<u8>| {
        app.client
            .post(app.url("/webhook/e"))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let (s, v) = json_of(
        post("application/json", b"{\"id\": 1,".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("Invalid JSON body: "),
        "{v}"
    );

    let (s, v) = json_of(post("application/json", vec![b' '; 2048]).await.unwrap()).await;
    assert_eq!(s, 413);
    assert!(v["error"].as_str().unwrap().contains("1024 bytes"), "{v}");

    let (s, v) = json_of(app.client.get(app.url("/webhook/e")).send().await.unwrap()).await;
    assert_eq!(s, 405);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("Method GET is not allowed"),
        "{v}"
    );

    let (s, v) = json_of(app.client.get(app.url("/nowhere")).send().await.unwrap()).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"], "Not found: GET /nowhere");

    let (s, v) = json_of(
        app.client
            .post(app.url("/in/nope"))
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 404);
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("No source named `nope`"));

    let (s, _) = json_of(
        app.client
            .request(Method::DELETE, app.url("/health"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 405);
    app.stop().await;
}

async fn every_request_is_stored_byte_exact_before_the_answer() {
    let app = TestApp::spawn(Config {
        webhook_secret: Some("k".into()),
        ..Config::default()
    })
    .await;
    let body = "{\"unicode\":\"caf\u{e9} \u{1F600}\",\n\"n\": 1.50}"
        .as_bytes()
        .to_vec();
    let r = app
        .client
        .post(app.url("/webhook/stored?via=test"))
        .header("content-type", "application/json")
        .header("x-webhook-signature", signed("k", &body))
        .header("authorization", "Bearer not-logged")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bad = app
        .client
        .post(app.url("/webhook/forged"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);

    let list: Value = app.get_json("/source/default/event").await;
    assert_eq!(list["done"], true);
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["verdict"], "rejected", "newest first");
    assert!(data[0]["verdictReason"]
        .as_str()
        .unwrap()
        .starts_with("missing_header"));
    let id = data[1]["id"].as_str().unwrap();
    let one: Value = app
        .api(Method::GET, &format!("/source/default/event/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    use base64::Engine;
    let stored = base64::engine::general_purpose::STANDARD
        .decode(one["bodyBase64"].as_str().unwrap())
        .unwrap();
    assert_eq!(stored, body, "byte-exact");
    assert_eq!(one["verdict"], "verified");
    assert_eq!(one["eventType"], "stored");
    assert_eq!(one["path"], "/webhook/stored");
    assert_eq!(one["query"], "via=test");
    assert!(one["remoteAddr"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    app.stop().await;
}

// Every test above runs twice: on SQLite and on PostgreSQL.
hookline_server::testkit::on_both_backends!(
    index_health_ready,
    webhook_without_secret_echoes_the_tutorial_answer,
    webhook_secret_is_checked_over_the_raw_body,
    urlencoded_bodies,
    bad_input_gets_clear_json_errors,
    every_request_is_stored_byte_exact_before_the_answer,
);
