//! A TCP relay between a client and its endpoint: the devnet's network between a keeper and its
//! nodes, with the faults a real network has.
//!
//! A keeper pointed at a [`Relay`] instead of anvil or the simulator sees:
//! - an outage when the relay is [`Relay::cut`]: new connections are accepted and closed at once
//!   (a refused RPC) and every open connection is dropped, until [`Relay::restore`];
//! - a hung endpoint with [`Relay::hang`]: every connection, open or new, stays open and is never
//!   answered;
//! - latency with [`Relay::set_latency`]: every answer arrives that much later. It is a delay
//!   line, not a rate limit: answers to requests sent together arrive together, as over a long
//!   link;
//! - a connection dropped mid-frame with [`Relay::truncate_next`]: the next answer is cut in
//!   half and its connection closed;
//! - garbage with [`Relay::garble_next`]: the next answer's bytes are replaced by others of the
//!   same length.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::{Error, Result};

/// What the relay does to the answers it passes on.
#[derive(Debug, Default)]
struct Faults {
    latency: Duration,
    truncate: u64,
    garble: u64,
}

#[derive(Debug, Default)]
struct Shared {
    cut: AtomicBool,
    hung: AtomicBool,
    refused: AtomicU64,
    relayed: AtomicU64,
    faults: Mutex<Faults>,
}

impl Shared {
    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        // Plain counters and a duration: any state a panicking holder left is still valid.
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A relay from a local port to `target`.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    shared: Arc<Shared>,
    generation: watch::Sender<u64>,
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
        let shared = Arc::new(Shared::default());
        let (generation, _) = watch::channel(0u64);
        let task = tokio::spawn(accept(
            listener,
            target.to_string(),
            shared.clone(),
            generation.subscribe(),
        ));
        Ok(Self {
            addr,
            shared,
            generation,
            task,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every open connection and refuses new ones.
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Stops answering: open connections stop relaying but stay open, new ones are accepted
    /// and held; nothing is sent back until [`Relay::restore`] (then they are closed).
    pub fn hang(&self) {
        self.shared.hung.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Relays again.
    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
        if self.shared.hung.swap(false, Ordering::SeqCst) {
            self.generation.send_modify(|g| *g += 1);
        }
    }

    /// Delays every answer by `latency` from now on: one round trip costs that much more.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.faults().latency = latency;
    }

    /// Cuts the next `n` answers in half, closing each one's connection after the half.
    pub fn truncate_next(&self, n: u64) {
        self.shared.faults().truncate += n;
    }

    /// Replaces the bytes of the next `n` answers with garbage of the same length.
    pub fn garble_next(&self, n: u64) {
        self.shared.faults().garble += n;
    }

    /// Answers still to be cut or garbled.
    pub fn faults_pending(&self) -> u64 {
        let f = self.shared.faults();
        f.truncate + f.garble
    }

    /// Connections refused while cut.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Connections relayed.
    pub fn relayed(&self) -> u64 {
        self.shared.relayed.load(Ordering::SeqCst)
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
    shared: Arc<Shared>,
    generation: watch::Receiver<u64>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let mut gen = generation.clone();
        gen.mark_unchanged();
        if shared.hung.load(Ordering::SeqCst) {
            tokio::spawn(hold(client, gen));
            continue;
        }
        if shared.cut.load(Ordering::SeqCst) {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            drop(client);
            continue;
        }
        shared.relayed.fetch_add(1, Ordering::SeqCst);
        let target = target.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let Ok(upstream) = TcpStream::connect(&target).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = upstream.set_nodelay(true);
            let (mut client_rd, mut client_wr) = client.into_split();
            let (mut up_rd, mut up_wr) = upstream.into_split();
            let relayed = async {
                // Either direction ending ends the connection, as a proxy closing both sides.
                tokio::select! {
                    _ = requests(&mut client_rd, &mut up_wr) => {}
                    _ = answers(&mut up_rd, &mut client_wr, &shared) => {}
                }
            };
            tokio::select! {
                _ = relayed => {}
                _ = gen.changed() => {
                    if shared.hung.load(Ordering::SeqCst) {
                        drop((up_rd, up_wr));
                        let _ = gen.changed().await;
                    }
                }
            }
        });
    }
}

/// Client to endpoint, unchanged.
async fn requests(from: &mut OwnedReadHalf, to: &mut OwnedWriteHalf) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// Endpoint to client, through the delay line and the faults. The reader stamps each chunk with
/// the moment it may be delivered and goes on reading, so the delay adds latency and never
/// throughput limits.
async fn answers(from: &mut OwnedReadHalf, to: &mut OwnedWriteHalf, shared: &Shared) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    // Moves the sender in: when the endpoint closes, the writer drains and ends.
    let read = async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = from.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let latency = shared.faults().latency;
            if tx
                .send((Instant::now() + latency, buf[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
    };
    let write = async {
        while let Some((due, mut chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            let (truncate, garble) = {
                let mut f = shared.faults();
                if f.truncate > 0 {
                    f.truncate -= 1;
                    (true, false)
                } else if f.garble > 0 {
                    f.garble -= 1;
                    (false, true)
                } else {
                    (false, false)
                }
            };
            if truncate {
                let half = chunk.len().div_ceil(2);
                let _ = to.write_all(&chunk[..half]).await;
                let _ = to.shutdown().await;
                return;
            }
            if garble {
                // Deterministic garbage: no frame header or JSON survives it.
                let mut x = 0xffu8;
                for b in &mut chunk {
                    *b = x;
                    x = x.wrapping_mul(31).wrapping_add(7);
                }
            }
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
    };
    // The answers already read are still delivered after the endpoint closes; a cut answer ends
    // the connection at once.
    tokio::pin!(write);
    tokio::select! {
        _ = &mut write => return,
        _ = read => {}
    }
    write.await;
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

    #[tokio::test]
    async fn latency_delays_every_answer_without_queueing_them() {
        let target = echo().await;
        let relay = Relay::start(&target.to_string()).await.unwrap();
        let latency = Duration::from_millis(300);
        relay.set_latency(latency);
        let mut s = TcpStream::connect(relay.addr()).await.unwrap();
        s.set_nodelay(true).unwrap();
        let start = std::time::Instant::now();
        // Five requests sent together: a delay line answers all of them one latency later; a
        // relay that slept per answer would take five.
        for _ in 0..5 {
            s.write_all(b"ping").await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut buf = [0u8; 20];
        s.read_exact(&mut buf).await.unwrap();
        let took = start.elapsed();
        assert_eq!(&buf, b"pingpingpingpingping");
        assert!(took >= latency, "answered after {took:?}");
        assert!(
            took < latency * 3,
            "answers queued behind each other: {took:?}"
        );
        relay.set_latency(Duration::ZERO);
        let start = std::time::Instant::now();
        assert!(round_trip(relay.addr()).await.is_some());
        assert!(start.elapsed() < latency, "the latency is gone");
    }

    #[tokio::test]
    async fn an_answer_cut_mid_frame_closes_its_connection() {
        let target = echo().await;
        let relay = Relay::start(&target.to_string()).await.unwrap();
        relay.truncate_next(1);
        let mut s = TcpStream::connect(relay.addr()).await.unwrap();
        s.write_all(b"pingpong").await.unwrap();
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut got)).await;
        assert!(read.is_ok(), "the cut connection is closed, not held");
        assert_eq!(got, b"ping", "half the answer, then the end of the stream");
        assert_eq!(relay.faults_pending(), 0);
        // The fault was for one answer: the next connection is whole.
        assert_eq!(
            round_trip(relay.addr()).await.as_deref(),
            Some(&b"ping"[..])
        );
    }

    #[tokio::test]
    async fn a_garbled_answer_keeps_its_length_and_loses_its_bytes() {
        let target = echo().await;
        let relay = Relay::start(&target.to_string()).await.unwrap();
        relay.garble_next(1);
        let got = round_trip(relay.addr()).await.unwrap();
        assert_eq!(got.len(), 4);
        assert_ne!(got, b"ping");
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
