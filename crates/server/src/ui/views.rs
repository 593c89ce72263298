//! Templates (embedded, HTML auto-escaped), rendering, and error pages.

use std::sync::LazyLock;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("../../ui/templates/base.html")),
        ("login.html", include_str!("../../ui/templates/login.html")),
        ("error.html", include_str!("../../ui/templates/error.html")),
        (
            "dashboard.html",
            include_str!("../../ui/templates/dashboard.html"),
        ),
        ("send.html", include_str!("../../ui/templates/send.html")),
        ("inbox.html", include_str!("../../ui/templates/inbox.html")),
        ("event.html", include_str!("../../ui/templates/event.html")),
        (
            "event_panel.html",
            include_str!("../../ui/templates/event_panel.html"),
        ),
        ("apps.html", include_str!("../../ui/templates/apps.html")),
        ("app.html", include_str!("../../ui/templates/app.html")),
        (
            "attempts.html",
            include_str!("../../ui/templates/attempts.html"),
        ),
        (
            "endpoint.html",
            include_str!("../../ui/templates/endpoint.html"),
        ),
        (
            "message.html",
            include_str!("../../ui/templates/message.html"),
        ),
        (
            "routes.html",
            include_str!("../../ui/templates/routes.html"),
        ),
        ("route.html", include_str!("../../ui/templates/route.html")),
        (
            "sources.html",
            include_str!("../../ui/templates/sources.html"),
        ),
        (
            "source.html",
            include_str!("../../ui/templates/source.html"),
        ),
        (
            "source_form.html",
            include_str!("../../ui/templates/source_form.html"),
        ),
        (
            "event_types.html",
            include_str!("../../ui/templates/event_types.html"),
        ),
        (
            "event_type.html",
            include_str!("../../ui/templates/event_type.html"),
        ),
        (
            "route_form.html",
            include_str!("../../ui/templates/route_form.html"),
        ),
    ] {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "a UI template does not compile");
        }
    }
    env
});

/// Renders `name` with `ctx` as a `status` page.
pub fn render(status: StatusCode, name: &str, ctx: impl Serialize) -> Response {
    let html = TEMPLATES.get_template(name).and_then(|t| t.render(ctx));
    match html {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "cannot render a UI page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<h1>Internal Server Error</h1>".to_string()),
            )
                .into_response()
        }
    }
}

/// Every signature scheme's name, for the forms' scheme lists.
pub fn schemes() -> Vec<&'static str> {
    hookline_signature::Scheme::ALL
        .iter()
        .map(|s| s.name())
        .collect()
}

/// A form's page: 422 when it comes back with why it was refused.
pub fn form_status(error: &Option<String>) -> StatusCode {
    match error {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    }
}

/// A 200 page.
pub fn page(name: &str, ctx: impl Serialize) -> Response {
    render(StatusCode::OK, name, ctx)
}

/// An error page that says what went wrong.
pub fn error(status: StatusCode, message: impl Into<String>, csrf: &str, admin: bool) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    render(
        status,
        "error.html",
        minijinja::context! { title, message => message.into(), csrf, admin },
    )
}
