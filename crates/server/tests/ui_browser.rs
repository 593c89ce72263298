//! The web UI in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver: log in, send a signed webhook
//! to hookline's own `/webhook/{event}` and see the three panels, watch it
//! (and one more) arrive live in the inbox, render a hostile payload safely,
//! create an endpoint, watch a message's attempt succeed, then fail, then
//! resend it. Screenshots of every page go to `target/ui-screenshots/`.
//! Without chromedriver the test says so and skips (under `CI=true` it fails).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use fantoccini::Locator;
use hookline_server::testkit::{Receiver, Reply, TestApp};
use hookline_server::Config;
use reqwest::Method;
use serde_json::json;

mod browser;

use browser::*;

async fn the_ui_in_a_real_browser() {
    let Some(d) = driver().await else {
        return;
    };
    let app = TestApp::spawn(Config {
        webhook_secret: Some("s3cr3t".into()),
        ..Config::default()
    })
    .await;
    let c = browser(&d).await;

    // Log in: any UI page asks for the token first.
    c.goto(&app.url("/ui/dashboard")).await.unwrap();
    fill(&c, "#token", "wrong").await;
    click_and_load(&c, "#login").await;
    assert!(text(&c, "#login-error").await.contains("not valid"));
    shot(&c, "login").await;
    fill(&c, "#token", &app.admin_token).await;
    click_and_load(&c, "#login").await;
    assert_eq!(text(&c, "#health").await, "healthy");
    let cookie = c.execute("return document.cookie", vec![]).await.unwrap();
    assert_eq!(cookie, json!(""), "the session cookie is HttpOnly");

    // Send: a signed webhook to hookline's own tutorial route.
    c.goto(&app.url("/ui/send")).await.unwrap();
    fill(&c, "#url", &app.url("/webhook/user.created")).await;
    fill(&c, "#secret", "s3cr3t").await;
    click_and_load(&c, "#submit").await;
    assert_eq!(text(&c, "#status-line").await, "Response: 200 OK");
    let sent_headers = text(&c, "#headers-sent").await;
    assert!(
        sent_headers.contains("X-Webhook-Signature"),
        "{sent_headers}"
    );
    assert!(sent_headers.contains("sha256="), "{sent_headers}");
    assert!(text(&c, "#payload-sent")
        .await
        .contains(r#"{"id":1,"name":"Alice"}"#));
    assert!(text(&c, "#response-body")
        .await
        .contains("Webhook received successfully."));
    shot(&c, "send").await;
    // Invalid JSON: a clear error, nothing sent.
    fill(&c, "#payload", "{not json").await;
    click_and_load(&c, "#submit").await;
    assert!(text(&c, "#send-error").await.contains("not valid JSON"));
    // Nothing listening: connection refused, said plainly.
    fill(&c, "#url", "http://127.0.0.1:9/nothing").await;
    fill(&c, "#payload", "{}").await;
    click_and_load(&c, "#submit").await;
    assert!(text(&c, "#send-error").await.contains("Connection refused"));

    // Inbox: the webhook just sent is there; a new one arrives live.
    c.goto(&app.url("/ui/inbox")).await.unwrap();
    let listed = text(&c, "#events").await;
    assert!(
        listed.contains("user.created"),
        "{listed}\n{}",
        c.source().await.unwrap()
    );
    tokio::time::sleep(Duration::from_millis(300)).await; // the stream connects
    let body = br#"{"live":true}"#;
    let sig = format!("sha256={}", hex_hmac(b"s3cr3t", body));
    let r = app
        .client
        .post(app.url("/webhook/live.check"))
        .header("content-type", "application/json")
        .header("x-webhook-signature", sig)
        .body(&body[..])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !text(&c, "#events tbody").await.contains("live.check") {
        assert!(
            Instant::now() < deadline,
            "the new event did not appear live"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shot(&c, "inbox-live").await;

    // A hostile payload renders as text: no script runs, long lines wrap.
    let hostile = format!(
        "{{\"x\":\"<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>\",\"long\":\"{}\"}}",
        "A".repeat(5000)
    );
    app.client
        .post(app.url("/webhook/hostile"))
        .header("content-type", "application/json")
        .header(
            "x-webhook-signature",
            format!("sha256={}", hex_hmac(b"s3cr3t", hostile.as_bytes())),
        )
        .body(hostile.clone())
        .send()
        .await
        .unwrap();
    let binary: Vec<u8> = vec![0xff, 0xfe, b'{', 0x00, 0x80, b'}'];
    let r = app
        .client
        .post(app.url("/webhook/binary"))
        .header("content-type", "application/json")
        .body(binary)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "unsigned: rejected, but kept for inspection"
    );
    c.goto(&app.url("/ui/inbox")).await.unwrap();
    let rows = c
        .find_all(Locator::Css("#events tbody tr a"))
        .await
        .unwrap();
    let mut hostile_link = None;
    let mut binary_link = None;
    for row in rows {
        let href = row.attr("href").await.unwrap().unwrap();
        let tr_text = row
            .find(Locator::XPath("./ancestor::tr"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if tr_text.contains("hostile") {
            hostile_link = Some(href);
        } else if tr_text.contains("binary") {
            binary_link = Some(href);
        }
    }
    c.goto(&app.url(&hostile_link.expect("the hostile event is listed")))
        .await
        .unwrap();
    assert!(text(&c, "#body-pretty")
        .await
        .contains("<script>window.__pwned=1</script>"));
    let pwned = c
        .execute("return window.__pwned === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, json!(true), "no script from the payload ran");
    let width = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        width,
        json!(true),
        "a 5,000-character line wraps instead of widening the page"
    );
    shot(&c, "event").await;
    // Replay it, byte-exact with its headers, to hookline's own tutorial route:
    // the signature still matches, so it is accepted again.
    fill(&c, "#replay-url", &app.url("/webhook/replayed")).await;
    click_and_load(&c, "#replay-form button").await;
    let replayed = text(&c, "#replay-result").await;
    assert!(replayed.contains("200 OK"), "{replayed}");
    assert!(
        replayed.contains("Webhook received successfully."),
        "{replayed}"
    );
    c.goto(&app.url(&binary_link.expect("the binary event is listed")))
        .await
        .unwrap();
    assert_eq!(text(&c, "#verdict").await, "rejected");
    assert!(
        text(&c, "#verdict-reason").await.contains("missing"),
        "why it was rejected"
    );
    assert!(
        text(&c, "#body-raw").await.contains('\u{fffd}'),
        "invalid UTF-8 shown lossily"
    );
    shot(&c, "event-binary").await;

    // Deliveries: an endpoint made in the UI, a message delivered to it, then
    // failing (500 three times: the first try and two retries), then resent.
    let rx = Receiver::start_sequence(vec![
        Reply::default(),
        Reply {
            status: 500,
            body: r#"{"error":"down"}"#,
            ..Reply::default()
        },
        Reply {
            status: 500,
            body: r#"{"error":"down"}"#,
            ..Reply::default()
        },
        Reply {
            status: 500,
            body: r#"{"error":"down"}"#,
            ..Reply::default()
        },
        Reply::default(),
    ])
    .await;
    let (s, a) = app
        .call(
            Method::POST,
            "/app",
            Some(json!({"name": "Acme <Corp>", "uid": "acme"})),
        )
        .await;
    assert_eq!(s, 201);
    let app_id = a["id"].as_str().unwrap().to_string();
    c.goto(&app.url("/ui/apps")).await.unwrap();
    assert!(
        text(&c, "#apps").await.contains("Acme <Corp>"),
        "names are shown, escaped"
    );
    shot(&c, "apps").await;
    c.goto(&app.url(&format!("/ui/apps/{app_id}")))
        .await
        .unwrap();
    fill(&c, "#ep-url", &rx.url("/hooks")).await;
    fill(&c, "#ep-desc", "main receiver").await;
    click_and_load(&c, "#create-endpoint-submit").await;
    assert!(
        text(&c, "#new-secret").await.contains("whsec_"),
        "the secret is shown once"
    );
    assert!(text(&c, "#endpoints").await.contains(&rx.url("/hooks")));

    let (_, m1) = app
        .call(
            Method::POST,
            "/app/acme/msg",
            Some(json!({"eventType": "order.paid", "payload": {"n": 1}})),
        )
        .await;
    c.goto(&app.url(&format!(
        "/ui/apps/{app_id}/msg/{}",
        m1["id"].as_str().unwrap()
    )))
    .await
    .unwrap();
    assert!(reload_until(&c, "#destinations", "success")
        .await
        .contains("success"));
    assert!(text(&c, "#attempts").await.contains("200"));
    shot(&c, "message").await;

    let (_, m2) = app
        .call(
            Method::POST,
            "/app/acme/msg",
            Some(json!({"eventType": "order.paid", "payload": {"n": 2}})),
        )
        .await;
    let m2 = m2["id"].as_str().unwrap().to_string();
    c.goto(&app.url(&format!("/ui/apps/{app_id}/msg/{m2}")))
        .await
        .unwrap();
    assert!(
        reload_until(&c, "#destinations", "fail")
            .await
            .contains("fail"),
        "failed for good"
    );
    assert!(text(&c, "#attempts").await.contains("500"));
    click_and_load(&c, "button.resend").await;
    assert!(
        reload_until(&c, "#destinations", "success")
            .await
            .contains("success"),
        "the resend succeeded"
    );
    assert!(text(&c, "#attempts").await.contains("manual"));
    click_and_load(&c, "#destinations a").await;
    assert!(text(&c, "#attempts").await.contains("500"));
    shot(&c, "endpoint").await;
    // Each attempt on the endpoint page links to its message.
    let link = c
        .find(Locator::Css("#attempts a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        link.contains(&format!("/ui/apps/{app_id}/msg/msg_")),
        "{link}"
    );
    click_and_load(&c, "#rotate").await;
    assert!(text(&c, "#new-secret").await.contains("whsec_"));
    click_and_load(&c, "#toggle").await;
    assert_eq!(text(&c, "#ep-state").await, "disabled");

    // The dashboard shows what happened.
    c.goto(&app.url("/ui/dashboard")).await.unwrap();
    let received: u64 = text(&c, "#received-hour").await.parse().unwrap();
    assert!(received >= 4, "{received} received this hour");
    let delivered: u64 = text(&c, "#delivered-hour").await.parse().unwrap();
    assert!(delivered >= 5, "{delivered} attempts this hour");
    assert_eq!(
        c.find_all(Locator::Css("svg.chart")).await.unwrap().len(),
        4
    );
    shot(&c, "dashboard").await;

    // A form without its CSRF token is refused.
    let forged = c
        .execute(
            "const f = document.createElement('form'); f.method = 'post'; f.action = '/ui/logout';
             document.body.appendChild(f); f.submit(); return true;",
            vec![],
        )
        .await;
    assert!(forged.is_ok());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = c.source().await.unwrap();
    assert!(
        after.contains("Unprocessable")
            || after.contains("security token")
            || after.contains("csrf"),
        "{}",
        &after[..after.len().min(400)]
    );

    c.close().await.unwrap();
    drop(d.child);
}

/// Hex HMAC-SHA256, as the tutorial's senders sign.
fn hex_hmac(key: &[u8], body: &[u8]) -> String {
    use hookline_signature::{Scheme, Secret, SignInput};
    let h = Scheme::Hex
        .sign(
            &Secret::new(String::from_utf8_lossy(key).into_owned()),
            &SignInput {
                body,
                id: "x",
                timestamp: 0,
                event: None,
            },
        )
        .unwrap();
    h["x-signature"].to_str().unwrap().to_string()
}

/// Routes: create one in the form, watch an event's forward succeed on the
/// event's page, pause the route, resend the forward (held while paused).
async fn routes_in_a_real_browser() {
    let Some(d) = driver().await else {
        return;
    };
    let rx = Receiver::start(Reply::default()).await;
    let app = TestApp::spawn(Config::default()).await;
    let c = browser(&d).await;
    login(&c, &app).await;
    c.goto(&app.url("/ui/routes")).await.unwrap();
    assert!(text(&c, "#no-routes").await.contains("No routes"));
    fill(&c, "#name", "to-app").await;
    fill(&c, "#url", &rx.url("/hook")).await;
    fill(&c, "#filter", r#"{"body": {"$bad": 1}}"#).await;
    click_and_load(&c, "#save-route").await;
    assert!(
        text(&c, "#route-error").await.contains("$bad"),
        "the filter's mistake is named"
    );
    fill(&c, "#filter", r#"{"body": {"kind": "order"}}"#).await;
    click_and_load(&c, "#save-route").await;
    assert_eq!(text(&c, "#route-state").await, "running");
    shot(&c, "route").await;

    let r = app
        .client
        .post(app.url("/webhook/order.paid"))
        .json(&json!({"kind": "order", "n": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let events = app.get_json("/source/default/event").await;
    let id = events["data"][0]["id"].as_str().unwrap().to_string();
    c.goto(&app.url(&format!("/ui/inbox/default/{id}")))
        .await
        .unwrap();
    let forwards = reload_until(&c, "#forwards", "success").await;
    assert!(
        forwards.contains("to-app") && forwards.contains("success"),
        "{forwards}"
    );
    assert_eq!(rx.captured().len(), 1);
    shot(&c, "event-forwards").await;

    c.goto(&app.url("/ui/routes/to-app")).await.unwrap();
    click_and_load(&c, "#toggle").await;
    assert_eq!(text(&c, "#route-state").await, "paused");
    c.goto(&app.url(&format!("/ui/inbox/default/{id}")))
        .await
        .unwrap();
    click_and_load(&c, "#forwards button").await;
    assert!(
        text(&c, "#forwards").await.contains("pending"),
        "held while paused"
    );
    c.goto(&app.url("/ui/routes")).await.unwrap();
    let list = text(&c, "#routes").await;
    assert!(
        list.contains("paused") && list.contains("default"),
        "{list}"
    );
    shot(&c, "routes").await;
    c.goto(&app.url("/ui/dashboard")).await.unwrap();
    assert_eq!(text(&c, "#forwarded-hour").await, "1");
    assert_eq!(
        text(&c, "#forwards-waiting").await,
        "1",
        "the resent forward, held"
    );
    c.close().await.unwrap();
    drop(d.child);
}

// Runs on SQLite and on PostgreSQL (the screenshots are the last run's).
hookline_server::testkit::on_both_backends!(the_ui_in_a_real_browser, routes_in_a_real_browser);
