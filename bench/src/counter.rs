//! A receiver that counts deliveries and measures publish-to-delivery latency:
//! each payload carries `t`, its publish time in Unix milliseconds.

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

/// Serves on 127.0.0.1:0: `POST` counts a delivery, `GET /stats` reports.
pub async fn serve() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let latencies = latencies.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let latencies = latencies.clone();
                async move {
                    let method = req.method().clone();
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let out = if method == Method::POST {
                        let sent = serde_json::from_slice::<Value>(&body)
                            .ok()
                            .and_then(|v| v["t"].as_f64());
                        if let (Some(t), Ok(mut l)) = (sent, latencies.lock()) {
                            l.push(now_ms() - t);
                        }
                        Bytes::from_static(b"{}")
                    } else {
                        let mut l = latencies.lock().map(|l| l.clone()).unwrap_or_default();
                        l.sort_by(f64::total_cmp);
                        let pct = |q: f64| {
                            l.get(((q * l.len() as f64).ceil() as usize).saturating_sub(1))
                                .copied()
                        };
                        Bytes::from(
                            json!({"count": l.len(), "p50Ms": pct(0.5), "p99Ms": pct(0.99)})
                                .to_string(),
                        )
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

/// The counter's `/stats`.
pub async fn stats(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(client
        .get(format!("{url}/stats"))
        .send()
        .await?
        .json()
        .await?)
}
