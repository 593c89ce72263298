//! `hookline`: the one binary. Parses the command line and runs a command.
//!
//! Modules:
//! - `exit`: exit codes (0 ok, 1 failed, 2 bad input) and the `BadInput` error.
//! - `input`: `--data` payloads and `--header 'K: V'` arguments.
//! - `transport`: the HTTP client and plain-language transport errors.
//! - `send`: `hookline send`, one webhook, shown like the tutorial client.
//! - `load`: `hookline send --count N --concurrency C`, the load tool.
//! - `verify`: `hookline verify`, checks a captured request's signature.
//! - `settings`: configuration layers for `serve` (defaults, file, env, flags).
//! - `serve`: `hookline serve` and `hookline migrate`, the composition root.
//! - `init`: `hookline init` (a commented hookline.toml) and `hookline completions`.
//! - `declared`: the `[[source]]` and `[[route]]` tables of hookline.toml, validated.
//! - `listen`: `hookline listen`, a source's events forwarded to a local app, resumed.
//! - `cursor`: where `listen` left off, saved after every event.
//! - `relay`: one streamed event, forwarded byte-exact to the local app.
//! - `stream`: a source's event stream (SSE) as the CLI reads it.
//! - `events`: `hookline events list|show|replay|tail`, the inbox from the command line.
//! - `token`: `hookline token admin|app`, tokens offline against the database.

/// `println!` that stops quietly when stdout is closed (e.g. piped into `head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod cursor;
mod declared;
mod events;
mod exit;
mod init;
mod input;
mod listen;
mod load;
mod relay;
mod send;
mod serve;
mod settings;
mod stream;
mod token;
mod transport;
mod verify;

use std::process::ExitCode;

/// mimalloc: the server allocates per request on several threads, where it
/// measurably beats glibc's allocator (see bench/).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// hookline: send, receive and verify webhooks.
#[derive(Debug, Parser)]
#[command(
    name = "hookline",
    version,
    about,
    long_about = "hookline: webhooks, the whole job, in one binary.\n\n\
        `hookline serve` receives webhooks (verified, de-duplicated, stored byte-exact before \
        the 2xx) at /webhook/{event}, /in/{source} and any source's own path; sends them with \
        a durable delivery engine behind a Svix-compatible API at /api/v1; and serves a web UI \
        at http://localhost:3000/ui (send, inbox, deliveries, dashboard).\n\n\
        `hookline send` posts a signed webhook; `hookline verify` checks one; `hookline listen` \
        brings a source's webhooks to your laptop's localhost and resumes after sleep.",
    after_help = "Examples:\n  hookline init && hookline serve\n  hookline send http://localhost:3000/webhook/user.created --secret s3cret\n  hookline completions bash > /etc/bash_completion.d/hookline",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the webhook server: receiving, the delivery engine, the API and the web UI.
    #[command(
        long_about = "Run the webhook server, on one port:\n\
            - receiving at /webhook/{event} (checked with WEBHOOK_SECRET when set), /in/{source} \
            and any source's own path: verified, de-duplicated, stored byte-exact before the 2xx, \
            and handed on by routes;\n\
            - the delivery engine, sending what the API publishes (retries, dead letters, rate \
            limits; private and loopback addresses only if allowed_subnets lists them);\n\
            - the management API at /api/v1 (Svix-compatible) and the web UI at /ui.\n\n\
            Settings come from hookline.toml (`hookline init` writes one), the environment and \
            these flags, later ones winning.",
        after_help = "Examples:\n  \
            hookline serve                                   # http://localhost:3000, SQLite file hookline.db\n  \
            WEBHOOK_SECRET=s3cr3t hookline serve --port 8080\n  \
            hookline serve --database-url postgres://hookline@db/hookline --role worker\n  \
            HOOKLINE_ALLOWED_SUBNETS=127.0.0.0/8 hookline serve   # deliver to a local receiver"
    )]
    Serve(settings::ServeFlags),
    Send(send::SendArgs),
    Verify(verify::VerifyArgs),
    /// Create or upgrade the database schema, then exit.
    #[command(
        after_help = "Examples:\n  hookline migrate\n  hookline migrate --database-url postgres://hookline@db/hookline"
    )]
    Migrate(settings::StoreFlags),
    /// Write a commented hookline.toml (every key, its default, one source).
    Init(init::InitArgs),
    /// Print a shell completion script (bash, zsh, fish, …).
    Completions(init::CompletionsArgs),
    /// Forward a source's events from a hookline server to a local app; resumes after any absence.
    Listen(listen::ListenArgs),
    /// The inbox from the command line: list, show, replay, tail.
    Events(events::EventsArgs),
    /// The admin token (set, rotate) and app-scoped tokens, offline against the database.
    Token(token::TokenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(flags) => runtime().and_then(|rt| rt.block_on(serve::serve(flags))),
        Command::Migrate(flags) => runtime().and_then(|rt| rt.block_on(serve::migrate(flags))),
        Command::Send(args) => runtime().and_then(|rt| rt.block_on(send::run(args))),
        Command::Verify(args) => verify::run(args),
        Command::Listen(args) => runtime().and_then(|rt| rt.block_on(listen::run(args))),
        Command::Events(args) => runtime().and_then(|rt| rt.block_on(events::run(args))),
        Command::Token(args) => runtime().and_then(|rt| rt.block_on(token::run(args))),
        Command::Init(args) => init::run(args),
        Command::Completions(args) => {
            init::completions(args, <Cli as clap::CommandFactory>::command());
            Ok(exit::Outcome::Success)
        }
    };
    exit::report(result)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
