//! Parsing what the user typed: payloads (`--data`) and headers (`--header`).

use std::io::Read;

use http::{HeaderName, HeaderValue};

use crate::exit::bad_input;

/// Reads `--data`: inline text, `@file`, or `-` for standard input.
pub fn read_data(arg: &str) -> anyhow::Result<Vec<u8>> {
    if arg == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| bad_input(format!("cannot read the payload from standard input: {e}")))?;
        return Ok(buf);
    }
    if let Some(path) = arg.strip_prefix('@') {
        return std::fs::read(path)
            .map_err(|e| bad_input(format!("cannot read the payload file `{path}`: {e}")));
    }
    Ok(arg.as_bytes().to_vec())
}

/// Validates a JSON payload and re-serialises it compactly with key order kept,
/// so that a receiver which parses and re-stringifies it (Express'
/// `JSON.stringify(req.body)`) signs the same bytes.
pub fn compact_json(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        bad_input(format!(
            "the payload is not valid JSON ({e}); fix it, or pass --raw to send the bytes as they are"
        ))
    })?;
    Ok(serde_json::to_vec(&value)?)
}

/// Parses `--header 'Name: value'`.
pub fn header(arg: &str) -> anyhow::Result<(HeaderName, HeaderValue)> {
    let Some((name, value)) = arg.split_once(':') else {
        return Err(bad_input(format!(
            "header `{arg}` must look like 'Name: value'"
        )));
    };
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| bad_input(format!("`{}` is not a valid header name", name.trim())))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| {
        bad_input(format!(
            "the value of header `{name}` has characters a header cannot carry"
        ))
    })?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_key_order_and_drops_spaces() {
        let out =
            compact_json(br#"{ "z": 1, "a": [ 1, 2 ], "m": {"y": "\u00e9", "b": null} }"#).unwrap();
        assert_eq!(
            out,
            r#"{"z":1,"a":[1,2],"m":{"y":"é","b":null}}"#.as_bytes()
        );
        assert!(compact_json(b"{nope}")
            .unwrap_err()
            .to_string()
            .contains("--raw"));
    }

    #[test]
    fn header_args() {
        let (n, v) = header("X-Trace:  abc: def ").unwrap();
        assert_eq!((n.as_str(), v.to_str().unwrap()), ("x-trace", "abc: def"));
        assert!(header("novalue").is_err());
        assert!(header("bad name: x").is_err());
    }
}
