//! A whole webhook request's headers, as a sender builds them (the CLI's
//! `send`, the web UI's Send page): JSON content type, `X-Event-Type`, and the
//! scheme's signature headers when there is a secret.

use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};

use crate::{Scheme, Secret, SignError, SignInput};

/// The headers for one request of `input.body`, signed with `secret` if given.
pub fn webhook_headers(
    scheme: Scheme,
    secret: Option<&Secret>,
    input: &SignInput<'_>,
) -> Result<HeaderMap, SignError> {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(event) = input.event {
        let v = HeaderValue::from_str(event).map_err(|_| SignError::HeaderValue(event.into()))?;
        h.insert("x-event-type", v);
    }
    if let Some(secret) = secret {
        h.extend(scheme.sign(secret, input)?);
    }
    Ok(h)
}

/// `x-event-type` → `X-Event-Type`, as people write header names.
pub fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_a_signed_and_an_unsigned_request() {
        let input = SignInput {
            body: b"{}",
            id: "msg_1",
            timestamp: 1,
            event: Some("user.created"),
        };
        let plain = webhook_headers(Scheme::HmacSha256, None, &input).unwrap_or_default();
        assert_eq!(plain.len(), 2);
        assert_eq!(plain["x-event-type"], "user.created");
        let signed = webhook_headers(Scheme::HmacSha256, Some(&Secret::new("s")), &input)
            .unwrap_or_default();
        assert!(signed["x-webhook-signature"]
            .to_str()
            .is_ok_and(|v| v.starts_with("sha256=")));
        let bad = SignInput {
            event: Some("bad\nname"),
            ..input
        };
        assert!(webhook_headers(Scheme::Hex, None, &bad).is_err());
        assert_eq!(title_case("x-hub-signature-256"), "X-Hub-Signature-256");
    }
}
