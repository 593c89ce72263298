//! `hookline send`: one signed webhook, shown the way the classic tutorial
//! client shows it (status line, headers sent, payload sent, response body).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hookline_signature::{title_case, Scheme, Secret, SignError, SignInput};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use crate::exit::{bad_input, Outcome};
use crate::transport::{self, TransportError};
use crate::{input, load};

const EXAMPLES: &str = "Examples:
  hookline send http://localhost:3000/webhook/user.created
  hookline send http://localhost:3000/webhook/order --secret s3cr3t --data '{\"id\": 7}'
  hookline send https://example.com/hooks --scheme standard --secret whsec_... --data @event.json
  hookline send http://localhost:3000/webhook/load --secret s3cr3t --count 10000 --concurrency 32
  hookline send http://localhost:3000/webhook/load --count 30000 --rate 5000 --concurrency 256";

/// Send a signed webhook and show what was sent and what came back.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct SendArgs {
    /// The receiver's URL (http:// or https://).
    pub url: String,
    /// Event type, sent as `X-Event-Type` (and as the provider's event header
    /// for github/shopify) [default: the URL's `/webhook/{event}`, else
    /// user.created]. An empty value sends no event header.
    #[arg(long, short)]
    pub event: Option<String>,
    /// Secret to sign with; without it the request is sent unsigned.
    #[arg(long, short, env = "HOOKLINE_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Signature scheme: hmac-sha256, hex, base64, standard, github, stripe, slack, shopify.
    #[arg(long, default_value = "hmac-sha256")]
    pub scheme: Scheme,
    /// Payload: inline JSON, @file, or - for standard input [default: {"id": 1, "name": "Alice"}].
    #[arg(long, short)]
    pub data: Option<String>,
    /// Extra header 'Name: value' (repeatable); overrides the defaults.
    #[arg(long = "header", short = 'H', value_name = "'K: V'")]
    pub headers: Vec<String>,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub timeout: f64,
    /// Send the payload bytes exactly as given, without JSON validation or compaction.
    #[arg(long)]
    pub raw: bool,
    /// Print one JSON object (or the load summary) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Send this many webhooks (each with a fresh id and timestamp) and print a summary.
    #[arg(long, short = 'n', value_name = "N")]
    pub count: Option<u64>,
    /// With --count: how many requests are in flight at once.
    #[arg(long, short = 'c', default_value_t = 16, value_name = "C")]
    pub concurrency: usize,
    /// With --count: start R requests per second, whatever the answers (open
    /// loop). A request that cannot start on time (C already in flight)
    /// counts its latency from when it was due, so a stalling receiver shows.
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
}

/// A validated request, ready to be signed and sent any number of times.
#[derive(Debug)]
pub struct Prepared {
    pub url: url::Url,
    pub body: bytes::Bytes,
    pub timeout: Duration,
    scheme: Scheme,
    secret: Option<Secret>,
    event: Option<String>,
    extra: Vec<(HeaderName, HeaderValue)>,
}

impl Prepared {
    /// Checks every argument; any problem is a `BadInput` and nothing is sent.
    pub fn from_args(args: &SendArgs) -> anyhow::Result<Prepared> {
        let url = parse_url(&args.url)?;
        let given = match &args.data {
            Some(d) => input::read_data(d)?,
            None => br#"{"id": 1, "name": "Alice"}"#.to_vec(),
        };
        let body = if args.raw {
            given
        } else {
            input::compact_json(&given)?
        };
        if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 86_400.0) {
            return Err(bad_input(
                "--timeout must be a number of seconds between 0 and 86400",
            ));
        }
        let extra = args
            .headers
            .iter()
            .map(|h| input::header(h))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let event = args.event.clone().unwrap_or_else(|| event_of(&url));
        let prepared = Prepared {
            url,
            body: body.into(),
            timeout: Duration::from_secs_f64(args.timeout),
            scheme: args.scheme,
            secret: args
                .secret
                .clone()
                .filter(|s| !s.is_empty())
                .map(Secret::new),
            event: Some(event).filter(|e| !e.is_empty()),
            extra,
        };
        // Sign once now so that a bad secret is reported before anything is sent.
        prepared.headers(&new_id(), unix_now())?;
        Ok(prepared)
    }

    /// The headers for one request with this id and timestamp.
    pub fn headers(&self, id: &str, timestamp: i64) -> anyhow::Result<HeaderMap> {
        let input = SignInput {
            body: &self.body,
            id,
            timestamp,
            event: self.event.as_deref(),
        };
        let mut h = hookline_signature::webhook_headers(self.scheme, self.secret.as_ref(), &input)
            .map_err(|e| match e {
                SignError::HeaderValue(_) => {
                    bad_input("the event type has characters a header cannot carry")
                }
                other => bad_input(format!("cannot sign with this secret: {other}")),
            })?;
        for (k, v) in &self.extra {
            h.insert(k.clone(), v.clone());
        }
        Ok(h)
    }
}

fn parse_url(raw: &str) -> anyhow::Result<url::Url> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(bad_input(
            "the webhook URL is empty; give the receiver's URL, e.g. http://localhost:3000/webhook/user.created",
        ));
    }
    let url = url::Url::parse(raw).map_err(|e| {
        bad_input(format!(
            "`{raw}` is not a valid URL ({e}); it should look like http://host:port/path"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad_input(format!(
            "`{raw}` is not an http(s) URL; webhooks are sent over http:// or https://"
        )));
    }
    Ok(url)
}

/// A fresh message id, `msg_` + 32 hex digits.
pub fn new_id() -> String {
    format!("msg_{}", uuid::Uuid::new_v4().simple())
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub async fn run(args: SendArgs) -> anyhow::Result<Outcome> {
    let prepared = Prepared::from_args(&args)?;
    if let Some(count) = args.count {
        if count == 0 || args.concurrency == 0 {
            return Err(bad_input("--count and --concurrency must be at least 1"));
        }
        if args.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(bad_input(
                "--rate must be a number of requests per second above 0",
            ));
        }
        return load::run(prepared, count, args.concurrency, args.rate, args.json).await;
    }
    if args.rate.is_some() {
        return Err(bad_input("--rate paces a load: give --count too"));
    }
    let client = transport::client(prepared.timeout, 1)?;
    let headers = prepared.headers(&new_id(), unix_now())?;
    let started = Instant::now();
    let sent = client
        .post(prepared.url.clone())
        .headers(headers.clone())
        .body(prepared.body.clone())
        .send()
        .await;
    let answer = match sent {
        Ok(resp) => {
            let status = resp.status();
            let resp_headers = resp.headers().clone();
            match resp.bytes().await {
                Ok(body) => Ok((status, resp_headers, body)),
                Err(e) => Err(transport::classify(&e, &prepared.url, prepared.timeout)),
            }
        }
        Err(e) => Err(transport::classify(&e, &prepared.url, prepared.timeout)),
    };
    let elapsed = started.elapsed();
    let outcome = match &answer {
        Ok((status, ..)) if status.is_success() => Outcome::Success,
        _ => Outcome::Failure,
    };
    if args.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&as_json(&prepared, &headers, &answer, elapsed))?
        );
    } else {
        print_text(&prepared, &headers, &answer, elapsed);
    }
    Ok(outcome)
}

type Answer = Result<(http::StatusCode, HeaderMap, bytes::Bytes), TransportError>;

fn print_text(p: &Prepared, sent: &HeaderMap, answer: &Answer, elapsed: Duration) {
    match answer {
        Ok((status, ..)) => say!(
            "Response: {} {} ({:.1} ms)",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            elapsed.as_secs_f64() * 1e3
        ),
        Err(e) => say!("Error: {}", e.message),
    }
    say!("\nHeaders sent:");
    for (k, v) in sent {
        say!(
            "  {}: {}",
            title_case(k.as_str()),
            String::from_utf8_lossy(v.as_bytes())
        );
    }
    say!("\nPayload sent:\n{}", String::from_utf8_lossy(&p.body));
    if let Ok((_, headers, body)) = answer {
        say!("\nResponse body:");
        match pretty_body(headers, body) {
            Value::String(s) if s.is_empty() => say!("(empty)"),
            Value::String(s) => say!("{s}"),
            v => say!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
        }
    }
}

fn as_json(p: &Prepared, sent: &HeaderMap, answer: &Answer, elapsed: Duration) -> Value {
    let mut out = json!({
        "url": p.url.as_str(),
        "ok": matches!(answer, Ok((s, ..)) if s.is_success()),
        "elapsedMs": (elapsed.as_secs_f64() * 1e6).round() / 1e3,
        "request": {
            "headers": headers_json(sent),
            "payload": String::from_utf8_lossy(&p.body),
        },
    });
    match answer {
        Ok((status, headers, body)) => {
            out["status"] = json!(status.as_u16());
            out["statusText"] = json!(status.canonical_reason().unwrap_or(""));
            out["response"] =
                json!({ "headers": headers_json(headers), "body": pretty_body(headers, body) });
            out["error"] = Value::Null;
        }
        Err(e) => {
            out["status"] = Value::Null;
            out["error"] = json!(e);
        }
    }
    out
}

/// A JSON response as a JSON value; anything else as text.
fn pretty_body(headers: &HeaderMap, body: &[u8]) -> Value {
    let is_json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if is_json || body.first().is_some_and(|b| matches!(b, b'{' | b'[')) => v,
        _ => Value::String(String::from_utf8_lossy(body).into_owned()),
    }
}

fn headers_json(h: &HeaderMap) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in h {
        m.insert(
            title_case(k.as_str()),
            json!(String::from_utf8_lossy(v.as_bytes())),
        );
    }
    Value::Object(m)
}

/// The event type a URL names (`…/webhook/{event}`, the tutorial's route),
/// else `user.created`.
fn event_of(url: &url::Url) -> String {
    let mut segments = url.path_segments().into_iter().flatten();
    while let Some(s) = segments.next() {
        if s == "webhook" {
            if let Some(event) = segments.next().filter(|e| !e.is_empty()) {
                return percent_encoding::percent_decode_str(event)
                    .decode_utf8_lossy()
                    .into_owned();
            }
        }
    }
    "user.created".into()
}
