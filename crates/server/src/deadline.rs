//! A deadline on reading every request's body: a client that starts a body
//! and stalls is cut off at `request_timeout` on every route (the ingress,
//! the API, the UI's forms), and the handler answers 408.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Frame;

use crate::state::AppState;

/// The body was not received before its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received within {0:?}")]
pub struct TimedOut(Duration);

/// Whether an error (or any of its causes) is a body deadline.
pub fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<TimedOut>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The middleware: bodies that are not already complete get the deadline.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let within = state.config.request_timeout;
    let req = req.map(|body| {
        Body::new(Deadline {
            inner: body,
            within,
            due: Box::pin(tokio::time::sleep(within)),
        })
    });
    next.run(req).await
}

struct Deadline {
    inner: Body,
    within: Duration,
    due: Pin<Box<tokio::time::Sleep>>,
}

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.due.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(TimedOut(self.within))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
