//! Serving: start-up, the accept loop (plain or TLS), and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hookline_core::source::DEFAULT_SOURCE;
use hookline_core::{Source, Store, StoreError};
use hookline_signature::{Scheme, Secret};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::auth::{AdminOrigin, AdminToken};
use crate::config::Config;
use crate::state::AppState;
use crate::tls::{self, TlsError};

/// What the handlers learn about the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    pub remote: SocketAddr,
    /// A client certificate was presented and verified (mutual TLS).
    pub client_cert: bool,
}

/// A connection's byte stream, plain TCP or TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static> Io for T {}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("invalid source `{name}`: {reason}")]
    Source { name: String, reason: String },
    #[error("invalid route `{name}`: {reason}")]
    Route { name: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// How long in-flight requests get to finish after shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves on `listener` until `shutdown` resolves; then stops accepting,
/// lets in-flight requests finish (and so their commits) and returns.
pub async fn run(
    mut config: Config,
    store: Arc<dyn Store>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    config.own_address = config.own_address.or(listener.local_addr().ok());
    let tls = config.tls.as_ref().map(tls::server_config).transpose()?;
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let state = prepare(config, store).await?;
    let app = crate::routes::router(state.clone());

    let conns = crate::conn::Conns::new(state.config.limits());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = async {
                conns.room().await;
                listener.accept().await
            } => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let admitted = conns.admit();
        let conn = Connection {
            app: app.clone(),
            builder: builder.clone(),
            acceptor: acceptor.clone(),
            watcher: graceful.watcher(),
            stream,
            remote,
        };
        tokio::spawn(async move {
            tokio::select! {
                () = conn.serve(admitted.conn()) => {}
                () = admitted.ended() => {}
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    state.close();
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after {DRAIN:?}; closing them");
    }
    Ok(())
}

/// One accepted connection, before its TLS handshake.
struct Connection {
    app: axum::Router,
    builder: auto::Builder<TokioExecutor>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    watcher: hyper_util::server::graceful::Watcher,
    stream: tokio::net::TcpStream,
    remote: SocketAddr,
}

impl Connection {
    /// Serves the connection's requests until it closes (or is dropped by
    /// the connection policing, which ends it).
    async fn serve(self, conn: Arc<crate::conn::Conn>) {
        let remote = self.remote;
        let (io, info): (Box<dyn Io>, ConnInfo) = match self.acceptor {
            None => (
                Box::new(self.stream),
                ConnInfo {
                    remote,
                    client_cert: false,
                },
            ),
            Some(acceptor) => {
                let tls = match acceptor.accept(self.stream).await {
                    Ok(tls) => tls,
                    Err(e) => return tracing::debug!(%remote, error = %e, "TLS handshake failed"),
                };
                let client_cert = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .is_some_and(|c| !c.is_empty());
                (
                    Box::new(tls),
                    ConnInfo {
                        remote,
                        client_cert,
                    },
                )
            }
        };
        let app = self.app;
        let counted = conn.clone();
        let svc = tower::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(info);
            let in_flight = counted.request();
            let answer = app.clone().oneshot(req);
            async move {
                // The answer's body holds the request in flight until it is sent.
                let resp = answer.await?;
                Ok::<_, std::convert::Infallible>(resp.map(|body| {
                    axum::body::Body::new(http_body_util::BodyExt::map_frame(body, move |f| {
                        let _held = &in_flight;
                        f
                    }))
                }))
            }
        });
        let io = crate::conn::Watched::new(io, conn);
        let served = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(svc));
        if let Err(e) = self.watcher.watch(served.into_owned()).await {
            tracing::debug!(%remote, error = %e, "connection ended with an error");
        }
    }
}

/// Loads sources (config-file ones written first, then the built-in default)
/// and the config file's routes,
/// resolves the admin token, and builds the shared state.
async fn prepare(config: Config, store: Arc<dyn Store>) -> Result<AppState, ServeError> {
    for source in &config.sources {
        store.upsert_source(source).await?;
    }
    if !config.sources.iter().any(|s| s.name == DEFAULT_SOURCE) {
        let mut default = match store.get_source(DEFAULT_SOURCE).await? {
            Some(existing) => existing,
            None => {
                Source::new(DEFAULT_SOURCE, Scheme::HmacSha256).map_err(|e| ServeError::Source {
                    name: DEFAULT_SOURCE.into(),
                    reason: e.to_string(),
                })?
            }
        };
        // The tutorial's WEBHOOK_SECRET decides whether /webhook/{event} verifies.
        default.scheme = Scheme::HmacSha256;
        default.secrets = config.webhook_secret.iter().map(Secret::new).collect();
        store.upsert_source(&default).await?;
    }
    let (admin, origin) = AdminToken::resolve(
        config.admin_token.as_deref(),
        store.as_ref(),
        config.generate_admin_token,
    )
    .await?;
    match origin {
        AdminOrigin::Generated(token) => eprintln!(
            "\nGenerated an admin token for /api/v1 (shown once; only its hash is stored):\n\n    {token}\n\n\
             Set HOOKLINE_ADMIN_TOKEN or admin_token in hookline.toml to choose your own.\n"
        ),
        AdminOrigin::Missing => eprintln!(
            "\nNo admin token is set for this cluster: /api/v1 and the UI open only to app and source tokens.\n\
             Run once, against this database:  hookline token admin --rotate --database-url URL\n\
             (it prints the token; every node accepts it within a second), or set HOOKLINE_ADMIN_TOKEN on every node.\n"
        ),
        AdminOrigin::Stored if !config.generate_admin_token => eprintln!(
            "\nThe admin token is the one stored (hashed) in the database. Lost it? \
             `hookline token admin --rotate --database-url URL` prints a new one; or set HOOKLINE_ADMIN_TOKEN on every node.\n"
        ),
        AdminOrigin::Stored | AdminOrigin::Configured => {}
    }
    let state =
        AppState::new(store, config, admin).map_err(|e| ServeError::Client(e.to_string()))?;
    state.reload_sources().await?;
    for spec in state.config.routes.clone() {
        let name = spec.name.clone();
        crate::actions::route::declare(&state, spec)
            .await
            .map_err(|e| ServeError::Route {
                name,
                reason: e.detail,
            })?;
    }
    state.reload_routes().await?;
    for s in state.store.list_sources().await? {
        if !s.verifies() && s.name != DEFAULT_SOURCE {
            tracing::warn!(
                source = %s.name,
                "source `{}` has no secret and no auth: it accepts every request; set `secret` or `auth`",
                s.name
            );
        }
    }
    tokio::spawn(state.clone().watch_sources());
    tokio::spawn(crate::activity::publish(state.clone()));
    Ok(state)
}
