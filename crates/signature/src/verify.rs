//! Verification: does a received request carry a valid signature by one of our
//! secrets, within the timestamp tolerance?

use std::time::Duration;

use ed25519_dalek::{Signature, VerifyingKey};
use http::HeaderMap;

use crate::error::VerifyError;
use crate::mac::{ct_eq, hmac_sha256};
use crate::parse::{self, StandardVersion};
use crate::secret::{Secret, StandardKey};
use crate::Scheme;

/// Five minutes, in both directions, as Standard Webhooks, Stripe and Slack advise.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// What a successful verification learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Which of the given secrets matched (0 = the first): tells rotation progress.
    pub secret_index: usize,
    /// The signed timestamp, for the schemes that carry one.
    pub timestamp: Option<i64>,
}

impl Scheme {
    /// Verifies a request: `headers` and the exact `body` bytes, against any of
    /// `secrets`, at time `now` (Unix seconds), allowing `tolerance` of clock skew.
    pub fn verify(
        self,
        headers: &HeaderMap,
        body: &[u8],
        secrets: &[Secret],
        now: i64,
        tolerance: Duration,
    ) -> Result<Verified, VerifyError> {
        if secrets.is_empty() {
            return Err(VerifyError::NoSecret);
        }
        let (secret_index, timestamp) = match self {
            Scheme::HmacSha256 => body_mac(headers, body, secrets, "x-webhook-signature", |v| {
                parse::prefixed_hex(v, "sha256=")
            })?,
            Scheme::Hex => body_mac(headers, body, secrets, "x-signature", parse::hex_bytes)?,
            Scheme::Base64 => body_mac(
                headers,
                body,
                secrets,
                "x-webhook-signature",
                parse::base64_bytes,
            )?,
            Scheme::Github => body_mac(headers, body, secrets, "x-hub-signature-256", |v| {
                parse::prefixed_hex(v, "sha256=")
            })?,
            Scheme::Shopify => body_mac(
                headers,
                body,
                secrets,
                "x-shopify-hmac-sha256",
                parse::base64_bytes,
            )?,
            Scheme::Stripe => stripe(headers, body, secrets)?,
            Scheme::Slack => slack(headers, body, secrets)?,
            Scheme::Standard => standard(headers, body, secrets)?,
        };
        if let Some(ts) = timestamp {
            check_tolerance(ts, now, tolerance)?;
        }
        Ok(Verified {
            secret_index,
            timestamp,
        })
    }
}

type Matched = (usize, Option<i64>);

fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, VerifyError> {
    let value = headers.get(name).ok_or(VerifyError::MissingHeader(name))?;
    value.to_str().map_err(|_| VerifyError::MalformedHeader {
        header: name,
        reason: "not visible ASCII".into(),
    })
}

fn parsed<T>(
    headers: &HeaderMap,
    name: &'static str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, VerifyError> {
    parse(header(headers, name)?).map_err(|reason| VerifyError::MalformedHeader {
        header: name,
        reason,
    })
}

/// The index of the first secret whose MAC over `parts` is in `candidates`.
fn find_mac(
    secrets: &[Secret],
    parts: &[&[u8]],
    candidates: &[Vec<u8>],
) -> Result<usize, VerifyError> {
    secrets
        .iter()
        .position(|s| {
            let mac = hmac_sha256(s.expose().as_bytes(), parts);
            candidates.iter().any(|c| ct_eq(&mac, c))
        })
        .ok_or(VerifyError::NoMatchingSignature {
            secrets: secrets.len(),
        })
}

fn body_mac(
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[Secret],
    name: &'static str,
    parse: impl Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<Matched, VerifyError> {
    let sig = parsed(headers, name, parse)?;
    Ok((find_mac(secrets, &[body], &[sig])?, None))
}

fn stripe(headers: &HeaderMap, body: &[u8], secrets: &[Secret]) -> Result<Matched, VerifyError> {
    let h = parsed(headers, "stripe-signature", parse::stripe)?;
    let ts = h.timestamp.to_string();
    let i = find_mac(secrets, &[ts.as_bytes(), b".", body], &h.v1)?;
    Ok((i, Some(h.timestamp)))
}

fn slack(headers: &HeaderMap, body: &[u8], secrets: &[Secret]) -> Result<Matched, VerifyError> {
    let ts = parsed(headers, "x-slack-request-timestamp", parse::unix_timestamp)?;
    let sig = parsed(headers, "x-slack-signature", |v| {
        parse::prefixed_hex(v, "v0=")
    })?;
    let ts_text = ts.to_string();
    let i = find_mac(secrets, &[b"v0:", ts_text.as_bytes(), b":", body], &[sig])?;
    Ok((i, Some(ts)))
}

fn standard(headers: &HeaderMap, body: &[u8], secrets: &[Secret]) -> Result<Matched, VerifyError> {
    let id = header(headers, "webhook-id")?;
    let ts = parsed(headers, "webhook-timestamp", parse::unix_timestamp)?;
    let sigs = parsed(headers, "webhook-signature", parse::standard_signatures)?;
    let ts_text = ts.to_string();
    let signed = [id.as_bytes(), b".", ts_text.as_bytes(), b".", body];
    for (index, secret) in secrets.iter().enumerate() {
        let key =
            StandardKey::parse(secret).map_err(|source| VerifyError::Secret { index, source })?;
        let ok = match key {
            StandardKey::Symmetric(k) => {
                let mac = hmac_sha256(&k, &signed);
                sigs.iter()
                    .any(|(v, s)| *v == StandardVersion::V1 && ct_eq(&mac, s))
            }
            StandardKey::Private(k) => ed25519_matches(&k.verifying_key(), &signed, &sigs),
            StandardKey::Public(k) => ed25519_matches(&k, &signed, &sigs),
        };
        if ok {
            return Ok((index, Some(ts)));
        }
    }
    Err(VerifyError::NoMatchingSignature {
        secrets: secrets.len(),
    })
}

fn ed25519_matches(
    key: &VerifyingKey,
    signed: &[&[u8]],
    sigs: &[(StandardVersion, Vec<u8>)],
) -> bool {
    let message = signed.concat();
    sigs.iter().any(|(v, s)| {
        *v == StandardVersion::V1a
            && Signature::from_slice(s).is_ok_and(|sig| key.verify_strict(&message, &sig).is_ok())
    })
}

fn check_tolerance(ts: i64, now: i64, tolerance: Duration) -> Result<(), VerifyError> {
    let tol = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    let skew = now.saturating_sub(ts);
    if skew > tol {
        Err(VerifyError::TimestampTooOld {
            age_secs: skew,
            tolerance_secs: tol,
        })
    } else if skew < -tol {
        Err(VerifyError::TimestampTooNew {
            ahead_secs: skew.saturating_neg(),
            tolerance_secs: tol,
        })
    } else {
        Ok(())
    }
}
