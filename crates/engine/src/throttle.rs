//! Per-destination pacing (an endpoint, or a route): rate limits
//! (`throttleRate`, a route's `rate_limit`, per second) as a token bucket with
//! a burst of one second's worth; a cap on attempts in flight
//! (`maxConcurrency`); and cool-downs after a destination answers 429, 502 or
//! 504 (it is overloaded: give it room).
//!
//! A delivery that may not go now is postponed, never held: it goes back to
//! the store with a due time, so it occupies no sending slot meanwhile.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// A destination's limits: its id (an endpoint's or a route's) and its pace.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace<'a> {
    pub key: &'a str,
    /// Per second.
    pub rate: Option<u16>,
    pub max_concurrency: Option<u16>,
}

#[derive(Default)]
pub(crate) struct Throttles {
    buckets: Mutex<HashMap<String, (u16, Arc<DefaultDirectRateLimiter>)>>,
    cooling: Mutex<HashMap<String, Instant>>,
    flights: Mutex<HashMap<String, Flights>>,
}

/// One endpoint's attempts in flight, how long they take, and when the next
/// postponed one should come back.
#[derive(Debug)]
struct Flights {
    in_flight: usize,
    /// Moving average of attempt durations.
    typical: Duration,
    /// Postponed deliveries are spread out from here, one per expected free slot.
    next_slot: Instant,
}

/// Cool-down after an overload answer without `Retry-After`.
const COOL_DOWN: Duration = Duration::from_secs(5);
/// What an attempt is expected to take before one has been measured.
const FIRST_GUESS: Duration = Duration::from_millis(100);

/// Leave to send one delivery; hand it back (drop it) when the attempt ends.
pub(crate) struct Admission {
    limited: Option<(Arc<Throttles>, String, Instant)>,
}

impl Admission {
    /// Records how long the attempt took (for spreading postponed deliveries).
    pub fn finish(mut self) {
        if let Some((t, id, started)) = self.limited.take() {
            t.land(&id, Some(started.elapsed()));
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some((t, id, _)) = self.limited.take() {
            t.land(&id, None);
        }
    }
}

impl Throttles {
    /// After a 429/502/504: hold the endpoint's other deliveries for `asked`
    /// (its `Retry-After`), else 5 s; between 1 s and 10 min.
    pub fn cool_down(&self, key: &str, asked: Option<Duration>) {
        let d = asked
            .unwrap_or(COOL_DOWN)
            .clamp(Duration::from_secs(1), Duration::from_secs(600));
        if let Ok(mut m) = self.cooling.lock() {
            m.insert(key.to_string(), Instant::now() + d);
        }
    }

    /// Leave to send to the destination now, or how long to wait first.
    pub fn admit(self: &Arc<Self>, p: Pace<'_>) -> Result<Admission, Duration> {
        if let Some(wait) = self.cooling_left(p.key) {
            return Err(wait);
        }
        let max = p.max_concurrency.filter(|m| *m > 0);
        if let Some(max) = max {
            // Full: come back when a slot is expected to be free, each
            // postponed delivery one slot later than the one before.
            let mut map = self.flights.lock().map_err(|_| FIRST_GUESS)?;
            let f = map.entry(p.key.to_string()).or_insert_with(|| Flights {
                in_flight: 0,
                typical: FIRST_GUESS,
                next_slot: Instant::now(),
            });
            if f.in_flight >= usize::from(max) {
                let now = Instant::now();
                f.next_slot = f.next_slot.max(now) + f.typical / u32::from(max);
                return Err(f.next_slot - now);
            }
        }
        if let Some(wait) = self.rate_wait(p) {
            return Err(wait);
        }
        if max.is_none() {
            return Ok(Admission { limited: None });
        }
        let mut map = self.flights.lock().map_err(|_| FIRST_GUESS)?;
        if let Some(f) = map.get_mut(p.key) {
            f.in_flight += 1;
        }
        Ok(Admission {
            limited: Some((self.clone(), p.key.to_string(), Instant::now())),
        })
    }

    fn land(&self, id: &str, took: Option<Duration>) {
        if let Ok(mut map) = self.flights.lock() {
            if let Some(f) = map.get_mut(id) {
                f.in_flight = f.in_flight.saturating_sub(1);
                if let Some(took) = took {
                    f.typical = (f.typical * 3 + took) / 4;
                }
            }
        }
    }

    fn cooling_left(&self, id: &str) -> Option<Duration> {
        let mut m = self.cooling.lock().ok()?;
        let left = m.get(id)?.saturating_duration_since(Instant::now());
        if left.is_zero() {
            m.remove(id);
            return None;
        }
        Some(left)
    }

    fn rate_wait(&self, p: Pace<'_>) -> Option<Duration> {
        let rate = p.rate.filter(|r| *r > 0)?;
        let bucket = {
            let mut map = self.buckets.lock().ok()?;
            let entry = map
                .entry(p.key.to_string())
                .or_insert_with(|| (rate, Arc::new(bucket(rate))));
            if entry.0 != rate {
                *entry = (rate, Arc::new(bucket(rate)));
            }
            entry.1.clone()
        };
        bucket
            .check()
            .err()
            .map(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

fn bucket(rate: u16) -> DefaultDirectRateLimiter {
    let n = NonZeroU32::new(u32::from(rate)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_second(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(key: &str, max: Option<u16>) -> Pace<'_> {
        Pace {
            key,
            rate: None,
            max_concurrency: max,
        }
    }

    #[test]
    fn concurrency_is_capped_and_postponements_spread_out() {
        let t = Arc::new(Throttles::default());
        let e = pace("ep_1", Some(2));
        let a = t.admit(e).expect("first");
        let b = t.admit(e).expect("second");
        let w1 = t.admit(e).err().expect("third waits");
        let w2 = t.admit(e).err().expect("fourth waits");
        assert!(
            w2 > w1,
            "each postponed delivery comes back a slot later: {w1:?} {w2:?}"
        );
        drop(a);
        let c = t.admit(e).expect("a slot came free");
        b.finish();
        c.finish();
        let unlimited = pace("ep_2", None);
        let all: Vec<_> = (0..100).map(|_| t.admit(unlimited)).collect();
        assert!(all.iter().all(Result::is_ok), "no cap, no wait");
    }

    #[test]
    fn a_rate_lets_a_second_s_worth_through_then_waits() {
        let t = Arc::new(Throttles::default());
        let p = Pace {
            key: "route_1",
            rate: Some(5),
            max_concurrency: None,
        };
        let passed = (0..20).filter(|_| t.admit(p).is_ok()).count();
        assert_eq!(passed, 5, "a burst of one second's worth");
        assert!(t.admit(pace("route_2", None)).is_ok(), "keys are separate");
    }
}
