//! The providers' own documented vectors, in both directions.

#![allow(clippy::unwrap_used)]

use hookline_signature::{Scheme, Secret, SignInput, DEFAULT_TOLERANCE};
use http::HeaderMap;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, v.parse().expect("header value"));
    }
    h
}

fn sign(scheme: Scheme, secret: &str, body: &[u8], id: &str, ts: i64) -> HeaderMap {
    let input = SignInput {
        body,
        id,
        timestamp: ts,
        event: None,
    };
    scheme.sign(&Secret::new(secret), &input).expect("sign")
}

#[test]
fn standard_webhooks_vector() {
    let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let body = br#"{"email":"test@example.com","username":"test_user"}"#;
    let (id, ts) = ("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553);
    let expected = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    let h = sign(Scheme::Standard, secret, body, id, ts);
    assert_eq!(h["webhook-signature"], expected);
    assert_eq!(h["webhook-id"], id);
    assert_eq!(h["webhook-timestamp"], "1649367553");

    let given = headers(&[
        ("webhook-id", id),
        ("webhook-timestamp", "1649367553"),
        ("webhook-signature", expected),
    ]);
    let ok = Scheme::Standard
        .verify(&given, body, &[secret.into()], ts, DEFAULT_TOLERANCE)
        .expect("documented vector verifies");
    assert_eq!(ok.timestamp, Some(ts));
}

#[test]
fn github_vector() {
    let secret = "It's a Secret to Everybody";
    let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let h = sign(Scheme::Github, secret, b"Hello, World!", "d1", 0);
    assert_eq!(h["x-hub-signature-256"], expected);
    let given = headers(&[("x-hub-signature-256", expected)]);
    Scheme::Github
        .verify(
            &given,
            b"Hello, World!",
            &[secret.into()],
            0,
            DEFAULT_TOLERANCE,
        )
        .expect("documented vector verifies");
}

const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

#[test]
fn slack_vector() {
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    let h = sign(
        Scheme::Slack,
        secret,
        SLACK_BODY.as_bytes(),
        "x",
        1531420618,
    );
    assert_eq!(h["x-slack-signature"], expected);
    assert_eq!(h["x-slack-request-timestamp"], "1531420618");
    let given = headers(&[
        ("x-slack-request-timestamp", "1531420618"),
        ("x-slack-signature", expected),
    ]);
    Scheme::Slack
        .verify(
            &given,
            SLACK_BODY.as_bytes(),
            &[secret.into()],
            1531420618,
            DEFAULT_TOLERANCE,
        )
        .expect("documented vector verifies");
}

/// The classic tutorial's scheme: HMAC-SHA256 of the raw body, `sha256=` + hex.
/// Same primitive as GitHub's, so GitHub's vector pins it too.
#[test]
fn tutorial_hmac_sha256_matches_github_primitive() {
    let secret = "It's a Secret to Everybody";
    let h = sign(Scheme::HmacSha256, secret, b"Hello, World!", "x", 0);
    assert_eq!(
        h["x-webhook-signature"],
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
    let hexed = sign(Scheme::Hex, secret, b"Hello, World!", "x", 0);
    assert_eq!(
        hexed["x-signature"],
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

/// Stripe keys the HMAC with the whole secret, `whsec_` included.
#[test]
fn stripe_uses_the_whole_secret_string() {
    let h = sign(Scheme::Stripe, "whsec_test", b"{}", "x", 1_700_000_000);
    let with_prefix = h["stripe-signature"].to_str().unwrap().to_string();
    let g = sign(Scheme::Github, "whsec_test", b"1700000000.{}", "x", 0);
    let github_hex = g["x-hub-signature-256"]
        .to_str()
        .unwrap()
        .trim_start_matches("sha256=");
    assert_eq!(with_prefix, format!("t=1700000000,v1={github_hex}"));
}
