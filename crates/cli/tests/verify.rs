//! `hookline verify` as a process: the documented vectors, every failure reason, exit codes.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use support::{hookline, stderr, stdout};

const STD_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const STD_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
const STD_SIG: &str = "webhook-signature: v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

fn std_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "verify",
        "--scheme",
        "standard",
        "-H",
        "webhook-id: msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        "-H",
        "webhook-timestamp: 1649367553",
        "-H",
        STD_SIG,
        "--body-file",
        "-",
    ];
    v.extend_from_slice(extra);
    v
}

#[tokio::test]
async fn standard_vector_is_valid_at_its_time() {
    let out = hookline(
        &std_args(&["--secret", STD_SECRET, "--now", "1649367553"]),
        Some(STD_BODY),
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).starts_with("valid (secret #1 of 1, timestamp 1649367553"));
}

#[tokio::test]
async fn rotation_reports_which_secret() {
    let out = hookline(
        &std_args(&[
            "--secret",
            "whsec_bmV3IHNlY3JldA==",
            "--secret",
            STD_SECRET,
            "--now",
            "1649367600",
            "--json",
        ]),
        Some(STD_BODY),
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["secretIndex"], 1);
    assert_eq!(v["timestamp"], 1649367553);
}

#[tokio::test]
async fn failures_say_why_and_exit_1() {
    let stale = hookline(&std_args(&["--secret", STD_SECRET]), Some(STD_BODY)).await;
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        stdout(&stale).contains("invalid: timestamp too old"),
        "{}",
        stdout(&stale)
    );

    let future = hookline(
        &std_args(&["--secret", STD_SECRET, "--now", "1649360000"]),
        Some(STD_BODY),
    )
    .await;
    assert!(stdout(&future).contains("timestamp too new"));

    let tampered = hookline(
        &std_args(&["--secret", STD_SECRET, "--now", "1649367553"]),
        Some(b"{}"),
    )
    .await;
    assert_eq!(tampered.status.code(), Some(1));
    assert!(stdout(&tampered).contains("no signature matches"));

    let missing = hookline(
        &[
            "verify",
            "--scheme",
            "github",
            "--secret",
            "x",
            "--body-file",
            "-",
            "--json",
        ],
        Some(b"Hello, World!"),
    )
    .await;
    assert_eq!(missing.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&missing.stdout).unwrap();
    assert_eq!(v["code"], "missing_header");
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .contains("x-hub-signature-256"));

    let malformed = hookline(
        &[
            "verify",
            "--scheme",
            "stripe",
            "--secret",
            "x",
            "-H",
            "Stripe-Signature: v1=00",
            "--body-file",
            "-",
        ],
        Some(b"{}"),
    )
    .await;
    assert!(
        stdout(&malformed).contains("malformed header `stripe-signature`"),
        "{}",
        stdout(&malformed)
    );
}

#[tokio::test]
async fn github_vector_from_a_file() {
    let dir = std::env::temp_dir().join(format!("hookline-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("body");
    std::fs::write(&body, "Hello, World!").unwrap();
    let out = hookline(
        &[
            "verify", "--scheme", "github", "--secret", "It's a Secret to Everybody",
            "-H", "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "--body-file", body.to_str().unwrap(),
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out).trim(), "valid (secret #1 of 1)");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn bad_input_exits_2() {
    let out = hookline(
        &[
            "verify",
            "--scheme",
            "github",
            "--secret",
            "x",
            "--body-file",
            "/no/such",
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read the body file"));
    let out = hookline(&["verify", "--scheme", "nope", "--secret", "x"], None).await;
    assert_eq!(out.status.code(), Some(2));
    let out = hookline(&["verify", "--scheme", "github"], None).await;
    assert_eq!(out.status.code(), Some(2), "a secret is required");
}
