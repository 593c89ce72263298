//! [`SourceSpec`]: a source as people write it, validated into a [`Source`].

use std::net::IpAddr;
use std::time::Duration;

use hookline_signature::{Scheme, Secret};
use ipnet::IpNet;

use super::options::{self, Auth, AuthKind, EventTypeRule, Replies, Reply};
use super::*;

/// A source as people write it: in `hookline.toml` (`[[source]]`, snake_case) or
/// in the API (camelCase). Durations are in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceSpec {
    /// Required to create; a `PUT` may leave it out (the path names it).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, pattern = r"^[a-z0-9_-]{1,64}$")
    )]
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
    /// An exact path the source also answers at, e.g. `/webhook`.
    #[serde(default)]
    pub path: Option<String>,
    /// Replies per outcome: `received`, `duplicate`, `rejected`.
    #[serde(default)]
    pub reply: Option<RepliesSpec>,
    /// `auto` (default), `header:NAME` or `json:/pointer`.
    #[serde(default, alias = "event_type")]
    pub event_type: Option<String>,
    /// `{ header = "X-API-Key", value = "…" }`, `{ bearer = "…" }` or `{ basic = "user:pass" }`.
    #[serde(default)]
    pub auth: Option<AuthSpec>,
}

/// The replies as people write them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RepliesSpec {
    #[serde(default)]
    pub received: Option<ReplySpec>,
    #[serde(default)]
    pub duplicate: Option<ReplySpec>,
    #[serde(default)]
    pub rejected: Option<ReplySpec>,
}

/// One reply: any field left out keeps its default (status 200, or 401 for
/// `rejected`; an empty body; the content type guessed from the body).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplySpec {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 200, maximum = 599))]
    pub status: Option<u16>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default, alias = "content_type")]
    pub content_type: Option<String>,
}

/// One value or several (rotation).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(v) => vec![v],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Request authentication as people write it: exactly one of `header` (with
/// `value` or `values`), `bearer` or `basic`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub value: Option<OneOrMany>,
    #[serde(default)]
    pub values: Option<Vec<String>>,
    #[serde(default)]
    pub bearer: Option<OneOrMany>,
    #[serde(default)]
    pub basic: Option<OneOrMany>,
}

impl AuthSpec {
    fn into_auth(self) -> Result<Auth, SourceError> {
        let bad = |m: &str| Err(SourceError::Auth(m.to_string()));
        let (kind, values) = match (self.header, self.bearer, self.basic) {
            (Some(h), None, None) => {
                let h = h.trim().to_ascii_lowercase();
                if !options::is_header_name(&h) {
                    return bad("`header` must be a header name like X-API-Key");
                }
                let mut v = self.value.map(OneOrMany::into_vec).unwrap_or_default();
                v.extend(self.values.unwrap_or_default());
                (AuthKind::Header(h), v)
            }
            (None, Some(b), None) if self.value.is_none() && self.values.is_none() => {
                (AuthKind::Bearer, b.into_vec())
            }
            (None, None, Some(b)) if self.value.is_none() && self.values.is_none() => {
                (AuthKind::Basic, b.into_vec())
            }
            _ => {
                return bad(
                    "give exactly one of { header = \"X-API-Key\", value = \"…\" }, \
                     { bearer = \"…\" } or { basic = \"user:pass\" }",
                )
            }
        };
        let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            return bad("at least one credential value is needed");
        }
        if values
            .iter()
            .any(|v| v.len() > 1024 || v.chars().any(char::is_control))
        {
            return bad("a credential is at most 1024 characters, none of them control characters");
        }
        if kind == AuthKind::Basic && values.iter().any(|v| !v.contains(':')) {
            return bad("basic credentials are written `user:pass`");
        }
        Ok(Auth {
            kind,
            values: values.into_iter().map(Secret::new).collect(),
        })
    }
}

fn reply(spec: Option<ReplySpec>, default_status: u16) -> Result<Option<Reply>, SourceError> {
    spec.map(|r| {
        Reply::new(
            r.status.unwrap_or(default_status),
            r.body.unwrap_or_default(),
            r.content_type,
        )
    })
    .transpose()
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
        if let Some(p) = self.path.filter(|p| !p.is_empty()) {
            validate_path(&p)?;
            source.path = Some(p);
        }
        if let Some(r) = self.reply {
            source.reply = Replies {
                received: reply(r.received, 200)?,
                duplicate: reply(r.duplicate, 200)?,
                rejected: reply(r.rejected, 401)?,
            };
        }
        if let Some(t) = self.event_type {
            source.event_type = EventTypeRule::parse(&t)?;
        }
        source.auth = self.auth.map(AuthSpec::into_auth).transpose()?;
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
