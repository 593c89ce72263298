//! The Send page: the classic webhook client, in the browser. The server makes
//! the request (so the SSRF guard applies, unless loopback is allowed by
//! `allowed_subnets`) and shows what it sent and what came back.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use hookline_core::MessageId;
use hookline_signature::{title_case, webhook_headers, Scheme, Secret, SignInput};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::session::Session;
use super::views;
use crate::state::AppState;

/// The classic client's timeout.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Deserialize, Serialize, Default)]
pub struct SendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    event_type: String,
    #[serde(default, skip_serializing)]
    secret: String,
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    payload: String,
}

#[derive(Serialize)]
struct Sent {
    ok: bool,
    status_line: String,
    elapsed: String,
    url: String,
    headers: Vec<(String, String)>,
    payload: String,
    body: String,
}

fn show(s: &Session, form: &SendForm, result: Option<Sent>, error: Option<String>) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    views::render(
        status,
        "send.html",
        minijinja::context! {
            nav => "send", csrf => s.csrf, admin => true,
            form, result, error, schemes => views::schemes(),
        },
    )
}

pub async fn page(s: Session, headers: HeaderMap) -> Result<Response, Response> {
    s.require_admin()?;
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost:3000");
    let form = SendForm {
        url: format!("http://{host}/webhook/user.created"),
        event_type: "user.created".into(),
        scheme: Scheme::HmacSha256.name().into(),
        payload: "{\"id\": 1, \"name\": \"Alice\"}".into(),
        ..SendForm::default()
    };
    Ok(show(&s, &form, None, None))
}

pub async fn submit(
    State(state): State<AppState>,
    s: Session,
    Form(form): Form<SendForm>,
) -> Result<Response, Response> {
    s.require_admin()?;
    s.check_csrf(&form.csrf)?;
    Ok(match send(&state, &form).await {
        Ok(sent) => show(&s, &form, Some(sent), None),
        Err(e) => show(&s, &form, None, Some(e)),
    })
}

/// Validates, signs and sends; every failure in words.
async fn send(state: &AppState, form: &SendForm) -> Result<Sent, String> {
    let raw = form.url.trim();
    if raw.is_empty() {
        return Err("Enter the webhook URL, e.g. http://localhost:3000/webhook/user.created. Nothing was sent.".into());
    }
    let url = url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| format!("`{raw}` is not an http:// or https:// URL. Nothing was sent."))?;
    let payload: Value = serde_json::from_str(&form.payload)
        .map_err(|e| format!("The payload is not valid JSON ({e}). Nothing was sent."))?;
    // Compact, key order kept: what receivers that re-serialise will sign too.
    let body = serde_json::to_string(&payload).map_err(|e| e.to_string())?;
    let scheme: Scheme = form
        .scheme
        .parse()
        .map_err(|e| format!("{e}. Nothing was sent."))?;
    let secret = Some(form.secret.as_str())
        .filter(|s| !s.is_empty())
        .map(Secret::new);
    let id = MessageId::new().to_string();
    let event = Some(form.event_type.trim()).filter(|e| !e.is_empty());
    let input = SignInput {
        body: body.as_bytes(),
        id: &id,
        timestamp: hookline_core::clock::now_ms() / 1000,
        event,
    };
    let headers = webhook_headers(scheme, secret.as_ref(), &input)
        .map_err(|e| format!("Cannot sign: {e}. Nothing was sent."))?;
    let client = state
        .outbound
        .client(&url)
        .map_err(|e| format!("Refused: {e}. Nothing was sent."))?;
    let started = Instant::now();
    let resp = client
        .post(url.clone())
        .headers(headers.clone())
        .body(body.clone())
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| describe(&e, &url))?;
    let status = resp.status();
    let json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let bytes = resp.bytes().await.map_err(|e| describe(&e, &url))?;
    let text = match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if json || bytes.first().is_some_and(|b| matches!(b, b'{' | b'[')) => {
            serde_json::to_string_pretty(&v).unwrap_or_default()
        }
        _ => String::from_utf8_lossy(&bytes[..bytes.len().min(256 * 1024)]).into_owned(),
    };
    Ok(Sent {
        ok: status.is_success(),
        status_line: format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ),
        elapsed: format!("{:.1} ms", started.elapsed().as_secs_f64() * 1e3),
        url: url.to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    title_case(k.as_str()),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        payload: body,
        body: text,
    })
}

/// A transport failure, said plainly.
fn describe(e: &reqwest::Error, url: &url::Url) -> String {
    let place = format!(
        "{}:{}",
        url.host_str().unwrap_or("?"),
        url.port_or_known_default().unwrap_or(0)
    );
    if e.is_timeout() {
        return format!(
            "Timed out after {} s: {place} did not answer.",
            TIMEOUT.as_secs()
        );
    }
    if let Some(why) = hookline_engine::refusal(e) {
        return format!("Refused: {why}. Nothing was sent.");
    }
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    if chain.contains("Connection refused") {
        return format!(
            "Connection refused: nothing is listening at {place}. Is the receiver running?"
        );
    }
    format!("The request failed: {chain}")
}
