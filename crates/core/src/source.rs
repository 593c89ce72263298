//! Sources: named ingress points at `POST /in/{name}`.

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
            created_at: now,
            updated_at: now,
        })
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

/// A source as people write it: in `hookline.toml` (`[[source]]`, snake_case) or
/// in the API (camelCase). Durations are in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceSpec {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub scheme: Option<String>,
    /// One secret; or use `secrets` for rotation.
    #[serde(default)]
    pub secret: Option<String>,
    /// Several secrets, newest first; any may match.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Allowed clock skew in seconds (default 300).
    #[serde(default)]
    pub tolerance: Option<u64>,
    /// `auto` (default), `none`, `header:NAME` or `json:/pointer`.
    #[serde(default)]
    pub dedup: Option<String>,
    /// Seconds a delivery id is remembered (default 72 h).
    #[serde(default, alias = "dedup_window")]
    pub dedup_window: Option<u64>,
    #[serde(default, alias = "allow_ips")]
    pub allow_ips: Vec<String>,
    /// Requests per second.
    #[serde(default, alias = "rate_limit")]
    pub rate_limit: Option<u32>,
}

impl SourceSpec {
    /// Validates the spec into a source; `existing` keeps its id and creation time.
    pub fn into_source(self, existing: Option<&Source>) -> Result<Source, SourceError> {
        let scheme = match self.scheme.as_deref() {
            None | Some("") => Scheme::HmacSha256,
            Some(s) => s
                .parse()
                .map_err(|e: hookline_signature::scheme::UnknownScheme| {
                    SourceError::Scheme(e.to_string())
                })?,
        };
        let mut source = Source::new(&self.name, scheme)?;
        if let Some(old) = existing {
            source.id = old.id.clone();
            source.created_at = old.created_at;
        }
        source.secrets = self
            .secret
            .into_iter()
            .chain(self.secrets)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .collect();
        if let Some(t) = self.tolerance {
            source.tolerance = Duration::from_secs(t);
        }
        if let Some(d) = self.dedup {
            source.dedup = DedupRule::parse(&d)?;
        }
        if let Some(w) = self.dedup_window {
            source.dedup_window = Duration::from_secs(w);
        }
        source.allow_ips = self
            .allow_ips
            .iter()
            .map(|s| parse_net(s))
            .collect::<Result<_, _>>()?;
        if self.rate_limit == Some(0) {
            return Err(SourceError::RateLimit);
        }
        source.rate_limit = self.rate_limit;
        Ok(source)
    }
}

/// A CIDR, or a single address (as /32 or /128).
fn parse_net(s: &str) -> Result<IpNet, SourceError> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| SourceError::AllowIp(s.to_string()))
}

#[cfg(test)]
mod spec_tests {
    use super::*;

    #[test]
    fn spec_to_source() {
        let spec: SourceSpec = serde_json::from_str(
            r#"{"name":"stripe","scheme":"stripe","secret":"whsec_a","secrets":["whsec_b"],"tolerance":60,"allowIps":["10.0.0.0/8","127.0.0.1"],"rateLimit":5,"dedup":"json:/id"}"#,
        )
        .unwrap();
        let s = spec.into_source(None).unwrap();
        assert_eq!(s.scheme, Scheme::Stripe);
        assert_eq!(
            s.secrets,
            vec![Secret::new("whsec_a"), Secret::new("whsec_b")]
        );
        assert_eq!(s.tolerance, Duration::from_secs(60));
        assert_eq!(s.allow_ips.len(), 2);
        assert_eq!(s.dedup, DedupRule::JsonPointer("/id".into()));
        let bad = SourceSpec {
            name: "x".into(),
            scheme: Some("md5".into()),
            ..Default::default()
        };
        assert!(matches!(bad.into_source(None), Err(SourceError::Scheme(_))));
        let bad_ip = SourceSpec {
            name: "x".into(),
            allow_ips: vec!["nope".into()],
            ..Default::default()
        };
        assert!(matches!(
            bad_ip.into_source(None),
            Err(SourceError::AllowIp(_))
        ));
        assert!(serde_json::from_str::<SourceSpec>(r#"{"name":"x","sekret":"typo"}"#).is_err());
    }
}
