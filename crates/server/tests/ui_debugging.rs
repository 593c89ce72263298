//! The inbox as a debugging tool, in a real headless Chromium: everything
//! made from the UI (a source with its secret shown once, an application
//! with a filtered endpoint, an event type, each refused with the API's own
//! words when wrong), a signed webhook appearing in the split view without a
//! reload, arrow keys moving the selection, a live search, copy as curl (the
//! command run: it sends the same bytes again), replay. And a cluster of two
//! on PostgreSQL: what node B receives appears in node A's live inbox and on
//! its dashboard.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;

use std::time::{Duration, Instant};

use browser::*;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use hookline_server::testkit::{on_both_backends, Backend, Receiver, Reply, TestApp};
use hookline_server::Config;
use hookline_signature::Scheme;
use hookline_testkit::{now_secs, signed};
use reqwest::Method;
use serde_json::json;

on_both_backends!(debugging_a_webhook_from_the_ui);

/// Posts `body` to `app`'s source `source`, signed with `secret` (hmac-sha256).
async fn post(app: &TestApp, source: &str, secret: &str, body: &str, id: &str) {
    let headers = signed(Scheme::HmacSha256, secret, body.as_bytes(), id, now_secs());
    let r = app
        .client
        .post(app.url(&format!("/in/{source}")))
        .headers(headers)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

/// The ids of the inbox rows, top first.
async fn rows(c: &Client) -> Vec<String> {
    let js =
        "return [...document.querySelectorAll('#events tbody tr[data-id]')].map(r => r.dataset.id)";
    serde_json::from_value(c.execute(js, vec![]).await.unwrap()).unwrap()
}

/// Waits (bounded) until the inbox shows `n` rows, without reloading.
async fn until_rows(c: &Client, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = rows(c).await;
        if r.len() >= n {
            return r;
        }
        assert!(Instant::now() < deadline, "{} rows, not {n}", r.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (bounded) until the panel beside the list shows event `id`.
async fn until_selected(c: &Client, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let shown = c
            .execute(
                "const e = document.querySelector('#detail #event'); return e ? e.dataset.id : null",
                vec![],
            )
            .await
            .unwrap();
        if shown == json!(id) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the panel shows {shown}, not {id}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn debugging_a_webhook_from_the_ui() {
    let Some(d) = driver().await else {
        return;
    };
    let app = TestApp::spawn(Config::default()).await;
    let c = browser(&d).await;
    login(&c, &app).await;

    // A source, its secret generated and shown once.
    c.goto(&app.url("/ui/sources")).await.unwrap();
    fill(&c, "#src-name", "Shop!").await;
    click_and_load(&c, "#save-source").await;
    let refused = text(&c, "#source-error").await;
    assert!(refused.contains("name"), "the API's own check: {refused}");
    fill(&c, "#src-name", "shop").await;
    click_and_load(&c, "#save-source").await;
    let secret = text(&c, "#secret-value").await;
    shot(&c, "source-created").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(text(&c, "#source-url").await.contains("/in/shop"));
    c.refresh().await.unwrap();
    assert!(
        c.find(Locator::Css("#new-secret")).await.is_err(),
        "the secret is shown only once"
    );

    // An application, an endpoint with a filter, an event type.
    let rx = Receiver::start(Reply::default()).await;
    c.goto(&app.url("/ui/apps")).await.unwrap();
    fill(&c, "#app-name", "Acme").await;
    fill(&c, "#app-uid", "acme").await;
    click_and_load(&c, "#create-app").await;
    fill(&c, "#ep-url", &rx.url("/hooks")).await;
    fill(&c, "#ep-filter", r#"{"body": {"amount": {"$gte": 100}}}"#).await;
    click_and_load(&c, "#create-endpoint-submit").await;
    assert!(text(&c, "#endpoints").await.contains(&rx.url("/hooks")));
    c.goto(&app.url("/ui/event-types")).await.unwrap();
    fill(&c, "#et-name", "order.paid").await;
    fill(
        &c,
        "#et-schema",
        r#"{"type": "object", "required": ["amount"]}"#,
    )
    .await;
    click_and_load(&c, "#save-event-type").await;
    assert!(text(&c, "#event-types").await.contains("order.paid"));
    shot(&c, "event-types").await;
    for (body, amount) in [(json!({"amount": 50}), 50), (json!({"amount": 150}), 150)] {
        let (s, _) = app
            .call(
                Method::POST,
                "/app/acme/msg",
                Some(json!({"eventType": "order.paid", "payload": body})),
            )
            .await;
        assert_eq!(s, 202, "message of {amount}");
    }
    let got = rx.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        rx.captured().len(),
        1,
        "the endpoint's filter let one through"
    );
    assert!(String::from_utf8_lossy(&got[0].body).contains("150"));

    // Webhooks appear in the split view as they arrive; the newest is selected.
    c.goto(&app.url("/ui/inbox?source=shop")).await.unwrap();
    css(&c, "#no-events").await;
    post(
        &app,
        "shop",
        &secret,
        r#"{"order":"A-1","city":"Berlin"}"#,
        "d1",
    )
    .await;
    let first = until_rows(&c, 1).await[0].clone();
    until_selected(&c, &first).await;
    post(
        &app,
        "shop",
        &secret,
        r#"{"order":"A-2","city":"Köln"}"#,
        "d2",
    )
    .await;
    let both = until_rows(&c, 2).await;
    assert_eq!(both[1], first, "newest on top");
    let row = text(&c, "#events tbody tr:first-child").await;
    assert!(
        row.contains("POST") && row.contains("/in/shop") && row.contains("Köln"),
        "{row}"
    );
    assert!(row.contains("s ago"), "relative time: {row}");

    // The selection stays where it was (on the first, now second, row);
    // arrow keys and j/k move it, and the panel follows.
    until_selected(&c, &first).await;
    css(&c, "body")
        .await
        .send_keys(&Key::Up.to_string())
        .await
        .unwrap();
    until_selected(&c, &both[0]).await;
    css(&c, "body")
        .await
        .send_keys(&Key::Down.to_string())
        .await
        .unwrap();
    until_selected(&c, &first).await;
    css(&c, "body").await.send_keys("k").await.unwrap();
    until_selected(&c, &both[0]).await;
    shot(&c, "inbox").await;
    // Readable on a phone: the panel goes under the list.
    c.set_window_size(390, 844).await.unwrap();
    shot(&c, "inbox-phone").await;
    c.set_window_size(1280, 1000).await.unwrap();
    // And dark where the system is.
    let dark = dark_browser(&d).await;
    login(&dark, &app).await;
    dark.goto(&app.url("/ui/inbox?source=shop")).await.unwrap();
    until_rows(&dark, 2).await;
    let bg = dark
        .execute(
            "return getComputedStyle(document.body).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(bg, json!("rgb(14, 18, 26)"), "the dark palette");
    shot(&dark, "inbox-dark").await;
    dark.close().await.unwrap();

    // Search: only what matches, and new matches arrive live.
    fill(&c, "#q", "KÖLN").await;
    click_and_load(&c, "#filters button").await;
    assert_eq!(rows(&c).await, vec![both[0].clone()]);
    post(
        &app,
        "shop",
        &secret,
        r#"{"order":"A-3","city":"Paris"}"#,
        "d3",
    )
    .await;
    post(
        &app,
        "shop",
        &secret,
        r#"{"order":"A-4","city":"köln"}"#,
        "d4",
    )
    .await;
    let found = until_rows(&c, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rows(&c).await.len(), 2, "Paris never shows: {found:?}");
    shot(&c, "inbox-search").await;

    // Open one, copy it as curl, run the command: the same bytes arrive again.
    c.goto(&app.url(&format!("/ui/inbox/shop/{first}")))
        .await
        .unwrap();
    css(&c, "#copy-curl").await.click().await.unwrap();
    // The clipboard answers asynchronously (or, ungranted, after a second).
    let deadline = Instant::now() + Duration::from_secs(5);
    while text(&c, "#copy-status").await.is_empty() {
        assert!(Instant::now() < deadline, "the copy button answers");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let command = c
        .execute("return document.getElementById('curl').textContent", vec![])
        .await
        .unwrap();
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            &format!(
                "{} -s -o /dev/null -w '%{{http_code}}'",
                command.as_str().unwrap()
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "{out:?}");
    let page = app.get_json("/source/shop/event?limit=1").await;
    let again = page["data"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(again, first, "a new event");
    let again = app.get_json(&format!("/source/shop/event/{again}")).await;
    let original = app.get_json(&format!("/source/shop/event/{first}")).await;
    assert_eq!(
        again["verdict"], "verified",
        "the provider's signature still verifies"
    );
    assert!(original["bodyBase64"].is_string());
    assert_eq!(again["bodyBase64"], original["bodyBase64"], "byte-exact");
    shot(&c, "event-curl").await;

    // Replay it to an app.
    let to = Receiver::start(Reply::default()).await;
    fill(&c, "#replay-url", &to.url("/replayed")).await;
    click_and_load(&c, "#replay-form button[type=submit]").await;
    assert!(text(&c, "#replay-result").await.contains("200"));
    let replayed = to.only();
    assert_eq!(&replayed.body[..], br#"{"order":"A-1","city":"Berlin"}"#);

    unmake_everything(&c, &app).await;
    // Ends the session, so its Chromium exits with it (killing chromedriver
    // alone leaves the browser running).
    c.close().await.unwrap();
}

/// What the UI made, it changes and deletes too (confirmations accepted).
async fn unmake_everything(c: &Client, app: &TestApp) {
    let open_all = "window.confirm = () => true; document.querySelectorAll('details').forEach(d => d.open = true)";
    c.goto(&app.url("/ui/apps/acme")).await.unwrap();
    c.execute(open_all, vec![]).await.unwrap();
    fill(c, "#app-rename", "Acme Corp").await;
    click_and_load(c, "#rename-app").await;
    assert!(text(c, "h1").await.contains("Acme Corp"));
    click_and_load(c, "#endpoints a").await;
    c.execute(open_all, vec![]).await.unwrap();
    click_and_load(c, "#delete-endpoint").await;
    assert!(
        !text(c, "#endpoints").await.contains("/hooks"),
        "the endpoint is gone"
    );

    c.goto(&app.url("/ui/event-types/order.paid"))
        .await
        .unwrap();
    fill(c, "#et-schema", "{not json").await;
    click_and_load(c, "#save-event-type").await;
    assert!(text(c, "#event-type-error").await.contains("not JSON"));
    fill(c, "#et-schema", r#"{"type": "object"}"#).await;
    click_and_load(c, "#save-event-type").await;
    let t = app.get_json("/event-type/order.paid").await;
    let versions = t["schemas"].as_object().unwrap();
    assert_eq!(versions.len(), 2, "a changed schema is a new version: {t}");
    assert_eq!(versions["2"], json!({"type": "object"}));
    c.goto(&app.url("/ui/event-types/order.paid"))
        .await
        .unwrap();
    c.execute(open_all, vec![]).await.unwrap();
    click_and_load(c, "#delete-event-type").await;
    assert!(!text(c, "#event-types").await.contains("order.paid"));

    c.goto(&app.url("/ui/sources/shop")).await.unwrap();
    c.execute(open_all, vec![]).await.unwrap();
    click_and_load(c, "#delete-source").await;
    assert!(
        !text(c, "#sources").await.contains("shop"),
        "the source is gone"
    );
    shot(c, "sources").await;
    let (status, _) = app.call(Method::GET, "/source/shop", None).await;
    assert_eq!(status, 404);
}

/// Two nodes on one PostgreSQL: node B's arrivals reach node A's live inbox
/// and its dashboard (every node shares its counts through the store).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_nodes_arrivals_show_on_the_first_nodes_inbox_and_dashboard() {
    if !Backend::Postgres.available() {
        return;
    }
    Backend::Postgres.run(two_nodes()).await;
}

async fn two_nodes() {
    let Some(d) = driver().await else {
        return;
    };
    let a = TestApp::spawn(Config {
        webhook_secret: Some("s3cr3t".into()),
        ..Config::default()
    })
    .await;
    let b = TestApp::spawn_beside(
        &a,
        Config {
            webhook_secret: Some("s3cr3t".into()),
            ..Config::default()
        },
    )
    .await;
    let c = browser(&d).await;
    login(&c, &a).await;
    assert_eq!(text(&c, "#received-hour").await, "0");
    c.goto(&a.url("/ui/inbox")).await.unwrap();
    css(&c, "#no-events").await;
    let body = br#"{"from":"node b"}"#;
    let r = b
        .client
        .post(b.url("/webhook/node.test"))
        .headers(signed(Scheme::HmacSha256, "s3cr3t", body, "n1", now_secs()))
        .header("content-type", "application/json")
        .body(&body[..])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = until_rows(&c, 1).await;
    assert!(text(&c, "#events").await.contains("node b"), "{seen:?}");
    c.goto(&a.url("/ui/dashboard")).await.unwrap();
    let total = reload_until(&c, "#received-hour", "1").await;
    assert_eq!(total, "1", "node A's dashboard counts node B's webhook");
    assert!(text(&c, "#scope").await.contains("whole cluster"));
    c.close().await.unwrap();
    drop(b);
}
