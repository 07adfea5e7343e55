//! `tao20 sim serve`: the simulator over JSON lines on TCP (see [`super::protocol`] for the wire
//! format). One task per connection; requests are applied one at a time to the shared state.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::protocol::{lock, WireRequest, WireResponse};
use super::Simulator;
use crate::{Error, Result};

/// Longest request line accepted (a batch of 64 transfers is a few kB).
const MAX_LINE: usize = 1 << 20;

/// A bound simulator server.
#[derive(Debug)]
pub struct SimServer {
    listener: TcpListener,
    sim: Arc<Mutex<Simulator>>,
}

impl SimServer {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: &str, sim: Arc<Mutex<Simulator>>) -> Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Connection {
                endpoint: addr.into(),
                reason: format!("bind: {e}"),
            })?;
        Ok(SimServer { listener, sim })
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener.local_addr().map_err(|e| Error::Connection {
            endpoint: "listener".into(),
            reason: e.to_string(),
        })
    }

    /// Serves until the task is dropped.
    pub async fn run(self) -> Result<()> {
        serve(self.listener, self.sim).await
    }
}

/// Accepts connections forever, each served by its own task.
pub async fn serve(listener: TcpListener, sim: Arc<Mutex<Simulator>>) -> Result<()> {
    loop {
        let (stream, peer) = listener.accept().await.map_err(|e| Error::Connection {
            endpoint: "listener".into(),
            reason: format!("accept: {e}"),
        })?;
        let sim = sim.clone();
        tokio::spawn(async move {
            if let Err(e) = handle(stream, sim).await {
                tracing::debug!(target: "tao20::sim", %peer, %e, "connection closed");
            }
        });
    }
}

async fn handle(stream: TcpStream, sim: Arc<Mutex<Simulator>>) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut reader = BufReader::new(r);
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).await?;
        if n == 0 {
            return Ok(());
        }
        let response = if n > MAX_LINE {
            WireResponse {
                id: 0,
                result: None,
                error: Some(Error::invalid(
                    "request",
                    format!("{n} bytes, limit {MAX_LINE}"),
                )),
            }
        } else {
            answer(&line, &sim)
        };
        let mut out = serde_json::to_vec(&response).unwrap_or_else(|e| {
            format!(
                r#"{{"id":{},"error":{{"kind":"decode","what":"response","reason":"{e}"}}}}"#,
                response.id
            )
            .into_bytes()
        });
        out.push(b'\n');
        w.write_all(&out).await?;
    }
}

fn answer(line: &str, sim: &Mutex<Simulator>) -> WireResponse {
    // Parse in two steps so a malformed request is still answered under its own id.
    let parsed = serde_json::from_str::<serde_json::Value>(line);
    let id = parsed
        .as_ref()
        .ok()
        .and_then(|v| v.get("id"))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    let request: WireRequest = match parsed.and_then(serde_json::from_value) {
        Ok(r) => r,
        Err(e) => {
            return WireResponse {
                id,
                result: None,
                error: Some(Error::invalid("request", e.to_string())),
            }
        }
    };
    let outcome = lock(sim).and_then(|mut s| s.execute(request.signer, request.request));
    match outcome {
        Ok(value) => WireResponse {
            id: request.id,
            result: Some(value),
            error: None,
        },
        Err(error) => WireResponse {
            id: request.id,
            result: None,
            error: Some(error),
        },
    }
}
