//! The baselines: a bare hyper HTTP/1.1 server that reads the body and answers
//! 200, and the same server answering only once the body is on disk (with a
//! [`floor::Log`]).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::floor;

/// Serves on 127.0.0.1:0 forever, printing `listening on http://ADDR` first;
/// with `log`, each body is synced to it before the 200.
pub async fn serve(log: Option<floor::Log>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let log = log.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(|req: Request<Incoming>| {
                let log = log.clone();
                async move {
                    let body = req.into_body().collect().await.map(|b| b.to_bytes());
                    let stored = match (body, &log) {
                        (Ok(_), None) => true,
                        (Ok(body), Some(log)) => log.append(body).await.is_ok(),
                        (Err(_), _) => false,
                    };
                    let mut answer = Response::new(Full::new(Bytes::from_static(b"{}")));
                    if !stored {
                        *answer.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    Ok::<_, Infallible>(answer)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
