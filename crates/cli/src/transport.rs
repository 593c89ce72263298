//! The HTTP client and transport errors in plain language.

use std::error::Error as StdError;
use std::time::Duration;

use serde::Serialize;

/// A client that reuses connections and never follows redirects (a webhook's
/// answer is the receiver's, not some other URL's).
pub fn client(timeout: Duration, pool: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(pool)
        .user_agent(concat!("hookline/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// What went wrong on the way, sorted into the kinds a user acts on differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    Timeout,
    ConnectionRefused,
    Dns,
    Tls,
    Connect,
    Other,
}

/// A transport failure with a message that says what to do.
#[derive(Debug, Clone, Serialize)]
pub struct TransportError {
    pub kind: FailureKind,
    pub message: String,
}

/// Classifies a reqwest error for `url`, sent with `timeout`.
pub fn classify(err: &reqwest::Error, url: &url::Url, timeout: Duration) -> TransportError {
    let chain = chain_text(err);
    let host = url.host_str().unwrap_or("?");
    let target = format!("{host}:{}", url.port_or_known_default().unwrap_or(0));
    let (kind, message) = if err.is_timeout() || chain.contains("timed out") {
        (
            FailureKind::Timeout,
            format!("timed out after {} s waiting for {target}; raise --timeout if the receiver is slow", fmt_secs(timeout)),
        )
    } else if chain.contains("dns error") || chain.contains("failed to lookup address") {
        (
            FailureKind::Dns,
            format!("DNS lookup failed: cannot resolve `{host}`; check the host name"),
        )
    } else if is_refused(err) {
        (
            FailureKind::ConnectionRefused,
            format!(
                "connection refused: nothing is listening at {target}; is the receiver running?"
            ),
        )
    } else if chain.contains("certificate")
        || chain.contains("tls")
        || chain.contains("handshake")
        || chain.contains("corrupt message")
    {
        (
            FailureKind::Tls,
            format!("TLS failure talking to {target}: {}", last_cause(err)),
        )
    } else if err.is_connect() {
        (
            FailureKind::Connect,
            format!("cannot connect to {target}: {}", last_cause(err)),
        )
    } else {
        (
            FailureKind::Other,
            format!("request failed: {}", last_cause(err)),
        )
    };
    TransportError { kind, message }
}

fn is_refused(err: &reqwest::Error) -> bool {
    let mut source: Option<&dyn StdError> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        source = e.source();
    }
    false
}

fn chain_text(err: &reqwest::Error) -> String {
    let mut out = String::new();
    let mut source: Option<&dyn StdError> = Some(err);
    while let Some(e) = source {
        out.push_str(&e.to_string().to_ascii_lowercase());
        out.push_str(" | ");
        source = e.source();
    }
    out
}

fn last_cause(err: &reqwest::Error) -> String {
    let mut last: &dyn StdError = err;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// `10` for whole seconds, `0.5` otherwise.
pub fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}
