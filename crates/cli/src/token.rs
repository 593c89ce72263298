//! `hookline token`: the API's tokens from the command line, offline against
//! the database (no server needs to run): the admin token of a cluster, and
//! app-scoped tokens.

use anyhow::Context;
use serde_json::json;

use crate::exit::{bad_input, Outcome};
use crate::serve::open_store;
use crate::settings::StoreFlags;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    hookline token admin --rotate --database-url postgres://hookline@db/hookline\n  \
    hookline token admin\n  \
    hookline token app app_2yKZ… --expiry 3600\n  \
    hookline token app my-app-uid --json")]
pub struct TokenArgs {
    #[command(subcommand)]
    pub what: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// The admin token: whether one is set; with --rotate, a new one (printed once).
    #[command(
        after_help = "Examples:\n  hookline token admin\n  hookline token admin --rotate --database-url postgres://hookline@db/hookline"
    )]
    Admin {
        /// Make a new admin token and store its hash; the old one stops
        /// working on every node within a second.
        #[arg(long)]
        rotate: bool,
        /// Print JSON ({"token"} or {"set"}) instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreFlags,
    },
    /// A token that opens only one application's API routes and its UI pages.
    #[command(
        after_help = "Examples:\n  hookline token app my-app-uid\n  hookline token app app_2yKZ… --expiry 3600 --json"
    )]
    App {
        /// The application's id (app_…) or uid.
        app: String,
        /// Seconds the token lives [default: 7 days; at most a year].
        #[arg(long, value_name = "SECS")]
        expiry: Option<u64>,
        /// Print JSON ({"token", "expiresAt"}) instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreFlags,
    },
}

/// The longest-lived app token, as the API allows it.
const YEAR: u64 = 365 * 24 * 3600;

pub async fn run(args: TokenArgs) -> anyhow::Result<Outcome> {
    match args.what {
        TokenCommand::Admin {
            rotate,
            json,
            store,
        } => {
            let store = open_store(&store.database_url()?).await?;
            if rotate {
                let token = hookline_server::rotate_admin_token(store.as_ref())
                    .await
                    .context("storing the new admin token")?;
                if json {
                    println!("{}", json!({ "token": token }));
                } else {
                    println!("{token}");
                    eprintln!(
                        "The new admin token (shown once; only its hash is stored). \
                         The old one no longer opens /api/v1."
                    );
                }
                return Ok(Outcome::Success);
            }
            let set = hookline_server::admin_token_stored(store.as_ref()).await?;
            if json {
                println!("{}", json!({ "set": set }));
            } else if set {
                println!("An admin token is set (stored hashed; it cannot be shown). `--rotate` makes a new one.");
            } else {
                println!("No admin token is stored. `hookline token admin --rotate` makes one (or set HOOKLINE_ADMIN_TOKEN on every node).");
            }
            Ok(Outcome::Success)
        }
        TokenCommand::App {
            app,
            expiry,
            json,
            store,
        } => {
            let secs = expiry.unwrap_or(7 * 24 * 3600);
            if !(1..=YEAR).contains(&secs) {
                return Err(bad_input(format!(
                    "--expiry must be between 1 and {YEAR} seconds"
                )));
            }
            let store = open_store(&store.database_url()?).await?;
            let Some(found) = store.get_app(&app).await? else {
                return Err(bad_input(format!(
                    "no application `{app}`: give its id (app_…) or uid"
                )));
            };
            let expires_at = hookline_core::clock::now_ms() + (secs * 1000) as i64;
            let token = hookline_server::issue_app_token(store.as_ref(), &found.id, expires_at)
                .await
                .context("storing the token")?;
            let until = humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(expires_at as u64),
            );
            if json {
                println!(
                    "{}",
                    json!({ "token": token, "app": found.id.to_string(), "expiresAt": until.to_string() })
                );
            } else {
                println!("{token}");
                eprintln!("Opens only application {} until {until}.", found.id);
            }
            Ok(Outcome::Success)
        }
    }
}
