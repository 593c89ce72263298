//! After a try: delivered, retry when, or failed.

use std::time::{Duration, SystemTime};

use hookline_core::{Next, RetryPolicy};
use rand::Rng;

use crate::attempt::Outcome;

/// The longest `Retry-After` we wait for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The next step after a try, given how many tries came before it, the
/// schedule (the endpoint's or the default) and the jitter fraction.
/// The metrics label of a try that led to `next`.
pub(crate) fn label(next: Next, outcome: &Outcome) -> &'static str {
    match (next, outcome.status) {
        (_, 410) => "gone",
        (Next::Success, _) => "delivered",
        (Next::RetryAt(_), _) => "retry",
        (Next::Failed, _) => "failed",
    }
}

/// What comes after a try, for a person reading the log: `delivered`,
/// `next try in 5 s at 2026-12-02T21:42:06Z`, or `failed for good`.
pub(crate) fn said(next: Next, now_ms: i64) -> String {
    match next {
        Next::Success => "delivered".into(),
        Next::Failed => "failed for good (dead letter)".into(),
        Next::RetryAt(at) => {
            let wait = Duration::from_millis(u64::try_from(at - now_ms).unwrap_or(0));
            let when =
                SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(at).unwrap_or(0));
            format!(
                "next try in {} at {}",
                humantime::format_duration(Duration::from_secs(wait.as_secs().max(1))),
                humantime::format_rfc3339_seconds(when)
            )
        }
    }
}

pub(crate) fn next(
    schedule: &RetryPolicy,
    jitter_fraction: f64,
    attempts_before: u32,
    outcome: &Outcome,
    now_ms: i64,
) -> Next {
    if outcome.ok() {
        return Next::Success;
    }
    // Gone for good, or nothing that could be sent: no retry helps.
    if outcome.status == 410 || outcome.unsendable {
        return Next::Failed;
    }
    let Some(delay) = schedule.delay_after(attempts_before.saturating_add(1)) else {
        return Next::Failed;
    };
    let mut delay = jitter(delay, jitter_fraction);
    if let Some(asked) = outcome.retry_after {
        delay = delay.max(asked.min(MAX_RETRY_AFTER));
    }
    Next::RetryAt(now_ms.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)))
}

/// `d` ± `fraction` at random, so retries of many failures spread out.
fn jitter(d: Duration, fraction: f64) -> Duration {
    if fraction <= 0.0 {
        return d;
    }
    let f = rand::thread_rng().gen_range(-fraction..=fraction);
    d.mul_f64((1.0 + f).max(0.0))
}

/// `Retry-After`: delay-seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_comes_next_reads_as_words_and_times() {
        let now = 1_796_161_156_041;
        assert_eq!(
            said(Next::RetryAt(now + 5_000), now),
            "next try in 5s at 2026-12-01T21:39:21Z"
        );
        assert_eq!(said(Next::Success, now), "delivered");
        assert!(said(Next::Failed, now).starts_with("failed for good"));
    }

    fn outcome(status: u16, retry_after: Option<u64>) -> Outcome {
        Outcome {
            status,
            response: String::new(),
            duration: Duration::ZERO,
            retry_after: retry_after.map(Duration::from_secs),
            unsendable: false,
        }
    }

    fn next(attempts_before: u32, outcome: &Outcome, now_ms: i64) -> Next {
        super::next(
            &RetryPolicy::default(),
            0.0,
            attempts_before,
            outcome,
            now_ms,
        )
    }

    #[test]
    fn decisions() {
        assert_eq!(next(0, &outcome(200, None), 0), Next::Success);
        assert_eq!(next(0, &outcome(204, None), 0), Next::Success);
        assert_eq!(
            next(0, &outcome(500, None), 0),
            Next::RetryAt(5_000),
            "first retry after 5 s"
        );
        assert_eq!(
            next(0, &outcome(301, None), 0),
            Next::RetryAt(5_000),
            "a redirect is a failure"
        );
        assert_eq!(next(1, &outcome(0, None), 0), Next::RetryAt(300_000));
        assert_eq!(
            next(7, &outcome(500, None), 0),
            Next::Failed,
            "8 tries in all"
        );
        assert_eq!(
            next(0, &outcome(410, None), 0),
            Next::Failed,
            "410 Gone stops at once"
        );
        assert_eq!(
            next(0, &outcome(429, Some(60)), 0),
            Next::RetryAt(60_000),
            "Retry-After honoured"
        );
        assert_eq!(
            next(1, &outcome(429, Some(1)), 0),
            Next::RetryAt(300_000),
            "but never sooner than scheduled"
        );
        assert_eq!(
            next(0, &outcome(503, Some(10 * 86_400)), 0),
            Next::RetryAt(86_400_000),
            "clamped to a day"
        );
    }

    #[test]
    fn jitter_stays_within_bounds() {
        for _ in 0..1000 {
            let d = jitter(Duration::from_secs(100), 0.2);
            assert!(
                d >= Duration::from_secs(80) && d <= Duration::from_secs(120),
                "{d:?}"
            );
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "in the past"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
