//! A source's event stream (Server-Sent Events) and source-scoped tokens,
//! over real HTTP: the stream resumes after a cursor, then goes live, and a
//! source's token opens nothing but that source's events.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use base64::Engine as _;
use hookline_server::testkit::TestApp;
use hookline_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Reads SSE `webhook` events from `resp` until `n` have come (bounded).
async fn read_events(resp: &mut reqwest::Response, n: usize, buf: &mut String) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if block.lines().any(|l| l.trim() == "event: webhook") {
                out.push(serde_json::from_str(&data).unwrap());
            }
        }
        if out.len() >= n {
            break;
        }
        match tokio::time::timeout(Duration::from_secs(10), resp.chunk()).await {
            Ok(Ok(Some(c))) => buf.push_str(&String::from_utf8_lossy(&c)),
            _ => break,
        }
    }
    out
}

async fn post(app: &TestApp, n: i64) {
    let r = app
        .client
        .post(app.url("/webhook/thing.happened"))
        .json(&json!({"n": n}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn the_stream_resumes_after_a_cursor_then_goes_live() {
    let app = TestApp::spawn(Config::default()).await;
    for n in 1..=3 {
        post(&app, n).await;
    }
    let listed = app.get_json("/source/default/event").await;
    let mut ids: Vec<String> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    ids.reverse();
    let mut resp = app
        .api(Method::GET, "/source/default/event/stream")
        .header("last-event-id", &ids[0])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut buf = String::new();
    let got = read_events(&mut resp, 2, &mut buf).await;
    let got_ids: Vec<&str> = got.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(
        got_ids,
        [ids[1].as_str(), ids[2].as_str()],
        "after the cursor, oldest first"
    );
    let body = base64::engine::general_purpose::STANDARD
        .decode(got[0]["bodyBase64"].as_str().unwrap())
        .unwrap();
    assert_eq!(body, br#"{"n":2}"#, "the exact bytes");
    assert_eq!(got[0]["method"], "POST");
    assert_eq!(got[0]["path"], "/webhook/thing.happened");
    post(&app, 4).await;
    let live = read_events(&mut resp, 1, &mut buf).await;
    assert_eq!(live.len(), 1, "a new event comes live");
    assert_eq!(live[0]["eventType"], "thing.happened");
    let (s, v) = app
        .call(Method::GET, "/source/default/event/stream?after=nope", None)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = app
        .call(Method::GET, "/source/none/event/stream", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn a_source_token_opens_only_that_sources_events() {
    let app = TestApp::spawn(Config::default()).await;
    for name in ["gh", "other"] {
        let (s, v) = app
            .call(
                Method::POST,
                "/source",
                Some(json!({"name": name, "scheme": "github", "secret": "s"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = app
        .call(
            Method::POST,
            "/source/gh/token",
            Some(json!({"expiry": 3600})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("hl_src_"));
    let with = |method: Method, path: &str| {
        app.client
            .request(method, app.url(&format!("/api/v1{path}")))
            .bearer_auth(&token)
            .send()
    };
    let r = with(Method::GET, "/source/gh/event").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for (method, path) in [
        (Method::GET, "/source/other/event"),
        (Method::GET, "/source/other/event/stream"),
        (Method::GET, "/source/gh"),
        (Method::GET, "/app"),
        (Method::GET, "/route"),
        (Method::POST, "/source/gh/token"),
        (Method::POST, "/source/gh/event/evt_x/replay"),
    ] {
        let r = with(method.clone(), path).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{method} {path}");
        let v: Value = r.json().await.unwrap();
        assert!(v["detail"].as_str().unwrap().contains("source `gh`"), "{v}");
    }
    let r = app
        .client
        .get(app.url("/api/v1/source/gh/event"))
        .bearer_auth("hl_src_not_a_token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

hookline_server::testkit::on_both_backends!(
    the_stream_resumes_after_a_cursor_then_goes_live,
    a_source_token_opens_only_that_sources_events
);
