//! What a source does beyond checking a signature, so that a tutorial's
//! receiver can be replaced by configuration alone: the replies it gives per
//! outcome, where it takes the event type from, and request authentication
//! (an API key header, a bearer token, basic auth).

use base64::Engine as _;
use hookline_signature::Secret;
use subtle::ConstantTimeEq;

use super::SourceError;

/// What a source answers for one outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub content_type: String,
}

impl Reply {
    /// A reply, its content type guessed from the body when not given: JSON
    /// if the body parses as JSON, plain text otherwise.
    pub fn new(
        status: u16,
        body: String,
        content_type: Option<String>,
    ) -> Result<Reply, SourceError> {
        if !(200..=599).contains(&status) {
            return Err(SourceError::Reply(format!(
                "status {status} must be between 200 and 599"
            )));
        }
        if body.len() > 16 * 1024 {
            return Err(SourceError::Reply("a body is at most 16 KiB".into()));
        }
        let content_type = content_type
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| {
                if serde_json::from_str::<serde_json::Value>(&body).is_ok() {
                    "application/json".into()
                } else {
                    "text/plain; charset=utf-8".into()
                }
            });
        if http_token_value(&content_type).is_none() {
            return Err(SourceError::Reply(format!(
                "content_type `{content_type}` is not a valid header value"
            )));
        }
        Ok(Reply {
            status,
            body,
            content_type,
        })
    }

    /// The body with `{{id}}`, `{{event_type}}` and `{{reason}}` filled in.
    /// Values put into a JSON body are JSON-escaped, so they cannot break it.
    pub fn render(&self, id: &str, event_type: &str, reason: &str) -> String {
        let json = self.content_type.starts_with("application/json");
        let fill = |v: &str| {
            if json {
                let quoted = serde_json::Value::from(v).to_string();
                quoted[1..quoted.len() - 1].to_string()
            } else {
                v.to_string()
            }
        };
        self.body
            .replace("{{id}}", &fill(id))
            .replace("{{event_type}}", &fill(event_type))
            .replace("{{reason}}", &fill(reason))
    }
}

/// A header value is visible ASCII and spaces.
fn http_token_value(v: &str) -> Option<&str> {
    v.bytes()
        .all(|b| b == b' ' || b.is_ascii_graphic())
        .then_some(v)
}

/// The replies a source gives; `None` keeps hookline's own answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Replies {
    /// Stored (a new event).
    pub received: Option<Reply>,
    /// A repeated delivery id, not stored again.
    pub duplicate: Option<Reply>,
    /// A bad or missing signature, or failed authentication (stored as rejected).
    pub rejected: Option<Reply>,
}

/// Where a source takes an event's type from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EventTypeRule {
    /// The provider's own header or field (`X-GitHub-Event`, Stripe's `type`, …).
    #[default]
    Auto,
    /// A request header of this (lower-case) name.
    Header(String),
    /// A JSON pointer into the body, e.g. `/type`.
    JsonPointer(String),
}

impl EventTypeRule {
    /// Parses `auto`, `header:NAME` or `json:/pointer`.
    pub fn parse(s: &str) -> Result<EventTypeRule, SourceError> {
        let s = s.trim();
        if s.is_empty() || s == "auto" {
            return Ok(EventTypeRule::Auto);
        }
        if let Some(h) = s.strip_prefix("header:") {
            let h = h.trim().to_ascii_lowercase();
            if is_header_name(&h) {
                return Ok(EventTypeRule::Header(h));
            }
        }
        if let Some(p) = s.strip_prefix("json:") {
            if p.starts_with('/') {
                return Ok(EventTypeRule::JsonPointer(p.to_string()));
            }
        }
        Err(SourceError::EventType(s.to_string()))
    }

    /// The text form that `parse` reads.
    pub fn to_config(&self) -> String {
        match self {
            EventTypeRule::Auto => "auto".into(),
            EventTypeRule::Header(h) => format!("header:{h}"),
            EventTypeRule::JsonPointer(p) => format!("json:{p}"),
        }
    }
}

pub(super) fn is_header_name(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 128
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// How a request authenticates itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthKind {
    /// A header of this (lower-case) name carries the value (an API key).
    Header(String),
    /// `Authorization: Bearer <value>`.
    Bearer,
    /// `Authorization: Basic base64(<value>)`, the value being `user:pass`.
    Basic,
}

/// Request authentication: the request must carry one of `values` (several
/// for rotation), compared in constant time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub kind: AuthKind,
    pub values: Vec<Secret>,
}

impl Auth {
    /// Checks the request's headers (`header` looks one up by lower-case
    /// name); the error is the reason stored with the rejected event.
    pub fn check<'a>(&self, header: impl Fn(&str) -> Option<&'a str>) -> Result<(), String> {
        let (name, given) = match &self.kind {
            AuthKind::Header(h) => (h.as_str(), header(h).map(|v| v.trim().as_bytes().to_vec())),
            AuthKind::Bearer => (
                "authorization",
                header("authorization")
                    .and_then(|v| scheme_value(v, "bearer"))
                    .map(|v| v.as_bytes().to_vec()),
            ),
            AuthKind::Basic => (
                "authorization",
                header("authorization")
                    .and_then(|v| scheme_value(v, "basic"))
                    .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok()),
            ),
        };
        let Some(given) = given else {
            return Err(format!("auth_missing: no credentials in `{name}`"));
        };
        // Every value is compared, so the time taken says nothing about which.
        let matched = self.values.iter().fold(false, |hit, v| {
            let v = v.expose().as_bytes();
            hit | (v.len() == given.len() && bool::from(v.ct_eq(&given)))
        });
        if matched {
            Ok(())
        } else {
            Err(format!(
                "auth_failed: the credentials in `{name}` do not match"
            ))
        }
    }

    /// The kind as the API shows it: `header:NAME`, `bearer` or `basic`.
    pub fn describe(&self) -> String {
        match &self.kind {
            AuthKind::Header(h) => format!("header:{h}"),
            AuthKind::Bearer => "bearer".into(),
            AuthKind::Basic => "basic".into(),
        }
    }
}

/// `Scheme value` of an `Authorization` header, the scheme matched case-insensitively.
fn scheme_value<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, v) = header.trim().split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then(|| v.trim())
}

/// The options as one JSON document, as the stores keep them (secrets in clear,
/// like the signing secrets beside them).
#[derive(serde::Serialize, serde::Deserialize, Default)]
pub(super) struct Stored {
    #[serde(default)]
    pub reply: Replies,
    #[serde(default)]
    pub event_type: String,
    #[serde(default)]
    pub auth: Option<StoredAuth>,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct StoredAuth {
    pub kind: String,
    pub values: Vec<String>,
}

impl StoredAuth {
    pub fn of(a: &Auth) -> StoredAuth {
        StoredAuth {
            kind: a.describe(),
            values: a.values.iter().map(|v| v.expose().to_string()).collect(),
        }
    }

    pub fn into_auth(self) -> Result<Auth, SourceError> {
        let kind = match self.kind.as_str() {
            "bearer" => AuthKind::Bearer,
            "basic" => AuthKind::Basic,
            k => match k.strip_prefix("header:") {
                Some(h) if is_header_name(h) => AuthKind::Header(h.to_string()),
                _ => return Err(SourceError::Auth(format!("unknown kind `{k}`"))),
            },
        };
        Ok(Auth {
            kind,
            values: self.values.into_iter().map(Secret::new).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| *v)
    }

    #[test]
    fn auth_kinds_accept_their_credentials_only() {
        let key = Auth {
            kind: AuthKind::Header("x-api-key".into()),
            values: vec![Secret::new("new"), Secret::new("old")],
        };
        assert!(
            key.check(lookup(&[("x-api-key", "old")])).is_ok(),
            "rotation"
        );
        assert!(key
            .check(lookup(&[("x-api-key", "nope")]))
            .unwrap_err()
            .starts_with("auth_failed"));
        assert!(key
            .check(lookup(&[]))
            .unwrap_err()
            .starts_with("auth_missing"));
        let bearer = Auth {
            kind: AuthKind::Bearer,
            values: vec![Secret::new("t0k")],
        };
        assert!(bearer
            .check(lookup(&[("authorization", "Bearer t0k")]))
            .is_ok());
        assert!(bearer
            .check(lookup(&[("authorization", "Basic t0k")]))
            .is_err());
        let basic = Auth {
            kind: AuthKind::Basic,
            values: vec![Secret::new("user:pass")],
        };
        assert!(basic
            .check(lookup(&[("authorization", "basic dXNlcjpwYXNz")]))
            .is_ok());
        assert!(basic
            .check(lookup(&[("authorization", "Basic !!!")]))
            .is_err());
    }

    #[test]
    fn replies_fill_placeholders_and_escape_into_json() {
        let r = Reply::new(200, r#"{"ok":"{{id}}","r":"{{reason}}"}"#.into(), None).unwrap();
        assert_eq!(r.content_type, "application/json");
        assert_eq!(
            r.render("evt_1", "t", "a \"quoted\""),
            r#"{"ok":"evt_1","r":"a \"quoted\""}"#
        );
        let t = Reply::new(200, "Payment processed".into(), None).unwrap();
        assert!(t.content_type.starts_with("text/plain"));
        assert!(Reply::new(99, String::new(), None).is_err());
    }

    #[test]
    fn event_type_rules_parse_and_print() {
        for s in ["auto", "header:x-event", "json:/type"] {
            assert_eq!(EventTypeRule::parse(s).unwrap().to_config(), s);
        }
        assert!(EventTypeRule::parse("json:type").is_err());
        assert!(EventTypeRule::parse("header:").is_err());
    }
}
