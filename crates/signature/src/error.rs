//! Errors of signing and verifying, one variant per distinct failure.

/// A secret that cannot be turned into the key a scheme needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the secret is not valid base64 (Standard Webhooks secrets look like whsec_<base64>)")]
    Base64,
    #[error("the secret decodes to no bytes")]
    Empty,
    #[error("the ed25519 key has the wrong length (whsk_ takes 32 or 64 bytes, whpk_ 32)")]
    Length,
    #[error("the bytes are not a valid ed25519 key")]
    Ed25519,
    #[error("a whpk_ public key can only verify; signing needs the whsk_ private key")]
    NotPrivate,
}

/// Why signing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("invalid secret: {0}")]
    Secret(#[from] SecretError),
    #[error("the {0} scheme needs a timestamp")]
    MissingTimestamp(&'static str),
    #[error("the {0} scheme needs a message id")]
    MissingId(&'static str),
    #[error("cannot put `{0}` in a header")]
    HeaderValue(String),
}

/// Why a request failed verification. Each variant names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header `{0}`")]
    MissingHeader(&'static str),
    #[error("malformed header `{header}`: {reason}")]
    MalformedHeader {
        header: &'static str,
        reason: String,
    },
    #[error("no signature matches any of the {secrets} secret(s)")]
    NoMatchingSignature { secrets: usize },
    #[error("timestamp too old: {age_secs} s in the past, tolerance is {tolerance_secs} s")]
    TimestampTooOld { age_secs: i64, tolerance_secs: i64 },
    #[error("timestamp too new: {ahead_secs} s in the future, tolerance is {tolerance_secs} s")]
    TimestampTooNew {
        ahead_secs: i64,
        tolerance_secs: i64,
    },
    #[error("no secret configured to verify with")]
    NoSecret,
    #[error("invalid secret #{index}: {source}")]
    Secret { index: usize, source: SecretError },
}

impl VerifyError {
    /// A stable machine-readable code for the failure (used in API answers and logs).
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader(_) => "missing_header",
            VerifyError::MalformedHeader { .. } => "malformed_header",
            VerifyError::NoMatchingSignature { .. } => "no_matching_signature",
            VerifyError::TimestampTooOld { .. } => "timestamp_too_old",
            VerifyError::TimestampTooNew { .. } => "timestamp_too_new",
            VerifyError::NoSecret => "no_secret",
            VerifyError::Secret { .. } => "invalid_secret",
        }
    }
}
