//! The UI's sessions over plain HTTP: logging in, what an application's token
//! may see, CSRF, logging out, and where `next` may lead.

#![allow(clippy::unwrap_used)]

use hookline_server::testkit::TestApp;
use hookline_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The `name=value` of a `Set-Cookie` header named `name`.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} field"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Logs in with `token` (following `next`): the session cookie, or the answer.
async fn login(app: &TestApp, token: &str, next: &str) -> Result<String, reqwest::Response> {
    let page = app
        .client
        .get(app.url(&format!("/ui/login?next={next}")))
        .send()
        .await
        .unwrap();
    let login_cookie = set_cookie(&page, "hl_login").unwrap();
    let html = page.text().await.unwrap();
    let r = app
        .client
        .post(app.url("/ui/login"))
        .header("cookie", login_cookie)
        .form(&[
            ("token", token),
            ("csrf", &hidden(&html, "csrf")),
            ("next", &hidden(&html, "next")),
        ])
        .send()
        .await
        .unwrap();
    match set_cookie(&r, "hl_session") {
        Some(c) if r.status() == StatusCode::SEE_OTHER => Ok(c),
        _ => Err(r),
    }
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn sessions_tokens_csrf_and_redirects() {
    let app = TestApp::spawn(Config::default()).await;
    // Without a session every page leads to the login, remembering where to.
    let r = app
        .client
        .get(app.url("/ui/inbox?source=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/ui/login?next=%2Fui%2Finbox%3Fsource%3Dx"
    );

    // A wrong token: 401 and the form again. A forged login form: 403.
    let bad = login(&app, "nope", "/ui/").await.unwrap_err();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(bad.text().await.unwrap().contains("not valid"));
    let forged = app
        .client
        .post(app.url("/ui/login"))
        .form(&[("token", app.admin_token.as_str()), ("csrf", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // `next` stays within the UI.
    let admin = login(&app, &app.admin_token, "//evil.example/x")
        .await
        .unwrap();
    assert_eq!(get(&app, &admin, "/ui/dashboard").await.status(), 200);

    // Two applications; a token for one sees only that one.
    for (name, uid) in [("Mine", "mine"), ("Theirs", "theirs")] {
        let (s, _) = app
            .call(
                Method::POST,
                "/app",
                Some(json!({"name": name, "uid": uid})),
            )
            .await;
        assert_eq!(s, 201);
    }
    let (_, grant) = app
        .call(
            Method::POST,
            "/auth/app-portal-access/mine",
            Some(json!({})),
        )
        .await;
    let scoped = login(&app, grant["token"].as_str().unwrap(), "/ui/")
        .await
        .unwrap();
    let home = get(&app, &scoped, "/ui").await;
    assert!(home.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/ui/apps/app_"));
    let list = get(&app, &scoped, "/ui/apps").await.text().await.unwrap();
    assert!(list.contains("Mine") && !list.contains("Theirs"), "{list}");
    assert_eq!(get(&app, &scoped, "/ui/apps/theirs").await.status(), 404);
    assert_eq!(get(&app, &scoped, "/ui/apps/mine").await.status(), 200);
    for admin_only in ["/ui/dashboard", "/ui/send", "/ui/inbox"] {
        assert_eq!(
            get(&app, &scoped, admin_only).await.status(),
            403,
            "{admin_only}"
        );
    }

    // A form without the session's CSRF token changes nothing.
    let r = app
        .client
        .post(app.url("/ui/apps/mine/endpoints"))
        .header("cookie", &scoped)
        .form(&[("csrf", "forged"), ("url", "https://example.com/x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, eps) = app.call(Method::GET, "/app/mine/endpoint", None).await;
    assert_eq!(eps["data"].as_array().unwrap().len(), 0);

    // Logging out ends the session in the store: the old cookie no longer works.
    let html = get(&app, &admin, "/ui/apps").await.text().await.unwrap();
    let r = app
        .client
        .post(app.url("/ui/logout"))
        .header("cookie", &admin)
        .form(&[("csrf", hidden(&html, "csrf"))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get(&app, &admin, "/ui/dashboard").await.status(),
        StatusCode::SEE_OTHER
    );
}

/// The inbox says so when the source shown accepts every request.
async fn the_inbox_warns_of_a_source_that_checks_nothing() {
    let app = TestApp::spawn(Config::default()).await;
    for (name, spec) in [
        ("open", json!({"name": "open"})),
        ("keyed", json!({"name": "keyed", "auth": {"bearer": "t0k"}})),
    ] {
        let (s, v) = app.call(Method::POST, "/source", Some(spec)).await;
        assert_eq!(s, StatusCode::CREATED, "{name}: {v}");
    }
    let admin = login(&app, &app.admin_token, "/ui/").await.unwrap();
    let open = get(&app, &admin, "/ui/inbox?source=open")
        .await
        .text()
        .await
        .unwrap();
    assert!(open.contains("it accepts every request"), "{open}");
    let keyed = get(&app, &admin, "/ui/inbox?source=keyed")
        .await
        .text()
        .await
        .unwrap();
    assert!(!keyed.contains("it accepts every request"));
}

/// On a fresh start (no `allowed_subnets` for loopback), the Send page's own
/// default URL, hookline's tutorial route, succeeds; another loopback port is
/// refused in one sentence naming the setting.
async fn the_send_page_default_reaches_hookline_itself_and_no_other_loopback_port() {
    let app = TestApp::spawn(Config {
        allowed_subnets: vec!["192.0.2.0/24".parse().unwrap()],
        ..Config::default()
    })
    .await;
    let admin = login(&app, &app.admin_token, "/ui/").await.unwrap();
    let page = get(&app, &admin, "/ui/send").await.text().await.unwrap();
    let url = hidden(&page, "url").replace("&#x2f;", "/");
    assert_eq!(url, format!("http://{}/webhook/user.created", app.addr));
    let other =
        hookline_server::testkit::Receiver::start(hookline_server::testkit::Reply::default()).await;
    for (target, ok) in [
        (url.clone(), true),
        (other.url("/hook"), false),
        (other.url("/hook").replace("127.0.0.1", "localhost"), false),
    ] {
        let html = app
            .client
            .post(app.url("/ui/send"))
            .header("cookie", &admin)
            .form(&[
                ("csrf", hidden(&page, "csrf").as_str()),
                ("url", target.as_str()),
                ("event_type", "user.created"),
                ("scheme", "hmac-sha256"),
                ("payload", r#"{"id": 1}"#),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if ok {
            assert!(html.contains("Response: 200"), "{target}: {html}");
        } else {
            let error = html
                .split("id=\"send-error\">")
                .nth(1)
                .unwrap_or_else(|| panic!("{target}: {html}"));
            let error = error[..error.find("</div>").unwrap()].replace("&#x2f;", "/");
            assert!(
                error.starts_with("Refused: ")
                    && error.contains("loopback address")
                    && error.contains("allowed_subnets")
                    && error.ends_with("Nothing was sent."),
                "{target}: {error}"
            );
        }
    }
    assert!(
        other.captured().is_empty(),
        "nothing reached the other port"
    );
    let events = app.get_json("/source/default/event").await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1, "{events}");
}

hookline_server::testkit::on_both_backends!(
    sessions_tokens_csrf_and_redirects,
    the_inbox_warns_of_a_source_that_checks_nothing,
    the_send_page_default_reaches_hookline_itself_and_no_other_loopback_port,
);
