//! Where `hookline listen` left off: the last event it handled and the ones
//! it handled just before (so a resume that looks back a few seconds, for
//! events that committed late, sends none twice). Saved after every event,
//! atomically (a temporary file renamed over the old one).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hookline_core::EventId;
use serde::{Deserialize, Serialize};

/// How far before the last event a resume looks (the server's own look-back
/// for late commits is the same).
pub const LOOK_BACK_MS: i64 = 3_000;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Cursor {
    /// The server and source this cursor belongs to.
    pub server: String,
    pub source: String,
    /// The newest event handled.
    pub last: Option<EventId>,
    /// Events handled within `LOOK_BACK_MS` of `last`.
    #[serde(default)]
    pub recent: BTreeSet<EventId>,
}

impl Cursor {
    /// The default file: under the user's config directory, one per server and source.
    pub fn default_path(server: &str, source: &str) -> PathBuf {
        let key: String = format!("{server}-{source}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        dirs::config_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("hookline/listen")
            .join(format!("{key}.json"))
    }

    /// The saved cursor, if there is one.
    pub fn load(path: &Path) -> anyhow::Result<Option<Cursor>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a listen cursor; delete it to start afresh",
                    path.display()
                )
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    }

    /// Whether `id` was handled already.
    pub fn seen(&self, id: &EventId) -> bool {
        self.recent.contains(id) || self.last.as_ref() == Some(id)
    }

    /// Records `id` as handled.
    pub fn advance(&mut self, id: EventId) {
        if self.last.as_ref().is_none_or(|l| id > *l) {
            self.last = Some(id.clone());
        }
        self.recent.insert(id);
        if let Some(floor) = self.floor() {
            self.recent.retain(|r| *r >= floor);
        }
    }

    /// Where a resume asks the server to start: a little before the last
    /// event, so late commits are not missed (what was seen is skipped).
    pub fn floor(&self) -> Option<EventId> {
        let t = self.last.as_ref()?.time_ms()?;
        Some(EventId::floor(t - LOOK_BACK_MS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_remembers_what_it_saw_near_the_last_event_and_survives_a_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c/cursor.json");
        let mut c = Cursor::default();
        let old = EventId::at(1_000_000);
        let a = EventId::at(2_000_000);
        let b = EventId::at(2_000_500);
        c.advance(old.clone());
        c.advance(a.clone());
        c.advance(b.clone());
        assert!(!c.recent.contains(&old), "too old to come again");
        assert!(c.seen(&a) && c.seen(&b));
        assert_eq!(c.floor(), Some(EventId::floor(2_000_500 - LOOK_BACK_MS)));
        c.save(&path).unwrap();
        let back = Cursor::load(&path).unwrap().unwrap();
        assert_eq!(back.last, Some(b));
        assert!(back.seen(&a));
        assert!(Cursor::load(&dir.path().join("none.json"))
            .unwrap()
            .is_none());
    }
}
