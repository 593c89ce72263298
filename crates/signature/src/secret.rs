//! Secrets that never print, and the key material each scheme derives from them.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::error::SecretError;

/// A webhook secret. `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret string.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret's text, for code that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

/// The key a Standard Webhooks secret stands for.
pub(crate) enum StandardKey {
    /// `whsec_<base64>` (prefix optional): a symmetric HMAC key, signs `v1`.
    Symmetric(Vec<u8>),
    /// `whsk_<base64>`: an ed25519 private key (32-byte seed or 64-byte keypair), signs `v1a`.
    Private(Box<SigningKey>),
    /// `whpk_<base64>`: an ed25519 public key, verifies `v1a` only.
    Public(VerifyingKey),
}

impl StandardKey {
    pub(crate) fn parse(secret: &Secret) -> Result<StandardKey, SecretError> {
        let s = secret.expose().trim();
        if let Some(rest) = s.strip_prefix("whsk_") {
            let bytes = decode(rest)?;
            let key = match bytes.len() {
                32 => {
                    let seed: [u8; 32] = bytes.try_into().map_err(|_| SecretError::Length)?;
                    SigningKey::from_bytes(&seed)
                }
                64 => {
                    let pair: [u8; 64] = bytes.try_into().map_err(|_| SecretError::Length)?;
                    SigningKey::from_keypair_bytes(&pair).map_err(|_| SecretError::Ed25519)?
                }
                _ => return Err(SecretError::Length),
            };
            return Ok(StandardKey::Private(Box::new(key)));
        }
        if let Some(rest) = s.strip_prefix("whpk_") {
            let raw: [u8; 32] = decode(rest)?.try_into().map_err(|_| SecretError::Length)?;
            let key = VerifyingKey::from_bytes(&raw).map_err(|_| SecretError::Ed25519)?;
            return Ok(StandardKey::Public(key));
        }
        let body = s.strip_prefix("whsec_").unwrap_or(s);
        let key = decode(body)?;
        if key.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(StandardKey::Symmetric(key))
    }
}

fn decode(b64: &str) -> Result<Vec<u8>, SecretError> {
    B64.decode(b64).map_err(|_| SecretError::Base64)
}

/// The `whpk_` public key of a `whsk_` private key, for handing to receivers.
pub fn standard_public_key(private: &Secret) -> Result<String, SecretError> {
    match StandardKey::parse(private)? {
        StandardKey::Private(k) => Ok(format!("whpk_{}", B64.encode(k.verifying_key().as_bytes()))),
        _ => Err(SecretError::NotPrivate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("whsec_supersecret");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert!(!format!("{:?}", vec![s.clone()]).contains("supersecret"));
    }

    #[test]
    fn standard_secret_forms() {
        assert!(matches!(
            StandardKey::parse(&"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".into()),
            Ok(StandardKey::Symmetric(k)) if k.len() == 24
        ));
        assert!(matches!(
            StandardKey::parse(&"whsec_%%%".into()),
            Err(SecretError::Base64)
        ));
        let seed = B64.encode([7u8; 32]);
        let sk: Secret = format!("whsk_{seed}").into();
        assert!(matches!(
            StandardKey::parse(&sk),
            Ok(StandardKey::Private(_))
        ));
        let pk = standard_public_key(&sk).unwrap();
        assert!(matches!(
            StandardKey::parse(&pk.into()),
            Ok(StandardKey::Public(_))
        ));
        assert!(matches!(
            StandardKey::parse(&"whpk_AAAA".into()),
            Err(SecretError::Length)
        ));
    }
}
