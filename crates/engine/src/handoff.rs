//! Forwards handed from the ingress straight to this node's engine: the
//! inbox transaction stores them already claimed (in flight under a lease),
//! and the engine takes them from memory, so the common forward costs no
//! claim and no read of the event back from the store. A slot is reserved
//! before the commit; when none is free (the engine is busy, or none runs
//! on this node) the forward is stored pending and claimed as usual. The
//! store stays the truth: a handed-off forward that this process never
//! sends (it crashed) is due again when its lease ends.

use std::time::Duration;

use hookline_core::ClaimedForward;
use tokio::sync::mpsc;

/// Forwards waiting for the engine at most.
pub(crate) const CAPACITY: usize = 256;

/// The ingress's end. Cheap to clone.
#[derive(Clone)]
pub struct Handoff {
    tx: Option<mpsc::Sender<ClaimedForward>>,
    lease: Duration,
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
pub struct Slot(mpsc::OwnedPermit<ClaimedForward>);

impl Slot {
    pub fn send(self, c: ClaimedForward) {
        self.0.send(c);
    }
}

impl Handoff {
    /// No engine here: every forward goes through the store.
    pub fn none() -> Handoff {
        Handoff {
            tx: None,
            lease: Duration::ZERO,
        }
    }

    pub(crate) fn new(tx: mpsc::Sender<ClaimedForward>, lease: Duration) -> Handoff {
        Handoff {
            tx: Some(tx),
            lease,
        }
    }

    /// A place for one forward, if the engine has room.
    pub fn reserve(&self) -> Option<Slot> {
        self.tx.clone()?.try_reserve_owned().ok().map(Slot)
    }

    /// How long a handed-off forward is leased to this engine.
    pub fn lease(&self) -> Duration {
        self.lease
    }
}
