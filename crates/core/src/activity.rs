//! Activity by minute over the last hour: how many things went well or
//! badly and how long they took. The engine counts its delivery and forward
//! attempts here; the server counts received webhooks in another. Each node
//! counts in memory and writes its recent minutes to the store
//! ([`crate::store::ActivityStore`]), where the web UI's dashboard sums
//! every node's.

use std::sync::{Arc, Mutex};

/// Minutes kept.
pub const MINUTES: usize = 60;

/// One minute's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Minute {
    /// The minute's start (ms since the epoch).
    pub at: i64,
    pub ok: u64,
    pub failed: u64,
    /// Sum of the durations recorded, in milliseconds.
    pub total_ms: f64,
}

impl Minute {
    /// Mean duration (ms), if anything was timed.
    pub fn mean_ms(&self) -> Option<f64> {
        let n = self.ok + self.failed;
        (n > 0 && self.total_ms > 0.0).then(|| self.total_ms / n as f64)
    }
}

/// A ring of the last [`MINUTES`] minutes; cheap to clone, clones share it.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    ring: Arc<Mutex<Vec<Minute>>>,
}

impl Activity {
    /// Records one outcome at `now_ms`, taking `ms` (0 when not timed).
    pub fn record(&self, now_ms: i64, ok: bool, ms: f64) {
        let at = now_ms - now_ms.rem_euclid(60_000);
        let Ok(mut ring) = self.ring.lock() else {
            return;
        };
        if ring.len() < MINUTES {
            ring.resize(MINUTES, Minute::default());
        }
        let slot =
            &mut ring[usize::try_from((at / 60_000).rem_euclid(MINUTES as i64)).unwrap_or(0)];
        if slot.at != at {
            *slot = Minute {
                at,
                ..Minute::default()
            };
        }
        if ok {
            slot.ok += 1;
        } else {
            slot.failed += 1;
        }
        slot.total_ms += ms;
    }

    /// The minutes from `since_ms` on that counted anything, oldest first.
    pub fn since(&self, since_ms: i64) -> Vec<Minute> {
        let ring = self.ring.lock().map(|r| r.clone()).unwrap_or_default();
        let mut out: Vec<Minute> = ring
            .into_iter()
            .filter(|m| m.at >= since_ms && m.ok + m.failed > 0)
            .collect();
        out.sort_by_key(|m| m.at);
        out
    }

    /// The last [`MINUTES`] minutes up to `now_ms`, oldest first (empty minutes too).
    pub fn last_hour(&self, now_ms: i64) -> Vec<Minute> {
        let ring = self.ring.lock().map(|r| r.clone()).unwrap_or_default();
        hour_of(now_ms, ring)
    }
}

/// The last [`MINUTES`] minutes up to `now_ms`, oldest first (empty minutes
/// too), each the sum of every `Minute` given for it (several nodes').
pub fn hour_of(now_ms: i64, counted: impl IntoIterator<Item = Minute>) -> Vec<Minute> {
    let this = now_ms - now_ms.rem_euclid(60_000);
    let first = this - (MINUTES as i64 - 1) * 60_000;
    let mut hour: Vec<Minute> = (0..MINUTES as i64)
        .map(|i| Minute {
            at: first + i * 60_000,
            ..Minute::default()
        })
        .collect();
    for m in counted {
        if m.at < first || m.at > this {
            continue;
        }
        let slot = &mut hour[usize::try_from((m.at - first) / 60_000).unwrap_or(0)];
        slot.ok += m.ok;
        slot.failed += m.failed;
        slot.total_ms += m.total_ms;
    }
    hour
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_minute_and_forgets_after_an_hour() {
        let a = Activity::default();
        let t0 = 1_700_000_000_000 - 1_700_000_000_000 % 60_000;
        a.record(t0 + 1, true, 10.0);
        a.record(t0 + 2, false, 30.0);
        a.record(t0 + 61_000, true, 0.0);
        let h = a.last_hour(t0 + 61_000);
        assert_eq!(h.len(), MINUTES);
        let (prev, last) = (h[MINUTES - 2], h[MINUTES - 1]);
        assert_eq!((prev.ok, prev.failed, prev.mean_ms()), (1, 1, Some(20.0)));
        assert_eq!((last.ok, last.mean_ms()), (1, None));
        // An hour later the old minute's slot is reused, not added to.
        a.record(t0 + 3_600_000 + 5, true, 0.0);
        let later = a.last_hour(t0 + 3_600_000 + 5);
        assert_eq!(later.iter().map(|m| m.ok + m.failed).sum::<u64>(), 2);
    }
}
