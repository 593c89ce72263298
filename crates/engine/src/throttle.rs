//! Per-endpoint pacing: rate limits (`throttleRate`, messages per second) as a
//! token bucket with a burst of one second's worth, and cool-downs after an
//! endpoint answers 429, 502 or 504 (it is overloaded: give it room).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hookline_core::{Endpoint, EndpointId};

#[derive(Default)]
pub(crate) struct Throttles {
    buckets: Mutex<HashMap<EndpointId, (u16, Arc<DefaultDirectRateLimiter>)>>,
    cooling: Mutex<HashMap<EndpointId, Instant>>,
}

/// Cool-down after an overload answer without `Retry-After`.
const COOL_DOWN: Duration = Duration::from_secs(5);

impl Throttles {
    /// After a 429/502/504: hold the endpoint's other deliveries for `asked`
    /// (its `Retry-After`), else 5 s; between 1 s and 10 min.
    pub fn cool_down(&self, e: &EndpointId, asked: Option<Duration>) {
        let d = asked
            .unwrap_or(COOL_DOWN)
            .clamp(Duration::from_secs(1), Duration::from_secs(600));
        if let Ok(mut m) = self.cooling.lock() {
            m.insert(e.clone(), Instant::now() + d);
        }
    }

    /// `None` when `e` may be sent to now; else how long until it may.
    pub fn wait(&self, e: &Endpoint) -> Option<Duration> {
        if let Ok(mut m) = self.cooling.lock() {
            match m
                .get(&e.id)
                .map(|until| until.saturating_duration_since(Instant::now()))
            {
                Some(left) if !left.is_zero() => return Some(left),
                Some(_) => {
                    m.remove(&e.id);
                }
                None => {}
            }
        }
        let rate = e.throttle_rate.filter(|r| *r > 0)?;
        let bucket = {
            let mut map = self.buckets.lock().ok()?;
            let entry = map
                .entry(e.id.clone())
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
