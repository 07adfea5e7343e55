//! The operator's endpoint over real HTTP: `/healthz` follows the engine's last round,
//! `/readyz` its lag, both fail once the process is stopping, and `/v1/status` says why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use alloy_primitives::B256;
use tao20_bevm::reader::SignerSet;
use tao20_node::consensus::PeerDigests;
use tao20_node::engine::Shared;
use tao20_node::metrics::Metrics;
use tao20_node::ops::{unix_now, Ops};
use tao20_node::safety::Doppelganger;

fn ops(stall: Duration, started: Instant) -> Arc<Ops> {
    let metrics = Metrics::new().unwrap();
    Arc::new(Ops {
        signer: alloy_primitives::Address::repeat_byte(1),
        dry_run: false,
        metrics: metrics.clone(),
        shared: Arc::new(Shared {
            processed: Default::default(),
            finalized: Default::default(),
            signers: Arc::new(RwLock::new(SignerSet {
                version: 0,
                signers: Vec::new(),
                threshold: 0,
            })),
            wake: Arc::new(tokio::sync::Notify::new()),
        }),
        doppelganger: Arc::new(Doppelganger::new(metrics.clone())),
        digests: Arc::new(PeerDigests::new(B256::ZERO, metrics)),
        stopping: AtomicBool::new(false),
        started,
        stall,
        ready_lag: 10,
    })
}

async fn get(url: &str) -> (u16, serde_json::Value) {
    tao20_bevm::rpc::ensure_tls();
    let r = reqwest::get(url).await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap())
}

fn set_progress(o: &Ops, unix: u64) {
    o.metrics.last_progress.set(i64::try_from(unix).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_follows_the_engines_rounds_and_readiness_its_lag() {
    let o = ops(Duration::from_secs(60), Instant::now());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(o.clone().serve(listener, stop_rx));

    // Just started: healthy (the first round has the stall time), not ready (nothing processed).
    assert_eq!(get(&format!("{base}/healthz")).await.0, 200);
    let (code, body) = get(&format!("{base}/readyz")).await;
    assert_eq!(code, 503, "{body}");

    // A round just completed, caught up within the lag: ready.
    set_progress(&o, unix_now());
    o.shared.processed.store(995, Ordering::SeqCst);
    o.shared.finalized.store(1000, Ordering::SeqCst);
    assert_eq!(get(&format!("{base}/readyz")).await.0, 200);
    // Behind by more than the lag: healthy, not ready.
    o.shared.finalized.store(1011, Ordering::SeqCst);
    assert_eq!(get(&format!("{base}/healthz")).await.0, 200);
    assert_eq!(get(&format!("{base}/readyz")).await.0, 503);
    o.shared.finalized.store(1000, Ordering::SeqCst);

    // The last round was a stall's length ago: neither healthy nor ready, and the status says
    // for how long.
    set_progress(&o, unix_now() - 61);
    let (code, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(code, 503, "{body}");
    assert!(body["sinceProgressSecs"].as_u64().unwrap() >= 61, "{body}");
    assert_eq!(get(&format!("{base}/readyz")).await.0, 503);
    let (code, status) = get(&format!("{base}/v1/status")).await;
    assert_eq!(code, 200);
    assert_eq!(status["healthy"], false, "{status}");
    assert_eq!(status["lagBlocks"], 5, "{status}");

    // Progress again: healthy; then the process stops: unhealthy whatever the engine did last.
    set_progress(&o, unix_now());
    assert_eq!(get(&format!("{base}/healthz")).await.0, 200);
    o.stopping.store(true, Ordering::SeqCst);
    assert_eq!(get(&format!("{base}/healthz")).await.0, 503);

    // The metrics are served here, the liveness gauge among them.
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("tao20_last_progress_timestamp_seconds"),
        "{text}"
    );

    // The server ends when told to.
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the ops server stops on its stop signal")
        .unwrap()
        .unwrap();
}

#[test]
fn a_process_whose_engine_never_completes_a_round_turns_unhealthy_after_the_stall_time() {
    let o = ops(
        Duration::from_secs(30),
        Instant::now() - Duration::from_secs(31),
    );
    let h = o.health(unix_now());
    assert!(!h.healthy, "{h:?}");
    assert!(h.since_progress_secs >= 31);
    let fresh = ops(Duration::from_secs(30), Instant::now());
    assert!(fresh.health(unix_now()).healthy);
}
