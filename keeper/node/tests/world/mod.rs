//! The in-process world the engine tests and benches drive: the in-process subtensor
//! simulator and an in-memory BEVM chain stand in for the nodes, and the caller advances both one
//! block at a time and runs the engine's rounds itself. No wall clock, no anvil, no process.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use tao20_bevm::events::ContractEvent;
use tao20_bevm::memory::{MemoryBevm, MemoryState};
use tao20_bevm::reader::{Fees, FundPosition, FundSnapshot, SignerSet};
use tao20_bevm::Deployment;
use tao20_chain::sim::{
    LocalTransport, SimClient, SimConfig, Simulator, SubnetSpec, Transport, WEIGHT_ONE,
};
use tao20_chain::types::{Bytes32, TransferStake};
use tao20_chain::Subtensor;
use tao20_creation::eip712::{Asset, CreationFile, Eip712Message};
use tao20_creation::ids::{delivery_remark, request_id};
use tao20_creation::lifecycle::CreationRequest;
use tao20_node::config::KeeperConfig;
use tao20_node::consensus::{ConfigAnswer, PeerDigests};
use tao20_node::engine::{Engine, Shared};
use tao20_node::exchange::{Exchange, HeldPool, RateLimiter};
use tao20_node::listener::ConnLimits;
use tao20_node::mechanisms::PriceCache;
use tao20_node::metrics::Metrics;
use tao20_node::safety::Doppelganger;
use tao20_node::store::{reports, Store};

pub const TAO: u64 = 1_000_000_000;
pub const CHAIN: u64 = 31337;
pub const CONTRACT: Address = Address::repeat_byte(0xc0);
pub const VAULT: B256 = B256::repeat_byte(0x31);
pub const OWNER: Bytes32 = Bytes32([0x11; 32]);
pub const MINER_CK: Bytes32 = Bytes32([0x21; 32]);
pub const MINER_HOT: Bytes32 = Bytes32([0x22; 32]);
pub const MINER_EVM: Address = Address::repeat_byte(0x77);
pub const WINDOW: u64 = 20;
pub const GRACE: u64 = 10;
pub const PRICE_WINDOW: u64 = 10;

/// Keeper `i`'s report-signing key (tests sign as a keeper, or as its doppelganger, with it).
pub fn signer(i: u8) -> tao20_creation::signing::ReportSigner {
    tao20_creation::signing::ReportSigner::from_bytes(&B256::repeat_byte(0x41 + i)).unwrap()
}

/// Keeper `i`'s report-signing address.
pub fn me(i: u8) -> Address {
    signer(i).address()
}

/// A transport that fails about one request in `every` (0: never), as an unreliable node does: a
/// fixed pseudo-random pattern, so a run repeats exactly and any streak of answers occurs.
#[derive(Clone)]
pub struct Flaky {
    inner: LocalTransport,
    every: u64,
    calls: Arc<AtomicU64>,
}

impl Transport for Flaky {
    async fn call(
        &self,
        signer: Option<tao20_chain::types::AccountId>,
        op: tao20_chain::sim::Op,
    ) -> tao20_chain::Result<serde_json::Value> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if self.every > 0
            && n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(17)
                .is_multiple_of(self.every)
        {
            return Err(tao20_chain::Error::Request {
                what: "simulator".into(),
                reason: "connection reset (injected)".into(),
            });
        }
        self.inner.call(signer, op).await
    }
}

pub type Client = SimClient<Flaky>;

pub struct World {
    pub sim: SimClient<LocalTransport>,
    /// The simulator itself, for a Substrate endpoint served over it.
    pub node: Arc<Mutex<Simulator>>,
    pub bevm: Arc<MemoryBevm>,
    pub deployment: Deployment,
    pub file: CreationFile,
}

pub fn subnet(netuid: u8) -> SubnetSpec {
    SubnetSpec {
        netuid: u16::from(netuid),
        owner: OWNER,
        owner_hotkey: Bytes32([0x10 + netuid; 32]),
        tempo: 360,
        tao_in: 2_000 * TAO,
        alpha_in: 2_000 * TAO,
        weight_tao: WEIGHT_ONE / 2,
    }
}

pub fn fund(file: &CreationFile, signers: &[Address]) -> FundSnapshot {
    FundSnapshot {
        block: 0,
        total_supply: U256::from(200u64) * U256::from(10u64).pow(U256::from(18u64)),
        fees: Fees {
            mint_bps: 30,
            redeem_bps: 30,
            management_bps: 0,
        },
        last_accrual: 0,
        pending_management_fee: U256::ZERO,
        positions: vec![
            FundPosition {
                netuid: 2,
                hotkey: B256::repeat_byte(0x52),
                amount: 100 * TAO,
            },
            FundPosition {
                netuid: 3,
                hotkey: B256::repeat_byte(0x53),
                amount: 100 * TAO,
            },
        ],
        reserved: vec![0, 0],
        native_wei: U256::ZERO,
        signer_set: SignerSet {
            version: 1,
            signers: signers.to_vec(),
            threshold: 2,
        },
        paused: false,
        current_epoch: 0,
        creation_file: Some(file.clone()),
        sweep_nonce: 0,
    }
}

impl World {
    /// Two subnets with a funded miner, and a BEVM chain in step with the simulator.
    pub async fn new() -> Self {
        World::with(SimConfig {
            seed: 11,
            ..SimConfig::default()
        })
        .await
    }

    /// As [`World::new`], with a node that keeps every block's state (an archive node).
    pub async fn archive() -> Self {
        World::with(SimConfig {
            seed: 11,
            state_window: u64::MAX,
            ..SimConfig::default()
        })
        .await
    }

    async fn with(config: SimConfig) -> Self {
        let sim = Simulator::new(config).unwrap();
        let node = Arc::new(Mutex::new(sim));
        let sim = SimClient::new(LocalTransport::new(node.clone()));
        for n in [2u8, 3] {
            sim.register_subnet(subnet(n)).await.unwrap();
            let n = u16::from(n);
            sim.register_neuron(n, MINER_HOT, MINER_CK).await.unwrap();
            sim.as_signer(MINER_CK)
                .add_stake(MINER_HOT, n, 40 * TAO)
                .await
                .unwrap();
        }
        // A price history longer than the window before the deployment.
        let head = sim.advance(PRICE_WINDOW + 5).await.unwrap().number;
        let file = CreationFile {
            epoch_id: 0,
            valid_from_block: head,
            valid_until_block: head + 99_999,
            shares_per_unit: U256::from(10u64).pow(U256::from(18u64)),
            tolerance_bps: 25,
            min_units: 1,
            assets: vec![
                Asset {
                    netuid: 2,
                    qty_per_unit: 2 * TAO,
                    weight_bps: 5_000,
                },
                Asset {
                    netuid: 3,
                    qty_per_unit: 2 * TAO,
                    weight_bps: 5_000,
                },
            ],
            signer_set_version: 1,
        };
        // Ascending, as the contract keeps them.
        let mut signers: Vec<Address> = (0..3).map(me).collect();
        signers.sort();
        let bevm = Arc::new(MemoryBevm::new(
            head,
            MemoryState {
                fund: fund(&file, &signers),
                files: [(0, file.clone())].into(),
                expireable: Default::default(),
            },
        ));
        let deployment = Deployment {
            chain_id: CHAIN,
            tao20: CONTRACT,
            deploy_block: head,
            vault_coldkey: VAULT,
            genesis_block: head,
            epoch_length: 100_000,
            delivery_window: WINDOW,
            expiry_grace: GRACE,
            staking_precompile: Address::repeat_byte(0x05),
            alpha_precompile: Address::repeat_byte(0x08),
            signers,
            threshold: 2,
        };
        World {
            sim,
            node,
            bevm,
            deployment,
            file,
        }
    }

    pub fn head(&self) -> u64 {
        self.bevm.head()
    }

    /// The next block on both chains, with these contract events.
    pub async fn block(&self, events: Vec<ContractEvent>) -> u64 {
        let n = self.sim.advance(1).await.unwrap().number;
        self.bevm.mine_to(n - 1);
        assert_eq!(self.bevm.mine(events, |_| {}), n);
        n
    }

    /// The next block on both chains, with one transaction of calldata `input` logging
    /// `events`.
    pub async fn block_with_call(
        &self,
        input: alloy_primitives::Bytes,
        events: Vec<ContractEvent>,
    ) -> u64 {
        let n = self.sim.advance(1).await.unwrap().number;
        self.bevm.mine_to(n - 1);
        assert_eq!(self.bevm.mine_call(input, events, |_| {}), n);
        n
    }

    /// `n` blocks without contract events.
    pub async fn blocks(&self, n: u64) {
        for _ in 0..n {
            self.block(Vec::new()).await;
        }
    }

    /// The miner's request of one unit number `nonce`, made at `block`, open for `window` blocks.
    pub fn creation_request(nonce: u64, block: u64, window: u64) -> CreationRequest {
        CreationRequest {
            request_id: request_id(CHAIN, CONTRACT, MINER_EVM, U256::from(nonce)),
            miner: MINER_EVM,
            receiver: MINER_EVM,
            coldkey: MINER_CK.0.into(),
            epoch_id: 0,
            units: 1,
            request_block: block,
            expiry_block: block + window,
            min_shares_out: U256::ZERO,
            bond: U256::from(1u64),
        }
    }

    /// A request of one unit by the miner, in the next block.
    pub async fn request(&self, nonce: u64) -> CreationRequest {
        let head = self.head() + 1;
        let r = World::creation_request(nonce, head, WINDOW);
        let n = self
            .block(vec![ContractEvent::CreationRequested(r.clone())])
            .await;
        assert_eq!(n, head);
        let id = r.request_id;
        let at = r.expiry_block + GRACE + 1;
        self.bevm.mine(Vec::new(), |s| {
            s.expireable.insert(id, at);
        });
        self.sim.advance(1).await.unwrap();
        r
    }

    /// The miner's delivery of `r` (the file's basket, one unit), in the next block.
    pub async fn deliver(&self, r: &CreationRequest) -> u64 {
        let remark = delivery_remark(CHAIN, VAULT, r.request_id);
        let transfers = self
            .file
            .assets
            .iter()
            .map(|a| TransferStake {
                destination_coldkey: Bytes32(VAULT.0),
                hotkey: MINER_HOT,
                origin_netuid: a.netuid,
                destination_netuid: a.netuid,
                alpha_amount: a.qty_per_unit,
            })
            .collect();
        let inc = self
            .sim
            .as_signer(MINER_CK)
            .deliver(remark.to_vec(), transfers)
            .await
            .unwrap();
        self.bevm.mine_to(inc.block.number);
        inc.block.number
    }
}

pub struct Keeper<S = Client> {
    pub engine: Engine<S, Arc<MemoryBevm>>,
    pub store: Arc<Mutex<Store>>,
    pub shared: Arc<Shared>,
    _dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
    /// The price feeds' cache the mechanisms read.
    pub prices: PriceCache,
    /// Rounds that failed on an endpoint so far.
    pub failed: u64,
    /// The doppelganger latch the keeper's signing obeys.
    pub doppelganger: Arc<Doppelganger>,
}

pub fn config(history: u64) -> KeeperConfig {
    config_with(history, "")
}

/// The keepers' configuration, with `extra` TOML appended.
pub fn config_with(history: u64, extra: &str) -> KeeperConfig {
    KeeperConfig::from_toml(&format!(
        r#"
[subtensor]
network = "local"
chain_endpoint = "ws://127.0.0.1:9944"
netuid = 2

[bevm]
rpc = "http://127.0.0.1:8545"
deployment = "deployment.json"
confirmations = 0

[signer]
keystore = "report-key"
password_file = "password"

[store]
path = "keeper.sqlite"

[creation]
price_window = {PRICE_WINDOW}

[engine]
state_history_blocks = {history}
max_blocks_per_round = 1000
{extra}
"#
    ))
    .unwrap()
}

impl Keeper {
    /// Keeper `i` of the deployment's signers, its subtensor client failing about one request in
    /// `flaky` (0: never).
    pub async fn start(w: &World, i: u8, flaky: u64, history: u64) -> Self {
        let client = SimClient::new(Flaky {
            inner: w.sim.transport().clone(),
            every: flaky,
            calls: Arc::new(AtomicU64::new(0)),
        });
        Keeper::start_with(w, i, client, config(history)).await
    }
}

impl<S: Subtensor + Clone> Keeper<S> {
    /// Keeper `i` of the deployment's signers, reading subtensor through `client`.
    pub async fn start_with(w: &World, i: u8, client: S, cfg: KeeperConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keeper.sqlite");
        let mut store = Store::open(&path).unwrap();
        store
            .bind_identity(CHAIN, &CONTRACT.to_string(), &me(i).to_string())
            .unwrap();
        let store = Arc::new(Mutex::new(store));
        let metrics = Metrics::new().unwrap();
        let signers = Arc::new(RwLock::new(SignerSet {
            version: 0,
            signers: vec![],
            threshold: 0,
        }));
        let doppelganger = Arc::new(Doppelganger::new(metrics.clone()));
        let exchange = Arc::new(Exchange {
            chain_id: CHAIN,
            contract: CONTRACT,
            store: store.clone(),
            signers: signers.clone(),
            held: Mutex::new(HeldPool::new(16)),
            metrics: metrics.clone(),
            wake: Arc::new(tokio::sync::Notify::new()),
            limiter: Mutex::new(RateLimiter::new(100)),
            max_body: 1 << 20,
            conn: ConnLimits {
                max_total: 8,
                per_ip: 8,
                idle: Duration::from_secs(10),
            },
            me: me(i),
            doppelganger: doppelganger.clone(),
            config: ConfigAnswer {
                signer: me(i),
                config_digest: B256::ZERO,
                signature: Default::default(),
                params: serde_json::json!({}),
            },
            digests: Arc::new(PeerDigests::new(B256::ZERO, metrics.clone())),
        });
        let shared = Arc::new(Shared {
            processed: AtomicU64::new(0),
            finalized: AtomicU64::new(0),
            signers,
            wake: Arc::new(tokio::sync::Notify::new()),
        });
        let prices: PriceCache = Arc::default();
        let mut engine = None;
        // The flaky client may fail the load's reads too: a keeper retries its start.
        for _ in 0..10 {
            match Engine::load(
                cfg.clone(),
                w.deployment.clone(),
                client.clone(),
                w.bevm.clone(),
                store.clone(),
                exchange.clone(),
                metrics.clone(),
                me(i),
                shared.clone(),
                prices.clone(),
            )
            .await
            {
                Ok(e) => {
                    engine = Some(e);
                    break;
                }
                Err(e) => assert!(e.is_transient(), "{e}"),
            }
        }
        Keeper {
            engine: engine.expect("the keeper started"),
            store,
            shared,
            _dir: dir,
            path,
            prices,
            failed: 0,
            doppelganger,
        }
    }

    /// Processes every block up to the head, waiting out injected failures as `run` does
    /// (without its sleep).
    pub async fn catch_up(&mut self) {
        let mut failed = 0;
        for _ in 0..20_000 {
            let before = self.engine.next_block();
            match self.engine.round().await {
                Ok(true) => {
                    assert!(
                        self.engine.next_block() > before,
                        "a round that said it progressed stayed at block {before}"
                    );
                }
                Ok(false) => return,
                Err(e) if e.is_transient() => {
                    failed += 1;
                    self.failed += 1;
                    assert!(failed < 10_000, "never caught up: {e}");
                }
                Err(e) => panic!("the engine stopped: {e}"),
            }
        }
        panic!("the engine never reached the head");
    }

    pub fn conn<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> T) -> T {
        f(self.store.lock().unwrap().conn())
    }

    /// Every creation report journaled, settled or not, by digest.
    pub fn creation_reports(&self) -> Vec<(B256, Eip712Message)> {
        self.conn(|c| {
            let mut s = c
                .prepare("SELECT digest FROM reports WHERE kind = 'CreationReport' ORDER BY digest")
                .unwrap();
            let digests: Vec<String> = s
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            digests
                .iter()
                .map(|d| {
                    let d: B256 = d.parse().unwrap();
                    (d, reports::report(c, &d).unwrap().unwrap().message)
                })
                .collect()
        })
    }

    /// The digests of [`Keeper::creation_reports`].
    pub fn report_digests(&self) -> Vec<B256> {
        self.creation_reports().iter().map(|r| r.0).collect()
    }

    pub fn state_json(&self, block: u64) -> Option<String> {
        self.conn(|c| tao20_node::store::state::history(c, "creation", block).unwrap())
    }
}
