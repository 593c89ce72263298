//! Configuration layers for `hookline serve`: built-in defaults, then
//! `hookline.toml` (or `--config`), then the environment, then flags.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use hookline_engine::EngineConfig;
use hookline_server::{Config, TlsConfig};
use serde::Deserialize;

use crate::declared;
use crate::exit::bad_input;

/// `hookline.toml`. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database_url: Option<String>,
    pub admin_token: Option<String>,
    pub webhook_secret: Option<String>,
    /// Bytes.
    pub body_limit: Option<usize>,
    /// Seconds.
    pub request_timeout: Option<u64>,
    /// Seconds a new connection gets to send its first request's headers.
    pub header_timeout: Option<u64>,
    /// Seconds a connection may sit idle.
    pub idle_timeout: Option<u64>,
    pub max_connections: Option<usize>,
    pub rejected_cap: Option<usize>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_client_ca: Option<PathBuf>,
    /// Networks deliveries may reach although private or loopback (CIDRs).
    pub allowed_subnets: Option<Vec<String>>,
    /// Refuse http:// endpoints.
    pub https_only: Option<bool>,
    /// Seconds one delivery attempt may take.
    pub delivery_timeout: Option<u64>,
    /// Days message payloads and inbox events are kept.
    pub retention_days: Option<u64>,
    /// Days of nothing but failures after which an endpoint is disabled.
    pub disable_after_days: Option<u64>,
    /// Where operational webhooks go, and the whsec_ secret that signs them.
    pub operational_webhook_url: Option<String>,
    pub operational_webhook_secret: Option<String>,
    pub role: Option<Role>,
    #[serde(default)]
    pub source: Vec<toml::Value>,
    #[serde(default)]
    pub route: Vec<toml::Value>,
}

/// Flags of `hookline serve` that override everything else.
#[derive(Debug, Default, clap::Args)]
pub struct ServeFlags {
    /// Config file [default: hookline.toml when it exists; env HOOKLINE_CONFIG].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Port to listen on [default: 3000; env PORT or HOOKLINE_PORT].
    #[arg(long, short)]
    pub port: Option<u16>,
    /// Address to listen on [default: 0.0.0.0; env HOOKLINE_HOST].
    #[arg(long)]
    pub host: Option<String>,
    /// sqlite://PATH or postgres://… (TLS as libpq: ?sslmode=verify-full&sslrootcert=ca.pem)
    /// [default: sqlite://hookline.db; env HOOKLINE_DATABASE_URL].
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Log format: text or json [env HOOKLINE_LOG_FORMAT].
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// What this node does: api (receive + API, no deliveries), worker
    /// (deliveries; serves only /health, /ready, /metrics and the UI) or all [env HOOKLINE_ROLE].
    #[arg(long, value_enum)]
    pub role: Option<Role>,
}

/// The flags of commands that only open the database (`migrate`, `token`).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct StoreFlags {
    /// Config file [default: hookline.toml when it exists; env HOOKLINE_CONFIG].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// sqlite://PATH or postgres://… [default: sqlite://hookline.db; env HOOKLINE_DATABASE_URL].
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

impl StoreFlags {
    /// The database URL: the flag, else the environment, else the config
    /// file, else the default.
    pub fn database_url(&self) -> anyhow::Result<String> {
        let (file, _) = read_file(self.config.as_deref())?;
        Ok(pick_database_url(
            self.database_url.clone(),
            file.database_url,
        ))
    }
}

fn pick_database_url(flag: Option<String>, file: Option<String>) -> String {
    flag.or_else(|| env("HOOKLINE_DATABASE_URL"))
        .or(file)
        .unwrap_or_else(|| "sqlite://hookline.db".into())
}

/// What a node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Api,
    Worker,
    #[default]
    All,
}

/// Everything `serve` needs, resolved and validated.
#[derive(Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub log_json: bool,
    pub log_level: String,
    pub server: Config,
    pub engine: EngineConfig,
    pub role: Role,
    /// How long payloads and inbox events are kept.
    pub retention: Duration,
    /// Operational webhooks: URL and secret.
    pub operational: Option<(String, String)>,
}

/// Reads an environment variable, treating empty as unset.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_parse<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    env(name)
        .map(|v| {
            v.trim()
                .parse::<T>()
                .map_err(|_| bad_input(format!("{name}=`{v}` is not valid")))
        })
        .transpose()
}

/// The config file and its name for messages (`hookline.toml`, or the flag's path).
fn read_file(flag: Option<&Path>) -> anyhow::Result<(FileConfig, String)> {
    let (path, explicit) = match (flag.map(Path::to_path_buf), env("HOOKLINE_CONFIG")) {
        (Some(p), _) => (p, true),
        (None, Some(p)) => (PathBuf::from(p), true),
        (None, None) => (PathBuf::from("hookline.toml"), false),
    };
    if !path.exists() {
        if explicit {
            return Err(bad_input(format!(
                "config file {} does not exist",
                path.display()
            )));
        }
        return Ok((FileConfig::default(), path.display().to_string()));
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file = toml::from_str(&text).map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    Ok((file, path.display().to_string()))
}

impl Settings {
    pub fn resolve(flags: &ServeFlags) -> anyhow::Result<Settings> {
        let (file, origin) = read_file(flags.config.as_deref())?;
        let host = flags
            .host
            .clone()
            .or_else(|| env("HOOKLINE_HOST"))
            .or(file.host)
            .unwrap_or_else(|| "0.0.0.0".into());
        let port = match flags.port {
            Some(p) => p,
            None => env_parse::<u16>("HOOKLINE_PORT")?
                .or(env_parse::<u16>("PORT")?)
                .or(file.port)
                .unwrap_or(3000),
        };
        let ip: IpAddr = host.parse().map_err(|_| {
            bad_input(format!(
                "host `{host}` is not an IP address (e.g. 0.0.0.0 or 127.0.0.1)"
            ))
        })?;
        let database_url = pick_database_url(flags.database_url.clone(), file.database_url);
        let single_node = !database_url.starts_with("postgres");
        let log_format = flags
            .log_format
            .clone()
            .or_else(|| env("HOOKLINE_LOG_FORMAT"))
            .or(file.log_format);
        let log_json = match log_format.as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(bad_input(format!(
                    "log format `{other}` must be text or json"
                )))
            }
        };
        let defaults = Config::default();
        let body_limit = env_parse("HOOKLINE_BODY_LIMIT")?
            .or(file.body_limit)
            .unwrap_or(defaults.body_limit);
        if body_limit == 0 {
            return Err(bad_input("body_limit must be at least 1 byte"));
        }
        let timeout = env_parse("HOOKLINE_REQUEST_TIMEOUT")?.or(file.request_timeout);
        let seconds = |name: &str, value: Option<u64>, default: Duration| match value {
            Some(0) => Err(bad_input(format!("{name} must be at least 1 second"))),
            Some(n) => Ok(Duration::from_secs(n)),
            None => Ok(default),
        };
        let header_timeout = seconds(
            "header_timeout",
            env_parse("HOOKLINE_HEADER_TIMEOUT")?.or(file.header_timeout),
            defaults.header_timeout,
        )?;
        let idle_timeout = seconds(
            "idle_timeout",
            env_parse("HOOKLINE_IDLE_TIMEOUT")?.or(file.idle_timeout),
            defaults.idle_timeout,
        )?;
        let max_connections = env_parse("HOOKLINE_MAX_CONNECTIONS")?.or(file.max_connections);
        if max_connections == Some(0) {
            return Err(bad_input("max_connections must be at least 1"));
        }
        let tls_cert = env("HOOKLINE_TLS_CERT")
            .map(PathBuf::from)
            .or(file.tls_cert);
        let tls_key = env("HOOKLINE_TLS_KEY").map(PathBuf::from).or(file.tls_key);
        let tls_client_ca = env("HOOKLINE_TLS_CLIENT_CA")
            .map(PathBuf::from)
            .or(file.tls_client_ca);
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(TlsConfig {
                cert,
                key,
                client_ca: tls_client_ca,
            }),
            (None, None) if tls_client_ca.is_none() => None,
            _ => {
                return Err(bad_input(
                    "HTTPS needs both tls_cert and tls_key (tls_client_ca needs them too)",
                ))
            }
        };
        let sources = declared::sources(file.source, &origin)?;
        let routes = declared::routes(file.route, &origin)?;
        let subnets = match env("HOOKLINE_ALLOWED_SUBNETS") {
            Some(list) => list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None => file.allowed_subnets.unwrap_or_default(),
        };
        let allowed_subnets = subnets
            .iter()
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        bad_input(format!(
                            "allowed_subnets: `{s}` is not a CIDR like 127.0.0.0/8"
                        ))
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let https_only = env_parse::<bool>("HOOKLINE_HTTPS_ONLY")?
            .or(file.https_only)
            .unwrap_or(false);
        let engine_defaults = EngineConfig::default();
        let delivery_timeout = env_parse::<u64>("HOOKLINE_DELIVERY_TIMEOUT")?
            .or(file.delivery_timeout)
            .map_or(engine_defaults.timeout, Duration::from_secs);
        if delivery_timeout.is_zero() {
            return Err(bad_input("delivery_timeout must be at least 1 second"));
        }
        let role = match (flags.role, env("HOOKLINE_ROLE")) {
            (Some(r), _) => r,
            (None, Some(r)) => <Role as clap::ValueEnum>::from_str(&r, true).map_err(|_| {
                bad_input(format!("HOOKLINE_ROLE=`{r}` must be api, worker or all"))
            })?,
            (None, None) => file.role.unwrap_or_default(),
        };
        let ops_url = env("HOOKLINE_OPERATIONAL_WEBHOOK_URL").or(file.operational_webhook_url);
        let ops_secret =
            env("HOOKLINE_OPERATIONAL_WEBHOOK_SECRET").or(file.operational_webhook_secret);
        let operational = match (ops_url, ops_secret) {
            (None, None) => None,
            (Some(url), Some(secret)) if secret.starts_with("whsec_") => Some((url, secret)),
            (Some(_), _) => {
                return Err(bad_input(
                    "operational_webhook_url needs operational_webhook_secret, a whsec_… secret to sign with",
                ))
            }
            (None, Some(_)) => return Err(bad_input("operational_webhook_secret is set but operational_webhook_url is not")),
        };
        let disable_after_days = env_parse::<u64>("HOOKLINE_DISABLE_AFTER_DAYS")?
            .or(file.disable_after_days)
            .unwrap_or(5);
        if disable_after_days == 0 {
            return Err(bad_input("disable_after_days must be at least 1"));
        }
        let retention_days = env_parse::<u64>("HOOKLINE_RETENTION_DAYS")?
            .or(file.retention_days)
            .unwrap_or(30);
        if retention_days == 0 {
            return Err(bad_input("retention_days must be at least 1"));
        }
        Ok(Settings {
            retention: Duration::from_secs(retention_days * 86_400),
            operational,
            role,
            engine: EngineConfig {
                allowed_subnets: allowed_subnets.clone(),
                https_only,
                timeout: delivery_timeout,
                // A claim outlives any attempt: twice the timeout, plus time to record it.
                lease: delivery_timeout * 2 + Duration::from_secs(5),
                disable_after: Duration::from_secs(disable_after_days * 86_400),
                ..engine_defaults
            },
            listen: SocketAddr::new(ip, port),
            database_url,
            log_json,
            log_level: env("HOOKLINE_LOG")
                .or(file.log_level)
                .unwrap_or_else(|| "info".into()),
            server: Config {
                admin_token: env("HOOKLINE_ADMIN_TOKEN").or(file.admin_token),
                // On PostgreSQL several nodes may start at once: none makes the
                // admin token by itself (`hookline token admin --rotate` does).
                generate_admin_token: single_node,
                webhook_secret: env("WEBHOOK_SECRET")
                    .or_else(|| env("HOOKLINE_WEBHOOK_SECRET"))
                    .or(file.webhook_secret),
                body_limit,
                request_timeout: timeout.map_or(defaults.request_timeout, Duration::from_secs),
                header_timeout,
                idle_timeout,
                max_connections,
                rejected_cap: env_parse("HOOKLINE_REJECTED_CAP")?
                    .or(file.rejected_cap)
                    .unwrap_or(defaults.rejected_cap),
                sources,
                routes,
                tls,
                serve_api: role != Role::Worker,
                allowed_subnets,
                role: match role {
                    Role::Api => "api",
                    Role::Worker => "worker",
                    Role::All => "all",
                },
                ..Config::default()
            },
        })
    }
}
