//! The delivery HTTP client: connection reuse, no redirects (a 3xx is a
//! failure), and every resolved address checked by the SSRF guard.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::EngineConfig;
use crate::ssrf::Guard;

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
                let reason = refused.map_or_else(
                    || format!("{host} has no address"),
                    |e| format!("{host} resolves to {e}"),
                );
                return Err(reason.into());
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

/// A client for requests a person asks hookline to make (the web UI's Send
/// page): no redirects, and every resolved address passes `guard`. Check
/// literal-IP URLs with [`Guard::check_url`] before sending.
pub fn outbound_client(guard: Arc<Guard>, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    guarded(guard, timeout).build()
}
