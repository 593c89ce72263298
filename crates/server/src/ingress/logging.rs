//! What a received webhook leaves in the log: at info one line without any
//! header value; the headers only at debug, credentials redacted by name and
//! every value capped; and a flood of rejected requests summarised once a
//! second instead of logged line by line.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use http::HeaderMap;

/// The longest header value or reason a log line carries.
pub const VALUE_CAP: usize = 200;

/// Rejected requests logged line by line per source and second; the rest are counted.
const REJECTED_PER_SECOND: u64 = 10;

/// Whether a header carries a credential, judged by its name.
pub fn sensitive(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "authorization",
        "cookie",
        "token",
        "key",
        "secret",
        "password",
        "signature",
        "auth",
    ]
    .iter()
    .any(|w| n.contains(w))
}

pub use hookline_core::text::clip;

/// Headers for a debug line: credentials replaced, values capped.
pub fn redacted(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let value = if sensitive(k.as_str()) {
                "[redacted]".to_string()
            } else {
                clip(&String::from_utf8_lossy(v.as_bytes()), VALUE_CAP)
            };
            (k.as_str().to_string(), value)
        })
        .collect()
}

/// Counts a source's rejected requests per second, so a flood of them costs
/// the log one summary line a second.
#[derive(Default)]
pub struct RejectedFlood {
    second: AtomicI64,
    this_second: AtomicU64,
    suppressed: AtomicU64,
}

impl RejectedFlood {
    /// Whether a rejected request at `now_ms` may have its own line, and how
    /// many earlier ones went unlogged (to say once, when a new second starts).
    pub fn admit(&self, now_ms: i64) -> (bool, u64) {
        let second = now_ms / 1000;
        let mut untold = 0;
        if self.second.swap(second, Ordering::Relaxed) != second {
            self.this_second.store(0, Ordering::Relaxed);
            untold = self.suppressed.swap(0, Ordering::Relaxed);
        }
        let n = self.this_second.fetch_add(1, Ordering::Relaxed);
        if n < REJECTED_PER_SECOND {
            (true, untold)
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            (false, untold)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_recognised_by_name() {
        for h in [
            "Authorization",
            "cookie",
            "X-Api-Key",
            "X-Gitlab-Token",
            "X-Hub-Signature-256",
            "x-client-secret",
            "proxy-authorization",
            "x-password",
        ] {
            assert!(sensitive(h), "{h}");
        }
        for h in ["content-type", "x-github-event", "user-agent"] {
            assert!(!sensitive(h), "{h}");
        }
    }

    #[test]
    fn a_flood_is_counted_not_logged() {
        let f = RejectedFlood::default();
        let logged = (0..100).filter(|_| f.admit(5_000).0).count();
        assert_eq!(logged, REJECTED_PER_SECOND as usize);
        assert_eq!(
            f.admit(6_000),
            (true, 90),
            "the next second tells how many went unlogged"
        );
    }
}
