//! A receiver that counts what arrives and how late: a delivery's payload
//! carries `t`, its publish time in Unix milliseconds; a forward carries
//! `X-Hookline-Event-Id`, whose id holds the time hookline received it (just
//! before its commit and answer, so this latency is receive → arrival, an
//! upper bound of ack → arrival).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

/// Arrivals so far: each one's latency, and when the first and last came.
#[derive(Default, Clone)]
struct Seen {
    latencies: Vec<f64>,
    count: u64,
    first: Option<f64>,
    last: Option<f64>,
}

fn stats(seen: &Seen) -> Value {
    let mut l = seen.latencies.clone();
    l.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        l.get(((q * l.len() as f64).ceil() as usize).saturating_sub(1))
            .copied()
    };
    json!({
        "count": seen.count, "p50Ms": pct(0.5), "p99Ms": pct(0.99),
        "firstMs": seen.first, "lastMs": seen.last,
    })
}

/// Serves on 127.0.0.1:0: `POST` counts an arrival, `GET /stats` reports,
/// `GET /reset` starts counting afresh.
pub async fn serve() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    let seen: Arc<Mutex<Seen>> = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let seen = seen.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let seen = seen.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let req = Request::from_parts(parts, ());
                    let arrived = now_ms();
                    let out = match (req.method(), req.uri().path()) {
                        (&Method::POST, _) => {
                            let sent = sent_at_parts(&req, &body);
                            if let Ok(mut s) = seen.lock() {
                                s.count += 1;
                                s.first.get_or_insert(arrived);
                                s.last = Some(arrived);
                                if let Some(t) = sent {
                                    s.latencies.push(arrived - t);
                                }
                            }
                            Bytes::from_static(b"{}")
                        }
                        (_, "/reset") => {
                            if let Ok(mut s) = seen.lock() {
                                *s = Seen::default();
                            }
                            Bytes::from_static(b"{}")
                        }
                        _ => {
                            let s = seen.lock().map(|s| s.clone()).unwrap_or_default();
                            Bytes::from(stats(&s).to_string())
                        }
                    };
                    Ok::<_, Infallible>(Response::new(Full::new(out)))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// When what arrived was sent (ms): the forwarded event's id, else the
/// payload's `t`.
fn sent_at_parts(req: &Request<()>, body: &[u8]) -> Option<f64> {
    let by_id = req
        .headers()
        .get("x-hookline-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|id| id.parse::<hookline_core::EventId>().ok())
        .and_then(|id| id.time_ms());
    match by_id {
        Some(ms) => Some(ms as f64),
        None => serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v["t"].as_f64()),
    }
}

/// The counter's `/stats`.
pub async fn stats_of(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(client
        .get(format!("{url}/stats"))
        .send()
        .await?
        .json()
        .await?)
}

/// Forgets every arrival so far.
pub async fn reset(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    client.get(format!("{url}/reset")).send().await?;
    Ok(())
}
