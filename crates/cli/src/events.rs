//! `hookline events`: the inbox from the command line: list, show, replay,
//! tail (the live stream, printed). Talks to a running server's API.

use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::exit::Outcome;
use crate::stream::{self, Connect};

/// Where the server is and how to get in.
#[derive(Debug, clap::Args)]
pub struct Server {
    /// The hookline server [env HOOKLINE_URL].
    #[arg(
        long,
        global = true,
        env = "HOOKLINE_URL",
        default_value = "http://localhost:3000"
    )]
    pub from: String,
    /// The admin token, or a source's own token [env HOOKLINE_TOKEN].
    #[arg(
        long,
        global = true,
        env = "HOOKLINE_TOKEN",
        hide_env_values = true,
        default_value = ""
    )]
    pub token: String,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The inbox: list, show, replay and tail received events.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    hookline events list --source stripe --verdict rejected\n  \
    hookline events show evt_0357… --source stripe\n  \
    hookline events replay evt_0357… --source stripe --to http://localhost:8000/webhooks\n  \
    hookline events tail --source stripe")]
pub struct EventsArgs {
    #[command(flatten)]
    pub server: Server,
    #[command(subcommand)]
    pub command: EventsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum EventsCommand {
    /// A source's events, newest first.
    #[command(
        after_help = "Examples:\n  hookline events list\n  hookline events list --source stripe --verdict rejected --limit 50 --json"
    )]
    List {
        #[arg(long, default_value = "default")]
        source: String,
        /// Only this event type.
        #[arg(long = "type", value_name = "TYPE")]
        event_type: Option<String>,
        /// Only this verdict: verified, unverified or rejected.
        #[arg(long)]
        verdict: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One event: its request line, headers and body.
    #[command(
        after_help = "Examples:\n  hookline events show evt_0357… --source stripe\n  hookline events show evt_0357… --json"
    )]
    Show {
        id: String,
        #[arg(long, default_value = "default")]
        source: String,
    },
    /// Send an event's original bytes to a URL again.
    #[command(
        after_help = "Examples:\n  hookline events replay evt_0357… --source stripe --to http://localhost:8000/webhooks"
    )]
    Replay {
        id: String,
        #[arg(long, default_value = "default")]
        source: String,
        /// Where to send it.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Sign it afresh (a new timestamp) instead of the original headers.
        #[arg(long, requires_all = ["scheme", "secret"])]
        resign: bool,
        #[arg(long)]
        scheme: Option<String>,
        #[arg(long, hide_env_values = true)]
        secret: Option<String>,
    },
    /// Print a source's events as they arrive.
    #[command(
        after_help = "Examples:\n  hookline events tail --source stripe\n  hookline events tail --json | jq .eventType"
    )]
    Tail {
        #[arg(long, default_value = "default")]
        source: String,
    },
}

async fn call(
    s: &Server,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let url = format!("{}/api/v1{path}", s.from.trim_end_matches('/'));
    let mut req = reqwest::Client::new()
        .request(method, &url)
        .bearer_auth(&s.token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.with_context(|| {
        format!(
            "cannot reach {}; is hookline serve running there? (--from)",
            s.from
        )
    })?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    if status == reqwest::StatusCode::UNAUTHORIZED {
        bail!(
            "the token was refused ({}): pass --token or set HOOKLINE_TOKEN",
            v["detail"].as_str().unwrap_or("")
        );
    }
    if !status.is_success() {
        bail!(
            "{url} answered {status}: {}",
            v["detail"].as_str().unwrap_or(&v.to_string())
        );
    }
    Ok(v)
}

/// `s` cut to `n` characters, with `…` when cut.
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

pub async fn run(args: EventsArgs) -> anyhow::Result<Outcome> {
    let s = &args.server;
    match args.command {
        EventsCommand::List {
            source,
            event_type,
            verdict,
            limit,
        } => {
            let mut q = vec![("limit".to_string(), limit.to_string())];
            q.extend(event_type.map(|t| ("eventType".into(), t)));
            q.extend(verdict.map(|v| ("verdict".into(), v)));
            let query = q
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                    )
                })
                .collect::<Vec<_>>()
                .join("&");
            let v = call(
                s,
                reqwest::Method::GET,
                &format!("/source/{source}/event?{query}"),
                None,
            )
            .await?;
            if s.json {
                say!("{}", v["data"]);
                return Ok(Outcome::Success);
            }
            let data = v["data"].as_array().cloned().unwrap_or_default();
            if data.is_empty() {
                say!("no events in source `{source}` (yet)");
                return Ok(Outcome::Success);
            }
            say!(
                "{:<28} {:<24} {:<24} {:<10} {:>8}",
                "ID",
                "RECEIVED",
                "TYPE",
                "VERDICT",
                "BYTES"
            );
            for e in data {
                say!(
                    "{:<28} {:<24} {:<24} {:<10} {:>8}",
                    e["id"].as_str().unwrap_or(""),
                    e["receivedAt"].as_str().unwrap_or(""),
                    cut(e["eventType"].as_str().unwrap_or("-"), 24),
                    e["verdict"].as_str().unwrap_or(""),
                    e["bodySize"]
                );
            }
        }
        EventsCommand::Show { id, source } => {
            let e = call(
                s,
                reqwest::Method::GET,
                &format!("/source/{source}/event/{id}"),
                None,
            )
            .await?;
            if s.json {
                say!("{e}");
                return Ok(Outcome::Success);
            }
            say!(
                "{}  {}  {}",
                e["id"].as_str().unwrap_or(""),
                e["verdict"].as_str().unwrap_or(""),
                e["receivedAt"].as_str().unwrap_or("")
            );
            if let Some(r) = e["verdictReason"].as_str() {
                say!("reason: {r}");
            }
            let query = e["query"]
                .as_str()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            say!(
                "\n{} {}{query}",
                e["method"].as_str().unwrap_or(""),
                e["path"].as_str().unwrap_or("")
            );
            for h in e["headers"].as_array().cloned().unwrap_or_default() {
                say!(
                    "{}: {}",
                    h[0].as_str().unwrap_or(""),
                    h[1].as_str().unwrap_or("")
                );
            }
            match e["body"].as_str() {
                Some(text) => say!("\n{text}"),
                None => say!(
                    "\n(not UTF-8; base64) {}",
                    e["bodyBase64"].as_str().unwrap_or("")
                ),
            }
        }
        EventsCommand::Replay {
            id,
            source,
            to,
            resign,
            scheme,
            secret,
        } => {
            let body = match resign {
                true => json!({"url": to, "mode": "resign", "scheme": scheme, "secret": secret}),
                false => json!({"url": to}),
            };
            let r = call(
                s,
                reqwest::Method::POST,
                &format!("/source/{source}/event/{id}/replay"),
                Some(body),
            )
            .await?;
            if s.json {
                say!("{r}");
            } else {
                say!(
                    "Response: {} {} ({:.1} ms)",
                    r["status"],
                    r["statusText"].as_str().unwrap_or(""),
                    r["durationMs"].as_f64().unwrap_or(0.0)
                );
                if let Some(b) = r["responseBody"].as_str().filter(|b| !b.is_empty()) {
                    say!("{b}");
                }
            }
            let ok = r["status"]
                .as_u64()
                .is_some_and(|c| (200..300).contains(&c));
            return Ok(if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            });
        }
        EventsCommand::Tail { source } => return tail(s, &source).await,
    }
    Ok(Outcome::Success)
}

/// Prints `source`'s new events until interrupted, reconnecting by itself.
async fn tail(s: &Server, source: &str) -> anyhow::Result<Outcome> {
    let server = s.from.trim_end_matches('/').to_string();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()?;
    let mut after = Some(hookline_core::EventId::floor(hookline_core::clock::now_ms()).to_string());
    let mut failures = 0u32;
    loop {
        let mut events =
            match stream::connect(&client, &server, source, &s.token, after.as_deref()).await {
                Connect::Open(e) => e,
                Connect::Refused(why) => bail!(why),
                Connect::Unreachable(why) => {
                    failures += 1;
                    let wait = crate::listen::backoff(failures);
                    eprintln!("{why}; retrying in {wait:?}");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
        failures = 0;
        loop {
            let next = tokio::select! {
                n = events.next() => n,
                _ = tokio::signal::ctrl_c() => return Ok(Outcome::Success),
            };
            let Some(Ok(e)) = next else { break };
            after = Some(e.id.to_string());
            if s.json {
                say!(
                    "{}",
                    json!({"id": e.id, "eventType": e.event_type, "verdict": e.verdict, "receivedAt": e.received_at, "method": e.method, "path": e.path})
                );
            } else {
                say!(
                    "{}  {}  {}  {} {}  {}",
                    e.received_at,
                    e.event_type.as_deref().unwrap_or("-"),
                    e.verdict.as_str(),
                    e.method,
                    e.path,
                    e.id
                );
            }
        }
        eprintln!("the stream from {server} ended; reconnecting");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
