//! Request bodies as the tutorial's Express server sees them.

use http::HeaderMap;
use serde_json::{Map, Value};

/// A body parsed by its content type.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// `application/json` (or `+json`).
    Json(Value),
    /// `application/x-www-form-urlencoded`; repeated keys become arrays.
    Form(Value),
    /// Empty, or a type we keep only as bytes.
    Opaque,
}

impl Parsed {
    /// The tutorial's `receivedData`: the parsed body, or `{}`.
    pub fn received_data(&self) -> Value {
        match self {
            Parsed::Json(v) | Parsed::Form(v) => v.clone(),
            Parsed::Opaque => Value::Object(Map::new()),
        }
    }

    pub fn json(&self) -> Option<&Value> {
        match self {
            Parsed::Json(v) => Some(v),
            _ => None,
        }
    }
}

/// Parses `body` by the request's content type; `Err` carries the parser's reason.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Parsed, String> {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or("").trim();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Parsed::Opaque);
    }
    if essence == "application/json" || essence.ends_with("+json") {
        return serde_json::from_slice(body)
            .map(Parsed::Json)
            .map_err(|e| format!("Invalid JSON body: {e}"));
    }
    if essence == "application/x-www-form-urlencoded" {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| format!("Invalid urlencoded body: {e}"))?;
        let mut map = Map::new();
        for (k, v) in pairs {
            match map.get_mut(&k) {
                Some(Value::Array(items)) => items.push(Value::String(v)),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, Value::String(v)]);
                }
                None => {
                    map.insert(k, Value::String(v));
                }
            }
        }
        return Ok(Parsed::Form(Value::Object(map)));
    }
    Ok(Parsed::Opaque)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ct(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::CONTENT_TYPE, v.parse().unwrap());
        h
    }

    #[test]
    fn parses_by_content_type() {
        assert_eq!(
            parse(&ct("application/json; charset=utf-8"), br#"{"a":1}"#),
            Ok(Parsed::Json(json!({"a":1})))
        );
        assert_eq!(
            parse(&ct("application/x-www-form-urlencoded"), b"a=1&b=x+y&a=2")
                .unwrap()
                .received_data(),
            json!({"a": ["1", "2"], "b": "x y"})
        );
        assert_eq!(parse(&ct("text/plain"), b"hi"), Ok(Parsed::Opaque));
        assert_eq!(parse(&ct("application/json"), b""), Ok(Parsed::Opaque));
        assert!(parse(&ct("application/json"), b"{oops")
            .unwrap_err()
            .starts_with("Invalid JSON body"));
    }
}
