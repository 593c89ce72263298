//! The Svix-compatible sending API end to end: apps, endpoints, messages
//! delivered by the engine to a local receiver, attempts and destinations.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hookline_server::testkit::{Receiver, Reply, TestApp};
use hookline_server::Config;
use hookline_signature::{Scheme, Secret, DEFAULT_TOLERANCE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use hookline_testkit::now_secs as now;

async fn publish_and_deliver_end_to_end() {
    let rx = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn(Config::default()).await;

    let (s, a) = app
        .call(
            Method::POST,
            "/app",
            Some(json!({"name": "Acme", "uid": "acme", "metadata": {"plan": "pro"}})),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    assert!(a["id"].as_str().unwrap().starts_with("app_"));
    assert_eq!(
        (a["uid"].as_str(), a["metadata"]["plan"].as_str()),
        (Some("acme"), Some("pro"))
    );
    for k in ["createdAt", "updatedAt"] {
        assert!(a[k].as_str().unwrap().ends_with('Z'), "{k} is RFC 3339");
    }

    let (s, e) = app
        .call(
            Method::POST,
            "/app/acme/endpoint",
            Some(json!({"url": rx.url("/hooks"), "description": "main"})),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let ep = e["id"].as_str().unwrap().to_string();
    assert!(ep.starts_with("ep_"));
    let (_, secret) = app
        .call(
            Method::GET,
            &format!("/app/acme/endpoint/{ep}/secret"),
            None,
        )
        .await;
    let secret = secret["key"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));

    let payload = json!({"z": 1, "a": {"nested": [1, 2, 3]}, "text": "caf\u{e9}"});
    let (s, m) = app
        .call(
            Method::POST,
            "/app/acme/msg",
            Some(json!({"eventType": "invoice.paid", "eventId": "evt-1", "payload": payload})),
        )
        .await;
    assert_eq!(s, 202, "{m}");
    let msg = m["id"].as_str().unwrap().to_string();
    assert!(msg.starts_with("msg_"));
    assert_eq!(m["payload"], payload);

    let got = rx.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let c = &got[0];
    assert_eq!(c.path, "/hooks");
    assert_eq!(
        &c.body[..],
        r#"{"z":1,"a":{"nested":[1,2,3]},"text":"café"}"#.as_bytes(),
        "compact, key order kept"
    );
    assert_eq!(c.headers["webhook-id"], msg.as_str());
    Scheme::Standard
        .verify(
            &c.headers,
            &c.body,
            &[Secret::new(&secret)],
            now(),
            DEFAULT_TOLERANCE,
        )
        .unwrap();

    let attempts = app
        .until(&format!("/app/acme/attempt/msg/{msg}"), |v| {
            v["data"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    let at = &attempts["data"][0];
    assert!(at["id"].as_str().unwrap().starts_with("atmpt_"));
    assert_eq!(
        (
            at["responseStatusCode"].as_u64(),
            at["status"].as_u64(),
            at["statusText"].as_str()
        ),
        (Some(200), Some(0), Some("success"))
    );
    assert_eq!(
        (at["msgId"].as_str(), at["endpointId"].as_str()),
        (Some(msg.as_str()), Some(ep.as_str()))
    );
    assert_eq!(at["triggerType"], 0);
    let by_ep = app
        .get_json(&format!("/app/acme/attempt/endpoint/{ep}"))
        .await;
    assert_eq!(by_ep["data"].as_array().unwrap().len(), 1);

    let dest = app.get_json(&format!("/app/acme/msg/{msg}/endpoint")).await;
    assert_eq!(
        (
            dest["data"][0]["id"].as_str(),
            dest["data"][0]["status"].as_u64()
        ),
        (Some(ep.as_str()), Some(0))
    );
    let one = app.get_json(&format!("/app/acme/msg/{msg}")).await;
    assert_eq!(
        (one["eventType"].as_str(), one["eventId"].as_str()),
        (Some("invoice.paid"), Some("evt-1"))
    );
    let list = app.get_json("/app/acme/msg").await;
    assert_eq!(
        (
            list["data"].as_array().unwrap().len(),
            list["done"].as_bool()
        ),
        (1, Some(true))
    );

    let (s, dup) = app
        .call(
            Method::POST,
            "/app/acme/msg",
            Some(json!({"eventType": "x", "eventId": "evt-1", "payload": {}})),
        )
        .await;
    assert_eq!(
        (s, dup["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    app.stop().await;
}

async fn retries_and_filters_show_in_attempts_and_destinations() {
    let flaky = Receiver::failing_once().await;
    let app = TestApp::spawn(Config::default()).await;
    let (_, a) = app
        .call(Method::POST, "/app", Some(json!({"name": "r"})))
        .await;
    let id = a["id"].as_str().unwrap();
    let (_, paid) = app
        .call(
            Method::POST,
            &format!("/app/{id}/endpoint"),
            Some(json!({"url": flaky.url("/paid"), "eventTypes": ["invoice.paid"]})),
        )
        .await;
    let (_, other) = app.call(
        Method::POST,
        &format!("/app/{id}/endpoint"),
        Some(
            json!({"url": flaky.url("/other"), "eventTypes": ["user.created"], "channels": ["eu"]}),
        ),
    )
    .await;
    assert_eq!(paid["eventTypes"], json!(["invoice.paid"]));
    assert_eq!(other["channels"], json!(["eu"]));

    let (_, m) = app
        .call(
            Method::POST,
            &format!("/app/{id}/msg"),
            Some(json!({"eventType": "invoice.paid", "payload": {"n": 1}})),
        )
        .await;
    let msg = m["id"].as_str().unwrap();
    let attempts = app
        .until(&format!("/app/{id}/attempt/msg/{msg}"), |v| {
            v["data"].as_array().is_some_and(|d| d.len() == 2)
        })
        .await;
    let codes: Vec<u64> = attempts["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["responseStatusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, vec![200, 500], "a 500, then the retry succeeds");
    let dest = app.get_json(&format!("/app/{id}/msg/{msg}/endpoint")).await;
    assert_eq!(
        dest["data"].as_array().unwrap().len(),
        1,
        "only the endpoint whose filter matches"
    );
    assert!(flaky.captured().iter().all(|c| c.path == "/paid"));
    app.stop().await;
}

async fn rotation_signs_with_both_secrets_during_the_grace_period() {
    let rx = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn(Config::default()).await;
    app.call(
        Method::POST,
        "/app",
        Some(json!({"name": "rot", "uid": "rot"})),
    )
    .await;
    let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (s, e) = app
        .call(
            Method::POST,
            "/app/rot/endpoint",
            Some(json!({"url": rx.url("/"), "secret": old, "uid": "main"})),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let (s, rotated) = app
        .call(
            Method::POST,
            "/app/rot/endpoint/main/secret/rotate",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        s, 200,
        "the answer carries the new secret, as Svix's clients expect"
    );
    let (_, new) = app
        .call(Method::GET, "/app/rot/endpoint/main/secret", None)
        .await;
    let new = new["key"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(rotated["key"], new.as_str());
    app.call(
        Method::POST,
        "/app/rot/msg",
        Some(json!({"eventType": "t", "payload": {}})),
    )
    .await;
    let got = rx.wait_for(1, Duration::from_secs(10)).await;
    for s in [old, new.as_str()] {
        Scheme::Standard
            .verify(
                &got[0].headers,
                &got[0].body,
                &[Secret::new(s)],
                now(),
                DEFAULT_TOLERANCE,
            )
            .unwrap();
    }
    app.stop().await;
}

async fn apps_endpoints_headers_crud() {
    let rx = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn(Config::default()).await;
    let (s, a) = app
        .call(
            Method::POST,
            "/app?get_if_exists=true",
            Some(json!({"name": "one", "uid": "u1"})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, again) = app
        .call(
            Method::POST,
            "/app?get_if_exists=true",
            Some(json!({"name": "one", "uid": "u1"})),
        )
        .await;
    assert_eq!((s, again["id"].clone()), (StatusCode::OK, a["id"].clone()));
    let (s, _) = app
        .call(
            Method::POST,
            "/app",
            Some(json!({"name": "dup", "uid": "u1"})),
        )
        .await;
    assert_eq!(s, 409);
    let (s, p) = app
        .call(Method::PATCH, "/app/u1", Some(json!({"name": "renamed"})))
        .await;
    assert_eq!(
        (s, p["name"].as_str(), p["uid"].as_str()),
        (StatusCode::OK, Some("renamed"), Some("u1"))
    );

    let (_, e) = app
        .call(
            Method::POST,
            "/app/u1/endpoint",
            Some(json!({"url": rx.url("/"), "uid": "ep1"})),
        )
        .await;
    let (s, _) = app
        .call(
            Method::PUT,
            "/app/u1/endpoint/ep1/headers",
            Some(json!({"headers": {"X-Tenant": "acme"}})),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .call(
            Method::PATCH,
            "/app/u1/endpoint/ep1/headers",
            Some(json!({"headers": {"webhook-id": "forged"}})),
        )
        .await;
    assert_eq!(s, 422, "our own headers cannot be overridden");
    let (_, h) = app
        .call(Method::GET, "/app/u1/endpoint/ep1/headers", None)
        .await;
    assert_eq!(h["headers"]["X-Tenant"], "acme");
    app.call(
        Method::POST,
        "/app/u1/msg",
        Some(json!({"eventType": "t", "payload": {}})),
    )
    .await;
    let got = rx.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].headers["x-tenant"], "acme");

    let (s, patched) = app
        .call(
            Method::PATCH,
            "/app/u1/endpoint/ep1",
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(
        (s, patched["disabled"].as_bool(), patched["url"].clone()),
        (StatusCode::OK, Some(true), e["url"].clone())
    );
    let (s, _) = app
        .call(
            Method::PUT,
            "/app/u1/endpoint/ep1",
            Some(json!({"description": "no url"})),
        )
        .await;
    assert_eq!(s, 422, "PUT replaces, so url is required");
    let list = app.get_json("/app/u1/endpoint").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.call(Method::DELETE, "/app/u1/endpoint/ep1", None)
            .await
            .0,
        204
    );
    assert_eq!(app.call(Method::DELETE, "/app/u1", None).await.0, 204);
    assert_eq!(app.call(Method::GET, "/app/u1", None).await.0, 404);
    assert_eq!(app.call(Method::GET, "/health", None).await.0, 204);
    app.stop().await;
}

async fn invalid_input_is_a_clear_422_or_404() {
    let app = TestApp::spawn(Config::default()).await;
    app.call(Method::POST, "/app", Some(json!({"name": "v", "uid": "v"})))
        .await;
    let cases = [
        (
            Method::POST,
            "/app",
            json!({"uid": "x"}),
            422,
            "name is required",
        ),
        (
            Method::POST,
            "/app",
            json!({"name": "x", "uid": "bad uid!"}),
            422,
            "uid",
        ),
        (
            Method::POST,
            "/app/v/endpoint",
            json!({"url": "ftp://x"}),
            422,
            "http",
        ),
        (
            Method::POST,
            "/app/v/endpoint",
            json!({"url": "http://x", "secret": "short"}),
            422,
            "whsec_",
        ),
        (
            Method::POST,
            "/app/v/endpoint",
            json!({"url": "http://x", "eventTypes": ["a b"]}),
            422,
            "eventTypes",
        ),
        (
            Method::POST,
            "/app/v/msg",
            json!({"eventType": "bad type", "payload": {}}),
            422,
            "eventType",
        ),
        (
            Method::POST,
            "/app/v/msg",
            json!({"eventType": "t", "payload": [1]}),
            422,
            "object",
        ),
        (
            Method::POST,
            "/app/v/msg",
            json!({"payload": {}}),
            422,
            "eventType",
        ),
        (
            Method::POST,
            "/app/nope/msg",
            json!({"eventType": "t", "payload": {}}),
            404,
            "no application",
        ),
        (
            Method::GET,
            "/app/v/msg/msg_missing",
            json!(null),
            404,
            "no message",
        ),
        (
            Method::GET,
            "/app/v/endpoint/ep_missing",
            json!(null),
            404,
            "no endpoint",
        ),
    ];
    for (method, path, body, status, detail) in cases {
        let (s, v) = app
            .call(method.clone(), path, (!body.is_null()).then_some(body))
            .await;
        assert_eq!(s.as_u16(), status, "{method} {path}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains(detail),
            "{method} {path}: {v}"
        );
        assert!(v["code"].is_string());
    }
    app.stop().await;
}

async fn failed_deliveries_can_be_resent_and_recovered() {
    // Fails three times (the test schedule: 1 try + 2 retries), then succeeds.
    let failing = |n| {
        let mut v = vec![Reply::status(500); n];
        v.push(Reply::default());
        v
    };
    let rx = Receiver::start_sequence(failing(3)).await;
    let rx2 = Receiver::start_sequence(failing(3)).await;
    let app = TestApp::spawn(Config::default()).await;
    app.call(
        Method::POST,
        "/app",
        Some(json!({"name": "dl", "uid": "dl"})),
    )
    .await;
    let (_, e1) = app
        .call(
            Method::POST,
            "/app/dl/endpoint",
            Some(json!({"url": rx.url("/one"), "uid": "one"})),
        )
        .await;
    let (_, e2) = app
        .call(
            Method::POST,
            "/app/dl/endpoint",
            Some(json!({"url": rx2.url("/two"), "uid": "two", "eventTypes": ["other"]})),
        )
        .await;
    let (e1, e2) = (
        e1["id"].as_str().unwrap().to_string(),
        e2["id"].as_str().unwrap().to_string(),
    );
    let (_, m) = app
        .call(
            Method::POST,
            "/app/dl/msg",
            Some(json!({"eventType": "t", "payload": {"k": 1}})),
        )
        .await;
    let msg = m["id"].as_str().unwrap().to_string();
    let status = |v: &Value| v["data"][0]["status"].as_u64();
    let dead = app
        .until(&format!("/app/dl/msg/{msg}/endpoint"), |v| {
            status(v) == Some(2)
        })
        .await;
    assert_eq!(
        (status(&dead), dead["data"][0]["statusText"].as_str()),
        (Some(2), Some("fail")),
        "dead letter"
    );

    let (s, _) = app
        .call(
            Method::POST,
            &format!("/app/dl/msg/{msg}/endpoint/{e1}/resend"),
            None,
        )
        .await;
    assert_eq!(s, 202);
    let ok = app
        .until(&format!("/app/dl/msg/{msg}/endpoint"), |v| {
            status(v) == Some(0)
        })
        .await;
    assert_eq!(status(&ok), Some(0), "the resend succeeded");
    assert_eq!(rx.captured().len(), 4);

    // Resend to an endpoint that was not a destination: it becomes one.
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/app/dl/msg/{msg}/endpoint/{e2}/resend"),
            None,
        )
        .await;
    assert_eq!(s, 202);
    let got = rx2.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].headers["webhook-id"], msg.as_str());

    // rx2 keeps failing: it ends failed, then recover (since an hour ago) brings it back.
    app.until(&format!("/app/dl/msg/{msg}/endpoint"), |v| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == e2.as_str() && d["status"] == 2)
    })
    .await;
    let since = "2000-01-01T00:00:00Z";
    let (s, task) = app
        .call(
            Method::POST,
            &format!("/app/dl/endpoint/{e2}/recover"),
            Some(json!({"since": since})),
        )
        .await;
    assert_eq!(
        (s, task["task"].as_str()),
        (StatusCode::ACCEPTED, Some("endpoint.recover"))
    );
    let done = app
        .until(&format!("/app/dl/msg/{msg}/endpoint"), |v| {
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["status"] == 0)
        })
        .await;
    assert!(
        done["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == 0),
        "{done}"
    );
    assert_eq!(rx2.captured().len(), 4);

    let (s, _) = app
        .call(
            Method::POST,
            &format!("/app/dl/msg/msg_nothere/endpoint/{e1}/resend"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/app/dl/endpoint/{e1}/recover"),
            Some(json!({"since": "yesterday"})),
        )
        .await;
    assert_eq!(s, 422);
    app.stop().await;
}

async fn app_scoped_tokens_see_only_their_app() {
    let app = TestApp::spawn(Config::default()).await;
    app.call(Method::POST, "/app", Some(json!({"name": "A", "uid": "a"})))
        .await;
    let (_, b) = app
        .call(Method::POST, "/app", Some(json!({"name": "B", "uid": "b"})))
        .await;
    let (s, access) = app
        .call(
            Method::POST,
            "/auth/app-portal-access/a",
            Some(json!({"expiry": 3600})),
        )
        .await;
    assert_eq!(s, 200, "{access}");
    let token = access["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("hl_app_"));

    let as_app = |method: Method, path: &str| {
        app.client
            .request(method, app.url(&format!("/api/v1{path}")))
            .bearer_auth(&token)
    };
    let a_id = app.get_json("/app/a").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        "/app/a",
        "/app/a/msg",
        "/app/a/endpoint",
        &format!("/app/{a_id}/msg"),
    ] {
        assert_eq!(
            as_app(Method::GET, path).send().await.unwrap().status(),
            200,
            "{path}"
        );
    }
    let r = as_app(Method::POST, "/app/a/msg")
        .json(&json!({"eventType": "t", "payload": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "it can publish to its own app");
    let b_id = b["id"].as_str().unwrap();
    for path in [
        "/app/b",
        "/app/b/msg",
        &format!("/app/{b_id}/endpoint"),
        "/app",
        "/source",
        "/health",
    ] {
        let r = as_app(Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], "forbidden");
    }
    let r = as_app(Method::POST, "/auth/app-portal-access/b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "an app token cannot mint tokens");

    let (_, short) = app
        .call(
            Method::POST,
            "/auth/app-portal-access/a",
            Some(json!({"expiry": 1})),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = app
        .client
        .get(app.url("/api/v1/app/a"))
        .bearer_auth(short["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "expired tokens are refused");
    app.stop().await;
}

async fn idempotency_keys_replay_the_first_answer() {
    let rx = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn(Config::default()).await;
    app.call(Method::POST, "/app", Some(json!({"name": "i", "uid": "i"})))
        .await;
    app.call(
        Method::POST,
        "/app/i/endpoint",
        Some(json!({"url": rx.url("/")})),
    )
    .await;
    let publish = |key: &'static str, n: u64| {
        app.api(Method::POST, "/app/i/msg")
            .header("idempotency-key", key)
            .json(&json!({"eventType": "t", "payload": {"n": n}}))
            .send()
    };
    let first = publish("key-1", 1).await.unwrap();
    assert_eq!(first.status(), 202);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    // A retry (even with another body) gets the first answer, and nothing is published twice.
    let again = publish("key-1", 2).await.unwrap();
    assert_eq!(
        (
            again.status().as_u16(),
            again.headers()["idempotent-replayed"].to_str().unwrap()
        ),
        (202, "true")
    );
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    let other = publish("key-2", 3).await.unwrap();
    assert_eq!(other.status(), 202);
    let list = app.get_json("/app/i/msg").await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        2,
        "key-1 published once"
    );
    let got = rx.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);

    // Failures are not kept: the key can be used again once the request is fixed.
    let bad = app
        .api(Method::POST, "/app/i/msg")
        .header("idempotency-key", "key-3")
        .json(&json!({"payload": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let fixed = app
        .api(Method::POST, "/app/i/msg")
        .header("idempotency-key", "key-3")
        .json(&json!({"eventType": "t", "payload": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(fixed.status(), 202);
    app.stop().await;
}

async fn payloads_are_validated_against_their_event_type_schema() {
    let app = TestApp::spawn(Config::default()).await;
    let schema = json!({
        "type": "object",
        "required": ["id", "amount"],
        "properties": {"id": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}}
    });
    let (s, t) = app
        .call(
            Method::POST,
            "/event-type",
            Some(json!({"name": "invoice.paid", "description": "paid", "schemas": {"1": schema}})),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["schemas"]["1"]["required"], json!(["id", "amount"]));
    let (s, _) = app
        .call(
            Method::POST,
            "/event-type",
            Some(json!({"name": "invoice.paid"})),
        )
        .await;
    assert_eq!(s, 409);
    let (s, bad) = app
        .call(
            Method::POST,
            "/event-type",
            Some(json!({"name": "broken", "schemas": {"1": {"type": 12}}})),
        )
        .await;
    assert_eq!(s, 422, "a schema that does not compile is refused: {bad}");

    app.call(Method::POST, "/app", Some(json!({"name": "s", "uid": "s"})))
        .await;
    let ok = json!({"eventType": "invoice.paid", "payload": {"id": "in_1", "amount": 42}});
    assert_eq!(app.call(Method::POST, "/app/s/msg", Some(ok)).await.0, 202);
    let (s, v) = app
        .call(
            Method::POST,
            "/app/s/msg",
            Some(json!({"eventType": "invoice.paid", "payload": {"id": 7, "amount": -1}})),
        )
        .await;
    assert_eq!(s, 422);
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("/id") && detail.contains("/amount"),
        "says where: {detail}"
    );
    let (s, _) = app
        .call(
            Method::POST,
            "/app/s/msg",
            Some(json!({"eventType": "invoice.paid", "payload": {"id": "x"}})),
        )
        .await;
    assert_eq!(s, 422, "a required field is missing");
    let (s, _) = app
        .call(
            Method::POST,
            "/app/s/msg",
            Some(json!({"eventType": "no.schema", "payload": {"any": 1}})),
        )
        .await;
    assert_eq!(s, 202, "types without a schema take any object");

    // A newer schema version wins.
    let (s, _) = app.call(
        Method::PATCH,
        "/event-type/invoice.paid",
        Some(json!({"schemas": {"1": schema, "2": {"type": "object", "required": ["currency"]}}})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .call(
            Method::POST,
            "/app/s/msg",
            Some(json!({"eventType": "invoice.paid", "payload": {"id": "in_1", "amount": 1}})),
        )
        .await;
    assert_eq!(s, 422, "version 2 requires currency");

    assert_eq!(
        app.call(Method::DELETE, "/event-type/invoice.paid", None)
            .await
            .0,
        204
    );
    assert_eq!(
        app.get_json("/event-type/invoice.paid").await["archived"],
        true,
        "delete archives"
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            "/event-type/invoice.paid?expunge=true",
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        app.call(Method::GET, "/event-type/invoice.paid", None)
            .await
            .0,
        404
    );
    app.stop().await;
}

async fn delivery_metrics_count_outcomes_and_the_queue() {
    let rx = Receiver::failing_once().await;
    let app = TestApp::spawn(Config::default()).await;
    app.call(Method::POST, "/app", Some(json!({"name": "m", "uid": "m"})))
        .await;
    app.call(
        Method::POST,
        "/app/m/endpoint",
        Some(json!({"url": rx.url("/")})),
    )
    .await;
    let (_, m) = app
        .call(
            Method::POST,
            "/app/m/msg",
            Some(json!({"eventType": "t", "payload": {}})),
        )
        .await;
    let msg = m["id"].as_str().unwrap();
    app.until(&format!("/app/m/msg/{msg}/endpoint"), |v| {
        v["data"][0]["status"] == 0
    })
    .await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"hookline_delivery_attempts_total{outcome="retry"} 1"#,
        r#"hookline_delivery_attempts_total{outcome="delivered"} 1"#,
        r#"hookline_delivery_queue{state="due"} 0"#,
        r#"hookline_delivery_queue{state="failed"} 0"#,
        "hookline_delivery_attempt_duration_seconds_count 2",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    app.stop().await;
}

async fn endpoint_changes_are_reported_as_operational_webhooks() {
    let ops = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn_with_operational(Config::default(), &ops.url("/ops")).await;
    app.call(Method::POST, "/app", Some(json!({"name": "o", "uid": "o"})))
        .await;
    let (_, e) = app
        .call(
            Method::POST,
            "/app/o/endpoint",
            Some(json!({"url": "https://example.com/h", "uid": "main"})),
        )
        .await;
    app.call(
        Method::PATCH,
        "/app/o/endpoint/main",
        Some(json!({"description": "x"})),
    )
    .await;
    app.call(Method::DELETE, "/app/o/endpoint/main", None).await;
    let got = ops.wait_for(3, Duration::from_secs(10)).await;
    let mut types: Vec<String> = got
        .iter()
        .map(|c| {
            Scheme::Standard
                .verify(
                    &c.headers,
                    &c.body,
                    &[Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
                    now(),
                    DEFAULT_TOLERANCE,
                )
                .unwrap();
            let v: Value = serde_json::from_slice(&c.body).unwrap();
            assert_eq!(v["data"]["endpointId"], e["id"]);
            v["type"].as_str().unwrap().to_string()
        })
        .collect();
    types.sort();
    assert_eq!(
        types,
        vec!["endpoint.created", "endpoint.deleted", "endpoint.updated"]
    );
    app.stop().await;
}

// Every test above runs twice: on SQLite and on PostgreSQL.
hookline_server::testkit::on_both_backends!(
    publish_and_deliver_end_to_end,
    retries_and_filters_show_in_attempts_and_destinations,
    rotation_signs_with_both_secrets_during_the_grace_period,
    apps_endpoints_headers_crud,
    invalid_input_is_a_clear_422_or_404,
    failed_deliveries_can_be_resent_and_recovered,
    app_scoped_tokens_see_only_their_app,
    idempotency_keys_replay_the_first_answer,
    payloads_are_validated_against_their_event_type_schema,
    delivery_metrics_count_outcomes_and_the_queue,
    endpoint_changes_are_reported_as_operational_webhooks,
);
