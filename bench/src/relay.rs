//! The forwarding floor: the bare server that, after answering 200, posts
//! each body on to a receiver, with hyper's own client or with reqwest (the
//! client hookline's engine uses). No store, no signing, no retries: what
//! one extra HTTP exchange per webhook costs a machine, whoever makes it.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::Semaphore;

/// Forwards in flight at most (hookline's engine is bounded too).
const IN_FLIGHT: usize = 64;

/// The client that makes the extra exchange.
#[derive(Clone)]
enum Sender {
    Hyper(Arc<Client<HttpConnector, Full<Bytes>>>),
    Reqwest(reqwest::Client),
}

impl Sender {
    async fn post(&self, url: &str, body: Bytes) {
        match self {
            Sender::Hyper(c) => {
                let req = Request::post(url)
                    .header("content-type", "application/json")
                    .body(Full::new(body));
                if let Ok(req) = req {
                    if let Ok(res) = c.request(req).await {
                        let _ = res.into_body().collect().await;
                    }
                }
            }
            Sender::Reqwest(c) => {
                let res = c
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                if let Ok(res) = res {
                    let _ = res.bytes().await;
                }
            }
        }
    }
}

/// Serves on 127.0.0.1:0 forever (printing `listening on http://ADDR`),
/// forwarding each body to `target` with `client` (`hyper` or `reqwest`).
pub async fn serve(client: &str, target: String) -> anyhow::Result<()> {
    let sender = match client {
        "hyper" => Sender::Hyper(Arc::new(Client::builder(TokioExecutor::new()).build_http())),
        _ => Sender::Reqwest(reqwest::Client::new()),
    };
    let target: Arc<str> = target.into();
    let room = Arc::new(Semaphore::new(IN_FLIGHT));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let (sender, target, room) = (sender.clone(), target.clone(), room.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (sender, target, room) = (sender.clone(), target.clone(), room.clone());
                async move {
                    let body = req.into_body().collect().await.map(|b| b.to_bytes());
                    if let (Ok(body), Ok(permit)) = (body, room.acquire_owned().await) {
                        tokio::spawn(async move {
                            sender.post(&target, body).await;
                            drop(permit);
                        });
                    }
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"{}"))))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
