//! Test helpers (feature `testkit`): a capturing HTTP receiver on
//! `127.0.0.1:0` that records every request byte-exact and answers as told.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::Notify;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// How the receiver answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: &'static str,
    pub delay: Duration,
    /// Extra response headers (e.g. `Retry-After`).
    pub headers: Vec<(&'static str, &'static str)>,
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            status: 200,
            content_type: "application/json",
            body: r#"{"message":"Webhook received successfully."}"#,
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }
}

impl Reply {
    /// The default reply with another status.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            ..Reply::default()
        }
    }
}

/// A local HTTP server that records every request byte-exact.
pub struct Receiver {
    pub addr: SocketAddr,
    captured: Arc<Mutex<Vec<Captured>>>,
    arrived: Arc<Notify>,
    flights: Arc<Flights>,
}

/// Requests being answered now, and the most there ever were at once.
#[derive(Default)]
struct Flights {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Receiver {
    pub async fn start(reply: Reply) -> Receiver {
        Receiver::start_sequence(vec![reply]).await
    }

    /// Answers the first request with a 500 and every later one with a 200:
    /// a receiver that recovers, for retries.
    pub async fn failing_once() -> Receiver {
        Receiver::start_sequence(vec![Reply::status(500), Reply::default()]).await
    }

    /// Answers the n-th request with `replies[n]`, and every later one with the last.
    pub async fn start_sequence(replies: Vec<Reply>) -> Receiver {
        assert!(!replies.is_empty(), "at least one reply");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let captured = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let flights = Arc::new(Flights::default());
        let (sink, notify, counting) = (captured.clone(), arrived.clone(), flights.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (sink, notify, replies, counting) = (
                    sink.clone(),
                    notify.clone(),
                    replies.clone(),
                    counting.clone(),
                );
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (sink, notify, replies, counting) = (
                            sink.clone(),
                            notify.clone(),
                            replies.clone(),
                            counting.clone(),
                        );
                        async move {
                            let n = counting.now.fetch_add(1, Ordering::SeqCst) + 1;
                            counting.most.fetch_max(n, Ordering::SeqCst);
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let reply = {
                                let mut all = sink.lock().expect("lock");
                                all.push(Captured {
                                    method: parts.method.to_string(),
                                    path: parts.uri.to_string(),
                                    headers: parts.headers,
                                    body,
                                });
                                replies[(all.len() - 1).min(replies.len() - 1)].clone()
                            };
                            notify.notify_waiters();
                            tokio::time::sleep(reply.delay).await;
                            counting.now.fetch_sub(1, Ordering::SeqCst);
                            let mut resp = Response::builder()
                                .status(reply.status)
                                .header("content-type", reply.content_type);
                            for (k, v) in &reply.headers {
                                resp = resp.header(*k, *v);
                            }
                            let resp = resp
                                .body(Full::new(Bytes::from_static(reply.body.as_bytes())))
                                .expect("response");
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Receiver {
            addr,
            captured,
            arrived,
            flights,
        }
    }

    /// The most requests that were being answered at once.
    pub fn most_at_once(&self) -> usize {
        self.flights.most.load(Ordering::SeqCst)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn captured(&self) -> Vec<Captured> {
        self.captured.lock().expect("lock").clone()
    }

    /// The one request received; panics if there were none or several.
    pub fn only(&self) -> Captured {
        let all = self.captured();
        assert_eq!(
            all.len(),
            1,
            "expected exactly one request, got {}",
            all.len()
        );
        all.into_iter().next().expect("one")
    }

    /// Waits (up to `limit`) until at least `n` requests have arrived.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Captured> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.arrived.notified();
            let got = self.captured();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}
