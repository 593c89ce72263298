//! What `hookline.toml` declares beyond settings: `[[source]]` and
//! `[[route]]` tables, validated with errors that name the file, the table
//! and the entry (`hookline.toml: [[route]] #2, name "to-app": …`).

use hookline_core::{RouteSpec, Source, SourceSpec};

use crate::exit::bad_input;

/// Where an entry is: `file: [[kind]] #n` and its name when it has one.
fn at(origin: &str, kind: &str, i: usize, raw: &toml::Value) -> String {
    match raw.get("name").and_then(|v| v.as_str()).unwrap_or("") {
        "" => format!("{origin}: [[{kind}]] #{}", i + 1),
        n => format!("{origin}: [[{kind}]] #{}, name \"{n}\"", i + 1),
    }
}

/// The `[[source]]` tables, each validated; names and paths unique.
pub fn sources(raw: Vec<toml::Value>, origin: &str) -> anyhow::Result<Vec<Source>> {
    let mut sources: Vec<Source> = Vec::new();
    for (i, raw) in raw.into_iter().enumerate() {
        let here = at(origin, "source", i, &raw);
        let spec: SourceSpec = raw
            .try_into()
            .map_err(|e| bad_input(format!("{here}: {e}")))?;
        let name = spec.name.clone();
        let source = spec
            .into_source(None)
            .map_err(|e| bad_input(format!("{here}: {e}")))?;
        if sources.iter().any(|s| s.name == source.name) {
            return Err(bad_input(format!("{here}: defined twice")));
        }
        if let Some(path) = &source.path {
            if let Some(route) = hookline_server::source_paths::clash(path) {
                return Err(bad_input(format!(
                    "{origin}: {}",
                    hookline_server::source_paths::clash_message(&name, path, route)
                )));
            }
            if let Some(other) = sources.iter().find(|s| s.path.as_deref() == Some(path)) {
                return Err(bad_input(format!(
                    "{here}: path `{path}` is already the path of source `{}`",
                    other.name
                )));
            }
        }
        sources.push(source);
    }
    Ok(sources)
}

/// The `[[route]]` tables, each validated (as the operator's own, so they
/// may reach their URL's address); names unique. That each route's source
/// exists is checked at start, once the file's sources are stored.
pub fn routes(raw: Vec<toml::Value>, origin: &str) -> anyhow::Result<Vec<RouteSpec>> {
    let mut routes: Vec<RouteSpec> = Vec::new();
    for (i, raw) in raw.into_iter().enumerate() {
        let here = at(origin, "route", i, &raw);
        let mut spec: RouteSpec = raw
            .try_into()
            .map_err(|e| bad_input(format!("{here}: {e}")))?;
        // A filter may be written as a JSON string as well as a table.
        if let Some(serde_json::Value::String(text)) = &spec.filter {
            let parsed = serde_json::from_str(text)
                .map_err(|e| bad_input(format!("{here}: `filter` is not JSON: {e}")))?;
            spec.filter = Some(parsed);
        }
        spec.clone()
            .into_route(None, true, 0)
            .map_err(|e| bad_input(format!("{here}: {e}")))?;
        if routes.iter().any(|r| r.name == spec.name) {
            return Err(bad_input(format!("{here}: defined twice")));
        }
        routes.push(spec);
    }
    Ok(routes)
}
