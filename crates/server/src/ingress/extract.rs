//! What a request says about itself: its event type and its delivery id.

use hookline_core::{DedupRule, EventTypeRule};
use hookline_signature::Scheme;
use http::HeaderMap;
use serde_json::Value;

use super::body::Parsed;

const MAX_LEN: usize = 256;

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(clip)
}

fn clip(s: &str) -> String {
    s.chars().take(MAX_LEN).collect()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(clip(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The event type by the source's rule: a configured header or JSON pointer,
/// else (and when that finds nothing) the provider's default below.
pub fn event_type_by(
    rule: &EventTypeRule,
    headers: &HeaderMap,
    parsed: &Parsed,
    hint: Option<&str>,
) -> Option<String> {
    let configured = match rule {
        EventTypeRule::Auto => None,
        EventTypeRule::Header(name) => header(headers, name),
        EventTypeRule::JsonPointer(ptr) => {
            parsed.json().and_then(|j| j.pointer(ptr)).and_then(text)
        }
    };
    configured.or_else(|| event_type(headers, parsed, hint))
}

/// `X-Event-Type`; else the provider's header (`X-GitHub-Event`,
/// `X-Shopify-Topic`); else `hint` (the tutorial's path segment); else the
/// payload's `type` (Stripe, Standard Webhooks, Slack's inner `event.type`).
pub fn event_type(headers: &HeaderMap, parsed: &Parsed, hint: Option<&str>) -> Option<String> {
    header(headers, "x-event-type")
        .or_else(|| header(headers, "x-github-event"))
        .or_else(|| header(headers, "x-shopify-topic"))
        .or_else(|| hint.filter(|h| !h.is_empty()).map(clip))
        .or_else(|| {
            let json = parsed.json()?;
            json.pointer("/event/type")
                .and_then(text)
                .or_else(|| json.get("type").and_then(text))
                .or_else(|| json.get("eventType").and_then(text))
        })
}

/// The key duplicates are recognised by, per the source's rule.
pub fn dedup_key(
    rule: &DedupRule,
    scheme: Scheme,
    headers: &HeaderMap,
    parsed: &Parsed,
) -> Option<String> {
    match rule {
        DedupRule::None => None,
        DedupRule::Header(name) => header(headers, name),
        DedupRule::JsonPointer(ptr) => parsed.json()?.pointer(ptr).and_then(text),
        DedupRule::Auto => header(headers, "webhook-id")
            .or_else(|| header(headers, "svix-id"))
            .or_else(|| header(headers, "x-github-delivery"))
            .or_else(|| header(headers, "x-shopify-webhook-id"))
            .or_else(|| match scheme {
                Scheme::Stripe => parsed.json()?.get("id").and_then(text),
                _ => None,
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn event_type_order() {
        let p = Parsed::Json(json!({"type": "invoice.paid", "event": {"type": "app_mention"}}));
        assert_eq!(
            event_type(&h(&[("x-event-type", "a")]), &p, Some("b")).as_deref(),
            Some("a")
        );
        assert_eq!(
            event_type(&h(&[("x-github-event", "push")]), &p, None).as_deref(),
            Some("push")
        );
        assert_eq!(
            event_type(&h(&[]), &p, Some("order")).as_deref(),
            Some("order")
        );
        assert_eq!(
            event_type(&h(&[]), &p, None).as_deref(),
            Some("app_mention")
        );
        let stripe = Parsed::Json(json!({"id": "evt_1", "type": "invoice.paid"}));
        assert_eq!(
            event_type(&h(&[]), &stripe, None).as_deref(),
            Some("invoice.paid")
        );
        assert_eq!(event_type(&h(&[]), &Parsed::Opaque, None), None);
    }

    #[test]
    fn dedup_rules() {
        let p = Parsed::Json(json!({"id": "evt_9", "data": {"n": 7}}));
        let gh = h(&[("x-github-delivery", "d-1")]);
        assert_eq!(
            dedup_key(&DedupRule::Auto, Scheme::Github, &gh, &p).as_deref(),
            Some("d-1")
        );
        assert_eq!(
            dedup_key(&DedupRule::Auto, Scheme::Stripe, &h(&[]), &p).as_deref(),
            Some("evt_9")
        );
        assert_eq!(dedup_key(&DedupRule::Auto, Scheme::Hex, &h(&[]), &p), None);
        let ptr = DedupRule::JsonPointer("/data/n".into());
        assert_eq!(
            dedup_key(&ptr, Scheme::Hex, &h(&[]), &p).as_deref(),
            Some("7")
        );
        let hdr = DedupRule::Header("x-request-id".into());
        assert_eq!(
            dedup_key(&hdr, Scheme::Hex, &h(&[("x-request-id", "r")]), &p).as_deref(),
            Some("r")
        );
        assert_eq!(dedup_key(&DedupRule::None, Scheme::Github, &gh, &p), None);
    }
}
