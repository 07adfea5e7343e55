//! The exchange's connection guard: a public port meets peers that stall, and clients that open
//! connections and send nothing. axum's `serve` sets no header-read timer and no connection cap,
//! so this listener does: at most `max_total` connections, at most `per_ip` from one address
//! (others are closed at once and counted), and a connection that sends nothing for `idle` —
//! waiting for its headers, its body, or its next request — is closed.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

use crate::metrics::Metrics;

/// The bounds of a guarded listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// Connections open at once, in total.
    pub max_total: usize,
    /// Connections open at once from one address.
    pub per_ip: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle: Duration,
}

#[derive(Debug)]
struct Open {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// A TCP listener that admits connections within [`ConnLimits`].
#[derive(Debug)]
pub struct Guarded {
    inner: TcpListener,
    limits: ConnLimits,
    open: Arc<Mutex<Open>>,
    metrics: Metrics,
}

impl Guarded {
    /// Guards `inner`; refusals are counted in `peer_errors_total{cause="connection_limit"}`.
    pub fn new(inner: TcpListener, limits: ConnLimits, metrics: Metrics) -> Self {
        Self {
            inner,
            limits,
            open: Arc::new(Mutex::new(Open {
                total: 0,
                by_ip: HashMap::new(),
            })),
            metrics,
        }
    }

    fn admit(&self, ip: IpAddr) -> Option<Slot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let from_ip = open.by_ip.get(&ip).copied().unwrap_or(0);
        if open.total >= self.limits.max_total || from_ip >= self.limits.per_ip {
            return None;
        }
        open.total += 1;
        *open.by_ip.entry(ip).or_default() += 1;
        Some(Slot {
            ip,
            open: self.open.clone(),
        })
    }
}

/// A connection's place in the count, given back when the connection is dropped.
#[derive(Debug)]
struct Slot {
    ip: IpAddr,
    open: Arc<Mutex<Open>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.by_ip.remove(&self.ip);
            }
        }
    }
}

impl axum::serve::Listener for Guarded {
    type Io = GuardedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(c) => c,
                // Out of descriptors and the like: wait rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            match self.admit(addr.ip()) {
                Some(slot) => return (GuardedIo::new(stream, slot, self.limits.idle), addr),
                None => {
                    self.metrics
                        .peer_errors
                        .with_label_values(&["connection_limit"])
                        .inc();
                    drop(stream);
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection that fails its reads once nothing arrived for the idle time.
#[derive(Debug)]
pub struct GuardedIo {
    io: TcpStream,
    _slot: Slot,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl GuardedIo {
    fn new(io: TcpStream, slot: Slot, idle: Duration) -> Self {
        Self {
            io,
            _slot: slot,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }
}

impl AsyncRead for GuardedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    let next = Instant::now() + self.idle;
                    self.deadline.as_mut().reset(next);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "nothing received within the idle time",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for GuardedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
