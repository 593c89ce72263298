//! [`RouteSpec`]: a route as people write it, validated into a [`Route`].

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_signature::{Scheme, Secret, SignInput};
use serde_json::Value;

use super::Route;
use crate::filter::Filter;
use crate::id::RouteId;
use crate::outbound::{EndpointPolicy, RetryPolicy};
use crate::source::validate_name;

/// Why a route as written cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The filter does not parse (names the operator and where).
    #[error("{0}")]
    Filter(String),
    #[error("{0}")]
    Invalid(String),
}

/// A route as people write it: in `hookline.toml` (`[[route]]`, snake_case)
/// or in the API (camelCase). Durations are in seconds.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteSpec {
    /// Required to create; a `PUT` may leave it out (the path names it).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, pattern = r"^[a-z0-9_-]{1,64}$")
    )]
    pub name: String,
    /// The source's name.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, pattern = r"^[a-z0-9_-]{1,64}$")
    )]
    pub source: String,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, pattern = r"^https?://[^/?#\s]+")
    )]
    pub url: String,
    /// A JSON filter (an object, or a string holding one).
    #[serde(default)]
    pub filter: Option<Value>,
    /// Seconds to wait before each retry (default: the engine's schedule).
    #[serde(default, alias = "retry_schedule")]
    pub retry_schedule: Option<Vec<u64>>,
    /// Seconds one try may take.
    #[serde(default)]
    pub timeout: Option<u64>,
    /// Forwards per second.
    #[serde(default, alias = "rate_limit")]
    #[cfg_attr(feature = "openapi", schema(maximum = 65535))]
    pub rate_limit: Option<u16>,
    #[serde(default, alias = "max_concurrency")]
    #[cfg_attr(feature = "openapi", schema(maximum = 65535))]
    pub max_concurrency: Option<u16>,
    #[serde(default)]
    pub ordered: Option<bool>,
    #[serde(default)]
    pub paused: Option<bool>,
    /// Extra headers on every forward.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `none` (default) or `standard` (Standard Webhooks, with `secret`).
    #[serde(default)]
    pub sign: Option<String>,
    /// The `whsec_…` secret for `sign = "standard"`.
    #[serde(default)]
    pub secret: Option<String>,
}

/// Longest retry schedule, and longest single delay (a week).
const MAX_RETRIES: usize = 30;
const MAX_DELAY: u64 = 7 * 24 * 3600;

impl RouteSpec {
    /// Validates the spec into a route: a new one, or `existing` changed
    /// (its id, creation time and paused flag kept unless `paused` is given).
    /// `trusted`: written by the operator in `hookline.toml`.
    pub fn into_route(
        self,
        existing: Option<&Route>,
        trusted: bool,
        now: i64,
    ) -> Result<Route, RouteError> {
        validate_name(&self.name).map_err(|_| {
            RouteError::Invalid(format!(
                "route name `{}`: use 1-64 lowercase letters, digits, `-` or `_`",
                self.name
            ))
        })?;
        validate_name(&self.source).map_err(|_| {
            RouteError::Invalid(format!(
                "route `{}`: `source` must name a source (got `{}`)",
                self.name, self.source
            ))
        })?;
        let named = |m: String| RouteError::Invalid(format!("route `{}`: {m}", self.name));
        check_url(&self.url).map_err(named)?;
        let filter = self
            .filter
            .as_ref()
            .map(Filter::parse)
            .transpose()
            .map_err(|e| RouteError::Filter(format!("route `{}`: {e}", self.name)))?;
        let sign = signing(self.sign.as_deref(), self.secret.as_deref()).map_err(named)?;
        check_headers(&self.headers).map_err(named)?;
        let retry = match self.retry_schedule {
            Some(s) if s.len() > MAX_RETRIES || s.iter().any(|d| *d > MAX_DELAY) => {
                return Err(named(format!(
                    "`retry_schedule` takes at most {MAX_RETRIES} delays of at most {MAX_DELAY} s"
                )))
            }
            Some(s) => Some(RetryPolicy {
                schedule: s.into_iter().map(Duration::from_secs).collect(),
            }),
            None => None,
        };
        if self.timeout.is_some_and(|t| !(1..=300).contains(&t)) {
            return Err(named("`timeout` is between 1 and 300 seconds".into()));
        }
        if self.rate_limit == Some(0) || self.max_concurrency == Some(0) {
            return Err(named(
                "`rate_limit` and `max_concurrency` are at least 1 (leave them out for no limit)"
                    .into(),
            ));
        }
        Ok(Route {
            id: existing.map_or_else(|| RouteId::at(now), |r| r.id.clone()),
            name: self.name,
            source: self.source,
            url: self.url,
            filter,
            policy: EndpointPolicy {
                retry,
                timeout: self.timeout.map(Duration::from_secs),
                max_concurrency: self.max_concurrency,
            },
            rate_limit: self.rate_limit,
            ordered: self.ordered.unwrap_or(false),
            paused: self
                .paused
                .unwrap_or_else(|| existing.is_some_and(|r| r.paused)),
            headers: self.headers,
            sign,
            trusted,
            created_at: existing.map_or(now, |r| r.created_at),
            updated_at: now.max(existing.map_or(now, |r| r.updated_at + 1)),
        })
    }
}

fn check_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(format!(
            "`url` must be an http(s) URL like http://127.0.0.1:8000/webhooks (got `{url}`)"
        )),
    }
}

fn signing(sign: Option<&str>, secret: Option<&str>) -> Result<Option<Secret>, String> {
    match (sign.unwrap_or("none"), secret) {
        ("none", None) => Ok(None),
        ("none", Some(_)) => Err("`secret` is only used with sign = \"standard\"".into()),
        ("standard", Some(s)) => {
            let secret = Secret::new(s);
            let probe = SignInput {
                body: b"",
                id: "evt_probe",
                timestamp: 0,
                event: None,
            };
            Scheme::Standard
                .sign_all(std::slice::from_ref(&secret), &probe)
                .map_err(|e| {
                    format!("`secret` is not a Standard Webhooks secret (whsec_…): {e}")
                })?;
            Ok(Some(secret))
        }
        ("standard", None) => Err("sign = \"standard\" needs a `secret` (whsec_…)".into()),
        (other, _) => Err(format!(
            "`sign` is \"none\" or \"standard\" (got \"{other}\")"
        )),
    }
}

fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), String> {
    for (k, v) in headers {
        let name_ok = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !name_ok {
            return Err(format!("header name `{k}` is not a valid HTTP header name"));
        }
        if !v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) {
            return Err(format!(
                "header `{k}` has a value that is not visible ASCII"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: Value) -> Result<Route, RouteError> {
        serde_json::from_value::<RouteSpec>(json)
            .map_err(|e| RouteError::Invalid(e.to_string()))?
            .into_route(None, false, 1_000)
    }

    #[test]
    fn a_full_route_is_read_from_its_spec() {
        let r = spec(serde_json::json!({
            "name": "to-app", "source": "github", "url": "http://127.0.0.1:8000/webhooks",
            "filter": {"headers": {"x-github-event": "push"}}, "retrySchedule": [1, 5],
            "timeout": 3, "rateLimit": 10, "maxConcurrency": 2, "ordered": true,
            "headers": {"x-env": "dev"}, "sign": "standard",
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        }))
        .unwrap();
        assert!(r.ordered && !r.paused && r.sign.is_some() && r.filter.is_some());
        assert_eq!(r.policy.timeout, Some(Duration::from_secs(3)));
        assert_eq!(
            (r.rate_limit, r.policy.max_concurrency),
            (Some(10), Some(2))
        );
    }

    #[test]
    fn each_mistake_is_named() {
        let base = serde_json::json!({"name": "r", "source": "s", "url": "http://127.0.0.1/"});
        let with = |k: &str, v: Value| {
            let mut j = base.clone();
            j[k] = v;
            spec(j).unwrap_err().to_string()
        };
        assert!(with("url", "ftp://x".into()).contains("http(s) URL"));
        assert!(with("name", "Bad Name".into()).contains("route name"));
        assert!(with("filter", serde_json::json!({"body": {"$bad": 1}})).contains("$bad"));
        assert!(with("sign", "standard".into()).contains("needs a `secret`"));
        assert!(with("sign", "hmac".into()).contains("\"none\" or \"standard\""));
        assert!(with("timeout", 0.into()).contains("timeout"));
        assert!(with("headers", serde_json::json!({"bad name": "v"})).contains("header name"));
        let mut j = base.clone();
        j["sign"] = "standard".into();
        j["secret"] = "whsec_!!".into();
        assert!(spec(j)
            .unwrap_err()
            .to_string()
            .contains("Standard Webhooks secret"));
    }

    #[test]
    fn an_update_keeps_the_id_creation_time_and_pause() {
        let mut first =
            spec(serde_json::json!({"name": "r", "source": "s", "url": "http://a/"})).unwrap();
        first.paused = true;
        let again: RouteSpec = serde_json::from_value(
            serde_json::json!({"name": "r", "source": "s", "url": "http://b/"}),
        )
        .unwrap();
        let r = again.into_route(Some(&first), true, 500).unwrap();
        assert_eq!(
            (r.id, r.created_at, r.paused),
            (first.id, first.created_at, true)
        );
        assert!(r.updated_at > first.updated_at && r.trusted);
    }
}
