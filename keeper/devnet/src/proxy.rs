//! A TCP relay that can cut a client off its endpoint: the devnet's RPC outage.
//!
//! A keeper pointed at a [`Relay`] instead of anvil or the simulator sees a real outage when the
//! relay is [`Relay::cut`]: new connections are accepted and closed at once (a refused RPC) and
//! every open connection is dropped, until [`Relay::restore`]. [`Relay::hang`] is the worse
//! outage: every connection, open or new, stays open and is never answered.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::{Error, Result};

/// A relay from a local port to `target`.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    hung: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
    refused: Arc<AtomicU64>,
    relayed: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Listens on a free local port and relays every connection to `target` (`host:port`).
    pub async fn start(target: &str) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::Setup(format!("relay to {target}: bind: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Setup(format!("relay to {target}: {e}")))?;
        let cut = Arc::new(AtomicBool::new(false));
        let hung = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicU64::new(0));
        let relayed = Arc::new(AtomicU64::new(0));
        let (generation, _) = watch::channel(0u64);
        let task = tokio::spawn(accept(
            listener,
            target.to_string(),
            (cut.clone(), hung.clone()),
            generation.subscribe(),
            (refused.clone(), relayed.clone()),
        ));
        Ok(Self {
            addr,
            cut,
            hung,
            generation,
            refused,
            relayed,
            task,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Stops answering: open connections stop relaying but stay open, new ones are accepted
    /// and held; nothing is sent back until [`Relay::restore`] (then they are closed).
    pub fn hang(&self) {
        self.hung.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Relays again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
        if self.hung.swap(false, Ordering::SeqCst) {
            self.generation.send_modify(|g| *g += 1);
        }
    }

    /// Connections refused while cut.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::SeqCst)
    }

    /// Connections relayed.
    pub fn relayed(&self) -> u64 {
        self.relayed.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(
    listener: TcpListener,
    target: String,
    (cut, hung): (Arc<AtomicBool>, Arc<AtomicBool>),
    generation: watch::Receiver<u64>,
    (refused, relayed): (Arc<AtomicU64>, Arc<AtomicU64>),
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let mut gen = generation.clone();
        gen.mark_unchanged();
        if hung.load(Ordering::SeqCst) {
            tokio::spawn(hold(client, gen));
            continue;
        }
        if cut.load(Ordering::SeqCst) {
            refused.fetch_add(1, Ordering::SeqCst);
            drop(client);
            continue;
        }
        relayed.fetch_add(1, Ordering::SeqCst);
        let target = target.clone();
        let hung = hung.clone();
        tokio::spawn(async move {
            let Ok(upstream) = TcpStream::connect(&target).await else {
                return;
            };
            let (mut client, mut upstream) = (client, upstream);
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                _ = gen.changed() => {
                    if hung.load(Ordering::SeqCst) {
                        drop(upstream);
                        hold(client, gen).await;
                    }
                }
            }
        });
    }
}

/// Keeps `client` open and unanswered until the relay's state changes again.
async fn hold(client: TcpStream, mut gen: watch::Receiver<u64>) {
    let _ = gen.changed().await;
    drop(client);
}

/// `host:port` of an `http://` or `ws://` URL, for [`Relay::start`].
pub fn host_port(url: &str) -> Result<String> {
    let rest = url
        .split_once("://")
        .map_or(url, |(_, r)| r)
        .trim_end_matches('/');
    let hp = rest.split('/').next().unwrap_or(rest);
    if hp.contains(':') {
        Ok(hp.to_string())
    } else {
        Err(Error::Setup(format!("{url}: no port to relay")))
    }
}

/// `url` with its `host:port` replaced by `addr`.
pub fn through(url: &str, addr: SocketAddr) -> Result<String> {
    let hp = host_port(url)?;
    Ok(url.replacen(&hp, &addr.to_string(), 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        a
    }

    async fn round_trip(addr: SocketAddr) -> Option<Vec<u8>> {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(b"ping").await.ok()?;
        let mut buf = [0u8; 4];
        tokio::time::timeout(std::time::Duration::from_secs(2), s.read_exact(&mut buf))
            .await
            .ok()?
            .ok()?;
        Some(buf.to_vec())
    }

    #[tokio::test]
    async fn relays_cuts_and_restores() {
        let target = echo().await;
        let relay = Relay::start(&target.to_string()).await.unwrap();
        assert_eq!(
            round_trip(relay.addr()).await.as_deref(),
            Some(&b"ping"[..])
        );
        // An open connection is dropped by the cut.
        let mut open = TcpStream::connect(relay.addr()).await.unwrap();
        open.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        open.read_exact(&mut one).await.unwrap();
        relay.cut();
        assert_eq!(round_trip(relay.addr()).await, None);
        assert!(relay.refused() >= 1);
        let mut rest = [0u8; 1];
        assert_eq!(
            open.read(&mut rest).await.unwrap_or(0),
            0,
            "closed by the cut"
        );
        relay.restore();
        assert_eq!(
            round_trip(relay.addr()).await.as_deref(),
            Some(&b"ping"[..])
        );
    }

    #[tokio::test]
    async fn hangs_without_answering_then_relays_again() {
        let target = echo().await;
        let relay = Relay::start(&target.to_string()).await.unwrap();
        let mut open = TcpStream::connect(relay.addr()).await.unwrap();
        open.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        open.read_exact(&mut one).await.unwrap();
        relay.hang();
        // New and open connections alike: accepted, written to, never answered nor closed.
        assert_eq!(round_trip(relay.addr()).await, None);
        open.write_all(b"y").await.unwrap();
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(500), open.read(&mut one)).await;
        assert!(
            waited.is_err(),
            "a hung connection neither answers nor closes"
        );
        relay.restore();
        assert_eq!(
            round_trip(relay.addr()).await.as_deref(),
            Some(&b"ping"[..])
        );
    }

    #[test]
    fn urls_are_rewritten_to_the_relay() {
        let a: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(
            host_port("http://127.0.0.1:8545").unwrap(),
            "127.0.0.1:8545"
        );
        assert_eq!(
            through("ws://127.0.0.1:9944/rpc", a).unwrap(),
            "ws://127.0.0.1:9/rpc"
        );
        assert!(host_port("http://localhost").is_err());
    }
}
