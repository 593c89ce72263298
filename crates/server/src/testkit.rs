//! Test helpers (feature `testkit`): the whole app spawned on `127.0.0.1:0`
//! over a fresh database of the test's backend (a SQLite file, or a fresh
//! PostgreSQL schema; see `hookline_testkit`), real sockets, and the engine's
//! capturing receiver.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;

pub use hookline_engine::testkit::{Captured, Receiver, Reply};
use hookline_engine::{Engine, EngineConfig};

/// An engine for tests: loopback allowed, retries after 50 ms and 100 ms.
pub fn test_engine() -> EngineConfig {
    EngineConfig {
        allowed_subnets: vec![
            "127.0.0.0/8".parse().expect("cidr"),
            "::1/128".parse().expect("cidr"),
        ],
        retry: hookline_core::RetryPolicy {
            schedule: vec![
                std::time::Duration::from_millis(50),
                std::time::Duration::from_millis(100),
            ],
        },
        jitter: 0.0,
        poll: std::time::Duration::from_millis(100),
        ..EngineConfig::default()
    }
}

pub use hookline_testkit::{on_both_backends, Backend, FreshDb};

/// The whole server on `127.0.0.1:0` over a fresh database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub admin_token: String,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    db: Option<FreshDb>,
}

impl TestApp {
    /// Starts the app and a delivery engine that may call loopback, with a
    /// fast retry schedule; `config.admin_token` defaults to a test token.
    pub async fn spawn(config: Config) -> TestApp {
        Self::spawn_with(config, test_engine()).await
    }

    /// Starts the app with this engine configuration.
    pub async fn spawn_with(config: Config, engine: EngineConfig) -> TestApp {
        Self::spawn_full(config, engine, None).await
    }

    /// Starts the app sending operational webhooks to `url` (signed with the
    /// test secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`).
    pub async fn spawn_with_operational(config: Config, url: &str) -> TestApp {
        Self::spawn_full(config, test_engine(), Some(url)).await
    }

    /// Starts a second node on `first`'s database (a cluster of two; on
    /// PostgreSQL, as several nodes are meant to run). It owns no database,
    /// so it is dropped rather than stopped, before `first`.
    pub async fn spawn_beside(first: &TestApp, config: Config) -> TestApp {
        let store = first.db().open().await;
        Self::spawn_on(config, test_engine(), None, None, store).await
    }

    async fn spawn_full(
        config: Config,
        engine: EngineConfig,
        operational: Option<&str>,
    ) -> TestApp {
        let db = FreshDb::new().await;
        let store: Arc<dyn hookline_core::Store> = db.open().await;
        Self::spawn_on(config, engine, operational, Some(db), store).await
    }

    async fn spawn_on(
        mut config: Config,
        engine: EngineConfig,
        operational: Option<&str>,
        db: Option<FreshDb>,
        store: Arc<dyn hookline_core::Store>,
    ) -> TestApp {
        let engine = Engine::new(store.clone(), engine)
            .expect("engine")
            .with_forwards(store.clone());
        config.waker = engine.waker();
        config.handoff = engine.handoff();
        let engine = match operational {
            Some(url) => {
                let ops = hookline_engine::Operational::setup(
                    store.as_ref(),
                    store.clone(),
                    url,
                    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    config.waker.clone(),
                )
                .await
                .expect("operational webhooks");
                config.operational = ops.clone();
                engine.with_operational(ops)
            }
            None => engine,
        };
        config.engine_metrics = Some(engine.metrics());
        // The UI's Send page and replays may call loopback, as the test
        // engine may, unless the test chose its own allow-list.
        if config.allowed_subnets.is_empty() {
            config.allowed_subnets = test_engine().allowed_subnets;
        }
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
            let (done, mut engine_stop) = tokio::sync::watch::channel(false);
            let delivering = tokio::spawn(engine.run(async move {
                let _ = engine_stop.changed().await;
            }));
            let shutdown = async {
                let _ = stopped.await;
            };
            crate::run(config, store, listener, shutdown)
                .await
                .expect("server ran");
            let _ = done.send(true);
            let _ = delivering.await;
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
            client,
            stop: Some(stop),
            task: Some(task),
            db,
        }
    }

    /// The app's database, to open a second store on it (e.g. to write what
    /// the API would refuse).
    pub fn db(&self) -> &FreshDb {
        self.db.as_ref().expect("the app is running")
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

    /// `method path` on the management API with an optional JSON body: the
    /// status and the JSON answer (`Null` when empty).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut r = self.api(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        (status, json)
    }

    /// Polls `GET /api/v1{path}` until `done` holds (bounded by 10 s); the last answer.
    pub async fn until(
        &self,
        path: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let v = self.get_json(path).await;
            if done(&v) || std::time::Instant::now() > deadline {
                return v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Asks for a graceful shutdown and waits for it. Returns the database,
    /// so a test can reopen it; dropping it deletes a SQLite file.
    pub async fn stop(mut self) -> FreshDb {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.db.take().expect("the database")
    }
}
