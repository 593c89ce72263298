//! Named sources at `/in/{source}`: every scheme (valid, tampered body,
//! tampered signature, wrong secret, rotated secret, stale and future
//! timestamps), de-duplication, Slack's challenge, allow-lists, rate limits,
//! and the source API with its auth.

#![allow(clippy::unwrap_used)]

use hookline_core::SourceSpec;
use hookline_server::testkit::TestApp;
use hookline_server::Config;
use hookline_signature::Scheme;
use http::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use hookline_testkit::now_secs as now;

fn secret_for(scheme: Scheme, n: u8) -> String {
    match scheme {
        Scheme::Standard => {
            use base64::Engine;
            format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode([n; 24])
            )
        }
        _ => format!("secret-number-{n}"),
    }
}

fn sign(scheme: Scheme, secret: &str, body: &[u8], ts: i64) -> HeaderMap {
    hookline_testkit::signed(scheme, secret, body, &format!("msg_{}", rand_id()), ts)
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

async fn post(app: &TestApp, source: &str, headers: HeaderMap, body: &[u8]) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(&format!("/in/{source}")))
        .header("content-type", "application/json")
        .headers(headers)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

fn spec(name: &str, scheme: Scheme, secrets: Vec<String>) -> SourceSpec {
    SourceSpec {
        name: name.into(),
        scheme: Some(scheme.name().into()),
        secrets,
        ..Default::default()
    }
}

async fn app_with(specs: Vec<SourceSpec>) -> TestApp {
    let sources = specs
        .into_iter()
        .map(|s| s.into_source(None).unwrap())
        .collect();
    TestApp::spawn(Config {
        sources,
        ..Config::default()
    })
    .await
}

async fn every_scheme_accepts_valid_and_rejects_each_tamper() {
    let specs = Scheme::ALL
        .iter()
        .map(|s| spec(s.name(), *s, vec![secret_for(*s, 2), secret_for(*s, 1)]))
        .collect();
    let app = app_with(specs).await;
    let body = br#"{"id":"evt_1","type":"thing.happened","amount":42}"#;
    for scheme in Scheme::ALL {
        let name = scheme.name();
        let (s, v) = post(
            &app,
            name,
            sign(scheme, &secret_for(scheme, 2), body, now()),
            body,
        )
        .await;
        assert_eq!(s, 200, "{name} valid: {v}");
        assert_eq!(v["status"], "received");
        assert!(v["id"].as_str().unwrap().starts_with("evt_"));

        let (s, _) = post(
            &app,
            name,
            sign(scheme, &secret_for(scheme, 1), body, now()),
            body,
        )
        .await;
        assert_eq!(s, 200, "{name}: the older rotated secret still verifies");

        let (s, v) = post(
            &app,
            name,
            sign(scheme, &secret_for(scheme, 2), body, now()),
            b"{\"amount\":43}",
        )
        .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("Invalid signature.")),
            "{name} tampered body"
        );
        assert_eq!(v["code"], "no_matching_signature");

        let mut forged = sign(scheme, &secret_for(scheme, 2), body, now());
        let sig = forged[scheme.signature_header()]
            .to_str()
            .unwrap()
            .to_string();
        let flipped: String = sig
            .char_indices()
            .map(|(i, c)| {
                if i == sig.len() - 3 {
                    if c == 'a' {
                        'b'
                    } else {
                        'a'
                    }
                } else {
                    c
                }
            })
            .collect();
        forged.insert(scheme.signature_header(), flipped.parse().unwrap());
        let (s, _) = post(&app, name, forged, body).await;
        assert_eq!(s, 401, "{name} tampered signature");

        let (s, v) = post(
            &app,
            name,
            sign(scheme, &secret_for(scheme, 9), body, now()),
            body,
        )
        .await;
        assert_eq!(s, 401, "{name} wrong secret");
        assert!(
            v["reason"]
                .as_str()
                .unwrap()
                .contains("no signature matches"),
            "{v}"
        );

        if scheme.has_timestamp() {
            let (s, v) = post(
                &app,
                name,
                sign(scheme, &secret_for(scheme, 2), body, now() - 600),
                body,
            )
            .await;
            assert_eq!(
                (s, v["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("timestamp_too_old")),
                "{name} stale"
            );
            let (s, v) = post(
                &app,
                name,
                sign(scheme, &secret_for(scheme, 2), body, now() + 600),
                body,
            )
            .await;
            assert_eq!(
                (s, v["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("timestamp_too_new")),
                "{name} future"
            );
        }
    }
    // Every request was stored, rejected ones marked with their reason.
    let list: Value = app.get_json("/source/stripe/event?verdict=rejected").await;
    let reasons: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["verdictReason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.starts_with("timestamp_too_new")));
    app.stop().await;
}

async fn provider_event_types_are_recorded() {
    let app = app_with(vec![
        spec("gh", Scheme::Github, vec!["k".into()]),
        spec("st", Scheme::Stripe, vec!["whsec_k".into()]),
    ])
    .await;
    let body = br#"{"id":"evt_77","type":"invoice.paid"}"#;
    let mut h = sign(Scheme::Github, "k", body, now());
    h.insert("x-github-event", "push".parse().unwrap());
    post(&app, "gh", h, body).await;
    post(
        &app,
        "st",
        sign(Scheme::Stripe, "whsec_k", body, now()),
        body,
    )
    .await;
    let gh: Value = app.get_json("/source/gh/event").await;
    assert_eq!(gh["data"][0]["eventType"], "push");
    let st: Value = app
        .get_json("/source/st/event?eventType=invoice.paid")
        .await;
    assert_eq!(st["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        st["data"][0]["dedupKey"], "evt_77",
        "Stripe dedups on the event id"
    );
    app.stop().await;
}

async fn duplicates_answer_200_and_are_not_stored_twice() {
    let mut by_header = spec("hdr", Scheme::HmacSha256, vec![]);
    by_header.dedup = Some("header:x-request-id".into());
    let mut by_json = spec("ptr", Scheme::HmacSha256, vec![]);
    by_json.dedup = Some("json:/data/id".into());
    let app = app_with(vec![
        spec(
            "std",
            Scheme::Standard,
            vec![secret_for(Scheme::Standard, 3)],
        ),
        by_header,
        by_json,
    ])
    .await;

    let body = br#"{"data":{"id":5}}"#;
    let h = sign(
        Scheme::Standard,
        &secret_for(Scheme::Standard, 3),
        body,
        now(),
    );
    let (s1, v1) = post(&app, "std", h.clone(), body).await;
    let (s2, v2) = post(&app, "std", h, body).await;
    assert_eq!(
        (s1, v1["status"].as_str()),
        (StatusCode::OK, Some("received"))
    );
    assert_eq!(
        (s2, v2["status"].as_str()),
        (StatusCode::OK, Some("duplicate"))
    );
    assert_eq!(v2["id"], v1["id"], "the duplicate names the original");

    let mut h = HeaderMap::new();
    h.insert("x-request-id", "req-1".parse().unwrap());
    assert_eq!(
        post(&app, "hdr", h.clone(), b"{}").await.1["status"],
        "received"
    );
    assert_eq!(
        post(&app, "hdr", h, b"{\"other\":1}").await.1["status"],
        "duplicate"
    );
    assert_eq!(
        post(&app, "ptr", HeaderMap::new(), body).await.1["status"],
        "received"
    );
    assert_eq!(
        post(&app, "ptr", HeaderMap::new(), br#"{"data":{"id":5},"x":1}"#)
            .await
            .1["status"],
        "duplicate"
    );
    assert_eq!(
        post(&app, "ptr", HeaderMap::new(), br#"{"data":{"id":6}}"#)
            .await
            .1["status"],
        "received"
    );

    for (source, n) in [("std", 1), ("hdr", 1), ("ptr", 2)] {
        let list = app.get_json(&format!("/source/{source}/event")).await;
        assert_eq!(list["data"].as_array().unwrap().len(), n, "{source}");
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"hookline_inbound_requests_total{source="std",verdict="duplicate"} 1"#),
        "{metrics}"
    );
    app.stop().await;
}

async fn slack_url_verification_challenge() {
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let app = app_with(vec![spec("slack", Scheme::Slack, vec![secret.into()])]).await;
    let body = br#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let (s, v) = post(
        &app,
        "slack",
        sign(Scheme::Slack, secret, body, now()),
        body,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        json!({"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    let (s, _) = post(&app, "slack", HeaderMap::new(), body).await;
    assert_eq!(s, 401, "an unsigned challenge is refused");
    app.stop().await;
}

async fn allow_lists_and_rate_limits() {
    let mut closed = spec("closed", Scheme::Hex, vec![]);
    closed.allow_ips = vec!["10.0.0.0/8".into()];
    let mut open = spec("local", Scheme::Hex, vec![]);
    open.allow_ips = vec!["127.0.0.0/8".into()];
    let mut limited = spec("limited", Scheme::Hex, vec![]);
    limited.rate_limit = Some(5);
    let app = app_with(vec![closed, open, limited]).await;

    let (s, v) = post(&app, "closed", HeaderMap::new(), b"{}").await;
    assert_eq!(s, 403);
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("127.0.0.1 is not allowed"));
    assert_eq!(post(&app, "local", HeaderMap::new(), b"{}").await.0, 200);

    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            post(&app, "limited", HeaderMap::new(), b"{}")
                .await
                .0
                .as_u16(),
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "a burst of 5: {statuses:?}"
    );
    assert!(statuses.contains(&429));
    let list: Value = app.get_json("/source/limited/event").await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        5,
        "refused requests are not stored"
    );
    app.stop().await;
}

async fn source_api_crud_and_auth() {
    let app = TestApp::spawn(Config::default()).await;
    let no_token = app
        .client
        .get(app.url("/api/v1/source"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    let v: Value = no_token.json().await.unwrap();
    assert_eq!(v["code"], "authentication_failed");
    let wrong = app
        .client
        .get(app.url("/api/v1/source"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let (status, created) = app
        .call(
            Method::POST,
            "/source",
            Some(json!({"name":"shop","scheme":"shopify","secret":"abc","rateLimit":100,"allowIps":["127.0.0.1"]})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(created["scheme"], "shopify");
    assert_eq!(created["secretCount"], 1);
    assert_eq!(created["url"], "/in/shop");
    assert!(
        created.get("secret").is_none() && created.get("secrets").is_none(),
        "secrets never come back"
    );
    assert!(created["id"].as_str().unwrap().starts_with("src_"));

    // Immediately live, signed with the new secret.
    let body = br#"{"order":1}"#;
    let shop = |scheme: Scheme, secret: &'static str| {
        let app = &app;
        async move {
            post(app, "shop", sign(scheme, secret, body, now()), body)
                .await
                .0
        }
    };
    assert_eq!(shop(Scheme::Shopify, "abc").await, 200);

    let (status, _) = app
        .call(Method::POST, "/source", Some(json!({"name":"shop"})))
        .await;
    assert_eq!(status, 409);
    let (status, v) = app
        .call(Method::POST, "/source", Some(json!({"name":"Bad Name"})))
        .await;
    assert_eq!((status.as_u16(), &v["code"]), (422, &json!("validation")));
    let (status, v) = app
        .call(
            Method::POST,
            "/source",
            Some(json!({"name":"x","sekret":"s"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(v["detail"].as_str().unwrap().contains("sekret"), "{v}");

    let (status, updated) = app
        .call(
            Method::PUT,
            "/source/shop",
            Some(json!({"scheme":"hex","secrets":["n1","n2"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (updated["scheme"].as_str(), updated["secretCount"].as_u64()),
        (Some("hex"), Some(2))
    );
    assert_eq!(updated["id"], created["id"], "the id survives an update");
    assert_eq!(shop(Scheme::Shopify, "abc").await, 401, "old config gone");
    assert_eq!(shop(Scheme::Hex, "n2").await, 200);

    let list: Value = app.get_json("/source").await;
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["default", "shop"]);
    assert_eq!(list["done"], true);

    let status = |method, path: &'static str| {
        let app = &app;
        async move { app.call(method, path, None).await.0 }
    };
    assert_eq!(status(Method::DELETE, "/source/shop").await, 204);
    assert_eq!(status(Method::GET, "/source/shop").await, 404);
    assert_eq!(post(&app, "shop", HeaderMap::new(), body).await.0, 404);
    assert_eq!(status(Method::DELETE, "/source/default").await, 422);
    app.stop().await;
}

// Every test above runs twice: on SQLite and on PostgreSQL.
hookline_server::testkit::on_both_backends!(
    every_scheme_accepts_valid_and_rejects_each_tamper,
    provider_event_types_are_recorded,
    duplicates_answer_200_and_are_not_stored_twice,
    slack_url_verification_challenge,
    allow_lists_and_rate_limits,
    source_api_crud_and_auth,
);
