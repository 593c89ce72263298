//! Test helpers (feature `testkit`): a capturing receiver, and the whole app
//! spawned on `127.0.0.1:0` over a fresh SQLite file. Real sockets, real store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

use crate::config::Config;

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
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            status: 200,
            content_type: "application/json",
            body: r#"{"message":"Webhook received successfully."}"#,
            delay: Duration::ZERO,
        }
    }
}

/// A local HTTP server that records every request byte-exact.
pub struct Receiver {
    pub addr: SocketAddr,
    captured: Arc<Mutex<Vec<Captured>>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    pub async fn start(reply: Reply) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let captured = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let (sink, notify) = (captured.clone(), arrived.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (sink, notify, reply) = (sink.clone(), notify.clone(), reply.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (sink, notify, reply) = (sink.clone(), notify.clone(), reply.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            sink.lock().expect("lock").push(Captured {
                                method: parts.method.to_string(),
                                path: parts.uri.to_string(),
                                headers: parts.headers,
                                body,
                            });
                            notify.notify_waiters();
                            tokio::time::sleep(reply.delay).await;
                            let resp = Response::builder()
                                .status(reply.status)
                                .header("content-type", reply.content_type)
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
        }
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

/// The whole server on `127.0.0.1:0` over a fresh SQLite file.
pub struct TestApp {
    pub addr: SocketAddr,
    pub admin_token: String,
    pub db_path: std::path::PathBuf,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts the app; `config.admin_token` defaults to a test token.
    pub async fn spawn(mut config: Config) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("hookline.db");
        let store = hookline_store_sqlite::SqliteStore::open(&db_path).expect("open store");
        let admin_token = config
            .admin_token
            .get_or_insert_with(|| "test-admin-token".into())
            .clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            crate::run(config, Arc::new(store), listener, shutdown)
                .await
                .expect("server ran");
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        // The listener is bound: requests sent now wait in its backlog until
        // the server accepts, so there is nothing to poll for.
        TestApp {
            addr,
            admin_token,
            db_path,
            client,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The URL of `path` over HTTPS (for apps started with TLS).
    pub fn https_url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// A request to the management API with the admin token.
    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(&format!("/api/v1{path}")))
            .bearer_auth(&self.admin_token)
    }

    /// `GET /api/v1{path}` with the admin token; panics unless it answers 2xx JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self
            .api(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("JSON body")
    }

    /// Asks for a graceful shutdown and waits for it. Returns the directory
    /// holding the database, so a test can reopen it; dropping it deletes it.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"))
    }
}
