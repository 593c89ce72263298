//! A source's event stream (`/api/v1/source/{name}/event/stream`) as the CLI
//! reads it: connect after a cursor, then the events one by one.

use std::pin::Pin;

use anyhow::Context;
use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};

use crate::relay::Streamed;

/// The events of one connection; it ends when the connection does.
pub type Events = Pin<Box<dyn Stream<Item = anyhow::Result<Streamed>> + Send>>;

/// What connecting gave.
pub enum Connect {
    Open(Events),
    /// Trying again cannot help (a wrong token, source or server): why.
    Refused(String),
    /// The server cannot be reached now, or answered with a server error: why.
    Unreachable(String),
}

/// Opens the stream of `source` on `server`, after `after` if given.
pub async fn connect(
    client: &reqwest::Client,
    server: &str,
    source: &str,
    token: &str,
    after: Option<&str>,
) -> Connect {
    let url = format!("{server}/api/v1/source/{source}/event/stream");
    let mut req = client
        .get(&url)
        .bearer_auth(token)
        .header("accept", "text/event-stream");
    if let Some(a) = after {
        req = req.query(&[("after", a)]);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return Connect::Unreachable(format!("cannot reach {server} ({e})")),
    };
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        let why = format!("{url} answered {status}: {text}");
        return if status.is_client_error() {
            Connect::Refused(format!(
                "{why}; check the server URL, the source and the token"
            ))
        } else {
            Connect::Unreachable(why)
        };
    }
    let bytes = futures_util::stream::unfold(resp, |mut r| async move {
        r.chunk().await.transpose().map(|c| (c, r))
    });
    let events = bytes.eventsource().filter_map(|msg| async move {
        match msg {
            Ok(m) if m.event == "webhook" => {
                Some(serde_json::from_str::<Streamed>(&m.data).with_context(|| {
                    format!(
                        "the server sent an event this version cannot read: {}",
                        m.data
                    )
                }))
            }
            Ok(_) => None,
            Err(e) => Some(Err(anyhow::anyhow!("the stream broke: {e}"))),
        }
    });
    Connect::Open(Box::pin(events))
}
