//! The devnet's substrate side: the simulator over the anvil ledger, served as a Substrate node's
//! JSON-RPC (WebSocket and HTTP, what subxt, `async-substrate-interface` and `@polkadot/api`
//! connect to; the harness administers the chain through the same port's `dev_*` methods),
//! producing a block every `block_time_ms` in lock-step with anvil.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};
use tao20_chain::sim::node::{NodeConfig, NodeServer};
use tao20_chain::sim::{SimConfig, Simulator};

use crate::ledger::AnvilLedger;
use crate::{Error, Result};

/// What the chain process runs (`DIR/chain.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainSpec {
    /// anvil's JSON-RPC URL (automine off).
    pub anvil: String,
    /// Where to serve the Substrate JSON-RPC endpoint (`127.0.0.1:0` picks a port).
    pub listen: String,
    /// Milliseconds between blocks (0: blocks only when extrinsics or `advance` make them).
    pub block_time_ms: u64,
    /// The simulator's parameters.
    pub sim: SimConfig,
    /// The fund, once deployed: the ledger follows the coldkeys its events name.
    #[serde(default)]
    pub tao20: Option<Address>,
    /// The fund's vault coldkey.
    #[serde(default)]
    pub vault: Option<B256>,
    /// Where to serve the pool and price fixture ([`crate::fixture`]), if anywhere.
    #[serde(default)]
    pub fixture: Option<String>,
    /// Where to serve the EVM as Frontier answers ([`crate::frontier`]), if anywhere.
    #[serde(default)]
    pub frontier: Option<String>,
    /// Blocks of EVM state the Frontier relay keeps (256: a lite node; `u64::MAX`: archive).
    #[serde(default = "default_evm_window")]
    pub evm_state_window: u64,
}

fn default_evm_window() -> u64 {
    crate::frontier::FrontierConfig::LITE.state_window
}

/// Rao each dev account (`//Alice` ... `//Ferdie`) holds at genesis, as on a `--dev` chain.
pub const DEV_ACCOUNT_BALANCE: u64 = 1_000_000 * 1_000_000_000;

impl ChainSpec {
    /// Reads a spec file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::Setup(format!("{}: {e}", path.display())))
    }
}

/// A running chain: the simulator, its server's address, and the block producer.
#[derive(Debug)]
pub struct Chain {
    /// The shared simulator.
    pub sim: Arc<Mutex<Simulator>>,
    /// The pool and price fixture, when the spec asks for one.
    pub fixture: Option<crate::fixture::Fixture>,
    /// The Substrate JSON-RPC endpoint.
    pub node: NodeServer,
    /// The EVM endpoint as Frontier answers, when the spec asks for one.
    pub frontier: Option<crate::frontier::FrontierRelay>,
    /// The block producer and the EVM's finality follower.
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Chain {
    fn drop(&mut self) {
        self.node.stop();
        if let Some(f) = &self.frontier {
            f.stop();
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn lock(sim: &Mutex<Simulator>) -> std::sync::MutexGuard<'_, Simulator> {
    sim.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Chain {
    /// Starts the simulator on the anvil ledger, its server and its block producer.
    pub async fn start(spec: &ChainSpec) -> Result<Self> {
        let anvil = spec.anvil.clone();
        let (tao20, vault) = (spec.tao20, spec.vault);
        // The ledger's constructor talks to anvil from its own thread: keep it off the runtime.
        let ledger =
            tokio::task::spawn_blocking(move || AnvilLedger::connect(&anvil, tao20, vault))
                .await
                .map_err(|e| Error::Setup(format!("ledger thread: {e}")))??;
        let sim = Simulator::with_ledger(spec.sim.clone(), Box::new(ledger))?;
        let sim = Arc::new(Mutex::new(sim));
        let producer = (spec.block_time_ms > 0).then(|| {
            let sim = sim.clone();
            let period = Duration::from_millis(spec.block_time_ms);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let sim = sim.clone();
                    let r = tokio::task::spawn_blocking(move || lock(&sim).advance(1)).await;
                    match r {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => {
                            tracing::error!(target: "devnet::chain", error = %e, "block production failed")
                        }
                        Err(e) => {
                            tracing::error!(target: "devnet::chain", error = %e, "block production task failed");
                            return;
                        }
                    }
                }
            })
        });
        let fixture = match &spec.fixture {
            Some(listen) => Some(crate::fixture::Fixture::start(listen).await?),
            None => None,
        };
        let node = NodeServer::start(
            &spec.listen,
            sim.clone(),
            NodeConfig {
                dev_account_balance: DEV_ACCOUNT_BALANCE,
                ..NodeConfig::default()
            },
        )
        .await?;
        let mut follower = None;
        let frontier = match &spec.frontier {
            Some(listen) => {
                let finalized =
                    crate::frontier::FinalizedSource::new(lock(&sim).finalized_head().number);
                // The EVM's `finalized` is the substrate side's (GRANDPA's on a subtensor node).
                let (follow, source) = (sim.clone(), finalized.clone());
                follower = Some(tokio::spawn(async move {
                    loop {
                        source.set(lock(&follow).finalized_head().number);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }));
                Some(
                    crate::frontier::FrontierRelay::start(
                        listen,
                        &spec.anvil,
                        crate::frontier::FrontierConfig {
                            state_window: spec.evm_state_window,
                            ..crate::frontier::FrontierConfig::LITE
                        },
                        finalized,
                    )
                    .await?,
                )
            }
            None => None,
        };
        Ok(Chain {
            sim,
            fixture,
            node,
            frontier,
            tasks: producer.into_iter().chain(follower).collect(),
        })
    }
}

/// `tao20 devnet chain --spec FILE`: runs the chain until SIGINT/SIGTERM, printing its address.
pub async fn serve(spec_path: &Path) -> Result<()> {
    let spec = ChainSpec::load(spec_path)?;
    let chain = Chain::start(&spec).await?;
    println!(
        "{}",
        serde_json::json!({
            "listening": chain.node.url(),
            "fixture": chain.fixture.as_ref().map(|f| f.addr.to_string()),
            "bevm": chain.frontier.as_ref().map(crate::frontier::FrontierRelay::url),
            "head": lock(&chain.sim).head(),
        })
    );
    tracing::info!(target: "devnet::chain", substrate = chain.node.url(), "chain serving");
    let first = lock(&chain.sim).head();
    crate::process::wait_for_signal().await;
    // What the processes cost the node: requests per block produced while it served.
    let node = &chain.node;
    let blocks = lock(&chain.sim).head().saturating_sub(first).max(1);
    tracing::info!(target: "devnet::chain", requests = node.requests(), blocks,
        per_block = node.requests() / blocks, "substrate endpoint load");
    Ok(())
}
