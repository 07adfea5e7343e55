//! The subnet's mechanisms as keepers run them, on the simulator: several validators (each with
//! its own store, price feed cache, pool telemetry and subtensor executor) and miners posting bids,
//! block by block through subnet epochs. InfiniteHash's integration scenarios, as assertions with
//! the expected weights derived here from the inputs (exact integers, no tolerance).
//!
//! The harness drives exactly what `tao20 validator run` drives per finalized block:
//! `Mechanisms::step`, `store::mechanisms::persist` in the block's transaction (with the state), then
//! the subtensor executor's outbox round. BEVM is not involved (mechanism 0's mints are fed in).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use alloy_primitives::{Address, B256, U256, U512};
use tao20_auction::commitment::Commitment;
use tao20_auction::delivery::WorkerReading;
use tao20_auction::window::Window;
use tao20_bevm::reader::SignerSet;
use tao20_chain::sim::{
    LocalTransport, SimClient, SimConfig, SubnetSpec, WeightsRules, WEIGHT_ONE,
};
use tao20_chain::types::{AccountId, Call, DEFAULT_COMMITMENT_MAX_SPACE};
use tao20_chain::Subtensor;
use tao20_core::Fp18;
use tao20_node::chain_executor::ChainExecutor;
use tao20_node::config::MechanismsConfig;
use tao20_node::engine::Shared;
use tao20_node::mechanisms::{self, hotkey_name, MechState, Mechanisms, MintRow, PriceCache};
use tao20_node::metrics::Metrics;
use tao20_node::store::Store;

type Sim = SimClient<LocalTransport>;

const NETUID: u16 = 1;
const TEMPO: u16 = 360;
/// H/s in one PH.
const PH: u128 = 1_000_000_000_000_000;
/// 1e18.
const E18: u128 = 1_000_000_000_000_000_000;

fn acct(tag: u8, i: u8) -> AccountId {
    let mut b = [0u8; 32];
    b[0] = tag;
    b[1] = i;
    b[31] = 0x5a;
    tao20_chain::types::Bytes32(b)
}

fn fp(s: &str) -> Fp18 {
    Fp18::parse(s).unwrap()
}

/// The pool's answer for one keeper at one block (`None`: the poll failed).
type Pool = Box<dyn Fn(usize, u64) -> Option<Vec<WorkerReading>>>;

struct Keeper {
    hotkey: AccountId,
    client: Sim,
    cfg: MechanismsConfig,
    path: PathBuf,
    store: Arc<Mutex<Store>>,
    shared: Arc<Shared>,
    exec: ChainExecutor<Sim>,
    mech: Mechanisms,
    state: MechState,
    prices: PriceCache,
    next: u64,
    /// The executor does not run (the keeper stops between its block commit and its outbox).
    paused: bool,
    /// Blocks at which the mechanisms fail (as the engine goes on after a non-transient error:
    /// the block is processed, the mechanisms' state does not move).
    blind: BTreeSet<u64>,
}

fn load_state(store: &Store) -> MechState {
    store
        .conn()
        .query_row(
            "SELECT state FROM strategy_state WHERE name = 'mechanisms'",
            [],
            |r| r.get::<_, String>(0),
        )
        .ok()
        .map(|s| serde_json::from_str(&s).unwrap())
        .unwrap_or_default()
}

impl Keeper {
    fn open(
        hotkey: AccountId,
        client: Sim,
        cfg: MechanismsConfig,
        path: PathBuf,
        next: u64,
    ) -> Self {
        let store = Store::open(&path).unwrap();
        let state = load_state(&store);
        let store = Arc::new(Mutex::new(store));
        let shared = Arc::new(Shared {
            processed: AtomicU64::new(next.saturating_sub(1)),
            finalized: AtomicU64::new(0),
            signers: Arc::new(RwLock::new(SignerSet {
                version: 0,
                signers: vec![],
                threshold: 0,
            })),
            wake: Arc::new(tokio::sync::Notify::new()),
        });
        let exec = ChainExecutor {
            subtensor: client.clone(),
            netuid: NETUID,
            store: store.clone(),
            shared: shared.clone(),
            metrics: Metrics::new().unwrap(),
            version_key: cfg.version_key,
        };
        let prices: PriceCache = Arc::default();
        {
            let mut p = prices.write().unwrap();
            p.insert("TAO_USDC".into(), fp("400"));
            p.insert("HASHP_USDC".into(), fp("50"));
        }
        Keeper {
            hotkey,
            mech: Mechanisms::new(NETUID, cfg.clone(), hotkey),
            client,
            cfg,
            path,
            store,
            shared,
            exec,
            state,
            prices,
            next,
            paused: false,
            blind: BTreeSet::new(),
        }
    }

    /// Stops the keeper (dropping its store) and starts it again from what it stored.
    fn restart(self) -> Self {
        let Keeper {
            hotkey,
            client,
            cfg,
            path,
            next,
            store,
            exec,
            ..
        } = self;
        // The database's lock goes with the last handle.
        drop(exec);
        drop(store);
        Keeper::open(hotkey, client, cfg, path, next)
    }

    /// Everything the keeper does for finalized block `b`, except the executor's round.
    async fn process(&mut self, b: u64, pool: Option<Vec<WorkerReading>>, mints: &[MintRow]) {
        if let Some(workers) = pool {
            tao20_node::store::mechanisms::store_sample(
                self.store.lock().unwrap().conn(),
                b,
                0,
                false,
                &workers,
            )
            .unwrap();
        }
        let (st, d) = if self.blind.contains(&b) {
            (self.state.clone(), mechanisms::MechDecisions::default())
        } else {
            let step = self
                .mech
                .step(
                    &self.state,
                    b,
                    &self.client,
                    &self.store,
                    mints,
                    &self.prices,
                    Default::default(),
                )
                .await
                .unwrap_or_else(|e| panic!("block {b}: {e}"));
            // The decision is a function of its record: deciding again gives the same.
            match mechanisms::decide(&self.state, b, &step.record.inputs, &step.record.params) {
                Ok(mechanisms::MechOutcome::Decided(decided)) => {
                    let (again, d) = *decided;
                    assert_eq!(again, step.state, "block {b}: the state decided again");
                    assert_eq!(d, step.decisions, "block {b}: the decisions made again");
                }
                other => panic!("block {b}: deciding again from the record gave {other:?}"),
            }
            (step.state, step.decisions)
        };
        let json = serde_json::to_string(&st).unwrap();
        self.store
            .lock()
            .unwrap()
            .write(|tx| {
                for (i, m) in mints.iter().enumerate() {
                    tao20_node::store::mechanisms::insert_mint(tx, &B256::with_last_byte(u8::try_from(i + 1).unwrap()), m)?;
                }
                tao20_node::store::mechanisms::persist(tx, b, &d, false)?;
                tx.execute(
                    "INSERT INTO strategy_state (name, block, state) VALUES ('mechanisms', ?1, ?2)
                     ON CONFLICT(name) DO UPDATE SET block = excluded.block, state = excluded.state",
                    rusqlite::params![b as i64, json],
                )
                .unwrap();
                Ok(())
            })
            .unwrap();
        self.state = st;
        self.shared.processed.store(b, Ordering::SeqCst);
        self.shared.finalized.store(b, Ordering::SeqCst);
        self.next = b + 1;
    }

    fn query<T: rusqlite::types::FromSql>(&self, sql: &str) -> Vec<Vec<T>> {
        let store = self.store.lock().unwrap();
        let mut stmt = store.conn().prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// The details of the weights rows `sql` selects (`status, detail`): there is at least one,
    /// and every one is refused.
    fn refused_details(&self, sql: &str) -> Vec<String> {
        let rows = self.query::<Option<String>>(sql);
        assert!(!rows.is_empty(), "the keeper decided weights");
        rows.iter()
            .map(|row| {
                assert_eq!(row[0].as_deref(), Some("refused"), "{rows:?}");
                row[1].clone().unwrap_or_default()
            })
            .collect()
    }

    /// Stored window results by start.
    fn windows(&self) -> BTreeMap<u64, serde_json::Value> {
        self.query::<String>("SELECT result FROM windows ORDER BY start")
            .into_iter()
            .map(|r| {
                let v: serde_json::Value = serde_json::from_str(&r[0]).unwrap();
                (v["window"]["start"].as_u64().unwrap(), v)
            })
            .collect()
    }

    /// (mecid, epoch) -> (uids, values, status, method).
    fn weights(&self) -> BTreeMap<(u8, u64), StoredWeights> {
        let store = self.store.lock().unwrap();
        let mut stmt = store
            .conn()
            .prepare("SELECT mecid, epoch_block, uids, weight_values, status, method FROM weights")
            .unwrap();
        stmt.query_map([], |r| {
            Ok((
                (r.get::<_, u8>(0)?, r.get::<_, i64>(1)? as u64),
                (
                    serde_json::from_str(&r.get::<_, String>(2)?).unwrap(),
                    serde_json::from_str(&r.get::<_, String>(3)?).unwrap(),
                    r.get(4)?,
                    r.get(5)?,
                ),
            ))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    }
}

/// A stored weights row: uids, values, status, method.
type StoredWeights = (Vec<u16>, Vec<u16>, String, Option<String>);

/// A bid a miner keeps posted.
struct Bid {
    hotkey: AccountId,
    text: String,
    /// Re-post it this often (blocks); `None`: posted once.
    refresh: Option<u64>,
}

struct Net {
    sim: Sim,
    keepers: Vec<Keeper>,
    bids: Vec<Bid>,
    /// Block each bid was last included at, by hotkey.
    posted: BTreeMap<AccountId, Vec<u64>>,
    pool: Pool,
    /// Mints fed to every keeper at a block.
    mints: BTreeMap<u64, Vec<MintRow>>,
    /// Blocks at which the subnet's epoch ran (`SubnetEpochIndex` rose).
    epochs: Vec<u64>,
    last_index: u64,
    scanned: u64,
    /// Successful weights extrinsics: (signer, mecid, call kind, block).
    weight_calls: Vec<(AccountId, u8, &'static str, u64)>,
    owner: AccountId,
    validators: Vec<AccountId>,
    miners: BTreeMap<&'static str, (AccountId, AccountId, u16)>,
    /// Turn commit-reveal off between a keeper's first weights decision and its submission
    /// (the keeper read the setting as on).
    switch_off_commit_reveal: bool,
    dir: tempfile::TempDir,
}

struct Setup {
    validators: u8,
    commit_reveal: bool,
    cap: &'static str,
    miners: Vec<&'static str>,
    /// The commitments pallet's `MaxSpace`.
    max_space: u64,
}

impl Net {
    async fn new(s: Setup) -> Net {
        let sim = SimClient::in_process(SimConfig {
            volatility_ppm: 0,
            commitment_max_space: s.max_space,
            ..SimConfig::default()
        })
        .unwrap();
        let owner = acct(1, 0);
        let owner_hotkey = acct(2, 0);
        sim.register_subnet(SubnetSpec {
            netuid: NETUID,
            owner,
            owner_hotkey,
            tempo: TEMPO,
            tao_in: 1_000_000 * 1_000_000_000,
            alpha_in: 20_000_000 * 1_000_000_000,
            weight_tao: WEIGHT_ONE / 2,
        })
        .await
        .unwrap();
        sim.set_mechanisms(NETUID, 2, Some(vec![32_768, 32_767]))
            .await
            .unwrap();
        sim.set_commit_reveal(NETUID, s.commit_reveal, 1)
            .await
            .unwrap();
        let mut validators = Vec::new();
        for i in 0..s.validators {
            let (hot, cold) = (acct(3, i), acct(4, i));
            sim.register_neuron(NETUID, hot, cold).await.unwrap();
            sim.as_signer(cold)
                .add_stake(hot, NETUID, 1_000 * 1_000_000_000 * (u64::from(i) + 1))
                .await
                .unwrap();
            validators.push(hot);
        }
        let mut miners = BTreeMap::new();
        for (i, name) in s.miners.iter().enumerate() {
            let (hot, cold) = (
                acct(5, u8::try_from(i).unwrap()),
                acct(6, u8::try_from(i).unwrap()),
            );
            let uid = sim.register_neuron(NETUID, hot, cold).await.unwrap();
            miners.insert(*name, (hot, cold, uid));
        }
        let dir = tempfile::tempdir().unwrap();
        let head = sim.finalized_head().await.unwrap().number;
        let cfg = MechanismsConfig {
            enabled: true,
            cap: fp(s.cap),
            bid_max_age_secs: 3_600,
            ..MechanismsConfig::default()
        };
        let keepers = validators
            .iter()
            .enumerate()
            .map(|(i, hot)| {
                Keeper::open(
                    *hot,
                    sim.as_signer(*hot),
                    cfg.clone(),
                    dir.path().join(format!("k{i}.sqlite")),
                    head + 1,
                )
            })
            .collect();
        let last_index = sim
            .epoch_schedule(head, NETUID)
            .await
            .unwrap()
            .subnet_epoch_index;
        Net {
            sim,
            keepers,
            bids: Vec::new(),
            posted: BTreeMap::new(),
            pool: Box::new(|_, _| Some(vec![])),
            mints: BTreeMap::new(),
            epochs: Vec::new(),
            last_index,
            scanned: head,
            weight_calls: Vec::new(),
            owner,
            validators,
            miners,
            switch_off_commit_reveal: false,
            dir,
        }
    }

    fn miner(&self, name: &str) -> (AccountId, AccountId, u16) {
        self.miners[name]
    }

    fn bid(&mut self, miner: &str, text: &str, refresh: Option<u64>) {
        self.bids.push(Bid {
            hotkey: self.miner(miner).0,
            text: text.into(),
            refresh,
        });
    }

    async fn post_bids(&mut self, head: u64) {
        for bid in &self.bids {
            let last = self.posted.get(&bid.hotkey).and_then(|v| v.last().copied());
            let due = match (last, bid.refresh) {
                (None, _) => true,
                (Some(l), Some(every)) => head >= l + every,
                (Some(_), None) => false,
            };
            if due {
                let inc = self
                    .sim
                    .as_signer(bid.hotkey)
                    .set_commitment(NETUID, bid.text.clone().into_bytes())
                    .await
                    .unwrap();
                self.posted
                    .entry(bid.hotkey)
                    .or_default()
                    .push(inc.block.number);
            }
        }
    }

    /// Records the epochs and weights extrinsics of every new block.
    async fn scan(&mut self) {
        let head = self.sim.finalized_head().await.unwrap().number;
        for b in self.scanned + 1..=head {
            let index = self
                .sim
                .epoch_schedule(b, NETUID)
                .await
                .unwrap()
                .subnet_epoch_index;
            if index > self.last_index {
                self.epochs.push(b);
                self.last_index = index;
            }
            for x in self.sim.block_extrinsics(b).await.unwrap() {
                if !x.success {
                    continue;
                }
                match x.call {
                    Call::SetMechanismWeights { mecid, .. } => {
                        self.weight_calls.push((x.signer.unwrap(), mecid, "set", b))
                    }
                    Call::CommitTimelockedMechanismWeights { mecid, .. } => self
                        .weight_calls
                        .push((x.signer.unwrap(), mecid, "timelocked", b)),
                    _ => {}
                }
            }
        }
        self.scanned = head;
    }

    /// Processes every keeper up to the head, then drains their executors, until the head
    /// reaches `target`. `each` runs after every processed block of keeper 0 (for restarts).
    async fn run_to(&mut self, target: u64) {
        loop {
            let head = self.sim.finalized_head().await.unwrap().number;
            self.post_bids(head).await;
            let head = self.sim.finalized_head().await.unwrap().number;
            for k in 0..self.keepers.len() {
                while self.keepers[k].next <= head {
                    let b = self.keepers[k].next;
                    let pool = (self.pool)(k, b);
                    let mints = self.mints.get(&b).cloned().unwrap_or_default();
                    self.keepers[k].process(b, pool, &mints).await;
                }
                if self.switch_off_commit_reveal
                    && !self.keepers[k]
                        .query::<i64>(
                            "SELECT id FROM outbox WHERE kind = 'weights' AND done_at IS NULL",
                        )
                        .is_empty()
                {
                    self.switch_off_commit_reveal = false;
                    self.sim.set_commit_reveal(NETUID, false, 1).await.unwrap();
                }
                if !self.keepers[k].paused {
                    self.keepers[k].exec.drain().await.unwrap();
                }
            }
            self.scan().await;
            if head >= target {
                return;
            }
            self.sim.advance(1).await.unwrap();
        }
    }

    /// Runs until the subnet has run `n` epochs since the start, plus `extra` blocks.
    async fn run_epochs(&mut self, n: usize, extra: u64) {
        while self.epochs.len() < n {
            let head = self.sim.finalized_head().await.unwrap().number;
            self.run_to(head + 1).await;
        }
        let head = self.sim.finalized_head().await.unwrap().number;
        self.run_to(head + extra).await;
    }

    /// The chain's alpha price, as the keepers commit it.
    async fn alpha_tao(&self) -> Fp18 {
        let head = self.sim.finalized_head().await.unwrap().number;
        tao20_creation::pricing::spot_to_fp18(
            self.sim.current_alpha_price(head, NETUID).await.unwrap(),
        )
    }

    /// The six windows of the epoch at `self.epochs[i]` (its predecessor and successor known).
    fn windows_of(&self, i: usize) -> Vec<Window> {
        let (p, e, n) = (self.epochs[i - 1], self.epochs[i], self.epochs[i + 1]);
        let a = |prev: u64, ep: u64| ep.min((ep - 60).max(prev + 240));
        let mut out = vec![Window {
            subnet_epoch_start: e,
            index: 0,
            start: a(p, e),
            end: e - 1,
        }];
        for k in 1..=4u8 {
            let start = e + 60 * (u64::from(k) - 1);
            out.push(Window {
                subnet_epoch_start: e,
                index: k,
                start,
                end: start + 59,
            });
        }
        out.push(Window {
            subnet_epoch_start: e,
            index: 5,
            start: e + 240,
            end: a(e, n) - 1,
        });
        out
    }

    /// The last bid post of `miner` at or before `block`.
    fn posted_before(&self, miner: &str, block: u64) -> Option<u64> {
        self.posted[&self.miner(miner).0]
            .iter()
            .copied()
            .filter(|b| *b <= block)
            .max()
    }
}

/// `miner_alpha_per_block` for the auction's split 32767: `floor(0.41e18 x 32767 / 65535)`.
fn miner_alpha_per_block_raw() -> u128 {
    410_000_000_000_000_000u128 * 32_767 / 65_535
}

/// The budget in PH (raw) of a window at these prices and cap: one floor of the exact rational
/// `alpha x tao x cap x 0.41 x 32767 x 7200 / (65535 x hashprice)`.
fn budget_raw(alpha: Fp18, tao: Fp18, hp: Fp18, cap: Fp18) -> u128 {
    let n = U512::from(alpha.raw())
        * U512::from(tao.raw())
        * U512::from(cap.raw())
        * U512::from(410_000_000_000_000_000u128)
        * U512::from(32_767u64)
        * U512::from(7_200u64);
    let d = U512::from(E18) * U512::from(E18) * U512::from(65_535u64) * U512::from(hp.raw());
    (n / d).to::<u128>()
}

/// One item's payment in alpha (raw): `floor(delivered x hp x price x blocks / (7200 x alpha x
/// tao))`.
fn payment_raw(
    delivered: Fp18,
    price: Fp18,
    blocks: u64,
    alpha: Fp18,
    tao: Fp18,
    hp: Fp18,
) -> u128 {
    let n = U512::from(delivered.raw())
        * U512::from(hp.raw())
        * U512::from(price.raw())
        * U512::from(blocks);
    let d = U512::from(7_200u64) * U512::from(alpha.raw()) * U512::from(tao.raw());
    (n / d).to::<u128>()
}

/// Max-based u16 weights, half up, zeros dropped, by uid.
fn u16_weights(alpha: &BTreeMap<u16, u128>) -> (Vec<u16>, Vec<u16>) {
    let max = alpha.values().copied().max().unwrap();
    alpha
        .iter()
        .map(|(u, a)| {
            let w = (U256::from(*a) * U256::from(2u64 * 65_535) + U256::from(max))
                / (U256::from(max) * U256::from(2u64));
            (*u, w.to::<u16>())
        })
        .filter(|(_, w)| *w > 0)
        .unzip()
}

fn worker(hotkey: &AccountId, name: &str, hs: u128) -> WorkerReading {
    WorkerReading {
        name: format!("{}.{name}", hotkey_name(hotkey)),
        hashrate_hs: hs,
    }
}

fn winners(w: &serde_json::Value) -> BTreeMap<String, u64> {
    w["winners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["hotkey"].as_str().unwrap().to_string(),
                x["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Three validators, commit-reveal on, cap 1: two subnet epochs settled with exact weights for
/// both mechanisms, a v1 and a v2 bid paid, a bid above 1.05 never winning, a stale bid dropped,
/// an under-delivering miner banned and then ignored by ban consensus, and a keeper restarted
/// mid-epoch (once before its submission, once after it) that commits exactly once.
#[tokio::test(flavor = "current_thread")]
async fn three_validators_settle_two_epochs_and_commit_exact_weights() {
    let mut net = Net::new(Setup {
        validators: 3,
        commit_reveal: true,
        cap: "1",
        miners: vec!["v2", "v1", "pricey", "lazy", "stale"],
        max_space: DEFAULT_COMMITMENT_MAX_SPACE,
    })
    .await;
    net.bid("v2", "2;b;BTC,1=0.25:2", Some(200));
    net.bid("v1", "1;b;0.95=0.3", Some(200));
    net.bid("pricey", "2;b;BTC,1.1=0.4:3", Some(200));
    net.bid("lazy", "2;b;BTC,1=0.2:1", Some(200));
    let (v2, v1, pricey, lazy, stale) = (
        net.miner("v2").0,
        net.miner("v1").0,
        net.miner("pricey").0,
        net.miner("lazy").0,
        net.miner("stale").0,
    );
    // Every miner but `lazy` delivers what it bid, in every sample of every keeper.
    net.pool = Box::new(move |_, _| {
        Some(vec![
            worker(&v2, "a", PH / 4),
            worker(&v2, "b", PH / 4),
            worker(&v1, "a", 3 * PH / 10),
            worker(&pricey, "a", 4 * PH / 10),
            worker(&stale, "a", 15 * PH / 100),
        ])
    });
    let _ = lazy;

    // A bid posted once, 200 blocks after the first epoch: fresh for 300 blocks (3600 s).
    net.run_epochs(1, 200).await;
    net.bid("stale", "2;b;BTC,1=0.15:1", None);
    net.run_epochs(2, 5).await;
    // One mint in the second epoch, delivered from `v2`'s coldkey.
    let mint_block = net.sim.finalized_head().await.unwrap().number + 10;
    assert!(mint_block > net.epochs[1] + 5);
    net.mints.insert(
        mint_block,
        vec![MintRow {
            miner: Address::repeat_byte(0x77),
            coldkey: B256::from(net.miner("v2").1 .0),
            value_rao: U256::from(5_000_000_000u64),
            block: mint_block,
        }],
    );
    // Keeper 2 stops right after deciding the second epoch's weights, before submitting them.
    net.keepers[2].paused = true;
    let decide_at = loop {
        net.run_to(net.sim.finalized_head().await.unwrap().number + 1)
            .await;
        if net.keepers[2].weights().contains_key(&(1, net.epochs[1])) {
            break net.keepers[2].next - 1;
        }
        assert!(
            net.epochs.len() < 4,
            "the second epoch's weights were never decided"
        );
    };
    assert_eq!(net.keepers[2].weights()[&(1, net.epochs[1])].2, "pending");
    let k = net.keepers.remove(2);
    net.keepers.insert(2, k.restart());
    net.run_epochs(3, 5).await;
    // Keeper 1 is restarted as if it had stopped after its extrinsic but before recording it.
    {
        let k = &net.keepers[1];
        let store = k.store.lock().unwrap();
        let n = store
            .conn()
            .execute(
                "UPDATE weights SET status = 'submitting', commit_block = ?1 WHERE mecid = 1 AND epoch_block = ?2",
                rusqlite::params![(decide_at - 5) as i64, net.epochs[1] as i64],
            )
            .unwrap();
        assert_eq!(n, 1);
        store
            .conn()
            .execute(
                "INSERT INTO outbox (key, kind, payload, created_block) VALUES ('weights-again', 'weights', ?1, 0)",
                [serde_json::json!({"action": "submitWeights", "mecid": 1, "epoch": net.epochs[1]}).to_string()],
            )
            .unwrap();
    }
    let k = net.keepers.remove(1);
    net.keepers.insert(1, k.restart());
    // Through the reveal of the third epoch's weights.
    net.run_epochs(5, 40).await;

    let alpha = net.alpha_tao().await;
    let (tao, hp, cap) = (fp("400"), fp("50"), fp("1"));
    let names: BTreeMap<String, &str> = net
        .miners
        .iter()
        .map(|(n, (h, _, _))| (hotkey_name(h), *n))
        .collect();

    // Every keeper settled the same windows with the same results.
    let reference = net.keepers[0].windows();
    for k in &net.keepers[1..] {
        assert_eq!(k.windows(), reference, "keepers disagree on a window");
    }

    let lazy_uid = net.miner("lazy").2;
    let mut banned_seen = false;
    let (mut stale_won, mut stale_dropped) = (false, false);
    for epoch_i in [1usize, 2] {
        let windows = net.windows_of(epoch_i);
        let mut alpha_by_uid: BTreeMap<u16, u128> = BTreeMap::new();
        let mut budget_alpha = 0u128;
        for w in &windows {
            let r = &reference[&w.start];
            assert_eq!(r["window"]["end"].as_u64().unwrap(), w.end, "window {w:?}");
            assert!(
                r["skipped"].is_null(),
                "window {w:?} skipped: {}",
                r["skipped"]
            );
            assert_eq!(
                r["budgetPh"].as_str().unwrap(),
                Fp18::from_raw(budget_raw(alpha, tao, hp, cap)).to_string()
            );
            let won = winners(r);
            let won_by: BTreeSet<&str> = won.keys().map(|h| names[h]).collect();
            let banned: Vec<u64> = r["bannedAtStart"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_u64().unwrap())
                .collect();
            // The expected winners: every fresh bid at most 1.05 of a hotkey not banned (the
            // budget covers them all).
            let mut expected = BTreeSet::from(["v2", "v1"]);
            let fresh = |m: &str| {
                net.posted_before(m, w.start)
                    .is_some_and(|p| (w.start - p) * 12 < 3_600)
            };
            if fresh("stale") {
                expected.insert("stale");
                stale_won = true;
            } else {
                stale_dropped = true;
            }
            if banned.contains(&u64::from(lazy_uid)) {
                banned_seen = true;
            } else if fresh("lazy") {
                expected.insert("lazy");
            }
            assert_eq!(won_by, expected, "winners of {w:?}");
            assert!(!won_by.contains("pricey"), "a price above 1.05 never wins");
            let failed: Vec<&str> = r["failed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| names[f["hotkey"].as_str().unwrap()])
                .collect();
            assert_eq!(
                failed,
                if expected.contains("lazy") {
                    vec!["lazy"]
                } else {
                    vec![]
                },
                "only the miner that delivers nothing fails ({w:?})"
            );
            // Payments: per won item, the delivered PH at its price over the window's blocks.
            let blocks = w.end - w.start + 1;
            budget_alpha += miner_alpha_per_block_raw() * u128::from(blocks);
            let mut pay = |m: &str, delivered: &str, price: &str| {
                let uid = net.miner(m).2;
                *alpha_by_uid.entry(uid).or_default() +=
                    payment_raw(fp(delivered), fp(price), blocks, alpha, tao, hp);
            };
            pay("v2", "0.25", "1");
            pay("v2", "0.25", "1");
            pay("v1", "0.3", "0.95");
            if expected.contains("stale") {
                pay("stale", "0.15", "1");
            }
        }
        let paid: u128 = alpha_by_uid.values().sum();
        assert!(paid < budget_alpha);
        *alpha_by_uid.entry(0).or_default() += budget_alpha - paid;
        let (uids, values) = u16_weights(&alpha_by_uid);
        let e = net.epochs[epoch_i];
        for k in &net.keepers {
            let w = k.weights();
            let (su, sv, status, method) = &w[&(1, e)];
            assert_eq!(
                (su, sv),
                (&uids, &values),
                "mechanism 1 weights of epoch {e}"
            );
            assert_eq!(method.as_deref(), Some("timelocked"));
            assert!(
                status == "matched" || (epoch_i == 1 && status == "superseded"),
                "epoch {e} mechanism 1: {status}"
            );
            // Mechanism 0: the epoch's mint pays `v2`'s uid; without mints, the burn uid.
            let (mu, mv, mstatus, _) = &w[&(0, e)];
            if epoch_i == 1 {
                assert_eq!(
                    k.query::<i64>("SELECT block FROM mints"),
                    vec![vec![mint_block as i64]]
                );
                assert_eq!(
                    (mu, mv),
                    (&vec![net.miner("v2").2], &vec![65_535]),
                    "epochs {:?}",
                    net.epochs
                );
            } else {
                assert_eq!((mu, mv), (&vec![0], &vec![65_535]));
            }
            assert!(mstatus == "matched" || mstatus == "superseded", "{mstatus}");
        }
    }
    assert!(banned_seen, "ban consensus never excluded the lazy miner");
    assert!(
        stale_won && stale_dropped,
        "the stale bid should win while fresh, then drop"
    );
    // Every keeper banned `lazy`, published it, and nobody else.
    for k in &net.keepers {
        let bans = k.query::<i64>("SELECT DISTINCT uid FROM bans");
        assert_eq!(bans, vec![vec![i64::from(lazy_uid)]]);
    }
    let head = net.sim.finalized_head().await.unwrap().number;
    let commitments = net.sim.commitments(head, NETUID).await.unwrap();
    for v in &net.validators {
        let c = commitments.iter().find(|c| c.hotkey == *v).unwrap();
        let Commitment::Price(p) = Commitment::decode(&c.data).unwrap() else {
            panic!("not a price commitment")
        };
        assert_eq!(p.prices["ALPHA_TAO"], alpha);
        assert_eq!(p.prices["TAO_USDC"], tao);
        assert_eq!(p.prices["cap"], cap);
        assert_eq!(
            p.bans.unwrap().uids(),
            vec![u8::try_from(lazy_uid).unwrap()]
        );
    }
    // The last revealed weights are on chain, as every keeper computed them.
    let e3 = net.epochs[2];
    for (i, v) in net.validators.iter().enumerate() {
        let uid = net
            .sim
            .neurons(head, NETUID)
            .await
            .unwrap()
            .iter()
            .find(|n| n.hotkey == *v)
            .unwrap()
            .uid;
        let onchain = net.sim.weights(head, NETUID, 1, uid).await.unwrap();
        let w = net.keepers[i].weights();
        let (su, sv, status, _) = &w[&(1, e3)];
        assert_eq!(status, "matched");
        let ours = tao20_node::chain_executor::normalise(
            &su.iter()
                .copied()
                .zip(sv.iter().copied())
                .collect::<Vec<_>>(),
        );
        assert!(tao20_node::chain_executor::same_weights(
            &tao20_node::chain_executor::normalise(&onchain),
            &ours
        ));
    }
    // One commit per (keeper, mechanism, epoch), restarts included.
    for v in &net.validators {
        for mecid in [0u8, 1] {
            let commits: Vec<u64> = net
                .weight_calls
                .iter()
                .filter(|(s, m, kind, _)| s == v && *m == mecid && *kind == "timelocked")
                .map(|(_, _, _, b)| *b)
                .collect();
            let decided = net.keepers[net.validators.iter().position(|x| x == v).unwrap()]
                .weights()
                .keys()
                .filter(|(m, _)| *m == mecid)
                .count();
            assert_eq!(
                commits.len(),
                decided,
                "keeper {v:?} mechanism {mecid}: {commits:?}"
            );
        }
    }
    // `tao20 validator status` shows the windows with their winners, the bans and the weights.
    let doc = tao20_node::store::status::summary(&net.keepers[0].store.lock().unwrap()).unwrap();
    let m = &doc["mechanisms"];
    assert_eq!(
        m["windowsSettled"].as_u64().unwrap(),
        reference.len() as u64
    );
    let latest = &m["windows"][0];
    assert_eq!(
        latest["winners"].as_array().unwrap().len(),
        winners(&reference[&latest["start"].as_u64().unwrap()]).len()
    );
    assert_eq!(m["bans"][0]["uid"], u64::from(lazy_uid));
    assert_eq!(m["lastCommitment"]["bans"], serde_json::json!([lazy_uid]));
    assert!(m["lastCommitment"]["text"]
        .as_str()
        .unwrap()
        .starts_with("1;p;ALPHA_TAO="));
    assert!(m["weights"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["status"] == "matched" && w["mecid"] == 1));
    assert!(m["pool"]["samples"].as_u64().unwrap() > 1000);
    drop(net.dir);
}

/// One validator, cap 0.5, a pool poll that fails half the time, and commit-reveal turned off
/// after the keeper read it on: the budget is half the uncapped one, the only bidder wins what
/// fits, the sampling gaps ban nobody (the winner counts as delivered in full although it hashes
/// a hundredth), and the chain's `CommitRevealDisabled` answer makes the keeper set its weights
/// directly.
#[tokio::test(flavor = "current_thread")]
async fn a_sampling_gap_bans_nobody_and_weights_are_set_directly_without_commit_reveal() {
    let mut net = Net::new(Setup {
        validators: 1,
        commit_reveal: true,
        cap: "0.5",
        miners: vec!["big"],
        max_space: DEFAULT_COMMITMENT_MAX_SPACE,
    })
    .await;
    net.bid("big", "2;b;BTC,1=0.45:1000", Some(200));
    net.switch_off_commit_reveal = true;
    let big = net.miner("big").0;
    // The poll fails for 30 blocks of every 60: every window has a gap of at least 15 blocks.
    net.pool = Box::new(move |_, b| ((b / 30) % 2 == 0).then(|| vec![worker(&big, "a", PH / 100)]));
    net.run_epochs(3, 15).await;

    let alpha = net.alpha_tao().await;
    let (tao, hp) = (fp("400"), fp("50"));
    let uncapped = budget_raw(alpha, tao, hp, fp("1"));
    let budget = budget_raw(alpha, tao, hp, fp("0.5"));
    assert_eq!(
        budget,
        uncapped / 2,
        "cap 0.5 halves the budget (one floor)"
    );
    let count = (budget / 450_000_000_000_000_000).min(1000) as u64;
    let k = &net.keepers[0];
    let windows = k.windows();
    let mut alpha_big = 0u128;
    let mut budget_alpha = 0u128;
    for w in net.windows_of(1) {
        let r = &windows[&w.start];
        assert_eq!(
            r["budgetPh"].as_str().unwrap(),
            Fp18::from_raw(budget).to_string()
        );
        assert_eq!(winners(r), BTreeMap::from([(hotkey_name(&big), count)]));
        assert_eq!(r["deliverySkipped"], true, "{w:?}");
        assert!(r["failed"].as_array().unwrap().is_empty());
        let blocks = w.end - w.start + 1;
        budget_alpha += miner_alpha_per_block_raw() * u128::from(blocks);
        alpha_big += u128::from(count) * payment_raw(fp("0.45"), fp("1"), blocks, alpha, tao, hp);
    }
    assert!(
        k.query::<i64>("SELECT uid FROM bans").is_empty(),
        "nobody is banned"
    );
    let burn = budget_alpha - alpha_big;
    let (uids, values) = u16_weights(&BTreeMap::from([
        (0u16, burn),
        (net.miner("big").2, alpha_big),
    ]));
    let w = k.weights();
    let (su, sv, status, method) = &w[&(1, net.epochs[1])];
    assert_eq!((su, sv), (&uids, &values));
    assert_eq!(method.as_deref(), Some("set"));
    assert!(status == "matched" || status == "superseded", "{status}");
    assert!(
        !net.switch_off_commit_reveal,
        "commit-reveal was never switched off"
    );
    assert!(!net.weight_calls.is_empty());
    assert!(net
        .weight_calls
        .iter()
        .all(|(_, _, kind, _)| *kind == "set"));
    assert!(w.values().all(|(_, _, _, m)| m.as_deref() == Some("set")));
}

/// No bids at all: every window has a budget and no winners, and the whole budget burns (the
/// burn uid alone gets weight), for both mechanisms.
#[tokio::test(flavor = "current_thread")]
async fn without_winners_everything_burns() {
    let mut net = Net::new(Setup {
        validators: 1,
        commit_reveal: true,
        cap: "1",
        miners: vec![],
        max_space: DEFAULT_COMMITMENT_MAX_SPACE,
    })
    .await;
    net.run_epochs(3, 5).await;
    let k = &net.keepers[0];
    let windows = k.windows();
    for w in net.windows_of(1) {
        let r = &windows[&w.start];
        assert!(r["skipped"].is_null());
        assert!(winners(r).is_empty());
    }
    let w = k.weights();
    assert_eq!(
        (&w[&(1, net.epochs[1])].0, &w[&(1, net.epochs[1])].1),
        (&vec![0u16], &vec![65_535u16])
    );
    assert_eq!(
        (&w[&(0, net.epochs[1])].0, &w[&(0, net.epochs[1])].1),
        (&vec![0u16], &vec![65_535u16])
    );
    let _ = net.owner;
}

/// A validator whose stake is below the chain's `StakeThreshold`: the node refuses its weights
/// before the pool (`InvalidTransaction::Custom(1)`). The keeper records each epoch's weights as
/// refused with the runtime's name and counts it, instead of leaving them pending and sending
/// again forever.
#[tokio::test(flavor = "current_thread")]
async fn weights_below_the_stake_threshold_are_refused_by_name_not_left_pending() {
    let mut net = Net::new(Setup {
        validators: 1,
        commit_reveal: true,
        cap: "1",
        miners: vec![],
        max_space: DEFAULT_COMMITMENT_MAX_SPACE,
    })
    .await;
    let head = net.sim.finalized_head().await.unwrap().number;
    let stake = net
        .sim
        .neurons(head, NETUID)
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.hotkey == net.validators[0])
        .unwrap()
        .stake;
    net.sim
        .set_weights_rules(
            NETUID,
            WeightsRules {
                stake_threshold: stake + 1,
                ..WeightsRules::default()
            },
        )
        .await
        .unwrap();
    net.run_epochs(2, 15).await;

    let k = &net.keepers[0];
    for detail in k.refused_details("SELECT status, detail FROM weights") {
        assert_eq!(detail, "StakeAmountTooLow");
    }
    assert!(net.weight_calls.is_empty(), "nothing reached the chain");
    let refused = k
        .exec
        .metrics
        .weights_refused
        .with_label_values(&["1", "StakeAmountTooLow"])
        .get();
    assert!(refused >= 1, "counted by reason: {refused}");
    let open =
        k.query::<i64>("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL AND kind = 'weights'");
    assert_eq!(open[0][0], 0, "no submission is retried");
}

/// The commitments pallet's allowance is the chain's `MaxSpace`, not the default: on a chain that
/// allows less, the keeper publishes what fits and the chain refuses none of its commitments.
#[tokio::test(flavor = "current_thread")]
async fn price_commitments_fit_the_chains_max_space() {
    let mut net = Net::new(Setup {
        validators: 1,
        commit_reveal: true,
        cap: "1",
        miners: vec![],
        max_space: 300,
    })
    .await;
    net.run_epochs(2, 15).await;
    let k = &net.keepers[0];
    let states: Vec<String> = k
        .query::<String>("SELECT state FROM commitments")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(
        states.iter().any(|s| s.starts_with("included")),
        "{states:?}"
    );
    assert!(
        !states.iter().any(|s| s.starts_with("refused")),
        "{states:?}"
    );
}

/// The subnet's `WeightsVersionKey` above the keeper's: a timelocked commit would land and its
/// reveal be dropped without an event. The keeper reads the key from the chain before committing
/// and records the weights as refused, naming both keys, instead of committing them.
#[tokio::test(flavor = "current_thread")]
async fn weights_under_an_old_version_key_are_not_committed_to_be_dropped() {
    let mut net = Net::new(Setup {
        validators: 1,
        commit_reveal: true,
        cap: "1",
        miners: vec![],
        max_space: DEFAULT_COMMITMENT_MAX_SPACE,
    })
    .await;
    net.sim
        .set_weights_rules(
            NETUID,
            WeightsRules {
                version_key: 7,
                ..WeightsRules::default()
            },
        )
        .await
        .unwrap();
    net.run_epochs(2, 15).await;
    let k = &net.keepers[0];
    for detail in k.refused_details("SELECT status, detail FROM weights") {
        assert!(
            detail.starts_with("IncorrectWeightVersionKey")
                && detail.contains("WeightsVersionKey 7"),
            "{detail}"
        );
    }
    assert!(net.weight_calls.is_empty(), "nothing was committed");
}

/// A keeper whose hotkey lost its stake (and with it its validator permit) weights the burn uid
/// and winners, not itself: the chain would drop the revealed weights. The keeper sees the
/// missing permit before committing and says so.
#[tokio::test(flavor = "current_thread")]
async fn weights_without_a_validator_permit_are_not_committed_to_be_dropped() {
    let mut net = Net::new(Setup {
        validators: 1,
        commit_reveal: true,
        cap: "1",
        miners: vec![],
        max_space: DEFAULT_COMMITMENT_MAX_SPACE,
    })
    .await;
    let head = net.sim.finalized_head().await.unwrap().number;
    let hot = net.validators[0];
    let cold = acct(4, 0);
    let staked = net.sim.stake(head, cold, hot, NETUID).await.unwrap();
    net.sim
        .as_signer(cold)
        .remove_stake(hot, NETUID, staked)
        .await
        .unwrap();
    net.run_epochs(2, 15).await;
    let k = &net.keepers[0];
    // Mechanism 0 without creations has nothing to weight ("empty").
    for detail in k.refused_details("SELECT status, detail FROM weights WHERE status != 'empty'") {
        assert!(detail.starts_with("NeuronNoValidatorPermit"), "{detail}");
    }
    assert!(net.weight_calls.is_empty(), "nothing was committed");
}

/// A keeper whose mechanisms fail at the block an epoch runs sees the epoch index rise a block
/// later; it still anchors the epoch's windows on the chain's `LastEpochBlock`, so it settles the
/// same windows and decides the same weights as a keeper that saw the epoch's block.
#[tokio::test(flavor = "current_thread")]
async fn a_keeper_that_missed_the_epoch_block_anchors_windows_where_its_peers_do() {
    let mut net = Net::new(Setup {
        validators: 2,
        commit_reveal: true,
        cap: "1",
        miners: vec!["big"],
        max_space: DEFAULT_COMMITMENT_MAX_SPACE,
    })
    .await;
    net.bid("big", "2;b;BTC,1=0.45:1000", Some(200));
    let big = net.miner("big").0;
    net.pool = Box::new(move |_, _| Some(vec![worker(&big, "a", PH)]));
    // Keeper 1 is blind at the next two epochs' blocks.
    let head = net.sim.finalized_head().await.unwrap().number;
    let sched = net.sim.epoch_schedule(head, NETUID).await.unwrap();
    let first = tao20_chain::epochs::next_epoch_block(&sched).unwrap();
    let tempo = u64::from(sched.tempo);
    net.keepers[1].blind = BTreeSet::from([first, first + tempo + 1, first + tempo]);
    net.run_epochs(3, 15).await;
    assert!(
        net.epochs.contains(&first),
        "the epoch ran at {first}: {:?}",
        net.epochs
    );
    let starts = |k: &Keeper| -> Vec<u64> { k.windows().keys().copied().collect() };
    assert!(!starts(&net.keepers[0]).is_empty());
    assert_eq!(starts(&net.keepers[0]), starts(&net.keepers[1]));
    let w0 = net.keepers[0].weights();
    let w1 = net.keepers[1].weights();
    assert_eq!(
        w0.keys().collect::<Vec<_>>(),
        w1.keys().collect::<Vec<_>>(),
        "weights for the same epochs"
    );
    for (key, (u0, v0, _, _)) in &w0 {
        let (u1, v1, _, _) = &w1[key];
        assert_eq!((u0, v0), (u1, v1), "epoch {key:?}");
    }
}

/// A subnet with the runtime's default `MinAllowedWeights` (1024: every uid): the keeper's
/// sparse weights would be dropped at reveal. It pads them with zeros for every other uid, the
/// chain applies them, and the read-back (zeros left out) matches what it decided.
#[tokio::test(flavor = "current_thread")]
async fn sparse_weights_are_padded_to_min_allowed_weights_and_land() {
    let mut net = Net::new(Setup {
        validators: 1,
        commit_reveal: true,
        cap: "1",
        miners: vec!["big", "small"],
        max_space: DEFAULT_COMMITMENT_MAX_SPACE,
    })
    .await;
    net.sim
        .set_weights_rules(
            NETUID,
            WeightsRules {
                min_allowed_weights: 1024,
                ..WeightsRules::default()
            },
        )
        .await
        .unwrap();
    net.bid("big", "2;b;BTC,1=0.45:1000", Some(200));
    let big = net.miner("big").0;
    net.pool = Box::new(move |_, _| Some(vec![worker(&big, "a", PH)]));
    net.run_epochs(3, 15).await;
    let k = &net.keepers[0];
    let w = k.weights();
    let landed: Vec<_> = w.iter().filter(|(_, (u, _, _, _))| !u.is_empty()).collect();
    assert!(!landed.is_empty());
    assert!(
        landed
            .iter()
            .any(|(_, (_, _, status, _))| status == "matched"),
        "{w:?}"
    );
    for (_, (_, _, status, _)) in &landed {
        assert!(
            status == "matched" || status == "superseded" || status == "committed",
            "{w:?}"
        );
    }
    // On chain: a row naming every uid of the subnet, zeros included.
    let head = net.sim.finalized_head().await.unwrap().number;
    let neurons = net.sim.neurons(head, NETUID).await.unwrap();
    let own = neurons
        .iter()
        .find(|n| n.hotkey == net.validators[0])
        .unwrap()
        .uid;
    let row = net.sim.weights(head, NETUID, 1, own).await.unwrap();
    assert_eq!(row.len(), neurons.len(), "{row:?}");
}
