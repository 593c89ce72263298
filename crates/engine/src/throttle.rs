//! Per-endpoint rate limits (`throttleRate`, messages per second): a token
//! bucket per endpoint, with a burst of one second's worth.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hookline_core::{Endpoint, EndpointId};

#[derive(Default)]
pub(crate) struct Throttles {
    buckets: Mutex<HashMap<EndpointId, (u16, Arc<DefaultDirectRateLimiter>)>>,
}

impl Throttles {
    /// `None` when `e` may be sent to now; else how long until it may.
    pub fn wait(&self, e: &Endpoint) -> Option<Duration> {
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
