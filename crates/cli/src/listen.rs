//! `hookline listen`: a source's events from a hookline server, forwarded to
//! a local app byte-exact, resumed from a saved cursor after any absence.
//!
//! It streams `/api/v1/source/{name}/event/stream`, forwards each event (the
//! app down: it says so and retries with backoff, the cursor unmoved), saves
//! the cursor after each, and reconnects by itself when the connection drops.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use futures_util::StreamExt;
use hookline_core::clock::now_ms;
use hookline_core::{EventId, Verdict};

use crate::cursor::Cursor;
use crate::exit::{bad_input, Outcome};
use crate::relay::{self, Streamed};
use crate::stream::{self, Connect};

/// Which verdicts are forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Verdicts {
    /// Verified and unverified (everything hookline answered 2xx).
    Accepted,
    Verified,
    Unverified,
    Rejected,
    All,
}

impl Verdicts {
    fn take(self, verdict: Verdict) -> bool {
        match self {
            Verdicts::Accepted => verdict.accepted(),
            Verdicts::All => true,
            Verdicts::Verified => verdict == Verdict::Verified,
            Verdicts::Unverified => verdict == Verdict::Unverified,
            Verdicts::Rejected => verdict == Verdict::Rejected,
        }
    }
}

/// Forward what a hookline server receives to a local app, resuming where it left off.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    hookline listen --from https://hooks.example.com --source stripe --token hl_src_… \\\n      --forward-to http://localhost:8000/webhooks\n  \
    HOOKLINE_TOKEN=hl_src_… hookline listen --from https://hooks.example.com --source github \\\n      --forward-to http://localhost:3000 --keep-path --events push,pull_request\n  \
    hookline listen … --since 2h        # start with the last two hours' events\n\n\
    A token for one source: POST /api/v1/source/{name}/token with the admin token.\n\
    The cursor is saved after every event, so what arrives while this is stopped,\n\
    asleep or offline is forwarded, in order and once, when it runs again.")]
pub struct ListenArgs {
    /// The hookline server the provider sends to [env HOOKLINE_URL].
    #[arg(long, env = "HOOKLINE_URL", value_name = "URL")]
    pub from: String,
    /// The source whose events to forward.
    #[arg(long, value_name = "NAME")]
    pub source: String,
    /// The admin token or the source's own token [env HOOKLINE_TOKEN].
    #[arg(long, env = "HOOKLINE_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Where to forward: the local app's URL (a path included).
    #[arg(long, value_name = "URL")]
    pub forward_to: String,
    /// Append the original request's path to --forward-to.
    #[arg(long)]
    pub keep_path: bool,
    /// Where the cursor is kept [default: under the config directory, per server and source].
    #[arg(long, value_name = "FILE")]
    pub cursor_file: Option<PathBuf>,
    /// Start with the events of this last while (`30m`, `2h`), not the saved cursor.
    #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "from_start")]
    pub since: Option<Duration>,
    /// Start with the source's first event, not the saved cursor.
    #[arg(long)]
    pub from_start: bool,
    /// Forward only these event types (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "TYPES")]
    pub events: Vec<String>,
    /// Forward only events of this verdict.
    #[arg(long, value_enum, default_value_t = Verdicts::Accepted)]
    pub verdict: Verdicts,
    /// Print one JSON object per event instead of a line.
    #[arg(long)]
    pub json: bool,
    /// Seconds the local app gets to answer.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
}

/// Waits after the n-th failure in a row: 0.5 s doubling to 30 s.
pub fn backoff(n: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << n.min(6))).min(Duration::from_secs(30))
}

/// What the stream asks for first: after the saved cursor (a little before,
/// for late commits), or per --since / --from-start, or only new events.
fn start(args: &ListenArgs, saved: Option<Cursor>, server: &str) -> Cursor {
    let fresh = || Cursor {
        server: server.to_string(),
        source: args.source.clone(),
        ..Cursor::default()
    };
    match (saved, args.since, args.from_start) {
        (_, _, true) => fresh(),
        (_, Some(d), _) => Cursor {
            last: Some(EventId::floor(
                now_ms() - i64::try_from(d.as_millis()).unwrap_or(0),
            )),
            ..fresh()
        },
        (Some(c), None, false) => c,
        (None, None, false) => Cursor {
            last: Some(EventId::floor(now_ms())),
            ..fresh()
        },
    }
}

pub async fn run(args: ListenArgs) -> anyhow::Result<Outcome> {
    let server = args.from.trim_end_matches('/').to_string();
    url::Url::parse(&server).map_err(|e| bad_input(format!("--from `{server}`: {e}")))?;
    url::Url::parse(&args.forward_to)
        .map_err(|e| bad_input(format!("--forward-to `{}`: {e}", args.forward_to)))?;
    let path = args
        .cursor_file
        .clone()
        .unwrap_or_else(|| Cursor::default_path(&server, &args.source));
    let saved = Cursor::load(&path)?;
    if let Some(c) = saved
        .as_ref()
        .filter(|c| c.server != server || c.source != args.source)
    {
        return Err(bad_input(format!(
            "{} is the cursor of source `{}` on {}, not of `{}` on {server}; \
             give another --cursor-file",
            path.display(),
            c.source,
            c.server,
            args.source
        )));
    }
    let mut cursor = start(&args, saved, &server);
    let timeout = Duration::from_secs(args.timeout.max(1));
    let local = crate::transport::client(timeout, 4)?;
    let stream_client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()?;
    eprintln!(
        "forwarding source `{}` from {server} to {} (cursor {})",
        args.source,
        args.forward_to,
        path.display()
    );
    let mut failures = 0u32;
    loop {
        let after = cursor.floor().map(|f| f.to_string());
        let opened = tokio::select! {
            c = stream::connect(&stream_client, &server, &args.source, &args.token, after.as_deref()) => c,
            _ = tokio::signal::ctrl_c() => return Ok(Outcome::Success),
        };
        let mut events = match opened {
            Connect::Open(events) => events,
            Connect::Refused(why) => bail!(why),
            Connect::Unreachable(why) => {
                failures += 1;
                eprintln!("{why}; retrying in {:?}", backoff(failures));
                tokio::time::sleep(backoff(failures)).await;
                continue;
            }
        };
        if failures > 0 {
            eprintln!("connected to {server} again");
        }
        failures = 0;
        loop {
            let next = tokio::select! {
                n = events.next() => n,
                _ = tokio::signal::ctrl_c() => return Ok(Outcome::Success),
            };
            let e = match next {
                Some(Ok(e)) => e,
                Some(Err(err)) => {
                    eprintln!("{err:#}");
                    break;
                }
                None => break,
            };
            if cursor.seen(&e.id) {
                continue;
            }
            let wanted = args.verdict.take(e.verdict)
                && (args.events.is_empty()
                    || e.event_type
                        .as_ref()
                        .is_some_and(|t| args.events.contains(t)));
            if wanted {
                forward(&args, &local, timeout, &e).await;
            }
            cursor.advance(e.id.clone());
            cursor.save(&path)?;
        }
        failures += 1;
        eprintln!(
            "the stream from {server} ended; reconnecting in {:?}",
            backoff(failures)
        );
        tokio::time::sleep(backoff(failures)).await;
    }
}

/// Forwards `e` until the app answers (any status): while it cannot be
/// reached, says so and retries with backoff.
async fn forward(args: &ListenArgs, client: &reqwest::Client, timeout: Duration, e: &Streamed) {
    let url = relay::target(&args.forward_to, e, args.keep_path);
    let mut tries = 0u32;
    loop {
        match relay::send(client, &url, timeout, e).await {
            Ok(a) => {
                print(args, e, &url, Some(&a), None);
                return;
            }
            Err(err) => {
                tries += 1;
                let wait = backoff(tries);
                print(
                    args,
                    e,
                    &url,
                    None,
                    Some(&format!("{err:#}; retrying in {wait:?}")),
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

fn print(
    args: &ListenArgs,
    e: &Streamed,
    url: &str,
    a: Option<&relay::Answer>,
    error: Option<&str>,
) {
    let kind = e.event_type.as_deref().unwrap_or("-");
    if args.json {
        let v = serde_json::json!({
            "id": e.id, "eventType": e.event_type, "verdict": e.verdict, "receivedAt": e.received_at,
            "forwardedTo": url, "status": a.map(|a| a.status.as_u16()),
            "durationMs": a.map(|a| a.took.as_secs_f64() * 1e3), "error": error,
        });
        say!("{v}");
        return;
    }
    match (a, error) {
        (Some(a), _) => say!(
            "{}  {kind}  {}  → {} ({:.1} ms)  {}",
            e.received_at,
            e.verdict.as_str(),
            a.status,
            a.took.as_secs_f64() * 1e3,
            e.id
        ),
        (None, err) => say!(
            "{}  {kind}  {}  → not delivered: {}  {}",
            e.received_at,
            e.verdict.as_str(),
            err.unwrap_or("?"),
            e.id
        ),
    }
}
