//! Signing: the headers a sender attaches for a scheme.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::Signer;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{SecretError, SignError};
use crate::mac::hmac_sha256;
use crate::secret::{Secret, StandardKey};
use crate::Scheme;

/// What is signed: the exact body bytes, plus the id, timestamp and event type
/// for the schemes that carry them (the others ignore them).
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// The raw body, exactly as it will be sent.
    pub body: &'a [u8],
    /// A unique message id (`webhook-id`, `X-GitHub-Delivery`, `X-Shopify-Webhook-Id`).
    pub id: &'a str,
    /// Unix seconds (`webhook-timestamp`, Stripe's `t`, Slack's request timestamp).
    pub timestamp: i64,
    /// The event type, sent as `X-GitHub-Event` / `X-Shopify-Topic` when present.
    pub event: Option<&'a str>,
}

impl Scheme {
    /// The headers that sign `input` with `secret`.
    pub fn sign(self, secret: &Secret, input: &SignInput<'_>) -> Result<HeaderMap, SignError> {
        self.sign_all(std::slice::from_ref(secret), input)
    }

    /// Signs with several secrets at once, for rotation: `standard` and `stripe`
    /// carry one signature per secret; the other schemes' headers hold a single
    /// signature, made with the first secret.
    pub fn sign_all(
        self,
        secrets: &[Secret],
        input: &SignInput<'_>,
    ) -> Result<HeaderMap, SignError> {
        let Some(first) = secrets.first() else {
            return Ok(HeaderMap::new());
        };
        let body = input.body;
        let ts = input.timestamp.to_string();
        let mut h = Headers::default();
        match self {
            Scheme::HmacSha256 => h.put(
                "x-webhook-signature",
                format!("sha256={}", hex::encode(mac(first, &[body]))),
            )?,
            Scheme::Hex => h.put("x-signature", hex::encode(mac(first, &[body])))?,
            Scheme::Base64 => h.put("x-webhook-signature", B64.encode(mac(first, &[body])))?,
            Scheme::Github => {
                h.put(
                    "x-hub-signature-256",
                    format!("sha256={}", hex::encode(mac(first, &[body]))),
                )?;
                h.put("x-github-delivery", input.id)?;
                h.put_opt("x-github-event", input.event)?;
            }
            Scheme::Shopify => {
                h.put("x-shopify-hmac-sha256", B64.encode(mac(first, &[body])))?;
                h.put("x-shopify-webhook-id", input.id)?;
                h.put_opt("x-shopify-topic", input.event)?;
            }
            Scheme::Slack => {
                let sig = mac(first, &[b"v0:", ts.as_bytes(), b":", body]);
                h.put("x-slack-request-timestamp", &ts)?;
                h.put("x-slack-signature", format!("v0={}", hex::encode(sig)))?;
            }
            Scheme::Stripe => {
                let mut value = format!("t={ts}");
                for s in secrets {
                    let sig = mac(s, &[ts.as_bytes(), b".", body]);
                    value.push_str(",v1=");
                    value.push_str(&hex::encode(sig));
                }
                h.put("stripe-signature", value)?;
            }
            Scheme::Standard => {
                let signed = [input.id.as_bytes(), b".", ts.as_bytes(), b".", body];
                let mut list = Vec::with_capacity(secrets.len());
                for s in secrets {
                    list.push(match StandardKey::parse(s)? {
                        StandardKey::Symmetric(key) => {
                            format!("v1,{}", B64.encode(hmac_sha256(&key, &signed)))
                        }
                        StandardKey::Private(key) => {
                            let sig = key.sign(&signed.concat());
                            format!("v1a,{}", B64.encode(sig.to_bytes()))
                        }
                        StandardKey::Public(_) => return Err(SecretError::NotPrivate.into()),
                    });
                }
                h.put("webhook-id", input.id)?;
                h.put("webhook-timestamp", &ts)?;
                h.put("webhook-signature", list.join(" "))?;
            }
        }
        Ok(h.0)
    }
}

/// HMAC-SHA256 keyed by the secret's UTF-8 bytes (every scheme but `standard`;
/// Stripe's `whsec_` prefix is part of the key, as Stripe's libraries do).
fn mac(secret: &Secret, parts: &[&[u8]]) -> [u8; 32] {
    hmac_sha256(secret.expose().as_bytes(), parts)
}

#[derive(Default)]
struct Headers(HeaderMap);

impl Headers {
    fn put(&mut self, name: &'static str, value: impl AsRef<str>) -> Result<(), SignError> {
        let value = value.as_ref();
        let v = HeaderValue::from_str(value).map_err(|_| SignError::HeaderValue(value.into()))?;
        self.0.insert(HeaderName::from_static(name), v);
        Ok(())
    }

    fn put_opt(&mut self, name: &'static str, value: Option<&str>) -> Result<(), SignError> {
        value.map_or(Ok(()), |v| self.put(name, v))
    }
}
