//! Work handed from the request path straight to this node's engine: a
//! publish's deliveries and a received event's forwards, stored already
//! claimed (in flight under a lease) in the very transaction that stores
//! them, so the common case costs no claim and no read back from the store.
//! Slots are reserved before the commit; what finds none free (the engine is
//! busy, or none runs on this node) is stored pending and claimed as usual.
//! The store stays the truth: work handed off that this process never sends
//! (it crashed) is due again when its lease ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookline_core::{AppId, Claimed, ClaimedForward};
use tokio::sync::mpsc;

/// Jobs waiting for the engine at most.
pub(crate) const CAPACITY: usize = 512;

/// Most slots one publish reserves (its endpoints beyond go pending).
pub const MAX_PER_PUBLISH: usize = 64;

/// Apps whose fan-out is remembered at most (then it is learned afresh).
const FANOUT_MEMORY: usize = 4096;

/// One claimed piece of work.
pub enum Job {
    Delivery(Claimed),
    Forward(ClaimedForward),
}

/// The request path's end. Cheap to clone.
#[derive(Clone)]
pub struct Handoff {
    tx: Option<mpsc::Sender<Job>>,
    lease: Duration,
    /// The engine runs forwards too (else only deliveries may be handed).
    forwards: bool,
    /// How many deliveries each app's last publish made, so the next one
    /// reserves as many slots (the first reserves one).
    fanout: Arc<Mutex<HashMap<AppId, usize>>>,
}

impl std::fmt::Debug for Handoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.tx.is_some() {
            "Handoff"
        } else {
            "Handoff(none)"
        })
    }
}

impl Default for Handoff {
    fn default() -> Self {
        Handoff::none()
    }
}

/// A reserved place in the engine's queue.
pub struct Slot(mpsc::OwnedPermit<Job>);

impl Slot {
    pub fn send(self, job: Job) {
        self.0.send(job);
    }
}

impl Handoff {
    /// No engine here: everything goes through the store.
    pub fn none() -> Handoff {
        Handoff {
            tx: None,
            lease: Duration::ZERO,
            forwards: false,
            fanout: Arc::default(),
        }
    }

    pub(crate) fn new(tx: mpsc::Sender<Job>, lease: Duration, forwards: bool) -> Handoff {
        Handoff {
            tx: Some(tx),
            lease,
            forwards,
            fanout: Arc::default(),
        }
    }

    /// A place for one forward, if the engine runs forwards and has room.
    pub fn reserve_forward(&self) -> Option<Slot> {
        match self.forwards {
            true => self.reserve(1).pop(),
            false => None,
        }
    }

    /// Up to `n` places for deliveries, as many as the engine has room for.
    pub fn reserve(&self, n: usize) -> Vec<Slot> {
        let Some(tx) = &self.tx else {
            return Vec::new();
        };
        let mut slots = Vec::new();
        while slots.len() < n.min(MAX_PER_PUBLISH) {
            match tx.clone().try_reserve_owned() {
                Ok(p) => slots.push(Slot(p)),
                Err(_) => break,
            }
        }
        slots
    }

    /// Places for a publish to `app`: as many as its last publish made.
    pub fn reserve_for(&self, app: &AppId) -> Vec<Slot> {
        if self.tx.is_none() {
            return Vec::new();
        }
        let n = self
            .fanout
            .lock()
            .map_or(1, |m| m.get(app).copied().unwrap_or(1));
        self.reserve(n)
    }

    /// Remembers that a publish to `app` made `made` deliveries.
    pub fn learn(&self, app: &AppId, made: usize) {
        if self.tx.is_none() {
            return;
        }
        if let Ok(mut m) = self.fanout.lock() {
            if m.len() >= FANOUT_MEMORY && !m.contains_key(app) {
                m.clear();
            }
            m.insert(app.clone(), made);
        }
    }

    /// Until when handed-off work is leased to this engine, from `now` (ms).
    pub fn lease_until(&self, now: i64) -> i64 {
        now.saturating_add(i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX))
    }
}
