//! Connection policing, so no client can hold the server's descriptors:
//! a connection must send its first request within `header_timeout`, may sit
//! idle (no request in flight, nothing read) at most `idle_timeout`, and at
//! most `max_connections` are open. At the cap, a new connection closes the
//! oldest idle one (a silent flood cannot lock out `/health` or a webhook);
//! with none idle, accepting waits for one to end.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// How long connections may take and how many may be open.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// The open connections, oldest first.
pub struct Conns {
    limits: Limits,
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next: AtomicU64,
    room: Notify,
}

/// One open connection's activity.
pub struct Conn {
    id: u64,
    started: Instant,
    /// Milliseconds after `started` of the last byte read or answer finished.
    active_ms: AtomicU64,
    in_flight: AtomicUsize,
    requests: AtomicU64,
    evicted: AtomicBool,
    evict: Notify,
}

impl Conns {
    pub fn new(limits: Limits) -> Arc<Conns> {
        Arc::new(Conns {
            limits,
            open: Mutex::new(BTreeMap::new()),
            next: AtomicU64::new(0),
            room: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Resolves when a new connection may be accepted: below the cap. At the
    /// cap, the oldest idle connection is told to close, and this waits until
    /// one has closed (so the descriptors in use never pass the cap).
    pub async fn room(&self) {
        loop {
            let notified = self.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let open = self.lock();
                if open.len() < self.limits.max_connections {
                    return;
                }
                let oldest_idle = open
                    .values()
                    .find(|c| c.idle() && !c.evicted.load(Ordering::Relaxed));
                if let Some(oldest) = oldest_idle {
                    tracing::debug!(
                        conn = oldest.id,
                        "at the connection cap: closing the oldest idle one"
                    );
                    oldest.evicted.store(true, Ordering::Relaxed);
                    oldest.evict.notify_one();
                }
            }
            notified.await;
        }
    }

    /// Registers a just-accepted connection.
    pub fn admit(self: &Arc<Self>) -> Admitted {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            started: Instant::now(),
            active_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
        });
        self.lock().insert(id, conn.clone());
        Admitted {
            conns: self.clone(),
            conn,
        }
    }
}

/// A registered connection; dropping it unregisters it and makes room.
pub struct Admitted {
    conns: Arc<Conns>,
    conn: Arc<Conn>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.conns.lock().remove(&self.conn.id);
        self.conns.room.notify_waiters();
    }
}

impl Admitted {
    pub fn conn(&self) -> Arc<Conn> {
        self.conn.clone()
    }

    /// Resolves when the connection should close: it outstayed its time, or
    /// it was chosen to make room for a new one.
    pub async fn ended(&self) {
        let limits = self.conns.limits;
        let conn = &self.conn;
        tokio::select! {
            () = conn.evict.notified() => {}
            () = async {
                loop {
                    match conn.time_left(limits) {
                        Some(left) if left.is_zero() => return,
                        Some(left) => tokio::time::sleep(left).await,
                        None => tokio::time::sleep(limits.idle_timeout).await,
                    }
                }
            } => tracing::debug!(conn = conn.id, "closing a connection that sent nothing in time"),
        }
    }
}

impl Conn {
    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
    }

    fn touch(&self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.active_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// Time until the connection is due to close; `None` while a request is
    /// in flight (its body and handler have their own deadlines).
    fn time_left(&self, limits: Limits) -> Option<Duration> {
        if !self.idle() {
            return None;
        }
        let now = self.started.elapsed();
        let due = if self.requests.load(Ordering::Relaxed) == 0 {
            limits.header_timeout
        } else {
            Duration::from_millis(self.active_ms.load(Ordering::Relaxed)) + limits.idle_timeout
        };
        Some(due.saturating_sub(now))
    }

    /// Counts a request in until the returned guard (held by its answer's
    /// body) is dropped.
    pub fn request(self: &Arc<Self>) -> InFlight {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }
}

/// A request being served on a connection.
pub struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's byte stream that records when it last read anything, and
/// gives the HTTP layer's own empty error answers a JSON body.
pub struct Watched<T> {
    inner: T,
    conn: Arc<Conn>,
    /// A swapped answer being written: its bytes, how many are out, and the
    /// length of the buffer it stands for.
    swapped: Option<(Vec<u8>, usize, usize)>,
}

impl<T> Watched<T> {
    pub fn new(inner: T, conn: Arc<Conn>) -> Watched<T> {
        Watched {
            inner,
            conn,
            swapped: None,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.conn.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        if this.swapped.is_none() {
            this.swapped = crate::early_errors::rewrite(buf).map(|b| (b, 0, buf.len()));
        }
        let Some((bytes, done, stands_for)) = &mut this.swapped else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        while *done < bytes.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &bytes[*done..]) {
                Poll::Ready(Ok(n)) => *done += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = *stands_for;
        this.swapped = None;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty());
        match first {
            Some(b) if self.swapped.is_some() || crate::early_errors::rewrite(b).is_some() => {
                self.poll_write(cx, b)
            }
            _ => Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The connection cap when none is configured: three quarters of the
/// descriptors this process may open (raised to its hard limit first), the
/// rest kept for the store and outbound requests.
pub fn default_max_connections() -> usize {
    let soft = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    ((soft / 4) * 3).clamp(16, 1 << 20) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: max,
        }
    }

    #[tokio::test]
    async fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let conns = Conns::new(limits(2));
        let first = conns.admit();
        let busy = first.conn().request();
        let second = conns.admit();
        let room = tokio::spawn({
            let conns = conns.clone();
            async move { conns.room().await }
        });
        tokio::time::timeout(Duration::from_secs(1), second.ended())
            .await
            .expect("the oldest idle connection is told to close");
        assert!(!room.is_finished(), "no room until it has closed");
        drop(second);
        tokio::time::timeout(Duration::from_secs(1), room)
            .await
            .expect("room once it has closed")
            .unwrap();
        assert!(first.conn().time_left(limits(2)).is_none());
        drop(busy);
    }

    #[tokio::test]
    async fn a_silent_connection_ends_after_the_header_timeout() {
        let conns = Conns::new(Limits {
            header_timeout: Duration::from_millis(200),
            ..limits(8)
        });
        let silent = conns.admit();
        let t0 = Instant::now();
        silent.ended().await;
        assert!(t0.elapsed() >= Duration::from_millis(200));
    }
}
