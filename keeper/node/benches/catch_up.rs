//! Catch-up at a real endpoint's latency, and a keeper's memory after many blocks.
//!
//! A keeper one day (7 200 blocks) behind reads the devnet's Substrate endpoint (the simulator
//! served over JSON-RPC, read with the keeper's own subxt client, as on finney) through a relay
//! that delays every answer by 50 ms, with both mechanisms on and the engine's default settings.
//! References in the same run: the same catch-up with no added delay, and with the engine reading
//! one block at a time (`engine.read_ahead_blocks = 1`, over fewer blocks: it is slow). BEVM is the
//! in-memory chain (no latency): its reads are not what this measures.
//!
//! `TAO20_CATCH_UP_BLOCKS` sets how far behind the keeper starts (default 7 200);
//! `TAO20_MEMORY_BLOCKS` how many blocks the memory figure is taken after (default 10 000).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Rates and ratios for the printout only; nothing here feeds a decision.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

#[path = "../tests/world/mod.rs"]
mod world;

use std::time::{Duration, Instant};

use tao20_chain::client::{Signer, SubxtClient};
use tao20_chain::sim::node::{NodeConfig, NodeServer};
use tao20_chain::types::Bytes32;
use tao20_devnet::proxy::Relay;
use world::*;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `VmRSS` and `VmHWM` of this process, KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A world `blocks` ahead of its deployment, with a request and its delivery every 1 000 blocks.
async fn world_ahead(blocks: u64) -> World {
    let w = World::archive().await;
    let end = w.head() + blocks;
    let mut nonce = 0;
    while w.head() < end {
        let step = (end - w.head()).min(1_000);
        if step > 20 {
            nonce += 1;
            let r = w.request(nonce).await;
            w.deliver(&r).await;
        }
        let target = end.min(w.head() + step);
        let n = target.saturating_sub(w.head());
        if n > 0 {
            let head = w.sim.advance(n).await.unwrap().number;
            w.bevm.mine_to(head);
        }
    }
    w
}

/// The node's requests by method (its `dev_stats`), over HTTP on the endpoint's port.
async fn by_method(url: &str) -> serde_json::Value {
    let http = url.replacen("ws://", "http://", 1);
    let stats: serde_json::Value = reqwest::Client::new()
        .post(http)
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "dev_stats", "params": []}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["result"]["methods"].clone()
}

/// The keepers' configuration with the engine's defaults, both mechanisms on.
fn keeper_config(read_ahead: u64) -> tao20_node::config::KeeperConfig {
    let mut cfg = config_with(1_000, "[mechanisms]\nenabled = true\n");
    cfg.engine = tao20_node::config::EngineConfig {
        read_ahead_blocks: read_ahead,
        ..Default::default()
    };
    cfg
}

async fn catch_up(
    blocks: u64,
    latency: Duration,
    read_ahead: u64,
) -> (f64, f64, serde_json::Value) {
    let w = world_ahead(blocks).await;
    let server = NodeServer::start("127.0.0.1:0", w.node.clone(), NodeConfig::default())
        .await
        .unwrap();
    let relay = Relay::start(&tao20_devnet::proxy::host_port(&server.url()).unwrap())
        .await
        .unwrap();
    relay.set_latency(latency);
    let url = tao20_devnet::proxy::through(&server.url(), relay.addr()).unwrap();
    let signer = Signer::from_suri("//Alice", "the bench's hotkey").unwrap();
    let client = SubxtClient::connect(&url, Some(signer)).await.unwrap();
    let mut k = Keeper::start_with(&w, 0, client.clone(), keeper_config(read_ahead)).await;
    let from = k.engine.next_block();
    let sent = client.requests();
    let methods_before = by_method(&server.url()).await;
    let start = Instant::now();
    k.catch_up().await;
    let took = start.elapsed().as_secs_f64();
    let done = k.engine.next_block() - from;
    assert!(done >= blocks, "caught up {done} of {blocks} blocks");
    let methods_after = by_method(&server.url()).await;
    let mut methods = serde_json::Map::new();
    if let Some(after) = methods_after.as_object() {
        for (m, n) in after {
            let n = n.as_u64().unwrap_or(0) - methods_before[m].as_u64().unwrap_or(0);
            if n > 0 {
                #[allow(clippy::cast_precision_loss)]
                methods.insert(
                    m.clone(),
                    serde_json::json!((n as f64 / done as f64 * 100.0).round() / 100.0),
                );
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let (done, requests) = (done as f64, (client.requests() - sent) as f64);
    (done / took, requests / done, methods.into())
}

async fn memory_after(blocks: u64) -> (u64, u64, u64) {
    let w = world_ahead(blocks).await;
    let (before, _) = memory();
    let cfg = keeper_config(tao20_node::config::EngineConfig::default().read_ahead_blocks);
    let mut k = Keeper::start_with(&w, 0, w.sim.as_signer(Bytes32([0x5a; 32])), cfg).await;
    k.catch_up().await;
    let (after, peak) = memory();
    (before, after, peak)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let blocks = env_u64("TAO20_CATCH_UP_BLOCKS", 7_200);
    let memory_blocks = env_u64("TAO20_MEMORY_BLOCKS", 10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let reference_blocks = env_u64("TAO20_REFERENCE_BLOCKS", 300);
    let read_ahead = tao20_node::config::EngineConfig::default().read_ahead_blocks;
    println!("catch-up, Substrate JSON-RPC through a relay, both mechanisms on");
    for (ms, blocks, ahead) in [
        (0u64, blocks, read_ahead),
        (50, blocks, read_ahead),
        (50, reference_blocks, 1),
    ] {
        let (rate, per_block, methods) =
            rt.block_on(catch_up(blocks, Duration::from_millis(ms), ahead));
        println!(
            "  {blocks} blocks, {ms:>2} ms per round trip, read ahead {ahead:>3}: {rate:7.1} \
             blocks/s, {per_block:.2} RPC requests per block ({methods})"
        );
    }
    let (before, after, peak) = rt.block_on(memory_after(memory_blocks));
    println!(
        "resident memory, keeper and in-process simulator: {} MiB before the keeper started, \
         {} MiB after it processed {memory_blocks} blocks (peak {} MiB)",
        before / 1024,
        after / 1024,
        peak / 1024
    );
}
