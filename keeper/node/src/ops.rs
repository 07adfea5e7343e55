//! The operator's endpoint, apart from the public exchange (`[ops] listen`, loopback by default):
//!
//! - `GET /metrics`: the Prometheus text.
//! - `GET /v1/status`: what the process is doing, as JSON (signer, dry run, blocks, lag, the
//!   seconds since the engine's last round, health, readiness, doppelganger).
//! - `GET /healthz`: `200` while the engine completes rounds; `503` once it has completed none
//!   for `ops.stall_secs` (a hung endpoint past every timeout, a wedged task) or once the process
//!   is shutting down. What a supervisor or load balancer restarts on.
//! - `GET /readyz`: `200` once healthy and within `ops.ready_lag_blocks` of the finalized head.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::Address;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::engine::Shared;
use crate::metrics::Metrics;
use crate::safety::Doppelganger;
use crate::{Error, Result};

/// What the operator's endpoint reads.
#[derive(Debug)]
pub struct Ops {
    /// The report signer.
    pub signer: Address,
    /// Whether the keeper runs in dry-run mode.
    pub dry_run: bool,
    /// Metrics (the engine's last-progress gauge among them).
    pub metrics: Metrics,
    /// Blocks processed and the finalized head.
    pub shared: Arc<Shared>,
    /// Set when another process signs with this keeper's key.
    pub doppelganger: Arc<Doppelganger>,
    /// This keeper's config digest and the peers'.
    pub digests: Arc<crate::consensus::PeerDigests>,
    /// Set once the process shuts down (a task ended, or a signal).
    pub stopping: AtomicBool,
    /// When the process started: the engine has `stall` from here for its first round.
    pub started: Instant,
    /// No round for this long: unhealthy.
    pub stall: Duration,
    /// Further than this behind the finalized head: not ready.
    pub ready_lag: u64,
}

/// The health of the process at one moment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Seconds since the engine's last completed round (since the start, before the first).
    pub since_progress_secs: u64,
    /// The engine completes rounds and the process is not shutting down.
    pub healthy: bool,
    /// Healthy, and within the readiness lag of the finalized head.
    pub ready: bool,
    /// The last block processed.
    pub processed: u64,
    /// The finalized head last seen.
    pub finalized: u64,
}

impl Ops {
    /// The health now; `now_unix` is the wall clock in seconds (the gauge's unit).
    pub fn health(&self, now_unix: u64) -> Health {
        let last = u64::try_from(self.metrics.last_progress.get()).unwrap_or(0);
        let since = if last == 0 {
            self.started.elapsed().as_secs()
        } else {
            now_unix.saturating_sub(last)
        };
        let processed = self.shared.processed.load(Ordering::SeqCst);
        let finalized = self.shared.finalized.load(Ordering::SeqCst);
        let healthy = since < self.stall.as_secs() && !self.stopping.load(Ordering::SeqCst);
        let ready =
            healthy && processed > 0 && processed.saturating_add(self.ready_lag) >= finalized;
        Health {
            since_progress_secs: since,
            healthy,
            ready,
            processed,
            finalized,
        }
    }

    /// The HTTP routes.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/metrics", get(metrics))
            .route("/v1/status", get(status))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .with_state(self)
    }

    /// Serves the routes on `listener` until `stop` turns true.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(crate::exchange::stopped(stop))
            .await
            .map_err(|e| Error::Setup {
                what: "ops server".into(),
                source: Box::new(e),
            })
    }
}

/// Seconds since the Unix epoch (health and the liveness gauge only; never a consensus input).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn metrics(State(ops): State<Arc<Ops>>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        ops.metrics.render(),
    )
        .into_response()
}

async fn status(State(ops): State<Arc<Ops>>) -> Response {
    let h = ops.health(unix_now());
    Json(serde_json::json!({
        "signer": ops.signer,
        "dryRun": ops.dry_run,
        "processed": h.processed,
        "finalized": h.finalized,
        "lagBlocks": h.finalized.saturating_sub(h.processed),
        "sinceProgressSecs": h.since_progress_secs,
        "healthy": h.healthy,
        "ready": h.ready,
        "stopping": ops.stopping.load(Ordering::SeqCst),
        "doppelganger": ops.doppelganger.detail(),
        "configDigest": ops.digests.mine(),
        "configDigestMismatch": ops.digests.refusing(),
        "peerConfigDigests": ops.digests.tally().into_iter().map(|(d, n)| (d.to_string(), n)).collect::<std::collections::BTreeMap<_, _>>(),
        "outboxDepth": ops.metrics.outbox_depth.get(),
    }))
    .into_response()
}

fn verdict(ok: bool, h: &Health) -> Response {
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(h.clone())).into_response()
}

async fn healthz(State(ops): State<Arc<Ops>>) -> Response {
    let h = ops.health(unix_now());
    verdict(h.healthy, &h)
}

async fn readyz(State(ops): State<Arc<Ops>>) -> Response {
    let h = ops.health(unix_now());
    verdict(h.ready, &h)
}
