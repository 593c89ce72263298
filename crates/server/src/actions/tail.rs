//! Following a source's inbox: its events after a cursor, then live, read
//! from the store, so an event received by any node reaches every node's
//! followers (the API's event stream and the UI's live inbox alike).
//!
//! This node's own arrivals wake a follower at once; other nodes' are found
//! by a check every 250 ms. It is pulled: the next page is read only when
//! the follower has taken the last, so a slow client never makes the server
//! buffer more than one page. Ids sort by the time a request arrived, which
//! is not quite commit order, so each check looks back a few seconds before
//! the newest event yielded (never before the follower's own cursor) and
//! skips what it has already yielded: an event that committed late is still
//! yielded, once.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use hookline_core::{EventId, InboundEvent};
use tokio::sync::broadcast::error::RecvError;

use crate::state::AppState;

/// Events read per page.
const PAGE: usize = 100;
/// How far before the newest event each check looks for late commits.
const LOOK_BACK_MS: i64 = 3_000;
/// How often other nodes' arrivals are looked for.
const CHECK: Duration = Duration::from_millis(250);

/// Where a follower stands: its cursor, what it has yielded lately, what it
/// read but has not yielded yet.
struct Cursor {
    state: AppState,
    source: String,
    /// The cursor it was given: nothing at or before it is yielded.
    start: Option<EventId>,
    last: Option<EventId>,
    sent: HashSet<EventId>,
    ready: VecDeque<InboundEvent>,
    arrivals: tokio::sync::broadcast::Receiver<String>,
}

/// `source`'s events after `after` (all of them with `None`), then each new
/// one as it is stored, until the server shuts down.
pub(crate) fn follow(
    state: &AppState,
    source: String,
    after: Option<EventId>,
) -> impl Stream<Item = InboundEvent> + Send + 'static {
    let cursor = Cursor {
        arrivals: state.arrivals.subscribe(),
        state: state.clone(),
        source,
        start: after.clone(),
        last: after,
        sent: HashSet::new(),
        ready: VecDeque::new(),
    };
    futures_util::stream::unfold(cursor, Cursor::next).take_until(state.closed())
}

impl Cursor {
    /// Reads what is new since the cursor (looking back for late commits)
    /// into `ready`; false if the store failed.
    async fn fill(&mut self) -> bool {
        let look_back = self
            .last
            .as_ref()
            .and_then(EventId::time_ms)
            .map(|t| EventId::floor(t - LOOK_BACK_MS));
        // Never before the follower's own cursor.
        let floor = match (look_back, &self.start) {
            (Some(l), Some(s)) => Some(l.max(s.clone())),
            (l, s) => l.or_else(|| s.clone()),
        };
        let mut from = floor.clone();
        loop {
            let page = match self
                .state
                .store
                .events_after(&self.source, from.as_ref(), PAGE)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(source = %self.source, error = %e, "following the inbox: cannot read it; retrying");
                    return false;
                }
            };
            let full = page.len() == PAGE;
            from = page.last().map(|e| e.id.clone()).or(from);
            for e in page {
                if !self.sent.contains(&e.id) {
                    self.ready.push_back(e);
                }
            }
            if !self.ready.is_empty() || !full {
                break;
            }
        }
        // Forget what is now too old to come again.
        if let Some(floor) = floor {
            self.sent.retain(|id| *id >= floor);
        }
        true
    }

    async fn next(mut self) -> Option<(InboundEvent, Cursor)> {
        loop {
            if let Some(e) = self.ready.pop_front() {
                self.sent.insert(e.id.clone());
                if self.last.as_ref().is_none_or(|l| e.id > *l) {
                    self.last = Some(e.id.clone());
                }
                return Some((e, self));
            }
            if self.fill().await && !self.ready.is_empty() {
                continue;
            }
            self.wait().await;
        }
    }

    /// Until this node stores an event of this source, or the next check.
    async fn wait(&mut self) {
        let check = tokio::time::sleep(CHECK);
        tokio::pin!(check);
        loop {
            tokio::select! {
                r = self.arrivals.recv() => match r {
                    Ok(s) if s != self.source => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => return,
                    Err(RecvError::Closed) => return check.await,
                },
                () = &mut check => return,
            }
        }
    }
}
