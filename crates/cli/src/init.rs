//! `hookline init`: writes a commented `hookline.toml` holding every key with
//! its default, and one example source; never over an existing file.
//! `hookline completions SHELL`: the shell's completion script, from clap.

use std::path::PathBuf;

use crate::exit::{bad_input, Outcome};

/// Every key of `hookline.toml`, commented out at its default, and one source.
pub const TEMPLATE: &str = r#"# hookline.toml: written by `hookline init`. Every key is optional; each one
# below is shown at its default. Environment variables (HOOKLINE_*) and flags
# override this file; `hookline serve --help` lists them.

# --- Listening -----------------------------------------------------------
# host = "0.0.0.0"
# port = 3000                               # env PORT or HOOKLINE_PORT
# tls_cert = "cert.pem"                     # HTTPS: both cert and key
# tls_key = "key.pem"
# tls_client_ca = "clients.pem"             # mutual TLS on the ingress routes

# --- Storage -------------------------------------------------------------
# database_url = "sqlite://hookline.db"     # or postgres://user@host/db?sslmode=verify-full
# retention_days = 30                       # payloads and inbox events are kept this long

# --- Receiving -----------------------------------------------------------
# webhook_secret = "…"                      # makes /webhook/{event} check X-Webhook-Signature
# body_limit = 1048576                      # bytes
# request_timeout = 30                      # seconds to receive a request's body
# header_timeout = 10                       # seconds a new connection gets to send its headers
# idle_timeout = 60                         # seconds a connection may sit idle
# max_connections = 15000                   # default: three quarters of `ulimit -n`
# rejected_cap = 1000                       # rejected events kept per source

# --- Sending -------------------------------------------------------------
# admin_token = "…"                         # Bearer token of /api/v1 and the UI; set it on a cluster
# allowed_subnets = ["10.0.0.0/8"]          # private networks deliveries, forwards and replays may reach
# https_only = false                        # refuse http:// endpoints
# delivery_timeout = 15                     # seconds per attempt
# disable_after_days = 5                    # an endpoint failing this long is disabled
# operational_webhook_url = "https://ops.example.com/hooks"
# operational_webhook_secret = "whsec_…"
# role = "all"                              # api | worker | all

# --- Logs ----------------------------------------------------------------
# log_format = "text"                       # or json
# log_level = "info"

# --- Sources: one [[source]] per sender ----------------------------------
# Senders post to /in/{name} (and to `path`, if set). Schemes: hmac-sha256,
# hex, base64, standard, github, stripe, slack, shopify. More in examples/.
[[source]]
name = "example"
scheme = "hmac-sha256"                      # X-Webhook-Signature: sha256=<hex of the body>
secret = "change-me"                        # or secrets = ["new", "old"] while rotating
# path = "/webhooks"                        # also answer at this exact path
# tolerance = 300                           # seconds of clock skew (timestamped schemes)
# dedup = "auto"                            # auto | none | header:NAME | json:/pointer
# dedup_window = 259200                     # seconds a delivery id is remembered
# event_type = "auto"                       # auto | header:NAME | json:/pointer
# allow_ips = ["203.0.113.0/24"]
# rate_limit = 100                          # requests per second
# auth = { header = "X-API-Key", value = "…" }   # or { bearer = "…" } or { basic = "user:pass" }
# reply.received = { status = 200, body = '{"status": "ok"}' }
# reply.duplicate = { status = 200, body = '{"status": "duplicate"}' }
# reply.rejected = { status = 401, body = '{"error": "{{reason}}"}' }

# --- Routes: hand a source's events on to your app ----------------------
# Byte-exact (the provider's signature still verifies), with retries, dead
# letters, rate limits and ordering. A route in this file may reach its own
# URL's address (loopback included).
# [[route]]
# name = "to-app"
# source = "example"
# url = "http://127.0.0.1:8000/webhooks"
# filter = { body = { type = "order.paid" } }
# retry_schedule = [5, 60, 600]             # seconds before each retry
# rate_limit = 20                           # forwards per second
# max_concurrency = 4
# ordered = false                           # one at a time, in arrival order
# sign = "none"                             # or "standard" with secret = "whsec_…"
"#;

/// `hookline init`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hookline init\n  hookline init --path /etc/hookline/hookline.toml"
)]
pub struct InitArgs {
    /// Where to write it.
    #[arg(long, value_name = "FILE", default_value = "hookline.toml")]
    pub path: PathBuf,
}

pub fn run(args: InitArgs) -> anyhow::Result<Outcome> {
    use std::io::Write as _;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(bad_input(format!(
                "{} exists; hookline init never overwrites a file (move it away, or choose --path)",
                args.path.display()
            )))
        }
        Err(e) => return Err(anyhow::anyhow!("cannot write {}: {e}", args.path.display())),
    };
    file.write_all(TEMPLATE.as_bytes())?;
    say!(
        "wrote {}: every key at its default, and one source `example` at /in/example.\n\
         Edit its secret, then run: hookline serve",
        args.path.display()
    );
    Ok(Outcome::Success)
}

/// `hookline completions SHELL`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hookline completions bash > /etc/bash_completion.d/hookline\n  hookline completions zsh > \"${fpath[1]}/_hookline\"\n  hookline completions fish > ~/.config/fish/completions/hookline.fish"
)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn completions(args: CompletionsArgs, mut cmd: clap::Command) {
    clap_complete::generate(args.shell, &mut cmd, "hookline", &mut std::io::stdout());
}
