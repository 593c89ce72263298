//! Cursor pagination as the Svix v1 API does it: `limit` and an opaque
//! `iterator` (here: the last ID seen; IDs sort by time).

/// What a list call asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many items (1..=250).
    pub limit: usize,
    /// Continue after this ID (exclusive), newest first.
    pub iterator: Option<String>,
}

impl PageRequest {
    pub const MAX_LIMIT: usize = 250;

    pub fn new(limit: Option<usize>, iterator: Option<String>) -> Self {
        PageRequest {
            limit: limit.unwrap_or(50).clamp(1, Self::MAX_LIMIT),
            iterator: iterator.filter(|s| !s.is_empty()),
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::new(None, None)
    }
}

/// One page of results; `done` when nothing follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub iterator: Option<String>,
    pub done: bool,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows (the extra row only says more exist).
    pub fn from_rows(mut rows: Vec<T>, limit: usize, id: impl Fn(&T) -> String) -> Self {
        let done = rows.len() <= limit;
        rows.truncate(limit);
        let iterator = rows.last().map(&id);
        Page {
            data: rows,
            iterator,
            done,
        }
    }
}
