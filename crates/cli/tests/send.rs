//! `hookline send` as a process against a local capturing receiver: exact bytes
//! and headers received, every error path, every exit code, `--json` output.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use hookline_signature::{Scheme, Secret, DEFAULT_TOLERANCE};
use serde_json::Value;
use support::{hookline, stderr, stdout, Receiver, Reply};

use hookline_testkit::now_secs as now;

#[tokio::test]
async fn defaults_match_the_tutorial_client() {
    let rx = Receiver::start(Reply::default()).await;
    let out = hookline(&["send", &rx.url("/webhook/user.created")], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let got = rx.only();
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, "/webhook/user.created");
    assert_eq!(&got.body[..], br#"{"id":1,"name":"Alice"}"#);
    assert_eq!(got.headers["content-type"], "application/json");
    assert_eq!(got.headers["x-event-type"], "user.created");
    assert!(
        !got.headers.contains_key("x-webhook-signature"),
        "unsigned without a secret"
    );

    let text = stdout(&out);
    assert!(text.starts_with("Response: 200 OK"), "{text}");
    for panel in ["Headers sent:", "Payload sent:", "Response body:"] {
        assert!(text.contains(panel), "missing {panel}: {text}");
    }
    assert!(text.contains("X-Event-Type: user.created"));
    assert!(
        text.contains("\"message\": \"Webhook received successfully.\""),
        "pretty JSON: {text}"
    );
}

#[tokio::test]
async fn the_event_type_defaults_to_the_one_the_url_names() {
    let rx = Receiver::start(Reply::default()).await;
    for (url, expected) in [
        ("/webhook/order.paid", "order.paid"),
        ("/webhook/a%20b", "a b"),
        ("/hooks", "user.created"),
    ] {
        let out = hookline(&["send", &rx.url(url)], None).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let got = rx.captured().pop().unwrap();
        assert_eq!(got.headers["x-event-type"], expected, "{url}");
    }
}

#[tokio::test]
async fn signed_json_is_compact_with_key_order_kept() {
    let rx = Receiver::start(Reply::default()).await;
    let data = r#"{ "zeta": 1,  "alpha": {"b": [1, 2], "a": "é"} }"#;
    let out = hookline(
        &[
            "send",
            &rx.url("/webhook/x"),
            "--secret",
            "s3cr3t",
            "--event",
            "order.paid",
            "--data",
            data,
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = rx.only();
    assert_eq!(
        &got.body[..],
        r#"{"zeta":1,"alpha":{"b":[1,2],"a":"é"}}"#.as_bytes()
    );
    assert_eq!(got.headers["x-event-type"], "order.paid");
    let sig = got.headers["x-webhook-signature"].to_str().unwrap();
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
    Scheme::HmacSha256
        .verify(
            &got.headers,
            &got.body,
            &["s3cr3t".into()],
            now(),
            DEFAULT_TOLERANCE,
        )
        .expect("receiver verifies the raw body");
}

#[tokio::test]
async fn every_scheme_verifies_at_the_receiver() {
    let rx = Receiver::start(Reply::default()).await;
    for scheme in Scheme::ALL {
        let secret = match scheme {
            Scheme::Standard => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            _ => "a-shared-secret",
        };
        let out = hookline(
            &[
                "send",
                &rx.url("/in"),
                "--scheme",
                scheme.name(),
                "--secret",
                secret,
            ],
            None,
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{scheme}: {}", stderr(&out));
    }
    let all = rx.captured();
    assert_eq!(all.len(), Scheme::ALL.len());
    for (scheme, got) in Scheme::ALL.into_iter().zip(all) {
        let secret = Secret::new(match scheme {
            Scheme::Standard => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            _ => "a-shared-secret",
        });
        scheme
            .verify(&got.headers, &got.body, &[secret], now(), DEFAULT_TOLERANCE)
            .unwrap_or_else(|e| panic!("{scheme}: {e}"));
    }
}

#[tokio::test]
async fn raw_file_stdin_and_custom_headers() {
    let rx = Receiver::start(Reply::default()).await;
    let raw = "{ \"spaced\" :  true }\n";
    let out = hookline(&["send", &rx.url("/a"), "--raw", "--data", raw], None).await;
    assert_eq!(out.status.code(), Some(0));

    let dir = std::env::temp_dir().join(format!("hookline-send-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("event.json");
    std::fs::write(&file, "[1, 2,\n 3]").unwrap();
    let at = format!("@{}", file.display());
    let out = hookline(&["send", &rx.url("/b"), "--data", &at], None).await;
    assert_eq!(out.status.code(), Some(0));

    let out = hookline(
        &[
            "send",
            &rx.url("/c"),
            "--data",
            "-",
            "-H",
            "X-Trace: t-1",
            "-H",
            "Content-Type: application/cloudevents+json",
            "--event",
            "",
        ],
        Some(br#"{"from": "stdin"}"#),
    )
    .await;
    assert_eq!(out.status.code(), Some(0));

    let got = rx.captured();
    assert_eq!(
        &got[0].body[..],
        raw.as_bytes(),
        "--raw sends bytes as given"
    );
    assert_eq!(&got[1].body[..], b"[1,2,3]");
    assert_eq!(&got[2].body[..], br#"{"from":"stdin"}"#);
    assert_eq!(got[2].headers["x-trace"], "t-1");
    assert_eq!(
        got[2].headers["content-type"],
        "application/cloudevents+json"
    );
    assert!(
        !got[2].headers.contains_key("x-event-type"),
        "empty --event sends none"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn json_output_has_everything() {
    let rx = Receiver::start(Reply::default()).await;
    let out = hookline(&["send", &rx.url("/j"), "--secret", "k", "--json"], None).await;
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["ok"], true);
    assert_eq!(v["status"], 200);
    assert_eq!(v["statusText"], "OK");
    assert_eq!(v["request"]["payload"], r#"{"id":1,"name":"Alice"}"#);
    let sent_sig = v["request"]["headers"]["X-Webhook-Signature"]
        .as_str()
        .unwrap();
    assert_eq!(rx.only().headers["x-webhook-signature"], sent_sig);
    assert_eq!(
        v["response"]["body"]["message"],
        "Webhook received successfully."
    );
    assert_eq!(v["response"]["headers"]["Content-Type"], "application/json");
    assert!(v["error"].is_null());
    assert!(v["elapsedMs"].as_f64().unwrap() >= 0.0);
}

#[tokio::test]
async fn non_2xx_exits_1_and_shows_raw_text() {
    let rx = Receiver::start(Reply {
        status: 401,
        content_type: "text/plain",
        body: "Invalid signature.",
        ..Reply::default()
    })
    .await;
    let out = hookline(&["send", &rx.url("/w")], None).await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("Response: 401 Unauthorized"), "{text}");
    assert!(
        text.contains("Response body:\nInvalid signature."),
        "{text}"
    );
    let out = hookline(&["send", &rx.url("/w"), "--json"], None).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["ok"].clone(), v["status"].clone()),
        (Value::Bool(false), Value::from(401))
    );
    assert_eq!(v["response"]["body"], "Invalid signature.");
}

/// A loopback port that refuses connections for as long as the socket lives:
/// bound (so no other test can take it) but never listening.
fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

#[tokio::test]
async fn transport_failures_have_clear_messages() {
    // Connection refused: a port held but never listened on.
    let (_held, port) = refusing_port();
    let out = hookline(&["send", &format!("http://127.0.0.1:{port}/x")], None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("connection refused"),
        "{}",
        stdout(&out)
    );

    let out = hookline(&["send", "http://no-such-host.invalid/x", "--json"], None).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "dns", "{v}");

    // TLS: speak https to a plain-HTTP server.
    let rx = Receiver::start(Reply::default()).await;
    let out = hookline(&["send", &format!("https://{}/x", rx.addr), "--json"], None).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "tls", "{v}");

    let slow = Receiver::start(Reply {
        delay: Duration::from_secs(3),
        ..Reply::default()
    })
    .await;
    let out = hookline(&["send", &slow.url("/slow"), "--timeout", "0.5"], None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("timed out after 0.5 s"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test]
async fn bad_input_exits_2_and_sends_nothing() {
    let rx = Receiver::start(Reply::default()).await;
    let url = rx.url("/x");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["send", ""], "URL is empty"),
        (vec!["send", "ftp://example.com/x"], "not an http(s) URL"),
        (vec!["send", "not a url"], "not a valid URL"),
        (
            vec!["send", &url, "--data", "{\"id\": 1,}"],
            "not valid JSON",
        ),
        (
            vec!["send", &url, "--data", "@/no/such/file.json"],
            "cannot read the payload file",
        ),
        (
            vec!["send", &url, "-H", "no colon"],
            "must look like 'Name: value'",
        ),
        (
            vec![
                "send",
                &url,
                "--scheme",
                "standard",
                "--secret",
                "whsec_!!!",
            ],
            "cannot sign",
        ),
        (
            vec!["send", &url, "--scheme", "md5"],
            "unknown signature scheme",
        ),
        (vec!["send", &url, "--timeout", "0"], "--timeout"),
        (vec!["send", &url, "--count", "0"], "at least 1"),
        (
            vec!["send", &url, "--count", "5", "--rate", "0"],
            "--rate must be",
        ),
        (vec!["send", &url, "--rate", "10"], "give --count too"),
    ];
    for (args, expect) in cases {
        let out = hookline(&args, None).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(expect), "{args:?}: {}", stderr(&out));
    }
    assert!(rx.captured().is_empty(), "nothing is sent on bad input");
}

#[tokio::test]
async fn count_sends_many_with_fresh_ids_and_a_summary() {
    let rx = Receiver::start(Reply::default()).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let out = hookline(
        &[
            "send",
            &rx.url("/load"),
            "--scheme",
            "standard",
            "--secret",
            secret,
            "--count",
            "300",
            "--concurrency",
            "8",
            "--json",
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("summary JSON");
    assert_eq!(v["sent"], 300);
    assert_eq!(v["byStatusClass"]["2xx"], 300);
    for q in ["p50", "p90", "p99", "max"] {
        assert!(v["latencyMs"][q].as_f64().unwrap() > 0.0, "{q}");
    }
    assert!(v["requestsPerSec"].as_f64().unwrap() > 0.0);

    let got = rx.captured();
    assert_eq!(got.len(), 300);
    let ids: std::collections::HashSet<_> = got
        .iter()
        .map(|c| c.headers["webhook-id"].clone())
        .collect();
    assert_eq!(ids.len(), 300, "every webhook has a fresh id");
    for c in &got {
        Scheme::Standard
            .verify(
                &c.headers,
                &c.body,
                &[secret.into()],
                now(),
                DEFAULT_TOLERANCE,
            )
            .expect("each is signed");
    }

    let out = hookline(
        &["send", &rx.url("/load"), "--count", "20", "-c", "4"],
        None,
    )
    .await;
    let text = stdout(&out);
    assert!(text.contains("Sent 20 webhooks"), "{text}");
    assert!(text.contains("2xx: 20") && text.contains("p99"), "{text}");
}

#[tokio::test]
async fn rate_paces_the_load_open_loop() {
    let rx = Receiver::start(Reply::default()).await;
    let out = hookline(
        &[
            "send",
            &rx.url("/paced"),
            "--count",
            "40",
            "--rate",
            "100",
            "-c",
            "4",
            "--json",
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("summary JSON");
    assert_eq!(v["byStatusClass"]["2xx"], 40);
    assert_eq!(v["offeredPerSec"], 100.0);
    assert!(v["late"].is_u64(), "{v}");
    // The 40th is due 390 ms after the first: paced, not sent at once.
    assert!(v["elapsedSecs"].as_f64().unwrap() >= 0.38, "{v}");
    assert_eq!(rx.captured().len(), 40);

    let out = hookline(
        &["send", &rx.url("/paced"), "--count", "5", "--rate", "50"],
        None,
    )
    .await;
    let text = stdout(&out);
    assert!(text.contains("offered 50/s"), "{text}");
}

#[tokio::test]
async fn count_reports_failures_by_kind_and_exits_1() {
    let (_held, port) = refusing_port();
    let url = format!("http://127.0.0.1:{port}/x");
    let out = hookline(&["send", &url, "--count", "5", "--json"], None).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"]["connection_refused"], 5, "{v}");
}
