//! Routes: what a source receives goes on to the user's app through the
//! delivery engine, byte-exact, with retries, ordering, pause and filters.
//! Real HTTP on loopback, both backends.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use hookline_server::testkit::{Receiver, Reply, TestApp};
use hookline_server::Config;
use hookline_signature::Scheme;
use hookline_testkit::{now_secs, signed};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SECRET: &str = "It's a Secret to Everybody";
const WAIT: Duration = Duration::from_secs(15);

/// A `github` source named `gh`, and a route `to-app` from it (plus `extra`).
async fn setup(app: &TestApp, url: &str, extra: Value) -> Value {
    let (s, v) = app
        .call(
            Method::POST,
            "/source",
            Some(json!({"name": "gh", "scheme": "github", "secret": SECRET})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let mut route = json!({"name": "to-app", "source": "gh", "url": url});
    for (k, v) in extra.as_object().unwrap() {
        route[k] = v.clone();
    }
    let (s, v) = app.call(Method::POST, "/route", Some(route)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

/// Posts a GitHub-signed body to `/in/gh`; the event id it was stored as.
async fn post(app: &TestApp, body: &[u8], extra: &[(&str, &str)]) -> String {
    let mut headers = signed(Scheme::Github, SECRET, body, "d", now_secs());
    // A fresh delivery id each time: GitHub's are de-duplicated by it.
    let delivery = hookline_core::EventId::new().to_string();
    headers.insert("x-github-delivery", delivery.parse().unwrap());
    headers.insert("x-github-event", "push".parse().unwrap());
    let mut r = reqwest::Client::new()
        .post(app.url("/in/gh"))
        .headers(headers)
        .header("content-type", "application/json");
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    let resp = r.body(body.to_vec()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

async fn forwards_byte_exact_with_the_original_headers() {
    let rx = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn(Config::default()).await;
    let route = setup(
        &app,
        &rx.url("/webhooks"),
        json!({"headers": {"x-env": "dev"}}),
    )
    .await;
    assert_eq!(route["sign"], "none");
    let body = b"{ \"action\" : \"opened\",\n  \"n\": 1.50 }";
    let id = post(&app, body, &[("x-dup", "1"), ("x-dup", "2")]).await;
    let got = rx.wait_for(1, WAIT).await;
    let c = &got[0];
    assert_eq!((c.method.as_str(), c.path.as_str()), ("POST", "/webhooks"));
    assert_eq!(&c.body[..], body, "the body bytes as received");
    let h = &c.headers;
    let sent = signed(Scheme::Github, SECRET, body, "d", now_secs());
    assert_eq!(
        h["x-hub-signature-256"], sent["x-hub-signature-256"],
        "the provider's own signature, so the app verifies it"
    );
    let dups: Vec<_> = h.get_all("x-dup").iter().collect();
    assert_eq!(dups, ["1", "2"], "repeats kept, in order");
    assert_eq!(h["x-hookline-event-id"], id.as_str());
    assert_eq!(h["x-hookline-source"], "gh");
    assert_eq!(h["x-hookline-route"], "to-app");
    assert_eq!(h["x-env"], "dev");
    assert_eq!(h["content-length"], body.len().to_string().as_str());
    let v = app
        .until(&format!("/source/gh/event/{id}/forward"), |v| {
            v["data"][0]["status"] == "success"
        })
        .await;
    let f = &v["data"][0];
    assert_eq!(
        (f["route"].as_str(), f["attempts"].as_u64()),
        (Some("to-app"), Some(1))
    );
    assert_eq!(f["lastTry"]["statusCode"], 200);
    app.stop().await;
}

async fn a_failing_app_gets_the_event_after_retries_and_resend_sends_it_again() {
    let rx = Receiver::start_sequence(vec![
        Reply::status(500),
        Reply::status(503),
        Reply::default(),
    ])
    .await;
    let app = TestApp::spawn(Config::default()).await;
    setup(&app, &rx.url("/hook"), json!({"retrySchedule": [1, 1, 1]})).await;
    let id = post(&app, b"{\"n\":1}", &[]).await;
    let got = rx.wait_for(3, WAIT).await;
    let ids: Vec<_> = got
        .iter()
        .map(|c| c.headers["x-hookline-event-id"].clone())
        .collect();
    assert!(
        ids.iter().all(|i| i == id.as_str()),
        "the same event id on every retry"
    );
    let path = format!("/source/gh/event/{id}/forward");
    let v = app
        .until(&path, |v| v["data"][0]["status"] == "success")
        .await;
    assert_eq!(v["data"][0]["attempts"], 3, "{v}");
    let (s, v) = app
        .call(Method::POST, &format!("{path}/to-app/resend"), None)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    rx.wait_for(4, WAIT).await;
    let (s, _) = app
        .call(
            Method::POST,
            "/source/gh/event/evt_nope/forward/to-app/resend",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn an_ordered_route_keeps_arrival_order_through_failures() {
    let mut replies = vec![Reply::status(500)];
    replies.extend(std::iter::repeat_n(Reply::default(), 8));
    let rx = Receiver::start_sequence(replies).await;
    let app = TestApp::spawn(Config::default()).await;
    setup(
        &app,
        &rx.url("/hook"),
        json!({"ordered": true, "retrySchedule": [1]}),
    )
    .await;
    for n in 0..5 {
        post(&app, format!("{{\"n\":{n}}}").as_bytes(), &[]).await;
    }
    let got = rx.wait_for(6, WAIT).await;
    let order: Vec<i64> = got
        .iter()
        .map(|c| {
            serde_json::from_slice::<Value>(&c.body).unwrap()["n"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        order,
        [0, 0, 1, 2, 3, 4],
        "the head is retried before anything after it"
    );
    assert_eq!(rx.most_at_once(), 1, "one at a time");
    app.stop().await;
}

async fn a_paused_route_sends_nothing_until_resumed_then_drains_at_its_rate() {
    let rx = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn(Config::default()).await;
    setup(
        &app,
        &rx.url("/hook"),
        json!({"paused": true, "rateLimit": 4}),
    )
    .await;
    for n in 0..10 {
        post(&app, format!("{{\"n\":{n}}}").as_bytes(), &[]).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(rx.captured().is_empty(), "held while paused");
    let (s, v) = app.call(Method::POST, "/route/to-app/resume", None).await;
    assert_eq!((s, &v["paused"]), (StatusCode::OK, &json!(false)));
    let resumed = Instant::now();
    rx.wait_for(10, WAIT).await;
    // A burst of one second's worth (4), then 4 a second: 10 take over 1 s.
    assert!(
        resumed.elapsed() >= Duration::from_millis(1200),
        "drained at its rate, not all at once: {:?}",
        resumed.elapsed()
    );
    let (s, v) = app.call(Method::POST, "/route/to-app/pause", None).await;
    assert_eq!((s, &v["paused"]), (StatusCode::OK, &json!(true)));
    app.stop().await;
}

async fn filters_choose_what_goes_and_a_bad_one_is_refused() {
    let rx = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn(Config::default()).await;
    let filter = json!({"body": {"action": {"$in": ["opened", "closed"]}}, "headers": {"x-github-event": "push"}});
    let route = setup(&app, &rx.url("/hook"), json!({"filter": filter})).await;
    assert_eq!(route["filter"], filter, "returned as written");
    let bad = json!({"name": "bad", "source": "gh", "url": rx.url("/x"), "filter": {"body": {"n": {"$gtt": 1}}}});
    let (s, v) = app.call(Method::POST, "/route", Some(bad)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_filter"))
    );
    assert!(v["detail"].as_str().unwrap().contains("$gtt"), "{v}");
    post(&app, b"{\"action\":\"edited\"}", &[]).await;
    let wanted = post(&app, b"{\"action\":\"closed\"}", &[]).await;
    rx.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = rx.captured();
    assert_eq!(got.len(), 1, "only the matching event");
    assert_eq!(got[0].headers["x-hookline-event-id"], wanted.as_str());
    app.stop().await;
}

async fn a_410_pauses_the_route_and_standard_signing_verifies() {
    let rx = Receiver::start_sequence(vec![Reply::default(), Reply::status(410)]).await;
    let app = TestApp::spawn(Config::default()).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let route = setup(
        &app,
        &rx.url("/hook"),
        json!({"sign": "standard", "secret": secret}),
    )
    .await;
    assert_eq!(route["sign"], "standard");
    assert!(route.get("secret").is_none(), "the secret never comes back");
    let id = post(&app, b"{\"n\":1}", &[]).await;
    let c = rx.wait_for(1, WAIT).await.remove(0);
    assert_eq!(c.headers["webhook-id"], id.as_str());
    assert_eq!(c.headers["x-hookline-event-id"], id.as_str());
    let secrets = [hookline_signature::Secret::new(secret)];
    let verified = Scheme::Standard.verify(
        &c.headers,
        &c.body,
        &secrets,
        now_secs(),
        Duration::from_secs(300),
    );
    assert!(verified.is_ok(), "{verified:?}");
    post(&app, b"{\"n\":2}", &[]).await;
    rx.wait_for(2, WAIT).await;
    let v = app.until("/route/to-app", |v| v["paused"] == true).await;
    assert_eq!(v["paused"], true, "410 Gone pauses the route: {v}");
    post(&app, b"{\"n\":3}", &[]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.captured().len(), 2, "nothing while paused");
    app.stop().await;
}

async fn an_api_route_to_a_private_address_needs_allowed_subnets() {
    let config = Config {
        allowed_subnets: vec!["10.99.0.0/16".parse().unwrap()],
        ..Config::default()
    };
    let app = TestApp::spawn(config).await;
    let (s, v) = app
        .call(
            Method::POST,
            "/source",
            Some(json!({"name": "gh", "scheme": "github", "secret": SECRET})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let new_route = |body| app.call(Method::POST, "/route", Some(body));
    let (s, v) =
        new_route(json!({"name": "r", "source": "gh", "url": "http://127.0.0.1:9/hook"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("allowed_subnets") && detail.contains("hookline.toml"),
        "{detail}"
    );
    let (s, v) =
        new_route(json!({"name": "r", "source": "nope", "url": "http://10.99.0.1/"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("no source named `nope`"),
        "{v}"
    );
    let (s, _) = new_route(json!({"name": "r", "source": "gh", "url": "http://10.99.0.1/"})).await;
    assert_eq!(s, StatusCode::CREATED, "a listed network may be reached");
    let (s, _) = new_route(json!({"name": "r", "source": "gh", "url": "http://10.99.0.2/"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "names are unique");
    let (s, _) = app.call(Method::DELETE, "/route/r", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app.call(Method::GET, "/route/r", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.stop().await;
}

hookline_server::testkit::on_both_backends!(
    forwards_byte_exact_with_the_original_headers,
    a_failing_app_gets_the_event_after_retries_and_resend_sends_it_again,
    an_ordered_route_keeps_arrival_order_through_failures,
    a_paused_route_sends_nothing_until_resumed_then_drains_at_its_rate,
    filters_choose_what_goes_and_a_bad_one_is_refused,
    a_410_pauses_the_route_and_standard_signing_verifies,
    an_api_route_to_a_private_address_needs_allowed_subnets
);
