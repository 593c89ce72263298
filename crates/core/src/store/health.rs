//! Whether the store can write: the backends' writers report each commit's
//! outcome here, so a full disk (or a read-only or failing one) is known at
//! once, logged once and then at most once a minute, and cleared by the
//! first write that succeeds again.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::StoreError;

/// How often a continuing write fault is logged again.
const RELOG: Duration = Duration::from_secs(60);

/// After a failed write, how long before a probe may say writes work again
/// (a small probe can fit where real writes do not; failing traffic wins).
const QUIET: Duration = Duration::from_secs(2);

/// What [`WriteHealth::writable`] knows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Writable {
    Yes,
    /// A write failed within the last seconds, for this reason.
    No(String),
    /// Writes failed, but none was tried lately: a probe write should tell.
    Probe(String),
}

#[derive(Debug, Default)]
pub struct WriteHealth {
    failing: Mutex<Option<Failing>>,
}

#[derive(Debug)]
struct Failing {
    since: Instant,
    last: Instant,
    reason: String,
    logged: Instant,
    unlogged: u64,
}

impl WriteHealth {
    /// A write could not be stored for `reason`.
    pub fn failed(&self, reason: &str) {
        let mut failing = self.lock();
        let now = Instant::now();
        match failing.as_mut() {
            None => {
                tracing::error!(reason, "the store cannot write; answering 503 until it can");
                *failing = Some(Failing {
                    since: now,
                    last: now,
                    reason: reason.to_string(),
                    logged: now,
                    unlogged: 0,
                });
            }
            Some(f) => {
                f.reason = reason.to_string();
                f.last = now;
                f.unlogged += 1;
                if now.duration_since(f.logged) >= RELOG {
                    tracing::error!(
                        reason,
                        failed_writes = f.unlogged,
                        for_s = now.duration_since(f.since).as_secs(),
                        "the store still cannot write"
                    );
                    f.logged = now;
                    f.unlogged = 0;
                }
            }
        }
    }

    /// A write was stored: any fault is over.
    pub fn succeeded(&self) {
        let mut failing = self.lock();
        if let Some(f) = failing.take() {
            tracing::warn!(
                after_s = f.since.elapsed().as_secs(),
                "the store writes again"
            );
        }
    }

    /// For a store's `ping`: `Ok` while writes work, `Unavailable` while they
    /// fail; once none has failed for a while, `probe` (one small write)
    /// decides, and its success ends the fault (so a store recovers with no
    /// traffic).
    pub async fn check<F, P>(&self, probe: P) -> Result<(), StoreError>
    where
        P: FnOnce() -> F,
        F: Future<Output = Result<(), StoreError>>,
    {
        let why = match self.writable() {
            Writable::Yes => return Ok(()),
            Writable::No(why) => return Err(StoreError::Unavailable(why)),
            Writable::Probe(why) => why,
        };
        match probe().await {
            Ok(()) => {
                self.succeeded();
                Ok(())
            }
            Err(StoreError::Unavailable(now)) => {
                self.failed(&now);
                Err(StoreError::Unavailable(now))
            }
            Err(_) => Err(StoreError::Unavailable(why)),
        }
    }

    /// Whether writes work, as far as is known.
    fn writable(&self) -> Writable {
        match self.lock().as_ref() {
            None => Writable::Yes,
            Some(f) if f.last.elapsed() < QUIET => Writable::No(f.reason.clone()),
            Some(f) => Writable::Probe(f.reason.clone()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Failing>> {
        self.failing.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_lasts_until_a_write_succeeds() {
        let h = WriteHealth::default();
        assert_eq!(h.writable(), Writable::Yes);
        h.failed("disk full");
        h.failed("disk full");
        assert_eq!(h.writable(), Writable::No("disk full".into()));
        h.lock().as_mut().unwrap().last -= QUIET;
        assert_eq!(h.writable(), Writable::Probe("disk full".into()));
        h.succeeded();
        assert_eq!(h.writable(), Writable::Yes);
    }
}
