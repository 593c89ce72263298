//! Which exact paths a source may answer at: any but hookline's own routes.

/// The built-in route `path` would shadow, if any. `/webhook` alone is free
/// (only `/webhook/{event}` is taken).
pub fn clash(path: &str) -> Option<&'static str> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    match path {
        "/" => return Some("GET /"),
        "/health" => return Some("GET /health"),
        "/ready" => return Some("GET /ready"),
        "/metrics" => return Some("GET /metrics"),
        _ => {}
    }
    if under("/api") {
        return Some("/api/…");
    }
    if under("/ui") {
        return Some("/ui…");
    }
    if under("/in") {
        return Some("POST /in/{source}");
    }
    match path.strip_prefix("/webhook/") {
        Some(rest) if !rest.is_empty() && !rest.contains('/') => Some("POST /webhook/{event}"),
        _ => None,
    }
}

/// The words for a clash, the same at start and in the API.
pub fn clash_message(source: &str, path: &str, route: &str) -> String {
    format!("source `{source}`: path `{path}` clashes with hookline's built-in route {route}; choose another path")
}

/// The words for a path another source already holds, the same at start and in the API.
pub fn taken_message(source: &str, path: &str, holder: &str) -> String {
    format!("source `{source}`: path `{path}` is already the path of source `{holder}`")
}

#[cfg(test)]
mod tests {
    use super::clash;

    #[test]
    fn built_in_routes_are_taken_and_tutorial_paths_are_free() {
        for taken in [
            "/",
            "/health",
            "/ready",
            "/metrics",
            "/api",
            "/api/v1/app",
            "/ui",
            "/ui/inbox",
            "/in/x",
            "/webhook/x",
        ] {
            assert!(clash(taken).is_some(), "{taken}");
        }
        for free in [
            "/webhook",
            "/webhooks",
            "/payment-webhook",
            "/webhook/a/b",
            "/inbox",
            "/uix",
            "/healthz",
        ] {
            assert_eq!(clash(free), None, "{free}");
        }
    }
}
