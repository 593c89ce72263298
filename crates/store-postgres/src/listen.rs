//! Wake-ups across nodes: one connection `LISTEN`s on the store's channel;
//! every publish anywhere `NOTIFY`s it, and each notification wakes this
//! node's engine. Each time it starts listening it wakes the engine once (a
//! notification may have been missed); if the connection drops it reconnects,
//! and the engine's polling covers the gap.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_postgres::AsyncMessage;

use crate::store::Target;

/// Starts the listener task; it runs until the runtime ends.
pub(crate) fn start(target: Target, channel: String, notify: Arc<Notify>) {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            match listen(&target, &channel, &notify).await {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection failed; other nodes' publishes are picked up by polling until it is back");
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
            tokio::time::sleep(backoff).await;
        }
    });
}

/// Listens until the connection ends.
async fn listen(
    target: &Target,
    channel: &str,
    notify: &Notify,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = target.config.connect(target.tls.clone()).await?;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    let sql = format!("LISTEN \"{channel}\"");
    let listening = client.batch_execute(&sql);
    tokio::pin!(listening);
    // Drive the connection while the LISTEN goes out, then forever after.
    let mut listened = false;
    loop {
        tokio::select! {
            r = &mut listening, if !listened => {
                r?;
                listened = true;
                // Anything published while we were not listening is due now.
                notify.notify_one();
            }
            m = messages.next() => match m {
                Some(Ok(AsyncMessage::Notification(_))) => notify.notify_one(),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            }
        }
    }
}
