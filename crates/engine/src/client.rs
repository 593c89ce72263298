//! The delivery HTTP client: connection reuse, no redirects (a 3xx is a
//! failure), and every resolved address checked by the SSRF guard.

use std::net::SocketAddr;
use std::sync::Arc;

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
    reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(config.concurrency.max(1))
        .dns_resolver(Arc::new(GuardedResolver { guard }))
        .user_agent(concat!("hookline/", env!("CARGO_PKG_VERSION")))
        .build()
}
