//! The signature schemes and their wire names.

use std::fmt;
use std::str::FromStr;

/// A webhook signature scheme. `docs/architecture.md` has the table of headers and
/// signed content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `X-Webhook-Signature: sha256=<hex>` over the raw body (the tutorial's scheme).
    HmacSha256,
    /// `X-Signature: <hex>` over the raw body.
    Hex,
    /// `X-Webhook-Signature: <base64>` over the raw body.
    Base64,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    Standard,
    /// GitHub: `X-Hub-Signature-256: sha256=<hex>`.
    Github,
    /// Stripe: `Stripe-Signature: t=<ts>,v1=<hex>`.
    Stripe,
    /// Slack: `X-Slack-Signature: v0=<hex>` with `X-Slack-Request-Timestamp`.
    Slack,
    /// Shopify: `X-Shopify-Hmac-Sha256: <base64>`.
    Shopify,
}

impl Scheme {
    /// Every scheme, in documentation order.
    pub const ALL: [Scheme; 8] = [
        Scheme::HmacSha256,
        Scheme::Hex,
        Scheme::Base64,
        Scheme::Standard,
        Scheme::Github,
        Scheme::Stripe,
        Scheme::Slack,
        Scheme::Shopify,
    ];

    /// The name used in configuration, flags and the API.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::HmacSha256 => "hmac-sha256",
            Scheme::Hex => "hex",
            Scheme::Base64 => "base64",
            Scheme::Standard => "standard",
            Scheme::Github => "github",
            Scheme::Stripe => "stripe",
            Scheme::Slack => "slack",
            Scheme::Shopify => "shopify",
        }
    }

    /// Whether the scheme signs a timestamp (and so rejects replays outside a tolerance).
    pub fn has_timestamp(self) -> bool {
        matches!(self, Scheme::Standard | Scheme::Stripe | Scheme::Slack)
    }

    /// The header that carries the signature.
    pub fn signature_header(self) -> &'static str {
        match self {
            Scheme::HmacSha256 | Scheme::Base64 => "x-webhook-signature",
            Scheme::Hex => "x-signature",
            Scheme::Standard => "webhook-signature",
            Scheme::Github => "x-hub-signature-256",
            Scheme::Stripe => "stripe-signature",
            Scheme::Slack => "x-slack-signature",
            Scheme::Shopify => "x-shopify-hmac-sha256",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown scheme name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signature scheme `{0}`; expected one of: hmac-sha256, hex, base64, standard, github, stripe, slack, shopify")]
pub struct UnknownScheme(pub String);

impl FromStr for Scheme {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some(x) = Scheme::ALL.into_iter().find(|x| x.name() == lower) {
            return Ok(x);
        }
        match lower.as_str() {
            "standard-webhooks" | "svix" => Ok(Scheme::Standard),
            "sha256" | "hmac" => Ok(Scheme::HmacSha256),
            _ => Err(UnknownScheme(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scheme::ALL {
            assert_eq!(s.name().parse::<Scheme>(), Ok(s));
            assert_eq!(s.to_string(), s.name());
        }
        assert_eq!("Svix".parse::<Scheme>(), Ok(Scheme::Standard));
        let err = "md5".parse::<Scheme>().unwrap_err();
        assert!(err.to_string().contains("hmac-sha256, hex"));
    }
}
