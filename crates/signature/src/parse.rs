//! Header parsers. Every function here is total: arbitrary input gives `Ok` or a
//! reason, never a panic (proven by the property tests below).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// A parsed `Stripe-Signature` header.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StripeHeader {
    pub timestamp: i64,
    pub v1: Vec<Vec<u8>>,
}

/// Parses `t=<ts>,v1=<hex>[,v1=<hex>…]`; other keys (v0, …) are ignored as Stripe does.
pub(crate) fn stripe(value: &str) -> Result<StripeHeader, String> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for item in value.split(',') {
        let Some((k, v)) = item.trim().split_once('=') else {
            return Err(format!("item `{}` is not key=value", clip(item)));
        };
        match k {
            "t" => timestamp = Some(unix_timestamp(v)?),
            "v1" => v1.push(hex_bytes(v)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("no t=<timestamp> item")?;
    if v1.is_empty() {
        return Err("no v1=<signature> item".into());
    }
    Ok(StripeHeader { timestamp, v1 })
}

/// The version of one entry in a Standard Webhooks signature list.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum StandardVersion {
    /// HMAC-SHA256.
    V1,
    /// ed25519.
    V1a,
}

/// Parses a space-separated list of `v1,<base64>` / `v1a,<base64>` entries. Entries
/// of unknown versions are skipped (forward compatibility, as the spec asks).
pub(crate) fn standard_signatures(value: &str) -> Result<Vec<(StandardVersion, Vec<u8>)>, String> {
    let mut out = Vec::new();
    for entry in value.split_ascii_whitespace() {
        let Some((version, sig)) = entry.split_once(',') else {
            return Err(format!("entry `{}` is not <version>,<base64>", clip(entry)));
        };
        let version = match version {
            "v1" => StandardVersion::V1,
            "v1a" => StandardVersion::V1a,
            _ => continue,
        };
        let bytes = B64
            .decode(sig)
            .map_err(|_| format!("entry `{}` is not valid base64", clip(entry)))?;
        out.push((version, bytes));
    }
    if out.is_empty() {
        return Err("no v1 or v1a signature in the list".into());
    }
    Ok(out)
}

/// Strips a required prefix (e.g. `sha256=`) and decodes the hex after it.
pub(crate) fn prefixed_hex(value: &str, prefix: &str) -> Result<Vec<u8>, String> {
    let rest = value
        .trim()
        .strip_prefix(prefix)
        .ok_or_else(|| format!("expected `{prefix}<hex>`"))?;
    hex_bytes(rest)
}

/// Decodes lowercase hex. Signatures are written in lowercase (as every
/// provider does and their libraries compare them), so any other spelling is a
/// changed signature, not the same one.
pub(crate) fn hex_bytes(value: &str) -> Result<Vec<u8>, String> {
    let v = value.trim();
    if let Some(bad) = v.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(format!("not lowercase hex (found {bad:?})"));
    }
    hex::decode(v).map_err(|e| format!("not hex: {e}"))
}

/// Decodes standard base64.
pub(crate) fn base64_bytes(value: &str) -> Result<Vec<u8>, String> {
    B64.decode(value.trim())
        .map_err(|e| format!("not base64: {e}"))
}

/// Parses Unix seconds: ASCII digits only, no sign, no fraction.
pub(crate) fn unix_timestamp(value: &str) -> Result<i64, String> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("timestamp `{}` is not Unix seconds", clip(v)));
    }
    v.parse::<i64>()
        .map_err(|_| format!("timestamp `{}` is out of range", clip(v)))
}

/// At most 40 characters of untrusted input, for error messages.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stripe_header() {
        let h = stripe("t=12,v1=00ff,v0=zz,v1=ab").unwrap();
        assert_eq!(h.timestamp, 12);
        assert_eq!(h.v1, vec![vec![0, 255], vec![0xab]]);
        assert!(
            stripe("t=12,v1=AB").unwrap_err().contains("lowercase"),
            "hex is lowercase"
        );
        assert!(stripe("v1=00").unwrap_err().contains("t="));
        assert!(stripe("t=1").unwrap_err().contains("v1="));
        assert!(stripe("t=-1,v1=00").is_err());
        assert!(stripe("garbage").unwrap_err().contains("key=value"));
    }

    #[test]
    fn standard_list() {
        let l = standard_signatures("v2,xx v1,AAEC  v1a,/w==").unwrap();
        assert_eq!(
            l,
            vec![
                (StandardVersion::V1, vec![0, 1, 2]),
                (StandardVersion::V1a, vec![255])
            ]
        );
        assert!(standard_signatures("v2,abc").is_err());
        assert!(standard_signatures("").is_err());
        assert!(standard_signatures("v1,!!").unwrap_err().contains("base64"));
    }

    #[test]
    fn clip_is_char_safe() {
        let long = "é".repeat(100);
        assert_eq!(clip(&long).chars().count(), 41);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        // The fuzz target: arbitrary strings (including every Unicode scalar) never panic.
        #[test]
        fn parsers_are_total(s in any::<String>()) {
            let _ = stripe(&s);
            let _ = standard_signatures(&s);
            let _ = prefixed_hex(&s, "sha256=");
            let _ = prefixed_hex(&s, "v0=");
            let _ = hex_bytes(&s);
            let _ = base64_bytes(&s);
            let _ = unix_timestamp(&s);
        }

        // Structured near-misses reach deeper branches than random strings.
        #[test]
        fn structured_headers_are_total(
            t in "[0-9a-z=-]{0,25}",
            sigs in proptest::collection::vec("(v1|v1a|v0|v2)?[,=]?[A-Za-z0-9+/=]{0,70}", 0..5),
        ) {
            let joined = sigs.join(",");
            let _ = stripe(&format!("t={t},{joined}"));
            let _ = standard_signatures(&sigs.join(" "));
        }

        #[test]
        fn timestamps_round_trip(n in 0i64..i64::MAX) {
            prop_assert_eq!(unix_timestamp(&n.to_string()), Ok(n));
        }
    }
}
