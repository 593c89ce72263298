//! The JSON filter on outbound endpoints (a hookline extension of Svix's
//! API): validated when saved, applied when a message fans out.

#![allow(clippy::unwrap_used)]

use hookline_server::testkit::{Receiver, Reply, TestApp};
use hookline_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn only_matching_messages_reach_a_filtered_endpoint() {
    let rx = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn(Config::default()).await;
    let (s, _) = app
        .call(Method::POST, "/app", Some(json!({"name": "A", "uid": "a"})))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = app
        .call(
            Method::POST,
            "/app/a/endpoint",
            Some(json!({"url": rx.url("/eu"), "filter": {"body": {"region": {"$gtt": "eu"}}}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "invalid_filter");
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("$gtt") && detail.contains("/body/region/$gtt"),
        "{detail}"
    );

    let filter = json!({"body": {"region": {"$in": ["eu", "uk"]}, "amount": {"$gte": 100}}});
    let (s, ep) = app
        .call(
            Method::POST,
            "/app/a/endpoint",
            Some(json!({"url": rx.url("/eu"), "uid": "eu", "filter": filter})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ep}");
    assert_eq!(ep["filter"], filter, "returned as written");
    for (region, amount) in [("eu", 150), ("us", 150), ("uk", 50), ("uk", 100)] {
        let (s, _) = app
            .call(Method::POST, "/app/a/msg", Some(json!({"eventType": "order.paid", "payload": {"region": region, "amount": amount}})))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
    }
    let got = rx.wait_for(2, std::time::Duration::from_secs(10)).await;
    let bodies: Vec<serde_json::Value> = got
        .iter()
        .map(|c| serde_json::from_slice(&c.body).unwrap())
        .collect();
    let mut seen: Vec<(String, i64)> = bodies
        .iter()
        .map(|b| {
            (
                b["region"].as_str().unwrap().to_string(),
                b["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen, vec![("eu".to_string(), 150), ("uk".to_string(), 100)]);

    // `{}` clears it; the next message of any shape is delivered.
    let (s, ep) = app
        .call(
            Method::PATCH,
            "/app/a/endpoint/eu",
            Some(json!({"filter": {}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{ep}");
    assert!(ep.get("filter").is_none(), "{ep}");
    let (s, _) = app
        .call(
            Method::POST,
            "/app/a/msg",
            Some(json!({"eventType": "order.paid", "payload": {"region": "us"}})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    rx.wait_for(3, std::time::Duration::from_secs(10)).await;
    app.stop().await;
}

hookline_server::testkit::on_both_backends!(only_matching_messages_reach_a_filtered_endpoint);
