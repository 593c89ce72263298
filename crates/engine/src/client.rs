//! The outbound HTTP clients: connection reuse, no redirects (a 3xx is a
//! failure), and every resolved address checked by the SSRF guard
//! ([`Outbound`], the one way out for requests made on someone's behalf).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::EngineConfig;
use crate::ssrf::{Guard, NameBlocked};

/// Resolves names, then drops every address the guard refuses; none left is an error.
struct GuardedResolver {
    guard: Arc<Guard>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match guard.check(a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused.get_or_insert(e);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why: Box<dyn std::error::Error + Send + Sync> = match refused {
                    Some(blocked) => Box::new(NameBlocked { host, blocked }),
                    None => format!("{host} has no address").into(),
                };
                return Err(why);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

pub(crate) fn build(config: &EngineConfig, guard: Arc<Guard>) -> reqwest::Result<reqwest::Client> {
    guarded(guard, config.timeout)
        .pool_max_idle_per_host(config.concurrency.max(1))
        .build()
}

fn guarded(guard: Arc<Guard>, timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver { guard }))
        .user_agent(concat!("hookline/", env!("CARGO_PKG_VERSION")))
}

/// The one way out for every request hookline makes on someone's behalf
/// (deliveries, API routes' forwards, the UI's Send page, replays): the
/// guard, a client whose resolver applies it, and one more for hookline's
/// own port, whose resolver also lets its own addresses through.
#[derive(Clone)]
pub struct Outbound {
    guard: Arc<Guard>,
    guarded: reqwest::Client,
    own: Option<(u16, reqwest::Client)>,
}

impl Outbound {
    /// `build` makes a client whose resolver applies the guard it is given.
    pub fn new(
        guard: Guard,
        build: impl Fn(Arc<Guard>) -> reqwest::Result<reqwest::Client>,
    ) -> reqwest::Result<Outbound> {
        let own = match guard.own_port() {
            Some(port) => Some((port, build(Arc::new(guard.at_port(port)))?)),
            None => None,
        };
        let guard = Arc::new(guard);
        Ok(Outbound {
            guarded: build(guard.clone())?,
            guard,
            own,
        })
    }

    /// For requests people ask for (the Send page, replays): `timeout`.
    pub fn for_people(guard: Guard, timeout: Duration) -> reqwest::Result<Outbound> {
        Outbound::new(guard, |g| guarded(g, timeout).build())
    }

    /// The client to call `url` with, or why it may not be called (a
    /// literal address the guard refuses; names are checked as resolved).
    pub fn client(&self, url: &url::Url) -> Result<&reqwest::Client, crate::ssrf::Blocked> {
        self.guard.check_url(url)?;
        let port = url.port_or_known_default();
        Ok(match &self.own {
            Some((own, client)) if Some(*own) == port => client,
            _ => &self.guarded,
        })
    }

    pub fn guard(&self) -> &Guard {
        &self.guard
    }
}

/// The guard's own sentence, when it is why `e` happened (a name that
/// resolved only to refused addresses).
pub fn refusal(e: &reqwest::Error) -> Option<String> {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(refused) = c.downcast_ref::<NameBlocked>() {
            return Some(refused.to_string());
        }
        cause = c.source();
    }
    None
}
