//! Inbox text search: what of an event is searched (its body and header
//! values, case-folded) and a query in the same form. Both backends index
//! [`search_text`] and match a [`TextQuery`] as a substring of it, so they
//! agree on what matches; how each spells the query for its index is its own.

/// Shortest query a trigram index can answer; shorter ones are a scan.
pub const INDEXED_CHARS: usize = 3;

/// An event's searchable text, lower-cased: the body (invalid UTF-8
/// replaced) and, when the body is JSON, its strings decoded (so `\u00e9`
/// matches `é`), then every header value, one per line. NUL characters
/// become spaces (PostgreSQL's text cannot hold them).
pub fn search_text(body: &[u8], headers: &[(String, String)]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = text.to_lowercase();
    if text.contains("\\u") {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
            strings(&v, &mut out);
        }
    }
    for (_, value) in headers {
        out.push('\n');
        out.push_str(&value.to_lowercase());
    }
    if out.contains('\0') {
        out = out.replace('\0', " ");
    }
    out
}

/// Appends `v`'s string leaves, lower-cased, one per line.
fn strings(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) => {
            out.push('\n');
            out.push_str(&s.to_lowercase());
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// A text query: matches an event whose [`search_text`] contains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery(String);

impl TextQuery {
    /// `q` case-folded; `None` when it is empty.
    pub fn new(q: &str) -> Option<TextQuery> {
        (!q.is_empty()).then(|| TextQuery(q.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a trigram index can answer it.
    pub fn indexed(&self) -> bool {
        self.0.chars().count() >= INDEXED_CHARS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_case_folded() {
        let q = TextQuery::new("CAFÉ 50%_\\").unwrap();
        assert_eq!(q.as_str(), "café 50%_\\");
        assert!(TextQuery::new("").is_none());
        assert!(!TextQuery::new("ab").unwrap().indexed());
        assert!(TextQuery::new("abé").unwrap().indexed());
    }
}
