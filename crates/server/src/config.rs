//! The server's configuration, as resolved by the binary from defaults, the
//! config file, the environment and flags.

use std::path::PathBuf;
use std::time::Duration;

use hookline_core::Source;

/// Everything `run` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The admin token for `/api/v1`; `None`: use the stored one, or generate it.
    pub admin_token: Option<String>,
    /// With no admin token configured or stored, make one at start (a single
    /// node); off on a cluster, where `hookline token admin --rotate` makes it.
    pub generate_admin_token: bool,
    /// The tutorial's `WEBHOOK_SECRET`: when set, `/webhook/{event}` requires
    /// `X-Webhook-Signature: sha256=<hex>` over the raw body.
    pub webhook_secret: Option<String>,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Time allowed to receive a request's body (and for its handler).
    pub request_timeout: Duration,
    /// Time a new connection gets to send its first request's headers.
    pub header_timeout: Duration,
    /// Time a connection may sit with no request in flight and nothing read.
    pub idle_timeout: Duration,
    /// Open connections at most; `None`: three quarters of the descriptor limit.
    pub max_connections: Option<usize>,
    /// Rejected requests kept per source (oldest dropped first).
    pub rejected_cap: usize,
    /// Sources defined in the config file (created or updated at start).
    pub sources: Vec<Source>,
    /// Routes defined in the config file (created or updated at start, as
    /// the operator's own: they may reach their URL's address).
    pub routes: Vec<hookline_core::RouteSpec>,
    pub tls: Option<TlsConfig>,
    /// Wakes the delivery engine after a publish (a no-op when none runs here).
    pub waker: hookline_engine::Waker,
    /// Hands forwards straight to this node's engine (none when none runs here).
    pub handoff: hookline_engine::Handoff,
    /// Where operational webhooks go (endpoint.created/updated/deleted from the API).
    pub operational: hookline_engine::Operational,
    /// The delivery engine's metrics, served at `/metrics` beside the server's.
    pub engine_metrics: Option<hookline_engine::EngineMetrics>,
    /// Serve receiving and the management API; off on a `worker` node, which
    /// answers only `/health`, `/ready`, `/metrics` and the UI.
    pub serve_api: bool,
    /// Networks the UI's Send page may call although private or loopback
    /// (the delivery engine's `allowed_subnets`).
    pub allowed_subnets: Vec<ipnet::IpNet>,
    /// This server's own listening address, which the Send page and replays
    /// may call (`run` sets it from its listener).
    pub own_address: Option<std::net::SocketAddr>,
    /// This node's role, as the dashboard shows it.
    pub role: &'static str,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            admin_token: None,
            generate_admin_token: true,
            webhook_secret: None,
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: None,
            rejected_cap: 1000,
            sources: Vec::new(),
            routes: Vec::new(),
            tls: None,
            waker: hookline_engine::Waker::default(),
            handoff: hookline_engine::Handoff::none(),
            operational: hookline_engine::Operational::disabled(),
            engine_metrics: None,
            serve_api: true,
            allowed_subnets: Vec::new(),
            own_address: None,
            role: "all",
        }
    }
}

impl Config {
    /// The connection policing's limits.
    pub fn limits(&self) -> crate::conn::Limits {
        crate::conn::Limits {
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self
                .max_connections
                .unwrap_or_else(crate::conn::default_max_connections),
        }
    }
}

/// HTTPS: a PEM certificate chain and key; with `client_ca`, ingress routes
/// require a client certificate signed by it (mutual TLS).
#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}
