//! De-duplication without a random-key index on disk. The `dedup` table is
//! ordered by expiry, so recording a key appends near the end of its tree;
//! finding a key goes through this in-memory index: a hash of (source, key)
//! to the expiry times recorded under it, each then confirmed by an exact
//! primary-key lookup (so a hash collision can never make a false duplicate).
//!
//! Only the writer thread uses it, inside its transactions; a key recorded in
//! a transaction that does not commit is taken out again. At start it is
//! loaded from the table's live rows. Memory: about 70 bytes per live key.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;

use hookline_core::StoreError;
use rusqlite::{params, Connection, OptionalExtension};

use crate::backend;

#[derive(Default)]
pub(crate) struct DedupIndex {
    /// Random keys per process, so nobody can aim collisions at the table.
    hasher: RandomState,
    /// Hash of (source, key) → expiry times recorded under it (almost always one).
    live: HashMap<u64, Vec<i64>>,
    /// (expiry, hash) in the order recorded, to forget keys once expired.
    order: VecDeque<(i64, u64)>,
}

/// A key recorded by a write, to take out if its transaction does not commit.
pub(crate) struct Recorded {
    hash: u64,
    expires_at: i64,
}

impl DedupIndex {
    /// Loads every key that has not expired by `now`.
    pub fn load(conn: &Connection, now: i64) -> Result<DedupIndex, StoreError> {
        let mut index = DedupIndex::default();
        let mut st = conn
            .prepare("SELECT expires_at, source, key FROM dedup WHERE expires_at > ?1 ORDER BY expires_at")
            .map_err(backend)?;
        let rows = st
            .query_map([now], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(backend)?;
        for row in rows {
            let (expires_at, source, key) = row.map_err(backend)?;
            let hash = index.hash(&source, &key);
            index.add(hash, expires_at);
        }
        Ok(index)
    }

    fn hash(&self, source: &str, key: &str) -> u64 {
        self.hasher.hash_one((source, key))
    }

    fn add(&mut self, hash: u64, expires_at: i64) {
        self.live.entry(hash).or_default().push(expires_at);
        self.order.push_back((expires_at, hash));
    }

    fn remove(&mut self, hash: u64, expires_at: i64) {
        if let Some(times) = self.live.get_mut(&hash) {
            if let Some(i) = times.iter().position(|t| *t == expires_at) {
                times.swap_remove(i);
            }
            if times.is_empty() {
                self.live.remove(&hash);
            }
        }
    }

    /// Forgets keys expired by `now` (from the front of the recording order).
    fn prune(&mut self, now: i64) {
        while let Some(&(expires_at, hash)) = self.order.front() {
            if expires_at > now {
                break;
            }
            self.order.pop_front();
            self.remove(hash, expires_at);
        }
    }

    /// The event an unexpired claim of (source, key) at `now` belongs to.
    pub fn find(
        &mut self,
        conn: &Connection,
        source: &str,
        key: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.prune(now);
        let hash = self.hash(source, key);
        let Some(times) = self.live.get(&hash) else {
            return Ok(None);
        };
        for &expires_at in times.iter().filter(|t| **t > now) {
            let found: Option<String> = conn
                .prepare_cached(
                    "SELECT event_id FROM dedup WHERE expires_at = ?1 AND source = ?2 AND key = ?3",
                )
                .and_then(|mut st| {
                    st.query_row(params![expires_at, source, key], |r| r.get(0))
                        .optional()
                })
                .map_err(backend)?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Records a claim of (source, key) by `event_id` until `expires_at`.
    pub fn record(
        &mut self,
        conn: &Connection,
        source: &str,
        key: &str,
        event_id: &str,
        expires_at: i64,
    ) -> Result<Recorded, StoreError> {
        conn.prepare_cached(
            "INSERT INTO dedup (expires_at, source, key, event_id) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO UPDATE SET event_id = excluded.event_id",
        )
        .and_then(|mut st| st.execute(params![expires_at, source, key, event_id]))
        .map_err(backend)?;
        let hash = self.hash(source, key);
        self.add(hash, expires_at);
        Ok(Recorded { hash, expires_at })
    }

    /// Takes out a claim whose transaction did not commit.
    pub fn undo(&mut self, r: &Recorded) {
        self.remove(r.hash, r.expires_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_unexpired_claims_of_the_same_key() {
        let conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch(
            "CREATE TABLE dedup (expires_at INTEGER NOT NULL, source TEXT NOT NULL, key TEXT NOT NULL, \
             event_id TEXT NOT NULL, PRIMARY KEY (expires_at, source, key)) WITHOUT ROWID",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut ix = DedupIndex::default();
        let find =
            |ix: &mut DedupIndex, k: &str, now: i64| ix.find(&conn, "s", k, now).ok().flatten();
        assert_eq!(find(&mut ix, "a", 0), None);
        assert!(ix.record(&conn, "s", "a", "evt_1", 100).is_ok());
        assert_eq!(find(&mut ix, "a", 50).as_deref(), Some("evt_1"));
        assert_eq!(find(&mut ix, "b", 50), None, "another key");
        assert_eq!(
            ix.find(&conn, "t", "a", 50).ok().flatten(),
            None,
            "another source"
        );
        assert_eq!(find(&mut ix, "a", 100), None, "expired");
        assert!(ix.live.is_empty(), "expired keys are forgotten");
        let r2 = ix.record(&conn, "s", "c", "evt_2", 200).ok();
        if let Some(r2) = &r2 {
            ix.undo(r2);
        }
        assert_eq!(find(&mut ix, "c", 150), None, "an undone claim is gone");
        let loaded = DedupIndex::load(&conn, 150).ok();
        assert_eq!(
            loaded.map(|l| l.live.len()),
            Some(1),
            "the live row (c) reloads"
        );
    }
}
