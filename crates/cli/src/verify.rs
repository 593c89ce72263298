//! `hookline verify`: checks the signature of a captured request.

use std::io::IsTerminal;
use std::time::Duration;

use hookline_signature::{Scheme, Secret};
use http::HeaderMap;
use serde_json::json;

use crate::exit::{bad_input, Outcome};
use crate::input;
use crate::send::unix_now;

const EXAMPLES: &str = "Examples:
  hookline verify --scheme github --secret \"It's a Secret to Everybody\" \\
      --header 'X-Hub-Signature-256: sha256=7571…' --body-file body.json
  cat body.json | hookline verify --scheme standard --secret whsec_old --secret whsec_new \\
      -H 'webhook-id: msg_1' -H 'webhook-timestamp: 1649367553' -H 'webhook-signature: v1,…' --now 1649367553";

/// Verify a captured request's signature; exit 0 when valid, 1 with the reason when not.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct VerifyArgs {
    /// Signature scheme: hmac-sha256, hex, base64, standard, github, stripe, slack, shopify.
    #[arg(long)]
    pub scheme: Scheme,
    /// Secret to check against (repeat for rotation: any one may match).
    #[arg(
        long = "secret",
        short = 's',
        required = true,
        env = "HOOKLINE_SECRET",
        hide_env_values = true
    )]
    pub secrets: Vec<String>,
    /// A received header 'Name: value' (repeatable).
    #[arg(long = "header", short = 'H', value_name = "'K: V'")]
    pub headers: Vec<String>,
    /// The raw body: a file, or - for standard input (the default when piped).
    #[arg(long, value_name = "FILE|-")]
    pub body_file: Option<String>,
    /// Allowed clock skew for timestamped schemes, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub tolerance: u64,
    /// Check as if at this Unix time (for old captures) instead of now.
    #[arg(long, value_name = "UNIX_SECS")]
    pub now: Option<i64>,
    /// Print the verdict as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let mut headers = HeaderMap::new();
    for h in &args.headers {
        let (k, v) = input::header(h)?;
        headers.append(k, v);
    }
    let body = read_body(args.body_file.as_deref())?;
    let secrets: Vec<Secret> = args.secrets.iter().map(Secret::new).collect();
    let now = args.now.unwrap_or_else(unix_now);
    let verdict = args.scheme.verify(
        &headers,
        &body,
        &secrets,
        now,
        Duration::from_secs(args.tolerance),
    );
    match &verdict {
        Ok(ok) if args.json => say!(
            "{}",
            json!({"valid": true, "scheme": args.scheme.name(), "secretIndex": ok.secret_index, "timestamp": ok.timestamp})
        ),
        Ok(ok) => {
            let which = format!("secret #{} of {}", ok.secret_index + 1, secrets.len());
            match ok.timestamp {
                Some(ts) => say!("valid ({which}, timestamp {ts}, {} s old)", now - ts),
                None => say!("valid ({which})"),
            }
        }
        Err(e) if args.json => say!(
            "{}",
            json!({"valid": false, "scheme": args.scheme.name(), "code": e.code(), "reason": e.to_string()})
        ),
        Err(e) => say!("invalid: {e}"),
    }
    Ok(if verdict.is_ok() {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

fn read_body(arg: Option<&str>) -> anyhow::Result<Vec<u8>> {
    match arg {
        Some("-") => input::read_data("-"),
        Some(path) => std::fs::read(path)
            .map_err(|e| bad_input(format!("cannot read the body file `{path}`: {e}"))),
        None if !std::io::stdin().is_terminal() => input::read_data("-"),
        None => Err(bad_input(
            "no body: give the raw body with --body-file FILE, or pipe it on standard input",
        )),
    }
}
