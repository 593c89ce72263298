//! Sign-then-verify for every scheme, rotation, and property tests that any
//! change to body, signature, timestamp or secret fails verification.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use base64::Engine;
use hookline_signature::secret::standard_public_key;
use hookline_signature::{Scheme, Secret, SignInput, VerifyError, DEFAULT_TOLERANCE};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000;
const OBJ: &[u8] = b"{}";

fn secret_for(scheme: Scheme) -> Secret {
    match scheme {
        Scheme::Standard => Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        _ => Secret::new("s3cr3t-for-tests"),
    }
}

fn input(body: &[u8]) -> SignInput<'_> {
    SignInput {
        body,
        id: "msg_2b3c4d",
        timestamp: NOW,
        event: Some("user.created"),
    }
}

fn verify(
    scheme: Scheme,
    h: &HeaderMap,
    body: &[u8],
    secrets: &[Secret],
) -> Result<(), VerifyError> {
    scheme
        .verify(h, body, secrets, NOW, DEFAULT_TOLERANCE)
        .map(|_| ())
}

#[test]
fn every_scheme_round_trips() {
    for scheme in Scheme::ALL {
        let secret = secret_for(scheme);
        let body = br#"{"id":1,"name":"Alice"}"#;
        let h = scheme.sign(&secret, &input(body)).expect("sign");
        assert!(h.contains_key(scheme.signature_header()), "{scheme}");
        verify(scheme, &h, body, &[secret]).unwrap_or_else(|e| panic!("{scheme}: {e}"));
    }
}

#[test]
fn provider_extra_headers() {
    let s = Secret::new("k");
    let gh = Scheme::Github.sign(&s, &input(OBJ)).unwrap();
    assert_eq!(gh["x-github-event"], "user.created");
    assert_eq!(gh["x-github-delivery"], "msg_2b3c4d");
    let sh = Scheme::Shopify.sign(&s, &input(OBJ)).unwrap();
    assert_eq!(sh["x-shopify-topic"], "user.created");
    assert_eq!(sh["x-shopify-webhook-id"], "msg_2b3c4d");
}

#[test]
fn rotation_accepts_old_and_new_secret_and_reports_which() {
    for scheme in Scheme::ALL {
        let old = secret_for(scheme);
        let new = match scheme {
            Scheme::Standard => Secret::new("whsec_dGhlIG5ldyBzZWNyZXQgb2YgdGhlIHdlZWs="),
            _ => Secret::new("the-new-secret"),
        };
        let body = OBJ;
        let by_old = scheme.sign(&old, &input(body)).unwrap();
        let ok = scheme
            .verify(
                &by_old,
                body,
                &[new.clone(), old.clone()],
                NOW,
                DEFAULT_TOLERANCE,
            )
            .unwrap();
        assert_eq!(ok.secret_index, 1, "{scheme}");
        assert!(matches!(
            verify(scheme, &by_old, body, &[new]),
            Err(VerifyError::NoMatchingSignature { secrets: 1 })
        ));
    }
}

#[test]
fn standard_and_stripe_sign_with_every_secret_during_rotation() {
    for scheme in [Scheme::Standard, Scheme::Stripe] {
        let a = secret_for(scheme);
        let b = match scheme {
            Scheme::Standard => Secret::new("whsec_c2Vjb25kIHNlY3JldA=="),
            _ => Secret::new("second"),
        };
        let h = scheme
            .sign_all(&[a.clone(), b.clone()], &input(b"x"))
            .unwrap();
        verify(scheme, &h, b"x", &[a]).unwrap();
        verify(scheme, &h, b"x", &[b]).unwrap();
    }
}

#[test]
fn standard_ed25519_v1a() {
    let seed = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    let private = Secret::new(format!("whsk_{seed}"));
    let public = Secret::new(standard_public_key(&private).unwrap());
    let h = Scheme::Standard.sign(&private, &input(b"payload")).unwrap();
    assert!(h["webhook-signature"].to_str().unwrap().starts_with("v1a,"));
    verify(
        Scheme::Standard,
        &h,
        b"payload",
        std::slice::from_ref(&public),
    )
    .unwrap();
    verify(Scheme::Standard, &h, b"payload", &[private]).unwrap();
    assert!(matches!(
        verify(
            Scheme::Standard,
            &h,
            b"payloaD",
            std::slice::from_ref(&public)
        ),
        Err(VerifyError::NoMatchingSignature { .. })
    ));
    // A public key cannot sign.
    assert!(Scheme::Standard.sign(&public, &input(b"x")).is_err());
}

#[test]
fn standard_mixed_list_with_unknown_versions() {
    let secret = secret_for(Scheme::Standard);
    let mut h = Scheme::Standard.sign(&secret, &input(b"x")).unwrap();
    let sig = h["webhook-signature"].to_str().unwrap().to_string();
    let list = format!("v2,AAAA v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {sig}");
    h.insert("webhook-signature", HeaderValue::from_str(&list).unwrap());
    verify(Scheme::Standard, &h, b"x", &[secret]).unwrap();
}

#[test]
fn timestamps_outside_tolerance_are_distinct_errors() {
    for scheme in Scheme::ALL.into_iter().filter(|s| s.has_timestamp()) {
        let secret = secret_for(scheme);
        let h = scheme.sign(&secret, &input(OBJ)).unwrap();
        let late = scheme.verify(
            &h,
            OBJ,
            std::slice::from_ref(&secret),
            NOW + 301,
            DEFAULT_TOLERANCE,
        );
        assert_eq!(
            late,
            Err(VerifyError::TimestampTooOld {
                age_secs: 301,
                tolerance_secs: 300
            }),
            "{scheme}"
        );
        let early = scheme.verify(
            &h,
            OBJ,
            std::slice::from_ref(&secret),
            NOW - 301,
            DEFAULT_TOLERANCE,
        );
        assert_eq!(
            early,
            Err(VerifyError::TimestampTooNew {
                ahead_secs: 301,
                tolerance_secs: 300
            })
        );
        let edge = scheme.verify(
            &h,
            OBJ,
            std::slice::from_ref(&secret),
            NOW + 300,
            DEFAULT_TOLERANCE,
        );
        assert!(edge.is_ok());
        let wide = scheme.verify(&h, OBJ, &[secret], NOW + 3600, Duration::from_secs(7200));
        assert!(wide.is_ok());
    }
}

#[test]
fn missing_and_malformed_headers_are_distinct_errors() {
    for scheme in Scheme::ALL {
        let secret = secret_for(scheme);
        let mut h = scheme.sign(&secret, &input(OBJ)).unwrap();
        let name = scheme.signature_header();
        h.insert(name, HeaderValue::from_static("%%not-a-signature%%"));
        let err = verify(scheme, &h, OBJ, std::slice::from_ref(&secret)).unwrap_err();
        assert!(
            matches!(err, VerifyError::MalformedHeader { header, .. } if header == name),
            "{scheme}: {err}"
        );
        h.remove(name);
        assert_eq!(
            verify(scheme, &h, OBJ, std::slice::from_ref(&secret)),
            Err(VerifyError::MissingHeader(name))
        );
        assert_eq!(verify(scheme, &h, OBJ, &[]), Err(VerifyError::NoSecret));
    }
}

#[test]
fn invalid_standard_secret_is_reported() {
    let h = Scheme::Standard
        .sign(&secret_for(Scheme::Standard), &input(b"x"))
        .unwrap();
    let err = verify(Scheme::Standard, &h, b"x", &["whsec_***".into()]).unwrap_err();
    assert_eq!(err.code(), "invalid_secret");
}

fn no_match(r: Result<(), VerifyError>) -> bool {
    matches!(r, Err(VerifyError::NoMatchingSignature { .. }))
}

fn any_scheme() -> impl Strategy<Value = Scheme> {
    proptest::sample::select(Scheme::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_body_round_trips(scheme in any_scheme(), body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let secret = secret_for(scheme);
        let h = scheme.sign(&secret, &input(&body)).unwrap();
        prop_assert!(verify(scheme, &h, &body, &[secret]).is_ok());
    }

    #[test]
    fn a_changed_body_fails(scheme in any_scheme(), body in proptest::collection::vec(any::<u8>(), 1..256), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let secret = secret_for(scheme);
        let h = scheme.sign(&secret, &input(&body)).unwrap();
        let mut changed = body.clone();
        let i = at.index(changed.len());
        changed[i] ^= flip;
        prop_assert!(no_match(verify(scheme, &h, &changed, std::slice::from_ref(&secret))));
        let mut longer = body.clone();
        longer.push(b' ');
        prop_assert!(verify(scheme, &h, &longer, &[secret]).is_err());
    }

    #[test]
    fn a_changed_signature_fails(scheme in any_scheme(), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let secret = secret_for(scheme);
        let mut h = scheme.sign(&secret, &input(OBJ)).unwrap();
        let name = scheme.signature_header();
        let mut bytes = h[name].as_bytes().to_vec();
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        // Only values that can still travel in a header are a meaningful tamper.
        if let Ok(v) = HeaderValue::from_bytes(&bytes) {
            h.insert(name, v);
            prop_assert!(verify(scheme, &h, OBJ, &[secret]).is_err());
        }
    }

    #[test]
    fn a_changed_timestamp_fails(scheme in proptest::sample::select(vec![Scheme::Standard, Scheme::Stripe, Scheme::Slack]), delta in prop_oneof![-300i64..0, 1i64..300]) {
        let secret = secret_for(scheme);
        let h = scheme.sign(&secret, &input(OBJ)).unwrap();
        let forged = scheme.sign(&secret, &SignInput { timestamp: NOW + delta, ..input(OBJ) }).unwrap();
        // Splice the new timestamp into the original signature.
        let mut spliced = h.clone();
        match scheme {
            Scheme::Standard => { spliced.insert("webhook-timestamp", forged["webhook-timestamp"].clone()); }
            Scheme::Slack => { spliced.insert("x-slack-request-timestamp", forged["x-slack-request-timestamp"].clone()); }
            _ => {
                let orig = h["stripe-signature"].to_str().unwrap();
                let v1 = orig.split_once(',').unwrap().1;
                let value = format!("t={},{v1}", NOW + delta);
                spliced.insert("stripe-signature", HeaderValue::from_str(&value).unwrap());
            }
        }
        prop_assert!(no_match(verify(scheme, &spliced, OBJ, &[secret])));
    }

    #[test]
    fn a_changed_secret_fails(scheme in any_scheme(), other in "[a-zA-Z0-9]{1,40}") {
        let secret = secret_for(scheme);
        let h = scheme.sign(&secret, &input(OBJ)).unwrap();
        let wrong = match scheme {
            Scheme::Standard => Secret::new(format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(&other))),
            _ => Secret::new(other),
        };
        prop_assume!(wrong != secret);
        prop_assert!(no_match(verify(scheme, &h, OBJ, &[wrong])));
    }

    /// The fuzz target over whole requests: arbitrary header bytes never panic.
    #[test]
    fn arbitrary_headers_never_panic(scheme in any_scheme(), values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 4)) {
        let names = ["webhook-id", "webhook-timestamp", scheme.signature_header(), "x-slack-request-timestamp"];
        let mut h = HeaderMap::new();
        for (name, v) in names.iter().zip(values) {
            if let Ok(v) = HeaderValue::from_bytes(&v) { h.insert(*name, v); }
        }
        let _ = scheme.verify(&h, b"body", &[secret_for(scheme)], NOW, DEFAULT_TOLERANCE);
    }
}
