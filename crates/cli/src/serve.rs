//! `hookline serve` and `hookline migrate`: the composition root. Reads the
//! settings, opens the store named by the database URL, starts the server.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hookline_core::Store;
use hookline_engine::{Engine, Operational};
use hookline_store_postgres::PgStore;
use hookline_store_sqlite::SqliteStore;
use tracing_subscriber::EnvFilter;

use crate::exit::{bad_input, Outcome};
use crate::settings::{Role, ServeFlags, Settings};

/// Opens the store the URL's scheme names (its migrations run on open).
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open_url(url).with_context(|| format!("opening {url}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // A URL that cannot be read is input to fix (exit 2); a database that
        // cannot be reached is a failure (exit 1).
        PgStore::check_url(url).map_err(|e| bad_input(format!("{}: {e}", redact(url))))?;
        let store = PgStore::connect(url)
            .await
            .with_context(|| format!("opening {}", redact(url)))?;
        return Ok(Arc::new(store));
    }
    Err(bad_input(format!(
        "database URL `{}` must start with sqlite:// (e.g. sqlite://hookline.db) or postgres:// \
         (e.g. postgres://user@localhost:5432/hookline)",
        redact(url)
    )))
}

/// The URL with any password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

fn init_logs(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if settings.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}

pub async fn serve(flags: ServeFlags) -> anyhow::Result<Outcome> {
    let mut settings = Settings::resolve(&flags)?;
    init_logs(&settings);
    let store = open_store(&settings.database_url).await?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| {
            bad_input(format!(
                "cannot listen on {}: {e}; choose another port with --port or PORT",
                settings.listen
            ))
        })?;
    let addr = listener.local_addr()?;
    // Deliveries may reach hookline itself (the guard's one exception).
    settings.engine.own_address = Some(addr);
    let scheme = if settings.server.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let (stop_engine, mut engine_stopped) = tokio::sync::watch::channel(false);
    let engine = match settings.role {
        Role::Api => None,
        _ => {
            Some(Engine::new(store.clone(), settings.engine.clone())?.with_forwards(store.clone()))
        }
    };
    if let Some(engine) = &engine {
        settings.server.waker = engine.waker();
        settings.server.handoff = engine.handoff();
        settings.server.engine_metrics = Some(engine.metrics());
    }
    if let Some((url, secret)) = &settings.operational {
        let ops = Operational::setup(
            store.as_ref(),
            store.clone(),
            url,
            secret,
            settings.server.waker.clone(),
        )
        .await
        .context("setting up operational webhooks")?;
        settings.server.operational = ops;
    }
    let delivering = engine.map(|engine| {
        let cleaning = engine_stopped.clone();
        tokio::spawn(hookline_engine::retention::run(
            store.clone(),
            settings.retention,
            Duration::from_secs(60),
            async move {
                let mut c = cleaning;
                let _ = c.changed().await;
            },
        ));
        let engine = engine.with_operational(settings.server.operational.clone());
        tokio::spawn(engine.run(async move {
            let _ = engine_stopped.changed().await;
        }))
    });
    let role = format!("{:?}", settings.role).to_lowercase();
    say!(
        "hookline listening on {scheme}://{addr} (database {}, role {role})",
        redact(&settings.database_url)
    );
    // The server stops first (finishing requests and their commits), then the
    // engine (finishing the sends in flight).
    hookline_server::run(settings.server, store, listener, shutdown_signal()).await?;
    let _ = stop_engine.send(true);
    if let Some(engine) = delivering {
        let _ = engine.await;
    }
    Ok(Outcome::Success)
}

pub async fn migrate(flags: crate::settings::StoreFlags) -> anyhow::Result<Outcome> {
    let url = flags.database_url()?;
    open_store(&url).await?;
    say!("{} is migrated", redact(&url));
    Ok(Outcome::Success)
}
