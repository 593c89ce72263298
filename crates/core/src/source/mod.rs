//! Sources: named ingress points at `POST /in/{name}` (and, optionally, at an
//! exact path of their own).
//!
//! - this file: [`Source`], its dedup rule, and the names and paths it may take.
//! - `options`: replies per outcome, the event-type rule, request authentication.
//! - `spec`: [`SourceSpec`], a source as people write it (TOML or the API).

mod options;
mod spec;

pub use options::{Auth, AuthKind, EventTypeRule, Replies, Reply};
pub use spec::{AuthSpec, OneOrMany, RepliesSpec, ReplySpec, SourceSpec};

use std::net::IpAddr;
use std::time::Duration;

use hookline_signature::{Scheme, Secret};
use ipnet::IpNet;

use crate::id::SourceId;

/// The name of the built-in source behind the tutorial's `/webhook/{event}`.
pub const DEFAULT_SOURCE: &str = "default";

/// How duplicates are recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DedupRule {
    /// The provider's delivery id: `webhook-id`, `X-GitHub-Delivery`,
    /// `X-Shopify-Webhook-Id`, or Stripe's event `id` in the payload.
    Auto,
    /// A request header of this (lower-case) name.
    Header(String),
    /// A JSON pointer into the payload, e.g. `/id`.
    JsonPointer(String),
    /// No de-duplication.
    None,
}

impl DedupRule {
    /// Parses `auto`, `none`, `header:NAME` or `json:/pointer`.
    pub fn parse(s: &str) -> Result<Self, SourceError> {
        let s = s.trim();
        match s {
            "" | "auto" => return Ok(DedupRule::Auto),
            "none" | "off" => return Ok(DedupRule::None),
            _ => {}
        }
        if let Some(h) = s.strip_prefix("header:") {
            let h = h.trim().to_ascii_lowercase();
            if !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Ok(DedupRule::Header(h));
            }
        }
        if let Some(p) = s.strip_prefix("json:") {
            if p.starts_with('/') {
                return Ok(DedupRule::JsonPointer(p.to_string()));
            }
        }
        Err(SourceError::Dedup(s.to_string()))
    }

    /// The text form that `parse` reads.
    pub fn to_config(&self) -> String {
        match self {
            DedupRule::Auto => "auto".into(),
            DedupRule::None => "none".into(),
            DedupRule::Header(h) => format!("header:{h}"),
            DedupRule::JsonPointer(p) => format!("json:{p}"),
        }
    }
}

/// A source's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub id: SourceId,
    /// URL slug: `POST /in/{name}`.
    pub name: String,
    /// The signature scheme; with no secrets nothing is verified.
    pub scheme: Scheme,
    /// Active secrets, newest first; any may match (rotation).
    pub secrets: Vec<Secret>,
    /// Allowed clock skew for timestamped schemes.
    pub tolerance: Duration,
    pub dedup: DedupRule,
    /// How long a delivery id is remembered.
    pub dedup_window: Duration,
    /// If non-empty, only these networks may post.
    pub allow_ips: Vec<IpNet>,
    /// Requests per second allowed (token bucket, burst of the same size); `None`: unlimited.
    pub rate_limit: Option<u32>,
    /// An exact path this source also answers at (e.g. `/webhook`), besides `/in/{name}`.
    pub path: Option<String>,
    /// What it answers per outcome; `None` keeps hookline's answers.
    pub reply: Replies,
    /// Where the event type comes from.
    pub event_type: EventTypeRule,
    /// Request authentication, for senders that do not sign (or on top of a signature).
    pub auth: Option<Auth>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Invalid source configuration, with what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("source name `{0}` must be 1-64 characters of a-z, 0-9, '-' or '_'")]
    Name(String),
    #[error("dedup rule `{0}` must be auto, none, header:NAME or json:/pointer")]
    Dedup(String),
    #[error("rate limit must be at least 1 request per second")]
    RateLimit,
    #[error("{0}")]
    Scheme(String),
    #[error("`{0}` in allow_ips is neither an IP address nor a CIDR like 10.0.0.0/8")]
    AllowIp(String),
    #[error("path `{0}` must start with `/` and hold only letters, digits and -._~/ (at most 200 characters, no `//`)")]
    Path(String),
    #[error("reply: {0}")]
    Reply(String),
    #[error("event_type `{0}` must be auto, header:NAME or json:/pointer")]
    EventType(String),
    #[error("auth: {0}")]
    Auth(String),
}

impl Source {
    pub const DEFAULT_DEDUP_WINDOW: Duration = Duration::from_secs(72 * 3600);

    /// A source with defaults: no secret, 5-minute tolerance, auto dedup for 72 h.
    pub fn new(name: &str, scheme: Scheme) -> Result<Source, SourceError> {
        validate_name(name)?;
        let now = crate::clock::now_ms();
        Ok(Source {
            id: SourceId::at(now),
            name: name.to_string(),
            scheme,
            secrets: Vec::new(),
            tolerance: hookline_signature::DEFAULT_TOLERANCE,
            dedup: DedupRule::Auto,
            dedup_window: Self::DEFAULT_DEDUP_WINDOW,
            allow_ips: Vec::new(),
            rate_limit: None,
            path: None,
            reply: Replies::default(),
            event_type: EventTypeRule::Auto,
            auth: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// Whether a request must prove anything (a signature or credentials); a
    /// source that does not accepts every request.
    pub fn verifies(&self) -> bool {
        !self.secrets.is_empty() || self.auth.is_some()
    }

    /// The reply, event-type and auth options as one JSON document (how the
    /// stores keep them).
    pub fn options_json(&self) -> String {
        let stored = options::Stored {
            reply: self.reply.clone(),
            event_type: self.event_type.to_config(),
            auth: self.auth.as_ref().map(options::StoredAuth::of),
        };
        serde_json::to_string(&stored).unwrap_or_else(|_| "{}".into())
    }

    /// Reads back what [`Source::options_json`] wrote.
    pub fn set_options_json(&mut self, json: &str) -> Result<(), SourceError> {
        let stored: options::Stored =
            serde_json::from_str(json).map_err(|e| SourceError::Reply(e.to_string()))?;
        self.reply = stored.reply;
        self.event_type = EventTypeRule::parse(&stored.event_type)?;
        self.auth = stored
            .auth
            .map(options::StoredAuth::into_auth)
            .transpose()?;
        Ok(())
    }

    /// Whether `ip` may post to this source.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.allow_ips.is_empty() || self.allow_ips.iter().any(|n| n.contains(&ip))
    }
}

/// Checks a source's own path: absolute, plain characters, no empty segment.
pub fn validate_path(path: &str) -> Result<(), SourceError> {
    let ok = path.starts_with('/')
        && (2..=200).contains(&path.len())
        && !path.contains("//")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(SourceError::Path(path.chars().take(80).collect()))
    }
}

/// Checks a source name (it is a URL path segment).
pub fn validate_name(name: &str) -> Result<(), SourceError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SourceError::Name(name.chars().take(80).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_rules_parse_and_print() {
        for s in ["auto", "none", "header:x-request-id", "json:/data/id"] {
            assert_eq!(DedupRule::parse(s).unwrap().to_config(), s);
        }
        assert_eq!(
            DedupRule::parse("header:X-Id").unwrap(),
            DedupRule::Header("x-id".into())
        );
        assert!(DedupRule::parse("json:id").is_err());
        assert!(DedupRule::parse("header:").is_err());
    }

    #[test]
    fn names_and_allow_lists() {
        assert!(Source::new("github-main", Scheme::Github).is_ok());
        assert!(Source::new("Bad Name", Scheme::Github).is_err());
        assert!(Source::new("", Scheme::Github).is_err());
        let mut s = Source::new("s", Scheme::Hex).unwrap();
        assert!(s.allows("10.0.0.1".parse().unwrap()));
        s.allow_ips = vec!["127.0.0.0/8".parse().unwrap()];
        assert!(s.allows("127.0.0.1".parse().unwrap()));
        assert!(s.allows("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!s.allows("10.0.0.1".parse().unwrap()));
    }
}
