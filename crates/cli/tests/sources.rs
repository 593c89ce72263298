//! Sources as real `hookline serve` processes see them: a path that clashes is
//! refused at start, and on a cluster every node sees a source created,
//! re-keyed or deleted through another within a second.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use hookline_signature::Scheme;
use hookline_testkit::{Backend, FreshDb};
use reqwest::StatusCode;
use serde_json::json;
use support::{api, hookline, sqlite_in, start, stderr, TOKEN};

#[tokio::test]
async fn a_bad_source_or_route_is_refused_at_start_naming_the_file_and_entry() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookline.toml");
    for (toml, expect) in [
        (
            "[[source]]\nname = \"hooks\"\npath = \"/health\"\nsecret = \"s\"\n",
            "source `hooks`: path `/health` clashes with hookline's built-in route GET /health",
        ),
        (
            "[[source]]\nname = \"a\"\npath = \"/webhooks\"\n\n[[source]]\nname = \"b\"\npath = \"/webhooks\"\n",
            "[[source]] #2, name \"b\": path `/webhooks` is already the path of source `a`",
        ),
        (
            "[[source]]\nname = \"c\"\npath = \"/x\"\nauth = { bearer = \"t\", basic = \"u:p\" }\n",
            "[[source]] #1, name \"c\": auth: give exactly one of",
        ),
        (
            "[[route]]\nname = \"r\"\nsource = \"default\"\nurl = \"ftp://x\"\n",
            "[[route]] #1, name \"r\": route `r`: `url` must be an http(s) URL",
        ),
        (
            "[[route]]\nname = \"r\"\nsource = \"default\"\nurl = \"http://127.0.0.1:1/\"\nfilter = '{\"body\": {\"n\": {\"$gtt\": 1}}}'\n",
            "[[route]] #1, name \"r\": route `r`: filter at `/body/n/$gtt`",
        ),
        (
            "[[route]]\nname = \"r\"\nsource = \"default\"\nurl = \"http://127.0.0.1:1/\"\nretries = 3\n",
            "[[route]] #1, name \"r\": unknown field `retries`",
        ),
    ] {
        std::fs::write(&config, toml).unwrap();
        let db = sqlite_in(dir.path());
        let args = ["serve", "--config", config.to_str().unwrap(), "--port", "0", "--database-url", &db];
        let out = hookline(&args, None).await;
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(said.contains(config.to_str().unwrap()), "names the file: {said}");
        assert!(said.contains(expect), "{said}");
    }
    // A route's source must exist once the file's sources are stored.
    let toml = "[[route]]\nname = \"r\"\nsource = \"nope\"\nurl = \"http://127.0.0.1:1/\"\n";
    std::fs::write(&config, toml).unwrap();
    let db = sqlite_in(dir.path());
    let args = [
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--port",
        "0",
        "--database-url",
        &db,
    ];
    let out = hookline(&args, None).await;
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("no source named `nope`"),
        "{}",
        stderr(&out)
    );
}

/// POSTs a webhook signed with `secret` to `/in/{source}` on `addr`.
async fn post(
    client: &reqwest::Client,
    addr: std::net::SocketAddr,
    source: &str,
    secret: &str,
) -> StatusCode {
    let body = br#"{"type":"thing.happened"}"#;
    let headers = hookline_testkit::signed(Scheme::HmacSha256, secret, body, "x", 0);
    client
        .post(format!("http://{addr}/in/{source}"))
        .headers(headers)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
}

/// Polls `check` until it holds, for at most a second; how long it took.
async fn within_a_second(mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "not seen within a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_sees_a_source_change_within_a_second() {
    if !Backend::Postgres.available() {
        return;
    }
    let db = FreshDb::on(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let a = start(dir.path(), &db.url, &[], &[]).await;
    let b = start(dir.path(), &db.url, &[], &[]).await;
    let client = reqwest::Client::new();
    let put = |method: reqwest::Method, path: &str, body: serde_json::Value| {
        client
            .request(method, api(a.addr, path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
    };

    let r = put(
        reqwest::Method::POST,
        "/source",
        json!({"name": "shared", "secret": "old"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created =
        within_a_second(async || post(&client, b.addr, "shared", "old").await == StatusCode::OK)
            .await;

    let r = put(
        reqwest::Method::PUT,
        "/source/shared",
        json!({"secret": "new"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rotated =
        within_a_second(async || post(&client, b.addr, "shared", "new").await == StatusCode::OK)
            .await;
    assert_eq!(
        post(&client, b.addr, "shared", "old").await,
        StatusCode::UNAUTHORIZED,
        "the old secret is refused after the rotation"
    );

    let r = client
        .delete(api(a.addr, "/source/shared"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let deleted = within_a_second(async || {
        post(&client, b.addr, "shared", "new").await == StatusCode::NOT_FOUND
    })
    .await;
    eprintln!("node B saw the create after {created:?}, the rotation after {rotated:?}, the delete after {deleted:?}");
}
