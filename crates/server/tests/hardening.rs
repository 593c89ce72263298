//! Inputs that once could kill or mislead the server, each answered plainly
//! now, over real HTTP against a real database.

#![allow(clippy::unwrap_used)]

use hookline_core::EventType;
use hookline_server::testkit::TestApp;
use hookline_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const RECURSIVE: [&str; 3] = [
    r##"{"type":"object","allOf":[{"$ref":"#"}]}"##,
    r##"{"allOf":[{"$ref":"#"}]}"##,
    r##"{"$defs":{"a":{"allOf":[{"$ref":"#/$defs/b"}]},"b":{"allOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}"##,
];

/// A schema that recurses without consuming input is refused when saved,
/// saying where; one that reached the store anyway fails its publishes with a
/// 422, and the process lives on.
async fn recursive_schemas_are_refused_and_cannot_crash_a_publish() {
    let app = TestApp::spawn(Config::default()).await;
    let (s, _) = app
        .call(Method::POST, "/app", Some(json!({"name": "A", "uid": "a"})))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    for (i, schema) in RECURSIVE.iter().enumerate() {
        let schema: Value = serde_json::from_str(schema).unwrap();
        let name = format!("loop.{i}");
        let (s, v) = app
            .call(
                Method::POST,
                "/event-type",
                Some(json!({"name": name, "description": "", "schemas": {"1": schema}})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("recurses without consuming input"),
            "{v}"
        );

        // Written straight into the store, as a schema saved before the check.
        let mut schemas = serde_json::Map::new();
        schemas.insert("1".into(), schema);
        let now = hookline_core::clock::now_ms();
        let t = EventType {
            name: name.clone(),
            description: String::new(),
            schemas: Some(schemas),
            archived: false,
            created_at: now,
            updated_at: now,
        };
        app.db().open().await.create_event_type(&t).await.unwrap();
        let (s, v) = app
            .call(
                Method::POST,
                "/app/a/msg",
                Some(json!({"eventType": name, "payload": {"x": 1}})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(
            v["detail"].as_str().unwrap().contains("fix the event type"),
            "{v}"
        );
        let health = app.client.get(app.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK, "the server lives on");
    }
    // Recursion through the instance is ordinary and still works.
    let tree = json!({"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#"}}}});
    let (s, v) = app
        .call(
            Method::POST,
            "/event-type",
            Some(json!({"name": "tree", "description": "", "schemas": {"1": tree}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app
        .call(
            Method::POST,
            "/app/a/msg",
            Some(json!({"eventType": "tree", "payload": {"kids": [{"kids": []}]}})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    app.stop().await;
}

/// Replay goes through the one outbound guard: hookline's own listening
/// address is allowed, any other loopback address (in any spelling) is not.
async fn replay_reaches_hookline_itself_and_refuses_other_loopback_addresses() {
    let app = TestApp::spawn(Config {
        allowed_subnets: vec!["192.0.2.0/24".parse().unwrap()],
        ..Config::default()
    })
    .await;
    let r = app
        .client
        .post(app.url("/webhook/first"))
        .json(&json!({"n": 1}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let id = app.get_json("/source/default/event").await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let replay = |url: String| {
        let path = format!("/source/default/event/{id}/replay");
        let app = &app;
        async move {
            app.call(Method::POST, &path, Some(json!({ "url": url })))
                .await
        }
    };
    let (s, v) = replay(app.url("/webhook/again")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], 200, "{v}");
    let other = hookline_server::testkit::Receiver::start(Default::default()).await;
    let port = other.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://0x7f000001:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
    ] {
        let (s, v) = replay(url.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains("allowed_subnets"),
            "{url}: {v}"
        );
    }
    assert!(other.captured().is_empty());
    app.stop().await;
}

/// Names have stated limits, and an over-long one is refused without being
/// echoed whole; another application's message is not found.
async fn names_are_bounded_and_messages_stay_in_their_application() {
    let app = TestApp::spawn(Config::default()).await;
    let long = "e".repeat(8 * 1024);
    for (path, body) in [
        ("/event-type", json!({"name": long, "description": ""})),
        ("/app", json!({"name": "x".repeat(257)})),
        ("/app", json!({"name": "ok", "uid": "u".repeat(257)})),
        ("/source", json!({"name": "s".repeat(65)})),
    ] {
        let (s, v) = app.call(Method::POST, path, Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {v}");
        assert!(
            v.to_string().len() < 600,
            "{path}: the answer is short: {v}"
        );
    }
    for uid in ["a", "b"] {
        let (s, v) = app
            .call(Method::POST, "/app", Some(json!({"name": uid, "uid": uid})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = app
        .call(
            Method::POST,
            "/app/b/msg",
            Some(json!({"eventType": "t", "payload": {}})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let msg = v["id"].as_str().unwrap();
    for path in [
        format!("/app/a/msg/{msg}/endpoint"),
        format!("/app/a/attempt/msg/{msg}"),
        format!("/app/a/msg/{msg}"),
    ] {
        let (s, v) = app.call(Method::GET, &path, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {v}");
    }
    let (s, _) = app
        .call(Method::GET, &format!("/app/b/msg/{msg}/endpoint"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    app.stop().await;
}

/// What hyper refuses before any handler runs is JSON too.
async fn unparseable_requests_get_json_errors() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn(Config::default()).await;
    let many: String = (0..200).map(|i| format!("X-H{i}: 1\r\n")).collect();
    for (sent, status) in [
        (b"GARBAGE\r\n\r\n".to_vec(), "400"),
        (
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000)).into_bytes(),
            "414",
        ),
        (
            format!(
                "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                "a".repeat(500_000)
            )
            .into_bytes(),
            "431",
        ),
        (
            format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n").into_bytes(),
            "431",
        ),
    ] {
        let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let _ = s.write_all(&sent).await;
        let mut got = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut got)).await;
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
        assert!(text.contains("content-type: application/json"), "{text}");
        let body: Value = serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert!(
            body["error"].as_str().is_some() && body["code"].as_str().is_some(),
            "{body}"
        );
    }
    app.stop().await;
}

hookline_server::testkit::on_both_backends!(
    recursive_schemas_are_refused_and_cannot_crash_a_publish,
    unparseable_requests_get_json_errors,
    names_are_bounded_and_messages_stay_in_their_application,
    replay_reaches_hookline_itself_and_refuses_other_loopback_addresses
);
