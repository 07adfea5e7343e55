//! The engine in-process, block by block: the in-process subtensor simulator and an in-memory
//! BEVM chain stand in for the nodes, the test advances both one block at a time and runs the
//! engine's rounds itself. No wall clock, no anvil, no process.

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
use tao20_creation::lifecycle::{CreationRequest, MintRecord, Status};
use tao20_node::config::KeeperConfig;
use tao20_node::consensus::{ConfigAnswer, PeerDigests};
use tao20_node::engine::{Engine, Shared};
use tao20_node::exchange::{Exchange, HeldPool, RateLimiter};
use tao20_node::listener::ConnLimits;
use tao20_node::mechanisms::PriceCache;
use tao20_node::metrics::Metrics;
use tao20_node::reports;
use tao20_node::safety::Doppelganger;
use tao20_node::store::Store;

const TAO: u64 = 1_000_000_000;
const CHAIN: u64 = 31337;
const CONTRACT: Address = Address::repeat_byte(0xc0);
const VAULT: B256 = B256::repeat_byte(0x31);
const OWNER: Bytes32 = Bytes32([0x11; 32]);
const MINER_CK: Bytes32 = Bytes32([0x21; 32]);
const MINER_HOT: Bytes32 = Bytes32([0x22; 32]);
const MINER_EVM: Address = Address::repeat_byte(0x77);
const WINDOW: u64 = 20;
const GRACE: u64 = 10;
const PRICE_WINDOW: u64 = 10;

fn me(i: u8) -> Address {
    Address::repeat_byte(0xa0 + i)
}

/// A transport that fails about one request in `every` (0: never), as an unreliable node does: a
/// fixed pseudo-random pattern, so a run repeats exactly and any streak of answers occurs.
#[derive(Clone)]
struct Flaky {
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

type Client = SimClient<Flaky>;

struct World {
    sim: SimClient<LocalTransport>,
    bevm: Arc<MemoryBevm>,
    deployment: Deployment,
    file: CreationFile,
}

fn subnet(netuid: u8) -> SubnetSpec {
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

fn fund(file: &CreationFile, signers: &[Address]) -> FundSnapshot {
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
    async fn new() -> Self {
        let sim = Simulator::new(SimConfig {
            seed: 11,
            ..SimConfig::default()
        })
        .unwrap();
        let sim = SimClient::new(LocalTransport::new(Arc::new(Mutex::new(sim))));
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
        let signers: Vec<Address> = (0..3).map(me).collect();
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
            bevm,
            deployment,
            file,
        }
    }

    fn head(&self) -> u64 {
        self.bevm.head()
    }

    /// The next block on both chains, with these contract events.
    async fn block(&self, events: Vec<ContractEvent>) -> u64 {
        let n = self.sim.advance(1).await.unwrap().number;
        self.bevm.mine_to(n - 1);
        assert_eq!(self.bevm.mine(events, |_| {}), n);
        n
    }

    /// `n` blocks without contract events.
    async fn blocks(&self, n: u64) {
        for _ in 0..n {
            self.block(Vec::new()).await;
        }
    }

    /// A request of one unit by the miner, in the next block.
    async fn request(&self, nonce: u64) -> CreationRequest {
        let head = self.head() + 1;
        let r = CreationRequest {
            request_id: request_id(CHAIN, CONTRACT, MINER_EVM, U256::from(nonce)),
            miner: MINER_EVM,
            receiver: MINER_EVM,
            coldkey: MINER_CK.0.into(),
            epoch_id: 0,
            units: 1,
            request_block: head,
            expiry_block: head + WINDOW,
            min_shares_out: U256::ZERO,
            bond: U256::from(1u64),
        };
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
    async fn deliver(&self, r: &CreationRequest) -> u64 {
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

struct Keeper {
    engine: Engine<Client, Arc<MemoryBevm>>,
    store: Arc<Mutex<Store>>,
    shared: Arc<Shared>,
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    /// Rounds that failed on an endpoint so far.
    failed: u64,
}

fn config(history: u64) -> KeeperConfig {
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
"#
    ))
    .unwrap()
}

impl Keeper {
    /// Keeper `i` of the deployment's signers, its subtensor client failing about one request in
    /// `flaky` (0: never).
    async fn start(w: &World, i: u8, flaky: u64, history: u64) -> Self {
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
            doppelganger: Arc::new(Doppelganger::new(metrics.clone())),
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
        let client = SimClient::new(Flaky {
            inner: w.sim.transport().clone(),
            every: flaky,
            calls: Arc::new(AtomicU64::new(0)),
        });
        let prices: PriceCache = Arc::default();
        let mut engine = None;
        // The flaky client may fail the load's reads too: a keeper retries its start.
        for _ in 0..10 {
            match Engine::load(
                config(history),
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
            failed: 0,
        }
    }

    /// Processes every block up to the head, waiting out injected failures as `run` does
    /// (without its sleep).
    async fn catch_up(&mut self) {
        let mut failed = 0;
        let mut rounds = 0;
        for _ in 0..20_000 {
            match self.engine.round().await {
                Ok(true) => {
                    rounds += 1;
                    assert!(rounds < 50, "rounds that never reach the head");
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

    fn conn<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> T) -> T {
        f(self.store.lock().unwrap().conn())
    }

    /// Every creation report journaled, settled or not, by digest.
    fn creation_reports(&self) -> Vec<(B256, Eip712Message)> {
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

    fn state_json(&self, block: u64) -> Option<String> {
        self.conn(|c| tao20_node::store::state::history(c, "creation", block).unwrap())
    }
}

#[tokio::test]
async fn a_delivered_request_is_valued_and_journaled_block_by_block_and_replays() {
    let w = World::new().await;
    let mut k = Keeper::start(&w, 0, 0, 10_000).await;
    w.blocks(3).await;
    k.catch_up().await;
    let r = w.request(1).await;
    k.catch_up().await;
    assert_eq!(
        k.engine
            .state()
            .machine
            .request(&r.request_id)
            .map(|s| s.status),
        Some(Status::Pending)
    );
    assert!(k.creation_reports().is_empty(), "nothing delivered yet");

    let delivered_at = w.deliver(&r).await;
    w.blocks(2).await;
    k.catch_up().await;
    assert_eq!(k.engine.next_block(), w.head() + 1);
    assert_eq!(k.shared.processed.load(Ordering::SeqCst), w.head());
    let made = k.creation_reports();
    assert_eq!(made.len(), 1, "one creation report");
    let Eip712Message::CreationReport(report) = &made[0].1 else {
        unreachable!()
    };
    assert_eq!(report.request_id, r.request_id);
    assert_eq!(report.delivery_block, delivered_at);
    let positions: Vec<(u16, u64)> = report
        .positions
        .iter()
        .map(|p| (p.netuid, p.amount))
        .collect();
    assert_eq!(positions, vec![(2, 2 * TAO), (3, 2 * TAO)]);
    assert!(report.value_rao > U256::ZERO && report.nav_per_share > U256::ZERO);
    // The report is queued for signing exactly once, journaled before any signature exists.
    let queued = k.conn(|c| {
        c.query_row(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'sign'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .unwrap()
    });
    assert_eq!(queued, 1);

    // Every block's decision is recomputed from its record and matches what was committed.
    let replayed = k.conn(|c| tao20_node::replay::replay(c).unwrap());
    assert!(replayed.mismatches.is_empty(), "{:?}", replayed.mismatches);
    assert_eq!(replayed.skipped, 0);
    assert_eq!(
        replayed.range,
        Some((w.deployment.deploy_block, w.head())),
        "from the first block on"
    );
    assert_eq!(replayed.reports, 1);
}

#[tokio::test]
async fn replay_finds_a_record_that_no_longer_gives_the_committed_decision() {
    let w = World::new().await;
    let mut k = Keeper::start(&w, 0, 0, 10_000).await;
    let r = w.request(1).await;
    w.deliver(&r).await;
    w.blocks(2).await;
    k.catch_up().await;
    assert_eq!(k.creation_reports().len(), 1);
    // The block whose inputs carry the valuation: the prices of one subnet's window altered.
    let (block, text) = k.conn(|c| {
        tao20_node::store::state::recorded(c)
            .unwrap()
            .into_iter()
            .find(|(_, t)| t.contains("\"valuations\":[{"))
            .expect("a block with a valuation")
    });
    let mut rec: serde_json::Value = serde_json::from_str(&text).unwrap();
    let samples = rec["inputs"]["valuations"][0]["valuation"]["Ok"]["spot"][0]["samples"]
        .as_array_mut()
        .expect("the window's samples");
    for sample in samples {
        let p: u64 = sample["raoPerAlpha"].as_str().unwrap().parse().unwrap();
        sample["raoPerAlpha"] = serde_json::json!((p * 2).to_string());
    }
    k.conn(|c| {
        c.execute(
            "UPDATE block_inputs SET inputs = ?1 WHERE block = ?2",
            rusqlite::params![rec.to_string(), block as i64],
        )
        .unwrap()
    });
    // The block that journaled the report: decided again with the wrong-NAV fault on.
    let signed_at = k.conn(|c| {
        c.query_row(
            "SELECT created_block FROM reports WHERE kind = 'CreationReport'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    });
    assert_ne!(
        signed_at as u64, block,
        "valued and signed at different blocks"
    );
    k.conn(|c| {
        let text: String = c
            .query_row(
                "SELECT inputs FROM block_inputs WHERE block = ?1",
                [signed_at],
                |r| r.get(0),
            )
            .unwrap();
        let mut rec: serde_json::Value = serde_json::from_str(&text).unwrap();
        rec["params"]["wrongNav"] = serde_json::json!(true);
        c.execute(
            "UPDATE block_inputs SET inputs = ?1 WHERE block = ?2",
            rusqlite::params![rec.to_string(), signed_at],
        )
        .unwrap()
    });
    let replayed = k.conn(|c| tao20_node::replay::replay(c).unwrap());
    let at = |b: u64| -> Vec<&str> {
        replayed
            .mismatches
            .iter()
            .filter(|m| m.block == b)
            .map(|m| m.what.as_str())
            .collect()
    };
    assert!(
        at(block).iter().any(|m| m.contains("raoPerAlpha")),
        "{:?}",
        replayed.mismatches
    );
    let signed = at(signed_at as u64);
    assert!(
        signed
            .iter()
            .any(|m| m.contains("journaled but not decided again"))
            && signed
                .iter()
                .any(|m| m.contains("neither journaled nor refused")),
        "{:?}",
        replayed.mismatches
    );
    assert_eq!(
        replayed.mismatches.len(),
        at(block).len() + signed.len(),
        "no other block differs"
    );
}

#[tokio::test]
async fn keepers_decide_the_same_whatever_their_endpoint_failures_and_batching() {
    let w = World::new().await;
    // Keeper 0 follows every block; keeper 1's node fails one request in ten; keeper 2 starts
    // late and catches up the whole history in one round.
    let mut steady = Keeper::start(&w, 0, 0, 10_000).await;
    let mut flaky = Keeper::start(&w, 1, 10, 10_000).await;
    let mut requests = Vec::new();
    for nonce in 1..=3 {
        let r = w.request(nonce).await;
        steady.catch_up().await;
        if nonce != 2 {
            w.deliver(&r).await;
        }
        w.blocks(2).await;
        flaky.catch_up().await;
        steady.catch_up().await;
        requests.push(r);
    }
    // The delivered ones are minted (their reports went through), the other one is not.
    for r in [&requests[0], &requests[2]] {
        let id = r.request_id;
        w.block(vec![ContractEvent::CreationMinted(MintRecord {
            request_id: id,
            miner: r.miner,
            epoch_id: r.epoch_id,
            units: r.units,
            value_rao: U256::from(4 * TAO),
            shares_out: U256::from(4u64),
            block: w.head() + 1,
        })])
        .await;
        w.bevm.mine(Vec::new(), |s| {
            s.expireable.remove(&id);
        });
        w.sim.advance(1).await.unwrap();
    }
    w.blocks(WINDOW + GRACE + 3).await;
    steady.catch_up().await;
    flaky.catch_up().await;
    let mut late = Keeper::start(&w, 2, 0, 10_000).await;
    late.catch_up().await;
    assert!(
        flaky.failed > 10,
        "the flaky keeper's node failed: {}",
        flaky.failed
    );

    let head = w.head();
    for b in w.deployment.deploy_block..=head {
        let s = steady.state_json(b);
        assert!(s.is_some(), "block {b} committed");
        assert_eq!(s, flaky.state_json(b), "block {b}: flaky keeper differs");
        assert_eq!(s, late.state_json(b), "block {b}: late keeper differs");
    }
    let digests = |k: &Keeper| -> Vec<B256> { k.creation_reports().iter().map(|r| r.0).collect() };
    assert_eq!(digests(&steady).len(), 2, "two delivered requests");
    assert_eq!(digests(&steady), digests(&flaky));
    assert_eq!(digests(&steady), digests(&late));
    // The undelivered one expires once the contract allows it, each keeper at its own turn.
    let expiring = |k: &Keeper| -> Vec<(String, i64)> {
        k.conn(|c| {
            let mut s = c
                .prepare("SELECT key, not_before_block FROM outbox WHERE kind = 'expire'")
                .unwrap();
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        })
    };
    let turns: Vec<i64> = [&steady, &flaky, &late]
        .iter()
        .map(|k| {
            let e = expiring(k);
            assert_eq!(e.len(), 1, "one expiry");
            assert!(e[0].0.contains(&requests[1].request_id.to_string()[2..]));
            e[0].1
        })
        .collect();
    let mut sorted = turns.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        3,
        "three distinct transmission turns: {turns:?}"
    );
    for k in [&steady, &flaky, &late] {
        let replayed = k.conn(|c| tao20_node::replay::replay(c).unwrap());
        assert!(replayed.mismatches.is_empty(), "{:?}", replayed.mismatches);
    }
}

#[tokio::test]
async fn a_bevm_reorganisation_below_the_cursor_undoes_the_blocks_and_reads_them_again() {
    let w = World::new().await;
    let mut k = Keeper::start(&w, 0, 0, 64).await;
    w.blocks(2).await;
    k.catch_up().await;
    let r = w.request(1).await;
    w.blocks(3).await;
    k.catch_up().await;
    assert!(k.engine.state().machine.request(&r.request_id).is_some());
    let processed = k.engine.next_block() - 1;
    // BEVM reorganises from the request's block: the request never happened on the new branch.
    w.bevm.reorg(r.request_block);
    w.bevm.mine_to(processed);
    // The keeper finds out at its next block.
    w.blocks(1).await;
    k.catch_up().await;
    assert!(
        k.engine.state().machine.request(&r.request_id).is_none(),
        "the orphaned request is gone from the state"
    );
    assert_eq!(
        k.engine.next_block(),
        processed + 2,
        "processed again up to the head"
    );
    let replayed = k.conn(|c| tao20_node::replay::replay(c).unwrap());
    assert!(replayed.mismatches.is_empty(), "{:?}", replayed.mismatches);
    // The committed history now says the same as a keeper that only saw the new branch.
    let mut fresh = Keeper::start(&w, 1, 0, 64).await;
    fresh.catch_up().await;
    for b in r.request_block..=processed + 1 {
        assert_eq!(k.state_json(b), fresh.state_json(b), "block {b}");
    }

    // A reorganisation deeper than the kept history stops the keeper with what to do.
    w.blocks(80).await;
    k.catch_up().await;
    let from = w.head() - 70;
    w.bevm.reorg(from);
    w.blocks(1).await;
    let err = k.engine.round().await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("from block {from}")), "{msg}");
    assert!(msg.contains("Never restore an older copy"), "{msg}");
}

#[tokio::test]
async fn a_pruned_or_unreachable_bevm_node_is_waited_out_or_named() {
    let w = World::new().await;
    let mut k = Keeper::start(&w, 0, 0, 64).await;
    w.blocks(2).await;
    k.catch_up().await;
    let before = k.engine.next_block();
    w.bevm.set_down(Some("connection refused"));
    w.blocks(3).await;
    let err = k.engine.round().await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(
        k.engine.next_block(),
        before,
        "nothing committed while BEVM is down"
    );
    w.bevm.set_down(None);
    k.catch_up().await;
    assert_eq!(k.engine.next_block(), w.head() + 1);

    // A node that discarded the blocks the cursor must check is an error no retry cures.
    let mut late = Keeper::start(&w, 1, 0, 64).await;
    w.bevm.prune_below(w.head());
    let err = late.engine.round().await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
    assert!(err.to_string().contains("archive"), "{err}");
    drop(late);
    let _ = std::fs::metadata(&k.path).unwrap();
}
