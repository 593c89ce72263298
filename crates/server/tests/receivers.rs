//! "Replace your tutorial receiver": each file in `examples/` loaded as it is,
//! and exactly what each tutorial's sender sends, over real HTTP, answered with
//! exactly what that tutorial's receiver answered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use hmac::{Hmac, Mac};
use hookline_core::{Source, SourceSpec};
use hookline_server::testkit::TestApp;
use hookline_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

/// The `[[source]]` tables of `examples/NAME.toml`, as the binary reads them.
fn example(name: &str) -> Vec<Source> {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the example exists");
    let file: toml::Table = toml::from_str(&text).expect("the example is TOML");
    let tables = file["source"].as_array().expect("[[source]]").clone();
    tables
        .into_iter()
        .map(|t| {
            let spec: SourceSpec = t.try_into().expect("a valid [[source]]");
            spec.into_source(None).expect("a valid source")
        })
        .collect()
}

async fn serve(name: &str) -> TestApp {
    let config = Config {
        sources: example(name),
        ..Config::default()
    };
    TestApp::spawn(config).await
}

fn hmac(secret: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Posts `body` to `path` with `headers`; the status, content type and body text.
async fn post(
    app: &TestApp,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (StatusCode, String, String) {
    let mut req = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

/// The newest event of `source`, as the inbox API shows it.
async fn newest(app: &TestApp, source: &str) -> Value {
    let page = app
        .get_json(&format!("/source/{source}/event?limit=1"))
        .await;
    page["data"][0].clone()
}

async fn every_example_loads_and_verifies() {
    for name in [
        "go-webhook",
        "express-payment",
        "flask-recipe",
        "java-base64",
        "api-key",
        "github",
        "stripe",
        "slack",
        "shopify",
        "standard-webhooks",
    ] {
        let sources = example(name);
        assert!(!sources.is_empty(), "{name}");
        let app = serve(name).await;
        for s in &sources {
            let got = app.get_json(&format!("/source/{}", s.name)).await;
            assert_eq!(got["verifies"], true, "{name}: {got}");
        }
        app.stop().await;
    }
}

/// The Go blog's client: spaced JSON, signed as sent, `X-Signature: <hex>`.
async fn go_client_gets_the_go_servers_answers() {
    let app = serve("go-webhook").await;
    let body = br#"{"event": "user.created", "data": {"id": 42, "email": "a@example.com"}}"#;
    let sig = hex::encode(hmac("my-secret-key", body));
    let (s, _, text) = post(&app, "/webhook", &[("X-Signature", sig.clone())], body).await;
    assert_eq!(
        (s, text.as_str()),
        (StatusCode::OK, r#"{"status": "success"}"#)
    );
    assert_eq!(
        newest(&app, "go-webhook").await["eventType"],
        "user.created",
        "taken from the payload"
    );
    let tampered = br#"{"event": "user.created", "data": {"id": 43, "email": "a@example.com"}}"#;
    let (s, _, text) = post(&app, "/webhook", &[("X-Signature", sig)], tampered).await;
    assert_eq!(
        (s, text.as_str()),
        (StatusCode::UNAUTHORIZED, "Invalid signature")
    );
    let (s, _, _) = post(&app, "/webhook", &[], body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "missing signature");
    assert_eq!(newest(&app, "go-webhook").await["verdict"], "rejected");
    app.stop().await;
}

/// The Express payment sender: compact JSON, `x-signature: <hex>`, a text answer.
async fn express_sender_gets_payment_processed() {
    let app = serve("express-payment").await;
    let body = br#"{"type":"payment.succeeded","amount":4200,"currency":"usd"}"#;
    let sig = hex::encode(hmac("payment_secret", body));
    let (s, ct, text) = post(
        &app,
        "/payment-webhook",
        &[("x-signature", sig.clone())],
        body,
    )
    .await;
    assert_eq!((s, text.as_str()), (StatusCode::OK, "Payment processed"));
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert_eq!(
        newest(&app, "payments").await["eventType"],
        "payment.succeeded"
    );
    let (s, _, text) = post(
        &app,
        "/payment-webhook",
        &[("x-signature", sig)],
        br#"{"type":"payment.succeeded","amount":1}"#,
    )
    .await;
    assert_eq!(
        (s, text.as_str()),
        (StatusCode::UNAUTHORIZED, "Invalid signature")
    );
    app.stop().await;
}

/// The recipe (Flask or Express) and its Java variant: Python-spaced JSON,
/// `X-Webhook-Signature` as `sha256=<hex>` or base64, `{"status": "ok"}`,
/// `{"status": "duplicate"}` for a repeated id, 400 for a bad signature.
async fn recipe_senders_get_the_recipes_answers() {
    for (name, source, secret, encode) in [
        (
            "flask-recipe",
            "recipe",
            "whsec_recipe_secret",
            (|m: &[u8]| format!("sha256={}", hex::encode(m))) as fn(&[u8]) -> String,
        ),
        (
            "java-base64",
            "java",
            "java_webhook_secret",
            |m: &[u8]| base64::engine::general_purpose::STANDARD.encode(m),
        ),
    ] {
        let app = serve(name).await;
        let body = br#"{"id": "evt_1001", "type": "order.created", "data": {"order_id": 7, "total": 19.99}}"#;
        let sig = encode(&hmac(secret, body));
        let send = |b: &'static [u8], sig: Option<String>| {
            let headers: Vec<(&str, String)> = sig
                .into_iter()
                .map(|s| ("X-Webhook-Signature", s))
                .collect();
            let app = &app;
            async move { post(app, "/webhooks", &headers, b).await }
        };
        let (s, ct, text) = send(body, Some(sig.clone())).await;
        assert_eq!(
            (s, text.as_str()),
            (StatusCode::OK, r#"{"status": "ok"}"#),
            "{name}"
        );
        assert_eq!(ct, "application/json");
        assert_eq!(newest(&app, source).await["eventType"], "order.created");
        let (s, _, text) = send(body, Some(sig.clone())).await;
        assert_eq!(
            (s, text.as_str()),
            (StatusCode::OK, r#"{"status": "duplicate"}"#),
            "{name}"
        );
        let tampered: &'static [u8] =
            br#"{"id": "evt_1001", "type": "order.created", "data": {"order_id": 7, "total": 0}}"#;
        let (s, _, text) = send(tampered, Some(sig)).await;
        assert_eq!(
            (s, text.as_str()),
            (StatusCode::BAD_REQUEST, r#"{"error": "Invalid signature"}"#),
            "{name}"
        );
        let (s, _, text) = send(body, None).await;
        assert_eq!(
            (s, text.as_str()),
            (StatusCode::BAD_REQUEST, r#"{"error": "Invalid signature"}"#),
            "{name}: missing"
        );
        let page = app.get_json(&format!("/source/{source}/event")).await;
        assert_eq!(
            page["data"].as_array().unwrap().len(),
            3,
            "{name}: the duplicate is not stored twice"
        );
        app.stop().await;
    }
}

/// A sender that authenticates with an API key header (rotation: both keys).
async fn api_key_senders_are_let_in_and_others_rejected_with_a_reason() {
    let app = serve("api-key").await;
    let body = br#"{"order": 1}"#;
    for key in ["key-2026-12", "key-2026-11"] {
        let (s, _, text) = post(
            &app,
            "/hooks/partner",
            &[("X-API-Key", key.into()), ("X-Event", "order.paid".into())],
            body,
        )
        .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(
            v["accepted"].as_str().unwrap().starts_with("evt_"),
            "{{{{id}}}} filled: {v}"
        );
    }
    assert_eq!(newest(&app, "partner").await["eventType"], "order.paid");
    assert_eq!(newest(&app, "partner").await["verdict"], "verified");
    let (s, _, text) = post(
        &app,
        "/hooks/partner",
        &[("X-API-Key", "key-2026-10".into())],
        body,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(
        v["error"].as_str().unwrap().starts_with("auth_failed"),
        "{v}"
    );
    let (s, _, _) = post(&app, "/hooks/partner", &[], body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let stored = newest(&app, "partner").await;
    assert_eq!(stored["verdict"], "rejected");
    assert!(
        stored["verdictReason"]
            .as_str()
            .unwrap()
            .starts_with("auth_missing"),
        "{stored}"
    );
    let listed = app.get_json("/source/partner").await;
    assert_eq!(
        listed["auth"],
        json!({"kind": "header:x-api-key", "valueCount": 2}),
        "never the values"
    );
    assert!(!listed.to_string().contains("key-2026"), "{listed}");
    app.stop().await;
}

/// Paths that a built-in route or another source holds are refused, in words;
/// a source without secret or auth says it verifies nothing.
async fn clashing_paths_are_refused_by_the_api() {
    let app = TestApp::spawn(Config::default()).await;
    for (path, route) in [
        ("/health", "GET /health"),
        ("/api/v1/x", "/api/…"),
        ("/webhook/x", "POST /webhook/{event}"),
        ("/ui/y", "/ui…"),
        ("/in/z", "POST /in/{source}"),
    ] {
        let (s, v) = app
            .call(
                Method::POST,
                "/source",
                Some(json!({"name": "clash", "path": path, "secret": "s"})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{path}: {v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("source `clash`") && detail.contains(path) && detail.contains(route),
            "{detail}"
        );
    }
    let (s, v) = app
        .call(
            Method::POST,
            "/source",
            Some(json!({"name": "first", "path": "/webhook"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "/webhook alone is free: {v}");
    assert_eq!(v["verifies"], false, "no secret, no auth");
    let (s, v) = app
        .call(
            Method::POST,
            "/source",
            Some(json!({"name": "second", "path": "/webhook"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        v["detail"].as_str().unwrap().contains("source `first`"),
        "{v}"
    );
    let (s, _) = app
        .call(
            Method::POST,
            "/source",
            Some(json!({"name": "third", "path": "no-slash"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.client.get(app.url("/webhook")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "a source's path answers POST only"
    );
    app.stop().await;
}

hookline_server::testkit::on_both_backends!(
    every_example_loads_and_verifies,
    go_client_gets_the_go_servers_answers,
    express_sender_gets_payment_processed,
    recipe_senders_get_the_recipes_answers,
    api_key_senders_are_let_in_and_others_rejected_with_a_reason,
    clashing_paths_are_refused_by_the_api,
);
