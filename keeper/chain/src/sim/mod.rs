//! The subtensor simulator: an in-process, integer, seeded state machine behind the same
//! [`crate::Subtensor`] trait as the real client, for the demo and the tests.
//!
//! Modelled: blocks (instant seal: every submitted extrinsic gets its own block, index 1 after the
//! timestamp inherent; `advance` produces empty blocks), finality (a configurable lag), state
//! reads at past blocks within a pruning window, subnets with the chain's stateful epoch schedule
//! ([`crate::epochs`]: `LastEpochBlock`, owner-triggered epochs, `set_tempo`, the per-block cap on
//! epochs with deferral), neuron registration, weighted alpha pools whose price moves each block
//! (seeded random walk), free TAO balances per account (funded by a faucet), `add_stake` and
//! `remove_stake` swapping through the subnet's pool with the swap pallet's fee and the runtime's
//! minimum stake ([`Simulator`]'s staking section), commitments with the commitments pallet's
//! space limit per epoch, the mechanism emission split, `transfer_stake` with the runtime's rules
//! (clamp to available, minimum stake value, per-subnet transfer toggle, events), extrinsics that
//! change nothing when they fail, `utility.batch_all` atomicity, weights (set directly, or
//! committed timelocked under the look-ahead epoch and revealed as the chain reveals them, with
//! the pulses of a local drand-style beacon), axons.
//!
//! Not modelled: transaction fees, existential deposits, emissions and Yuma consensus, other rate
//! limits, registration costs and pruning, forks, the mempool, `batch`/`force_batch`, EVM.

mod ledger;
mod locks;
pub mod node;
mod pool;
mod protocol;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::types::StakeAvailability;
pub use ledger::{MemoryLedger, StakeKey, StakeLedger, SubnetMirror};
pub use locks::{exp_decay, Lock, DEFAULT_UNLOCK_RATE};
pub use pool::{Pool, WEIGHT_ONE};
pub use protocol::{DevTransport, LocalTransport, Op, SimClient, Transport};

use crate::drand::{self, LocalBeacon};
use crate::epochs::{self, StepOutcome};
use crate::error::DispatchError;
use crate::types::{
    netuid_index, AccountId, AxonInfo, BeaconInfo, BlockNumber, BlockRef, Bytes32, Call,
    Commitment, EpochSchedule, Event, Extrinsic, Inclusion, NetUid, Neuron, PoolReserves,
    StakeEvent, TransferStake, WeightsSettings,
};
use crate::{Error, Result};

/// The runtime's `DefaultMinStake`: 0.002 TAO.
pub const DEFAULT_MIN_STAKE: u64 = 2_000_000;
/// Raw commitment fields hold at most 128 bytes each.
pub const COMMITMENT_FIELD_BYTES: usize = 128;
/// At most this many fields per commitment.
pub const COMMITMENT_MAX_FIELDS: usize = 3;
/// At most this many unrevealed commits per hotkey and epoch (`TooManyUnrevealedCommits`).
pub const MAX_UNREVEALED_COMMITS: usize = 10;
/// The swap pallet's default `FeeRate`: 33 parts of 65 535 (about 0.05 %) of every swap's input.
pub const RUNTIME_SWAP_FEE_RATE: u16 = crate::balancer::DEFAULT_FEE_RATE;
/// `FeeRate`'s denominator.
pub const FEE_RATE_DENOMINATOR: u64 = crate::balancer::FEE_RATE_DENOMINATOR;
/// `add_stake` refuses more TAO than this many times the subnet's TAO reserve
/// (`ensure_add_stake_input_within_swap_limit`).
pub const MAX_SWAP_INPUT_RESERVE_MULTIPLIER: u64 = 1_000;

/// Simulator parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Seed of the price walk, block hashes and the beacon key: same seed, same run.
    pub seed: u64,
    /// Unix time of block 0; block `n` is at `genesis_unix + 12 n`.
    pub genesis_unix: u64,
    /// Minimum TAO value (rao) of a stake movement.
    pub min_stake: u64,
    /// Largest per-block price move, parts per million of the TAO reserve.
    pub volatility_ppm: u32,
    /// Finalized head = head - this.
    pub finality_lag: u64,
    /// Blocks of state kept for reads at past blocks (a pruned node keeps 256).
    pub state_window: u64,
    /// Uids per subnet.
    pub max_uids: u16,
    /// Validator permits per subnet (top stake).
    pub max_validators: u16,
    /// `MaxEpochsPerBlock`: epochs run per block at most, in netuid order; the rest are deferred
    /// to the next block.
    #[serde(default = "default_max_epochs_per_block")]
    pub max_epochs_per_block: u8,
    /// `AdminFreezeWindow`: a triggered epoch runs this many blocks after the trigger, and owner
    /// changes are refused this close to an epoch.
    #[serde(default = "default_admin_freeze_window")]
    pub admin_freeze_window: u64,
    /// The swap pallet's `FeeRate` (parts of 65 535 of a swap's input, taken before the swap and
    /// paid to the block author: here burned). The runtime's default is
    /// [`RUNTIME_SWAP_FEE_RATE`]; the simulator's default is 0, so unit tests see exact pool
    /// arithmetic; the devnet runs the runtime's.
    #[serde(default)]
    pub swap_fee_rate: u16,
    /// The commitments pallet's `MaxSpace`: bytes one account may commit per subnet per epoch
    /// (each commitment costs at least 100).
    #[serde(default = "default_commitment_max_space")]
    pub commitment_max_space: u64,
}

fn default_commitment_max_space() -> u64 {
    crate::types::DEFAULT_COMMITMENT_MAX_SPACE
}

fn default_max_epochs_per_block() -> u8 {
    epochs::DEFAULT_MAX_EPOCHS_PER_BLOCK
}

fn default_admin_freeze_window() -> u64 {
    epochs::DEFAULT_ADMIN_FREEZE_WINDOW
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 0,
            genesis_unix: 1_767_225_600,
            min_stake: DEFAULT_MIN_STAKE,
            volatility_ppm: 2_000,
            finality_lag: 0,
            state_window: 256,
            max_uids: 256,
            max_validators: 64,
            max_epochs_per_block: epochs::DEFAULT_MAX_EPOCHS_PER_BLOCK,
            admin_freeze_window: epochs::DEFAULT_ADMIN_FREEZE_WINDOW,
            swap_fee_rate: 0,
            commitment_max_space: default_commitment_max_space(),
        }
    }
}

/// A subnet to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetSpec {
    /// Subnet id (not 0).
    pub netuid: NetUid,
    /// Owner coldkey.
    pub owner: AccountId,
    /// Owner hotkey, registered as uid 0 (the burn uid).
    pub owner_hotkey: AccountId,
    /// Tempo (the chain's default is 360; the simulator takes any, 0 for no epochs).
    pub tempo: u16,
    /// Initial TAO reserve (rao).
    pub tao_in: u64,
    /// Initial alpha reserve (rao).
    pub alpha_in: u64,
    /// TAO-side pool weight, parts of [`WEIGHT_ONE`] (half for a fresh pool).
    pub weight_tao: u64,
}

#[derive(Debug, Clone)]
struct NeuronRec {
    uid: u16,
    hotkey: AccountId,
    coldkey: AccountId,
    registered_at: BlockNumber,
    axon: Option<AxonInfo>,
}

#[derive(Debug, Clone)]
struct PendingCommit {
    who: AccountId,
    uid: u16,
    mecid: u8,
    commit: Vec<u8>,
    reveal_round: u64,
    commit_epoch: u64,
}

#[derive(Debug, Clone)]
struct Subnet {
    owner: AccountId,
    pool: Pool,
    transfers_enabled: bool,
    split: Option<Vec<u16>>,
    mechanism_count: u8,
    commit_reveal_enabled: bool,
    schedule: EpochSchedule,
    neurons: Arc<Vec<NeuronRec>>,
    commitments: Arc<BTreeMap<AccountId, Commitment>>,
    /// `UsedSpaceOf`: (epoch index, bytes used in it) per committing account.
    commitment_usage: Arc<BTreeMap<AccountId, (u64, u64)>>,
    weights: Arc<WeightRows>,
    pending: Arc<Vec<PendingCommit>>,
    /// `WeightsSetRateLimit`, blocks.
    weights_rate_limit: u64,
    /// `WeightsVersionKey`.
    weights_version_key: u64,
    /// `MinAllowedWeights`.
    min_allowed_weights: u16,
    /// `LastUpdate` per (mechanism, uid): the block of the last weights set or commit.
    last_update: Arc<BTreeMap<(u8, u16), BlockNumber>>,
    /// `Lock` per coldkey (the individual lock's mass; see [`locks`]).
    locks: Arc<BTreeMap<AccountId, Lock>>,
}

impl Subnet {
    fn uid_of(&self, hotkey: &AccountId) -> Option<u16> {
        self.neurons
            .iter()
            .find(|n| n.hotkey == *hotkey)
            .map(|n| n.uid)
    }
}

type Subnets = BTreeMap<NetUid, Subnet>;

/// A subnet's weights rules as root sets them (the harness's `set_weights_rules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightsRules {
    /// `StakeThreshold` (global): stake weight (rao) a hotkey needs to set or commit weights.
    pub stake_threshold: u64,
    /// `WeightsSetRateLimit`: blocks between two weights sets or commits of one uid.
    pub rate_limit: u64,
    /// `WeightsVersionKey`: the least version key weights may carry (0: any).
    pub version_key: u64,
    /// `MinAllowedWeights` (the runtime's default for a new subnet is 1024; the simulator's is 0).
    pub min_allowed_weights: u16,
}

/// Free TAO (rao) per account.
type Balances = BTreeMap<AccountId, u64>;

/// Weight rows by (mechanism, uid).
type WeightRows = BTreeMap<(u8, u16), Vec<(u16, u16)>>;

fn dispatch_error(pallet: &str, error: &str) -> DispatchError {
    DispatchError {
        pallet: pallet.into(),
        error: error.into(),
    }
}

fn subtensor(error: &str) -> DispatchError {
    dispatch_error("SubtensorModule", error)
}

/// A swap the swap pallet refuses, by its error name.
fn swap_error(e: crate::balancer::SwapError) -> DispatchError {
    dispatch_error("Swap", e.name())
}

fn internal(e: Error) -> DispatchError {
    // Arithmetic or ledger failures inside a dispatch surface as the runtime's `Other`.
    tracing::warn!(target: "tao20::sim", %e, "internal failure during dispatch");
    dispatch_error("", "Other")
}

fn blake2_256(data: &[u8]) -> Bytes32 {
    Bytes32(sp_crypto_hashing::blake2_256(data))
}

/// splitmix64: a tiny, portable mixer, so the walk is the same on every machine and release.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The simulated chain.
pub struct Simulator {
    config: SimConfig,
    head: BlockNumber,
    subnets: Subnets,
    history: BTreeMap<BlockNumber, Arc<Subnets>>,
    ledger: Box<dyn StakeLedger>,
    balances: Arc<Balances>,
    balance_history: BTreeMap<BlockNumber, Arc<Balances>>,
    blocks: BTreeMap<BlockNumber, Vec<Extrinsic>>,
    /// The block the simulator started at: blocks before it (a shared ledger's own) have an
    /// empty state.
    first_block: BlockNumber,
    beacon: LocalBeacon,
    beacon_info: BeaconInfo,
    batch_depth: u32,
    /// `StakeThreshold` (rao of stake weight), the head's value: a weights call below it is
    /// refused by the transaction extension.
    stake_threshold: u64,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("head", &self.head)
            .field("subnets", &self.subnets.len())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulator at block 0 with the in-memory ledger.
    pub fn new(config: SimConfig) -> Result<Self> {
        Self::with_ledger(config, Box::new(MemoryLedger::new()))
    }

    /// A simulator at block 0 over a given stake ledger (e.g. one backed by anvil).
    pub fn with_ledger(config: SimConfig, ledger: Box<dyn StakeLedger>) -> Result<Self> {
        let beacon = LocalBeacon::from_seed(config.seed);
        let beacon_info = beacon.info()?;
        // A ledger shared with another chain (anvil) may be past block 0: start there, so both
        // chains keep one block number.
        let head = ledger.height();
        let mut sim = Simulator {
            config,
            head,
            subnets: BTreeMap::new(),
            history: BTreeMap::new(),
            ledger,
            balances: Arc::new(BTreeMap::new()),
            balance_history: BTreeMap::new(),
            blocks: BTreeMap::new(),
            first_block: head,
            beacon,
            beacon_info,
            batch_depth: 0,
            stake_threshold: 0,
        };
        sim.snapshot();
        Ok(sim)
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The latest block.
    pub fn head(&self) -> BlockNumber {
        self.head
    }

    /// The local beacon's signature of a round (what a drand relay would publish).
    pub fn beacon_signature(&self, round: u64) -> Result<Vec<u8>> {
        self.beacon.signature(round)
    }

    fn block_hash(&self, number: BlockNumber) -> Bytes32 {
        let mut h = Sha256::new();
        h.update(b"tao20-sim-block");
        h.update(self.config.seed.to_le_bytes());
        h.update(number.to_le_bytes());
        Bytes32(h.finalize().into())
    }

    fn block_ref(&self, number: BlockNumber) -> BlockRef {
        BlockRef {
            number,
            hash: self.block_hash(number),
        }
    }

    fn time_of(&self, block: BlockNumber) -> u64 {
        self.config
            .genesis_unix
            .saturating_add(block.saturating_mul(drand::BLOCK_TIME_SECS))
    }

    fn snapshot(&mut self) {
        self.history
            .insert(self.head, Arc::new(self.subnets.clone()));
        self.balance_history
            .insert(self.head, self.balances.clone());
        let keep_from = self.head.saturating_sub(self.config.state_window);
        self.history = self.history.split_off(&keep_from);
        self.balance_history = self.balance_history.split_off(&keep_from);
    }

    fn check_produced(&self, at: BlockNumber) -> Result<()> {
        if at > self.head {
            return Err(Error::NotFound {
                what: format!("block {at} (head is {})", self.head),
                later: true,
            });
        }
        Ok(())
    }

    fn state_at(&self, at: BlockNumber) -> Result<&Subnets> {
        self.check_produced(at)?;
        self.history.get(&at).map(|s| s.as_ref()).ok_or_else(|| {
            Error::not_found(format!(
                "state at block {at}: pruned (window of {} blocks)",
                self.config.state_window
            ))
        })
    }

    fn subnet_at(&self, at: BlockNumber, netuid: NetUid) -> Result<&Subnet> {
        self.state_at(at)?
            .get(&netuid)
            .ok_or_else(|| Error::not_found(format!("subnet {netuid} at block {at}")))
    }

    fn subnet_mut(&mut self, netuid: NetUid) -> Result<&mut Subnet> {
        self.subnets
            .get_mut(&netuid)
            .ok_or_else(|| Error::not_found(format!("subnet {netuid}")))
    }

    // ----- blocks -------------------------------------------------------------------------------

    fn begin_block(&mut self) -> Result<()> {
        self.head = self.head.saturating_add(1);
        let block = self.head;
        self.ledger.advance(block)?;
        let span = u64::from(self.config.volatility_ppm)
            .saturating_mul(2)
            .saturating_add(1);
        let now = self.time_of(block);
        let round = drand::round_at(now, self.beacon_info.genesis_time, self.beacon_info.period);
        let netuids: Vec<NetUid> = self.subnets.keys().copied().collect();
        for netuid in &netuids {
            let r = mix(self.config.seed ^ (u64::from(*netuid) << 48) ^ block);
            let delta =
                i64::try_from(r % span).unwrap_or(0) - i64::from(self.config.volatility_ppm);
            self.subnet_mut(*netuid)?.pool.drift(delta);
        }
        let mirrors: Vec<SubnetMirror> = self
            .subnets
            .iter()
            .map(|(n, sn)| SubnetMirror {
                netuid: *n,
                price_rao: sn.pool.price(),
                transfers_enabled: sn.transfers_enabled,
            })
            .collect();
        self.ledger.mirror(block, &mirrors)?;
        // `block_step`: reveals first (skipping subnets whose epoch the cap defers in this block),
        // then the coinbase's epochs (`block_step.rs:18-20, 81-99`), in the order the chain
        // iterates `NetworksAdded`: Identity-hashed u16 keys, so by little-endian bytes
        // (ascending below 256).
        let mut netuids = netuids;
        netuids.sort_by_key(|n| n.to_le_bytes());
        let cap = u32::from(self.config.max_epochs_per_block);
        let mut due = 0u32;
        let mut deferred = std::collections::BTreeSet::new();
        for netuid in &netuids {
            let sn = self.subnet_mut(*netuid)?;
            if epochs::should_run_epoch(&sn.schedule, block) {
                if due >= cap {
                    deferred.insert(*netuid);
                } else {
                    due = due.saturating_add(1);
                }
            }
        }
        let beacon = self.beacon.clone();
        let mut ran = 0u32;
        for netuid in netuids {
            // A reveal applies weights as `set_weights` would: the permits at this block, read
            // (stake of every neuron, from the ledger) only when a commit is due.
            let permitted: std::collections::BTreeSet<u16> = match self.subnets.get(&netuid) {
                Some(sn) if !deferred.contains(&netuid) && reveal_is_due(sn, block, round) => {
                    self.reveal_permits(sn, block, netuid)?
                }
                _ => std::collections::BTreeSet::new(),
            };
            let sn = self.subnet_mut(netuid)?;
            if !deferred.contains(&netuid) {
                reveal_due(sn, netuid, block, round, &beacon, &permitted);
            }
            match epochs::step(&mut sn.schedule, block, ran >= cap) {
                StepOutcome::Ran => ran = ran.saturating_add(1),
                StepOutcome::Deferred => {
                    tracing::debug!(target: "tao20::sim", netuid, block, "epoch deferred by the per-block cap")
                }
                StepOutcome::Idle => {}
            }
        }
        Ok(())
    }

    fn finish_block(&mut self) {
        self.snapshot();
    }

    /// Produces `n` empty blocks (fast-forward).
    pub fn advance(&mut self, n: u64) -> Result<BlockRef> {
        for _ in 0..n {
            self.begin_block()?;
            self.finish_block();
        }
        Ok(self.block_ref(self.head))
    }

    // ----- administration (what sudo, the owner or a faucet does) -------------------------------

    /// Applies an administrative change in a block of its own, so state already read at earlier
    /// blocks never changes.
    fn in_new_block<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        self.begin_block()?;
        let result = f(self);
        self.finish_block();
        result
    }

    /// Creates a subnet and registers its owner hotkey as uid 0, in a new block.
    pub fn register_subnet(&mut self, spec: SubnetSpec) -> Result<()> {
        self.in_new_block(|sim| sim.register_subnet_now(spec))
    }

    /// Registers a hotkey on a subnet under a coldkey, in a new block; returns its uid.
    pub fn register_neuron(
        &mut self,
        netuid: NetUid,
        hotkey: AccountId,
        coldkey: AccountId,
    ) -> Result<u16> {
        self.in_new_block(|sim| sim.register_neuron_now(netuid, hotkey, coldkey))
    }

    /// Sets the subnet owner's transfer toggle, in a new block.
    pub fn set_transfers_enabled(&mut self, netuid: NetUid, enabled: bool) -> Result<()> {
        self.in_new_block(|sim| sim.set_transfers_enabled_now(netuid, enabled))
    }

    /// Sets the number of mechanisms and their emission split, in a new block.
    pub fn set_mechanisms(
        &mut self,
        netuid: NetUid,
        count: u8,
        split: Option<Vec<u16>>,
    ) -> Result<()> {
        self.in_new_block(|sim| sim.set_mechanisms_now(netuid, count, split))
    }

    /// Root's `sudo_set_stake_threshold`, and `sudo_set_weights_set_rate_limit` and
    /// `sudo_set_weights_version_key` for `netuid`, in a new block.
    pub fn set_weights_rules(&mut self, netuid: NetUid, rules: WeightsRules) -> Result<()> {
        self.in_new_block(|sim| {
            let sn = sim.subnet_mut(netuid)?;
            sn.weights_rate_limit = rules.rate_limit;
            sn.weights_version_key = rules.version_key;
            sn.min_allowed_weights = rules.min_allowed_weights;
            sim.stake_threshold = rules.stake_threshold;
            Ok(())
        })
    }

    /// What subtensor's transaction extension refuses a weights call for before it enters the
    /// pool, as its `CustomTransactionError` code (`guards/check_weights.rs`,
    /// `guards/check_rate_limits.rs`): stake weight below `StakeThreshold` (1,
    /// `StakeAmountTooLow`; the subnet owner's hotkey is exempt), or a direct `set_weights` inside
    /// `WeightsSetRateLimit` of the uid's `LastUpdate` while commit-reveal is off (6,
    /// `RateLimitExceeded`). Timelocked commits are rate-limited at dispatch, not here.
    pub fn weights_refusal(&self, who: AccountId, call: &Call) -> Result<Option<u8>> {
        let (netuid, mecid, direct) = match call {
            Call::SetMechanismWeights { netuid, mecid, .. } => (*netuid, *mecid, true),
            Call::CommitTimelockedMechanismWeights { netuid, mecid, .. } => {
                (*netuid, *mecid, false)
            }
            _ => return Ok(None),
        };
        let Some(sn) = self.subnets.get(&netuid) else {
            return Ok(None);
        };
        if !self.weights_min_stake(sn, who, netuid)? {
            return Ok(Some(1));
        }
        if direct && !sn.commit_reveal_enabled {
            if let Some(uid) = sn.uid_of(&who) {
                if !rate_limit_passes(sn, mecid, uid, self.head.saturating_add(1)) {
                    return Ok(Some(6));
                }
            }
        }
        Ok(None)
    }

    /// The uids with a validator permit among the committers of `sn`, at `block`. With no more
    /// neurons than permits every staked neuron holds one, and only the committers' stakes are
    /// read (a ledger read is an anvil round trip on the devnet, made with the chain held).
    fn reveal_permits(
        &self,
        sn: &Subnet,
        block: BlockNumber,
        netuid: NetUid,
    ) -> Result<std::collections::BTreeSet<u16>> {
        if sn.neurons.len() > usize::from(self.config.max_validators) {
            return Ok(self
                .neurons_of(sn, block, netuid)?
                .into_iter()
                .filter(|n| n.validator_permit)
                .map(|n| n.uid)
                .collect());
        }
        let mut out = std::collections::BTreeSet::new();
        for c in sn.pending.iter() {
            if !out.contains(&c.uid) && self.ledger.hotkey_total(block, &c.who, netuid)? > 0 {
                out.insert(c.uid);
            }
        }
        Ok(out)
    }

    /// `check_weights_min_stake` (`lib.rs:2752`): the owner's hotkey, or stake at the threshold.
    fn weights_min_stake(&self, sn: &Subnet, who: AccountId, netuid: NetUid) -> Result<bool> {
        // A ledger read can be a round trip (the devnet's is anvil): none when nothing is asked.
        if who == sn.owner || self.stake_threshold == 0 {
            return Ok(true);
        }
        Ok(self.ledger.hotkey_total(self.head, &who, netuid)? >= self.stake_threshold)
    }

    /// Turns commit-reveal on or off and sets the reveal period, in a new block.
    pub fn set_commit_reveal(
        &mut self,
        netuid: NetUid,
        enabled: bool,
        reveal_period_epochs: u64,
    ) -> Result<()> {
        self.in_new_block(|sim| sim.set_commit_reveal_now(netuid, enabled, reveal_period_epochs))
    }

    /// The owner's `set_tempo` (call 139), in a new block: a tempo in
    /// [`epochs::MIN_TEMPO`]`..=`[`epochs::MAX_TEMPO`], refused inside the admin freeze window;
    /// re-anchors the cycle at the block (`LastEpochBlock = now`) without running an epoch.
    /// Allowed on commit-reveal subnets. Rate limits are not modelled.
    pub fn set_tempo(&mut self, netuid: NetUid, tempo: u16) -> Result<()> {
        self.in_new_block(|sim| sim.set_tempo_now(netuid, tempo, false))
    }

    /// Root's `AdminUtils::sudo_set_tempo` (call 30), in a new block: any tempo, refused inside
    /// the admin freeze window, re-anchoring the cycle as `set_tempo` does.
    pub fn sudo_set_tempo(&mut self, netuid: NetUid, tempo: u16) -> Result<()> {
        self.in_new_block(|sim| sim.set_tempo_now(netuid, tempo, true))
    }

    /// The owner's `trigger_epoch` (call 141), in a new block: the epoch runs
    /// `admin_freeze_window` blocks later (`PendingEpochAt = now + window`). Refused while
    /// commit-reveal is on, while a trigger is pending, and when the automatic epoch is closer
    /// than the window (`coinbase/tempo_control.rs`).
    pub fn trigger_epoch(&mut self, netuid: NetUid) -> Result<()> {
        self.in_new_block(|sim| sim.trigger_epoch_now(netuid))
    }

    fn owner_call_failed(&self, call: &str, error: &str) -> Error {
        Error::Dispatch {
            call: format!("SubtensorModule::{call}"),
            block: self.head,
            error: subtensor(error),
        }
    }

    fn set_tempo_now(&mut self, netuid: NetUid, tempo: u16, root: bool) -> Result<()> {
        let now = self.head;
        let window = self.config.admin_freeze_window;
        let call = if root { "sudo_set_tempo" } else { "set_tempo" };
        let sn = self
            .subnets
            .get(&netuid)
            .ok_or_else(|| self.owner_call_failed(call, "SubnetNotExists"))?;
        if !root && !(epochs::MIN_TEMPO..=epochs::MAX_TEMPO).contains(&tempo) {
            return Err(self.owner_call_failed(call, "TempoOutOfBounds"));
        }
        if in_admin_freeze_window(&sn.schedule, now, window) {
            return Err(self.owner_call_failed(call, "AdminActionProhibitedDuringWeightsWindow"));
        }
        epochs::set_tempo(&mut self.subnet_mut(netuid)?.schedule, tempo, now);
        Ok(())
    }

    fn trigger_epoch_now(&mut self, netuid: NetUid) -> Result<()> {
        let now = self.head;
        let window = self.config.admin_freeze_window;
        let sn = self
            .subnets
            .get(&netuid)
            .ok_or_else(|| self.owner_call_failed("trigger_epoch", "SubnetNotExists"))?;
        if sn.commit_reveal_enabled {
            return Err(
                self.owner_call_failed("trigger_epoch", "DynamicTempoBlockedByCommitReveal")
            );
        }
        if sn.schedule.pending_epoch_at != 0 {
            return Err(self.owner_call_failed("trigger_epoch", "EpochTriggerAlreadyPending"));
        }
        if blocks_until_next_auto_epoch(&sn.schedule, now) < window {
            return Err(self.owner_call_failed("trigger_epoch", "AutoEpochAlreadyImminent"));
        }
        self.subnet_mut(netuid)?.schedule.pending_epoch_at = now.saturating_add(window);
        Ok(())
    }

    /// Creates a subnet and registers its owner hotkey as uid 0.
    fn register_subnet_now(&mut self, spec: SubnetSpec) -> Result<()> {
        if spec.netuid == 0 {
            return Err(Error::invalid("netuid", "0 is the root subnet"));
        }
        if self.subnets.contains_key(&spec.netuid) {
            return Err(Error::invalid(
                format!("netuid {}", spec.netuid),
                "already registered",
            ));
        }
        if crate::balancer::Balancer::new(spec.weight_tao).is_none()
            || spec.tao_in == 0
            || spec.alpha_in == 0
        {
            return Err(Error::invalid(
                "pool",
                "each weight must be at least 1 % (the swap pallet's MIN_WEIGHT) and reserves non-zero",
            ));
        }
        let neurons = vec![NeuronRec {
            uid: 0,
            hotkey: spec.owner_hotkey,
            coldkey: spec.owner,
            registered_at: self.head,
            axon: None,
        }];
        self.subnets.insert(
            spec.netuid,
            Subnet {
                owner: spec.owner,
                pool: Pool {
                    tao_in: spec.tao_in,
                    alpha_in: spec.alpha_in,
                    alpha_out: 0,
                    weight_tao: spec.weight_tao,
                    weight_alpha: WEIGHT_ONE - spec.weight_tao,
                },
                transfers_enabled: true,
                split: None,
                mechanism_count: 1,
                commit_reveal_enabled: false,
                // `init_new_network` staggers subnets: `LastEpochBlock = now - netuid % tempo`
                // (`subnets/subnet.rs:304-308`).
                schedule: EpochSchedule {
                    tempo: spec.tempo,
                    last_epoch_block: self
                        .head
                        .saturating_sub(u64::from(spec.netuid) % u64::from(spec.tempo).max(1)),
                    pending_epoch_at: 0,
                    subnet_epoch_index: 0,
                    blocks_since_last_step: 0,
                    reveal_period_epochs: 1,
                },
                neurons: Arc::new(neurons),
                commitments: Arc::new(BTreeMap::new()),
                commitment_usage: Arc::new(BTreeMap::new()),
                weights: Arc::new(BTreeMap::new()),
                pending: Arc::new(Vec::new()),
                weights_rate_limit: 0,
                weights_version_key: 0,
                min_allowed_weights: 0,
                last_update: Arc::new(BTreeMap::new()),
                locks: Arc::new(BTreeMap::new()),
            },
        );
        Ok(())
    }

    /// Registers a hotkey on a subnet under a coldkey; returns its uid.
    fn register_neuron_now(
        &mut self,
        netuid: NetUid,
        hotkey: AccountId,
        coldkey: AccountId,
    ) -> Result<u16> {
        for (n, sn) in &self.subnets {
            if let Some(rec) = sn.neurons.iter().find(|r| r.hotkey == hotkey) {
                if rec.coldkey != coldkey {
                    return Err(Error::invalid(
                        format!("hotkey {hotkey}"),
                        format!("owned by coldkey {} (subnet {n})", rec.coldkey),
                    ));
                }
            }
        }
        let max = self.config.max_uids;
        let head = self.head;
        let sn = self.subnet_mut(netuid)?;
        if sn.uid_of(&hotkey).is_some() {
            return Err(Error::invalid(
                format!("hotkey {hotkey}"),
                format!("already registered on subnet {netuid}"),
            ));
        }
        let uid = u16::try_from(sn.neurons.len())
            .ok()
            .filter(|u| *u < max)
            .ok_or_else(|| Error::invalid(format!("subnet {netuid}"), "full"))?;
        Arc::make_mut(&mut sn.neurons).push(NeuronRec {
            uid,
            hotkey,
            coldkey,
            registered_at: head,
            axon: None,
        });
        Ok(uid)
    }

    /// Sets the subnet owner's transfer toggle.
    fn set_transfers_enabled_now(&mut self, netuid: NetUid, enabled: bool) -> Result<()> {
        self.subnet_mut(netuid)?.transfers_enabled = enabled;
        Ok(())
    }

    /// Sets the number of mechanisms and their emission split.
    fn set_mechanisms_now(
        &mut self,
        netuid: NetUid,
        count: u8,
        split: Option<Vec<u16>>,
    ) -> Result<()> {
        if count == 0 {
            return Err(Error::invalid("mechanism count", "0"));
        }
        if let Some(s) = &split {
            if s.len() != usize::from(count) {
                return Err(Error::invalid(
                    "mechanism split",
                    format!("{} parts for {count} mechanisms", s.len()),
                ));
            }
        }
        let sn = self.subnet_mut(netuid)?;
        sn.mechanism_count = count;
        sn.split = split;
        Ok(())
    }

    /// Turns commit-reveal on or off and sets the reveal period.
    fn set_commit_reveal_now(
        &mut self,
        netuid: NetUid,
        enabled: bool,
        reveal_period_epochs: u64,
    ) -> Result<()> {
        let sn = self.subnet_mut(netuid)?;
        sn.commit_reveal_enabled = enabled;
        sn.schedule.reveal_period_epochs = reveal_period_epochs;
        Ok(())
    }

    /// A genesis balance, as a chain spec's `balances` gives one: `tao` rao credited to `account`
    /// in the head block's state, without a block of its own (no event, no extrinsic).
    pub fn endow(&mut self, account: AccountId, tao: u64) -> Result<()> {
        self.credit_balance(account, tao)
            .map_err(|e| Error::Dispatch {
                call: "endow".into(),
                block: self.head,
                error: e,
            })?;
        self.snapshot();
        Ok(())
    }

    /// The devnet faucet: credits free TAO to `account` in a new block.
    pub fn faucet(&mut self, account: AccountId, tao: u64) -> Result<()> {
        self.in_new_block(|sim| {
            sim.credit_balance(account, tao)
                .map_err(|e| Error::Dispatch {
                    call: "faucet".into(),
                    block: sim.head,
                    error: e,
                })
        })
    }

    /// `add_stake` paid by the faucet: credits `tao` to `coldkey` and stakes it on `hotkey` in the
    /// same new block (one `add_stake` extrinsic, with its `StakeAdded` event), so the coldkey's
    /// balance ends where it was. A failed stake leaves no credit behind.
    pub fn add_stake(
        &mut self,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        tao: u64,
    ) -> Result<Inclusion> {
        let call = Call::AddStake {
            hotkey,
            netuid,
            amount_staked: tao,
        };
        self.include(Some(coldkey), call, |sim, signer| {
            sim.credit_balance(signer, tao)?;
            sim.do_add_stake(signer, hotkey, netuid, tao)
        })
    }

    /// `remove_stake` (the TAO goes to the coldkey's free balance), in a new block with a
    /// `StakeRemoved` event.
    pub fn remove_stake(
        &mut self,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
    ) -> Result<Inclusion> {
        self.submit(
            Some(coldkey),
            Call::RemoveStake {
                hotkey,
                netuid,
                amount_unstaked: alpha,
            },
        )
    }

    /// `lock_stake` (`staking/lock.rs` `do_lock_stake`, call index 136, newer than the
    /// checked-in metadata, so the devnet takes it as an administrative request signed by the
    /// coldkey): locks `amount` more of the coldkey's alpha on `netuid` to `hotkey`.
    pub fn lock_stake(
        &mut self,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        amount: u64,
    ) -> Result<()> {
        self.in_new_block(|sim| {
            sim.do_lock_stake(coldkey, hotkey, netuid, amount)
                .map_err(|e| Error::invalid("lock_stake", e.to_string()))
        })
    }

    fn do_lock_stake(
        &mut self,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        amount: u64,
    ) -> Result<(), DispatchError> {
        if amount == 0 {
            return Err(subtensor("AmountTooLow"));
        }
        if !self.hotkey_exists(&hotkey) {
            return Err(subtensor("HotKeyAccountNotExists"));
        }
        let total = self
            .coldkey_alpha(&self.subnets, self.head, coldkey, netuid)
            .map_err(internal)?;
        let now = self.head;
        let sn = self
            .subnets
            .get_mut(&netuid)
            .ok_or_else(|| subtensor("SubnetNotExists"))?;
        let current = match sn.locks.get(&coldkey) {
            Some(l) if l.hotkey != hotkey => return Err(subtensor("LockHotkeyMismatch")),
            Some(l) => l.locked_at(now, DEFAULT_UNLOCK_RATE),
            None => 0,
        };
        let locked_mass = current.saturating_add(amount);
        if total < locked_mass {
            return Err(subtensor("InsufficientStakeForLock"));
        }
        Arc::make_mut(&mut sn.locks).insert(
            coldkey,
            Lock {
                hotkey,
                locked_mass,
                last_update: now,
            },
        );
        Ok(())
    }

    /// All of `coldkey`'s alpha on `netuid` in `subnets` (the state of block `at`), over the
    /// hotkeys registered anywhere (`total_coldkey_alpha_on_subnet` sums `StakingHotkeys`; the
    /// simulator stakes only to registered hotkeys).
    fn coldkey_alpha(
        &self,
        subnets: &Subnets,
        at: BlockNumber,
        coldkey: AccountId,
        netuid: NetUid,
    ) -> Result<u64> {
        let mut hotkeys: Vec<AccountId> = subnets
            .values()
            .flat_map(|sn| sn.neurons.iter().map(|n| n.hotkey))
            .collect();
        hotkeys.sort_unstable();
        hotkeys.dedup();
        let mut total = 0u64;
        for hotkey in hotkeys {
            let key = StakeKey {
                coldkey,
                hotkey,
                netuid,
            };
            total = total.saturating_add(self.ledger.stake(at, &key)?);
        }
        Ok(total)
    }

    /// What a lock leaves `coldkey` free to unstake or move on `netuid` at the head; `None` when
    /// it has no lock there (then everything it holds is free, and no stake is summed: on the
    /// devnet each position is a ledger read).
    fn unlocked_now(&self, coldkey: AccountId, netuid: NetUid) -> Result<Option<u64>> {
        let locked = self
            .subnets
            .get(&netuid)
            .is_some_and(|sn| sn.locks.contains_key(&coldkey));
        if !locked {
            return Ok(None);
        }
        let a = self.availability_in(&self.subnets, self.head, coldkey, netuid)?;
        Ok(Some(a.available))
    }

    fn availability_in(
        &self,
        subnets: &Subnets,
        at: BlockNumber,
        coldkey: AccountId,
        netuid: NetUid,
    ) -> Result<StakeAvailability> {
        let total = self.coldkey_alpha(subnets, at, coldkey, netuid)?;
        let locked = subnets
            .get(&netuid)
            .and_then(|sn| sn.locks.get(&coldkey))
            .map_or(0, |l| l.locked_at(at, DEFAULT_UNLOCK_RATE));
        Ok(StakeAvailability {
            total,
            locked,
            available: total.saturating_sub(locked),
        })
    }

    /// `StakeInfoRuntimeApi::get_stake_availability_for_coldkeys` for one coldkey at block `at`:
    /// every subnet where it has stake or a lock.
    pub fn stake_availability(
        &self,
        at: BlockNumber,
        coldkey: AccountId,
    ) -> Result<BTreeMap<NetUid, StakeAvailability>> {
        let subnets = self.state_at(at)?;
        let mut out = BTreeMap::new();
        for netuid in subnets.keys() {
            let a = self.availability_in(subnets, at, coldkey, *netuid)?;
            if a.total > 0 || a.locked > 0 {
                out.insert(*netuid, a);
            }
        }
        Ok(out)
    }

    // ----- reads --------------------------------------------------------------------------------

    /// The finalized head.
    pub fn finalized_head(&self) -> BlockRef {
        self.block_ref(self.head.saturating_sub(self.config.finality_lag))
    }

    /// Stake of a position at a block.
    pub fn stake(
        &self,
        at: BlockNumber,
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
    ) -> Result<u64> {
        self.check_produced(at)?;
        self.ledger.stake(
            at,
            &StakeKey {
                coldkey,
                hotkey,
                netuid,
            },
        )
    }

    /// Free TAO (rao) of an account at a block.
    pub fn free_balance(&self, at: BlockNumber, account: AccountId) -> Result<u64> {
        self.check_produced(at)?;
        let balances = self.balance_history.get(&at).ok_or_else(|| {
            Error::not_found(format!(
                "balances at block {at}: pruned (window of {} blocks)",
                self.config.state_window
            ))
        })?;
        Ok(balances.get(&account).copied().unwrap_or(0))
    }

    /// The commitments rate limit of `who` on a subnet at a block.
    pub fn commitment_space(
        &self,
        at: BlockNumber,
        netuid: NetUid,
        who: AccountId,
    ) -> Result<crate::types::CommitmentSpace> {
        let sn = self.subnet_at(at, netuid)?;
        let (last_epoch, used_space) = sn.commitment_usage.get(&who).copied().unwrap_or((0, 0));
        Ok(crate::types::CommitmentSpace {
            last_epoch,
            used_space,
            max_space: self.config.commitment_max_space,
        })
    }

    /// Commitments of a subnet.
    pub fn commitments(&self, at: BlockNumber, netuid: NetUid) -> Result<Vec<Commitment>> {
        Ok(self
            .subnet_at(at, netuid)?
            .commitments
            .values()
            .cloned()
            .collect())
    }

    /// The emission split the runtime applies (`MechanismEmissionSplit` or, unset, an even split
    /// over `MechanismCountCurrent`).
    pub fn mechanism_emission_split(&self, at: BlockNumber, netuid: NetUid) -> Result<Vec<u16>> {
        let sn = self.subnet_at(at, netuid)?;
        Ok(crate::types::effective_split(
            sn.split.as_deref(),
            sn.mechanism_count,
        ))
    }

    /// `current_alpha_price`.
    pub fn current_alpha_price(&self, at: BlockNumber, netuid: NetUid) -> Result<u64> {
        Ok(self.subnet_at(at, netuid)?.pool.price())
    }

    /// Pool reserves.
    pub fn pool_reserves(&self, at: BlockNumber, netuid: NetUid) -> Result<PoolReserves> {
        Ok(self.subnet_at(at, netuid)?.pool.reserves())
    }

    /// The pool as swaps price it (`SubnetTAO`, `SubnetAlphaIn`, `SubnetAlphaOut`,
    /// `Swap::SwapBalancer`, `Swap::FeeRate`).
    pub fn swap_pool(&self, at: BlockNumber, netuid: NetUid) -> Result<crate::types::SwapPool> {
        let pool = self.subnet_at(at, netuid)?.pool;
        Ok(crate::types::SwapPool {
            reserves: pool.reserves(),
            quote_weight: pool.weight_tao,
            fee_rate: self.config.swap_fee_rate,
        })
    }

    /// Tempo.
    pub fn tempo(&self, at: BlockNumber, netuid: NetUid) -> Result<u16> {
        Ok(self.subnet_at(at, netuid)?.schedule.tempo)
    }

    /// The epoch schedule state at the end of block `at`.
    pub fn epoch_schedule(&self, at: BlockNumber, netuid: NetUid) -> Result<EpochSchedule> {
        Ok(self.subnet_at(at, netuid)?.schedule)
    }

    /// Neurons with their stake and permits (top `max_validators` by stake, ties by uid).
    pub fn neurons(&self, at: BlockNumber, netuid: NetUid) -> Result<Vec<Neuron>> {
        self.neurons_of(self.subnet_at(at, netuid)?, at, netuid)
    }

    fn neurons_of(&self, sn: &Subnet, at: BlockNumber, netuid: NetUid) -> Result<Vec<Neuron>> {
        let mut out = Vec::with_capacity(sn.neurons.len());
        for rec in sn.neurons.iter() {
            out.push(Neuron {
                uid: rec.uid,
                hotkey: rec.hotkey,
                coldkey: rec.coldkey,
                stake: self.ledger.hotkey_total(at, &rec.hotkey, netuid)?,
                validator_permit: false,
                registered_at: rec.registered_at,
                axon: rec.axon,
            });
        }
        let mut ranked: Vec<(u64, u16)> = out
            .iter()
            .filter(|n| n.stake > 0)
            .map(|n| (n.stake, n.uid))
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.truncate(usize::from(self.config.max_validators));
        for (_, uid) in ranked {
            if let Some(n) = out.iter_mut().find(|n| n.uid == uid) {
                n.validator_permit = true;
            }
        }
        Ok(out)
    }

    /// `SubnetOwner`.
    pub fn subnet_owner(&self, at: BlockNumber, netuid: NetUid) -> Result<AccountId> {
        Ok(self.subnet_at(at, netuid)?.owner)
    }

    /// `TransferToggle`.
    pub fn transfers_enabled(&self, at: BlockNumber, netuid: NetUid) -> Result<bool> {
        Ok(self.subnet_at(at, netuid)?.transfers_enabled)
    }

    /// Commit-reveal settings.
    pub fn weights_settings(&self, at: BlockNumber, netuid: NetUid) -> Result<WeightsSettings> {
        let sn = self.subnet_at(at, netuid)?;
        Ok(WeightsSettings {
            commit_reveal_enabled: sn.commit_reveal_enabled,
            reveal_period_epochs: sn.schedule.reveal_period_epochs,
            commit_reveal_version: crate::api::COMMIT_REVEAL_VERSION,
            version_key: sn.weights_version_key,
            min_allowed_weights: sn.min_allowed_weights,
        })
    }

    /// A weights row.
    pub fn weights(
        &self,
        at: BlockNumber,
        netuid: NetUid,
        mecid: u8,
        uid: u16,
    ) -> Result<Vec<(u16, u16)>> {
        Ok(self
            .subnet_at(at, netuid)?
            .weights
            .get(&(mecid, uid))
            .cloned()
            .unwrap_or_default())
    }

    /// The clock at a block.
    pub fn chain_time(&self, at: BlockNumber) -> Result<u64> {
        self.check_produced(at)?;
        Ok(self.time_of(at))
    }

    /// The local beacon.
    pub fn beacon(&self) -> BeaconInfo {
        self.beacon_info.clone()
    }

    /// A block's extrinsics: the timestamp inherent, then what was submitted.
    pub fn block_extrinsics(&self, number: BlockNumber) -> Result<Vec<Extrinsic>> {
        self.check_produced(number)?;
        let mut out = vec![Extrinsic {
            index: 0,
            signer: None,
            call: Call::Other {
                pallet: "Timestamp".into(),
                call: "set".into(),
            },
            events: vec![Event::ExtrinsicSuccess],
            success: true,
        }];
        if let Some(list) = self.blocks.get(&number) {
            out.extend(list.iter().cloned());
        }
        Ok(out)
    }

    // ----- writes -------------------------------------------------------------------------------

    /// Includes a signed call in a new block; a failed dispatch is included too (with
    /// `ExtrinsicFailed`) and returned as [`Error::Dispatch`].
    pub fn submit(&mut self, signer: Option<AccountId>, call: Call) -> Result<Inclusion> {
        // The transaction extension's refusals come before any block, as a node's pool gives them.
        if let Some(who) = signer {
            if let Some(code) = self.weights_refusal(who, &call)? {
                return Err(Error::Refused {
                    call: call.name(),
                    validity: crate::error::Invalidity::custom(code),
                });
            }
        }
        let dispatched = call.clone();
        self.include(signer, call, move |sim, who| sim.dispatch(who, &dispatched))
    }

    fn include<F>(&mut self, signer: Option<AccountId>, call: Call, apply: F) -> Result<Inclusion>
    where
        F: FnOnce(&mut Simulator, AccountId) -> Result<Vec<Event>, DispatchError>,
    {
        let signer = signer.ok_or_else(|| Error::invalid("signer", "a write needs a signer"))?;
        self.begin_block()?;
        // The runtime runs every extrinsic in a storage transaction: a failed one changes nothing.
        let outcome = self.transactional(|sim| apply(sim, signer));
        let (events, failure) = match outcome {
            Ok(mut events) => {
                events.push(Event::ExtrinsicSuccess);
                (events, None)
            }
            Err(error) => (
                vec![Event::ExtrinsicFailed {
                    error: error.clone(),
                }],
                Some(error),
            ),
        };
        let block = self.head;
        let name = call.name();
        self.blocks.entry(block).or_default().push(Extrinsic {
            index: 1,
            signer: Some(signer),
            call,
            events: events.clone(),
            success: failure.is_none(),
        });
        self.finish_block();
        match failure {
            Some(error) => Err(Error::Dispatch {
                call: name,
                block,
                error,
            }),
            None => Ok(Inclusion {
                block: self.block_ref(block),
                index: 1,
                events,
            }),
        }
    }

    fn dispatch(&mut self, who: AccountId, call: &Call) -> Result<Vec<Event>, DispatchError> {
        match call {
            Call::Remark { data } => Ok(vec![Event::Remarked {
                sender: who,
                hash: blake2_256(data),
            }]),
            Call::TransferStake(t) => self.do_transfer_stake(who, t),
            Call::AddStake {
                hotkey,
                netuid,
                amount_staked,
            } => self.do_add_stake(who, *hotkey, *netuid, *amount_staked),
            Call::RemoveStake {
                hotkey,
                netuid,
                amount_unstaked,
            } => self.do_remove_stake(who, *hotkey, *netuid, *amount_unstaked),
            Call::BatchAll { calls } => self.do_batch_all(who, calls),
            Call::SetCommitment { netuid, data } => self.do_set_commitment(who, *netuid, data),
            Call::SetMechanismWeights {
                netuid,
                mecid,
                dests,
                weights,
                version_key,
            } => self.do_set_weights(who, *netuid, *mecid, dests, weights, *version_key),
            Call::CommitTimelockedMechanismWeights {
                netuid,
                mecid,
                commit,
                reveal_round,
                commit_reveal_version,
            } => self.do_commit_timelocked(
                who,
                *netuid,
                *mecid,
                commit,
                *reveal_round,
                *commit_reveal_version,
            ),
            Call::ServeAxon {
                netuid,
                version,
                ip,
                port,
                ip_type,
                protocol,
            } => {
                let block = self.head;
                let sn = self
                    .subnets
                    .get_mut(netuid)
                    .ok_or_else(|| subtensor("SubnetNotExists"))?;
                let rec = Arc::make_mut(&mut sn.neurons)
                    .iter_mut()
                    .find(|r| r.hotkey == who)
                    .ok_or_else(|| subtensor("HotKeyNotRegisteredInSubNet"))?;
                rec.axon = Some(AxonInfo {
                    block,
                    version: *version,
                    ip: *ip,
                    port: *port,
                    ip_type: *ip_type,
                    protocol: *protocol,
                });
                Ok(vec![Event::AxonServed {
                    netuid: *netuid,
                    hotkey: who,
                }])
            }
            Call::Other { .. } => Err(dispatch_error("", "CallFiltered")),
        }
    }

    /// Runs `f` in a storage transaction: the outermost call opens a ledger savepoint and keeps
    /// copies of the subnets and balances, and a failure restores all three; nested calls (a
    /// batch inside an extrinsic) belong to the outermost one.
    fn transactional<F>(&mut self, f: F) -> Result<Vec<Event>, DispatchError>
    where
        F: FnOnce(&mut Simulator) -> Result<Vec<Event>, DispatchError>,
    {
        let outermost = self.batch_depth == 0;
        let saved = if outermost {
            self.ledger.begin().map_err(internal)?;
            Some((self.subnets.clone(), self.balances.clone()))
        } else {
            None
        };
        self.batch_depth = self.batch_depth.saturating_add(1);
        let result = f(self);
        self.batch_depth = self.batch_depth.saturating_sub(1);
        if let Some((subnets, balances)) = saved {
            match &result {
                Ok(_) => self.ledger.commit().map_err(internal)?,
                Err(_) => {
                    self.ledger.rollback().map_err(internal)?;
                    self.subnets = subnets;
                    self.balances = balances;
                }
            }
        }
        result
    }

    fn do_batch_all(
        &mut self,
        who: AccountId,
        calls: &[Call],
    ) -> Result<Vec<Event>, DispatchError> {
        self.transactional(|sim| {
            let mut events = Vec::new();
            for call in calls {
                events.extend(sim.dispatch(who, call)?);
                events.push(Event::ItemCompleted);
            }
            events.push(Event::BatchCompleted);
            Ok(events)
        })
    }

    fn hotkey_exists(&self, hotkey: &AccountId) -> bool {
        self.subnets.values().any(|sn| sn.uid_of(hotkey).is_some())
    }

    fn do_transfer_stake(
        &mut self,
        who: AccountId,
        t: &TransferStake,
    ) -> Result<Vec<Event>, DispatchError> {
        let origin = self
            .subnets
            .get(&t.origin_netuid)
            .ok_or_else(|| subtensor("SubnetNotExists"))?;
        let destination = self
            .subnets
            .get(&t.destination_netuid)
            .ok_or_else(|| subtensor("SubnetNotExists"))?;
        if !self.hotkey_exists(&t.hotkey) {
            return Err(subtensor("HotKeyAccountNotExists"));
        }
        if who != t.destination_coldkey
            && (!origin.transfers_enabled || !destination.transfers_enabled)
        {
            return Err(subtensor("TransferDisallowed"));
        }
        if t.alpha_amount == 0 {
            return Err(subtensor("AmountTooLow"));
        }
        let from = StakeKey {
            coldkey: who,
            hotkey: t.hotkey,
            netuid: t.origin_netuid,
        };
        let to = StakeKey {
            coldkey: t.destination_coldkey,
            hotkey: t.hotkey,
            netuid: t.destination_netuid,
        };
        let available = self.ledger.stake(self.head, &from).map_err(internal)?;
        if available == 0 {
            return Err(subtensor("NotEnoughStakeToWithdraw"));
        }
        // The runtime clamps the request to what the origin holds.
        let amount = t.alpha_amount.min(available);
        // Locks (`transfer_lock`, `validate_stake_transition`): the part beyond the coldkey's
        // unlocked alpha on the subnet moves with its lock, to a destination that accepts locked
        // alpha (no account of the simulator sets `AccountFlags`' bit); across subnets it cannot
        // move at all.
        if who != t.destination_coldkey || t.origin_netuid != t.destination_netuid {
            let free = self
                .unlocked_now(who, t.origin_netuid)
                .map_err(internal)?
                .unwrap_or(u64::MAX);
            if amount > free {
                return Err(subtensor(if t.origin_netuid != t.destination_netuid {
                    "StakeUnavailable"
                } else {
                    "AccountRejectsLockedAlpha"
                }));
            }
        }
        let tao_value = origin.pool.value(amount);
        if tao_value < self.config.min_stake {
            return Err(subtensor("AmountTooLow"));
        }
        let (tao, received) = if t.origin_netuid == t.destination_netuid {
            self.ledger.debit(&from, amount).map_err(internal)?;
            self.ledger.credit(&to, amount).map_err(internal)?;
            (tao_value, amount)
        } else {
            self.ledger.debit(&from, amount).map_err(internal)?;
            let tao = self
                .subnets
                .get_mut(&t.origin_netuid)
                .ok_or_else(|| subtensor("SubnetNotExists"))?
                .pool
                .sell_alpha(amount)
                .map_err(swap_error)?;
            let bought = self
                .subnets
                .get_mut(&t.destination_netuid)
                .ok_or_else(|| subtensor("SubnetNotExists"))?
                .pool
                .buy_alpha(tao)
                .map_err(swap_error)?;
            self.ledger.credit(&to, bought).map_err(internal)?;
            (tao, bought)
        };
        Ok(vec![
            Event::StakeRemoved(StakeEvent {
                coldkey: who,
                hotkey: t.hotkey,
                tao,
                alpha: amount,
                netuid: t.origin_netuid,
                fee: 0,
            }),
            Event::StakeAdded(StakeEvent {
                coldkey: t.destination_coldkey,
                hotkey: t.hotkey,
                tao,
                alpha: received,
                netuid: t.destination_netuid,
                fee: 0,
            }),
            Event::StakeTransferred {
                origin_coldkey: who,
                destination_coldkey: t.destination_coldkey,
                hotkey: t.hotkey,
                origin_netuid: t.origin_netuid,
                destination_netuid: t.destination_netuid,
                tao,
            },
        ])
    }

    fn credit_balance(&mut self, account: AccountId, tao: u64) -> Result<(), DispatchError> {
        let balances = Arc::make_mut(&mut self.balances);
        let entry = balances.entry(account).or_insert(0);
        *entry = entry
            .checked_add(tao)
            .ok_or_else(|| dispatch_error("Balances", "Overflow"))?;
        Ok(())
    }

    fn debit_balance(&mut self, account: AccountId, tao: u64) -> Result<(), DispatchError> {
        let balances = Arc::make_mut(&mut self.balances);
        let entry = balances.entry(account).or_insert(0);
        *entry = entry
            .checked_sub(tao)
            .ok_or_else(|| subtensor("NotEnoughBalanceToStake"))?;
        Ok(())
    }

    /// The swap pallet's fee on `amount` of a swap's input (`calculate_fee_amount`).
    fn swap_fee(&self, amount: u64) -> u64 {
        crate::balancer::fee_amount(amount, self.config.swap_fee_rate)
    }

    /// `add_stake` (`staking/add_stake.rs`, `validate_add_stake`, `stake_into_subnet`): at least
    /// the minimum stake plus its fee, at most 1000 times the TAO reserve, from the free balance;
    /// the fee is taken from the TAO (burned: the simulator has no block author), the rest swaps
    /// into the pool. `StakeAdded` carries the whole amount, the alpha bought and the fee.
    fn do_add_stake(
        &mut self,
        who: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        tao: u64,
    ) -> Result<Vec<Event>, DispatchError> {
        let min_stake = self.config.min_stake;
        let min_amount = min_stake.saturating_add(self.swap_fee(min_stake));
        let fee = self.swap_fee(tao);
        let net = tao.saturating_sub(fee);
        let sn = self
            .subnets
            .get(&netuid)
            .ok_or_else(|| subtensor("SubnetNotExists"))?;
        if tao
            > sn.pool
                .tao_in
                .saturating_mul(MAX_SWAP_INPUT_RESERVE_MULTIPLIER)
        {
            return Err(subtensor("InsufficientLiquidity"));
        }
        if tao < min_amount || net < min_stake {
            return Err(subtensor("AmountTooLow"));
        }
        let free = self.balances.get(&who).copied().unwrap_or(0);
        if free < tao {
            return Err(subtensor("NotEnoughBalanceToStake"));
        }
        if !self.hotkey_exists(&hotkey) {
            return Err(subtensor("HotKeyAccountNotExists"));
        }
        self.debit_balance(who, tao)?;
        let sn = self
            .subnets
            .get_mut(&netuid)
            .ok_or_else(|| subtensor("SubnetNotExists"))?;
        let alpha = sn.pool.buy_alpha(net).map_err(swap_error)?;
        let key = StakeKey {
            coldkey: who,
            hotkey,
            netuid,
        };
        self.ledger.credit(&key, alpha).map_err(internal)?;
        Ok(vec![Event::StakeAdded(StakeEvent {
            coldkey: who,
            hotkey,
            tao,
            alpha,
            netuid,
            fee,
        })])
    }

    /// `remove_stake` (`staking/remove_stake.rs`, `validate_remove_stake`,
    /// `unstake_from_subnet`): the amount is clamped to the position; unless that empties it, the
    /// TAO it swaps to must be at least the minimum stake. The fee is taken from the alpha (burned),
    /// the rest swaps out of the pool and the TAO is credited to the free balance. `StakeRemoved`
    /// carries the TAO paid, the alpha swapped (net of the fee) and the fee.
    fn do_remove_stake(
        &mut self,
        who: AccountId,
        hotkey: AccountId,
        netuid: NetUid,
        alpha: u64,
    ) -> Result<Vec<Event>, DispatchError> {
        let key = StakeKey {
            coldkey: who,
            hotkey,
            netuid,
        };
        if !self.subnets.contains_key(&netuid) {
            return Err(subtensor("SubnetNotExists"));
        }
        let available = self.ledger.stake(self.head, &key).map_err(internal)?;
        let amount = alpha.min(available);
        if amount == 0 {
            return Err(subtensor("AmountTooLow"));
        }
        if !self.hotkey_exists(&hotkey) {
            return Err(subtensor("HotKeyAccountNotExists"));
        }
        // `ensure_available_to_unstake`: locked alpha stays staked.
        let free = self
            .unlocked_now(who, netuid)
            .map_err(internal)?
            .unwrap_or(u64::MAX);
        if amount > free {
            return Err(subtensor("StakeUnavailable"));
        }
        let fee = self.swap_fee(amount);
        let net = amount - fee;
        let min_stake = self.config.min_stake;
        let sn = self
            .subnets
            .get_mut(&netuid)
            .ok_or_else(|| subtensor("SubnetNotExists"))?;
        let mut quote = sn.pool;
        let tao = quote.sell_alpha(net).map_err(swap_error)?;
        if amount < available && tao < min_stake {
            return Err(subtensor("AmountTooLow"));
        }
        sn.pool = quote;
        // The fee's alpha leaves circulation (no block author to swap it for).
        sn.pool.alpha_out = sn.pool.alpha_out.saturating_sub(fee);
        self.ledger.debit(&key, amount).map_err(internal)?;
        self.credit_balance(who, tao)?;
        Ok(vec![Event::StakeRemoved(StakeEvent {
            coldkey: who,
            hotkey,
            tao,
            alpha: net,
            netuid,
            fee,
        })])
    }

    fn do_set_commitment(
        &mut self,
        who: AccountId,
        netuid: NetUid,
        data: &[u8],
    ) -> Result<Vec<Event>, DispatchError> {
        if data.len() > COMMITMENT_FIELD_BYTES * COMMITMENT_MAX_FIELDS {
            return Err(dispatch_error(
                "Commitments",
                "TooManyFieldsInCommitmentInfo",
            ));
        }
        let block = self.head;
        let max_space = self.config.commitment_max_space;
        let sn = self
            .subnets
            .get_mut(&netuid)
            .ok_or_else(|| subtensor("SubnetNotExists"))?;
        if sn.uid_of(&who).is_none() {
            return Err(dispatch_error("Commitments", "AccountNotAllowedCommit"));
        }
        // `UsedSpaceOf`: at least 100 bytes a commitment, reset when the epoch index moves.
        let epoch = sn.schedule.subnet_epoch_index;
        let cost = crate::types::CommitmentSpace::cost(data.len());
        let (last, used) = sn.commitment_usage.get(&who).copied().unwrap_or((0, 0));
        let used = if last == epoch { used } else { 0 };
        if used.saturating_add(cost) > max_space {
            return Err(dispatch_error("Commitments", "SpaceLimitExceeded"));
        }
        Arc::make_mut(&mut sn.commitment_usage).insert(who, (epoch, used.saturating_add(cost)));
        Arc::make_mut(&mut sn.commitments).insert(
            who,
            Commitment {
                hotkey: who,
                block,
                data: data.to_vec(),
            },
        );
        Ok(vec![Event::Commitment { netuid, who }])
    }

    fn do_set_weights(
        &mut self,
        who: AccountId,
        netuid: NetUid,
        mecid: u8,
        dests: &[u16],
        weights: &[u16],
        version_key: u64,
    ) -> Result<Vec<Event>, DispatchError> {
        let current = self
            .subnets
            .get(&netuid)
            .ok_or_else(|| subtensor("SubnetNotExists"))?;
        let permits = self
            .neurons_of(current, self.head, netuid)
            .map_err(internal)?;
        let min_stake = self
            .weights_min_stake(current, who, netuid)
            .map_err(internal)?;
        let sn = self
            .subnets
            .get_mut(&netuid)
            .ok_or_else(|| subtensor("SubnetNotExists"))?;
        if mecid >= sn.mechanism_count {
            return Err(subtensor("MechanismDoesNotExist"));
        }
        let uid = sn
            .uid_of(&who)
            .ok_or_else(|| subtensor("HotKeyNotRegisteredInSubNet"))?;
        if !min_stake {
            return Err(subtensor("NotEnoughStakeToSetWeights"));
        }
        if !version_key_passes(sn, version_key) {
            return Err(subtensor("IncorrectWeightVersionKey"));
        }
        if sn.commit_reveal_enabled {
            return Err(subtensor("CommitRevealEnabled"));
        }
        if !rate_limit_passes(sn, mecid, uid, self.head) {
            return Err(subtensor("SettingWeightsTooFast"));
        }
        let row = check_weights(sn, uid, dests, weights, &permits)?;
        Arc::make_mut(&mut sn.weights).insert((mecid, uid), row);
        Arc::make_mut(&mut sn.last_update).insert((mecid, uid), self.head);
        Ok(vec![Event::WeightsSet {
            netuid_index: netuid_index(netuid, mecid),
            uid,
        }])
    }

    fn do_commit_timelocked(
        &mut self,
        who: AccountId,
        netuid: NetUid,
        mecid: u8,
        commit: &[u8],
        reveal_round: u64,
        version: u16,
    ) -> Result<Vec<Event>, DispatchError> {
        let block = self.head;
        let sn = self
            .subnets
            .get_mut(&netuid)
            .ok_or_else(|| subtensor("SubnetNotExists"))?;
        if mecid >= sn.mechanism_count {
            return Err(subtensor("MechanismDoesNotExist"));
        }
        let uid = sn
            .uid_of(&who)
            .ok_or_else(|| subtensor("HotKeyNotRegisteredInSubNet"))?;
        if !sn.commit_reveal_enabled {
            return Err(subtensor("CommitRevealDisabled"));
        }
        if version != crate::api::COMMIT_REVEAL_VERSION {
            return Err(subtensor("IncorrectCommitRevealVersion"));
        }
        if !rate_limit_passes(sn, mecid, uid, block) {
            return Err(subtensor("CommittingWeightsTooFast"));
        }
        // Filed under the look-ahead epoch after this block's coinbase (`weights.rs:345`).
        let commit_epoch = epochs::current_epoch_with_lookahead(&sn.schedule, block);
        let unrevealed = sn
            .pending
            .iter()
            .filter(|c| c.who == who && c.commit_epoch == commit_epoch && c.mecid == mecid)
            .count();
        if unrevealed >= MAX_UNREVEALED_COMMITS {
            return Err(subtensor("TooManyUnrevealedCommits"));
        }
        Arc::make_mut(&mut sn.last_update).insert((mecid, uid), block);
        Arc::make_mut(&mut sn.pending).push(PendingCommit {
            who,
            uid,
            mecid,
            commit: commit.to_vec(),
            reveal_round,
            commit_epoch,
        });
        Ok(vec![Event::TimelockedWeightsCommitted {
            who,
            netuid_index: netuid_index(netuid, mecid),
            commit_hash: blake2_256(commit),
            reveal_round,
        }])
    }
}

/// `check_length` (`subnets/weights.rs:1174`): a self-weight, or at least
/// `min(MinAllowedWeights, subnet size)` entries (zeros count).
fn length_passes(sn: &Subnet, uid: u16, dests: &[u16]) -> bool {
    let required = usize::from(sn.min_allowed_weights).min(sn.neurons.len());
    dests == [uid] || dests.len() >= required
}

/// `check_version_key` (`subnets/weights.rs`): the subnet's key is 0, or the weights' key is at
/// least it.
fn version_key_passes(sn: &Subnet, version_key: u64) -> bool {
    sn.weights_version_key == 0 || version_key >= sn.weights_version_key
}

/// `check_rate_limit` (`subnets/weights.rs:1104`): never set, or at least `WeightsSetRateLimit`
/// blocks since the uid's `LastUpdate` on this mechanism.
fn rate_limit_passes(sn: &Subnet, mecid: u8, uid: u16, block: BlockNumber) -> bool {
    match sn.last_update.get(&(mecid, uid)) {
        None | Some(0) => true,
        Some(last) => block.saturating_sub(*last) >= sn.weights_rate_limit,
    }
}

fn check_weights(
    sn: &Subnet,
    uid: u16,
    dests: &[u16],
    weights: &[u16],
    neurons: &[Neuron],
) -> Result<Vec<(u16, u16)>, DispatchError> {
    if dests.len() != weights.len() {
        return Err(subtensor("WeightVecNotEqualSize"));
    }
    if dests.iter().any(|d| usize::from(*d) >= sn.neurons.len()) {
        return Err(subtensor("UidVecContainInvalidOne"));
    }
    let self_only = dests.iter().all(|d| *d == uid);
    let permitted = neurons.iter().any(|n| n.uid == uid && n.validator_permit);
    if !self_only && !permitted {
        return Err(subtensor("NeuronNoValidatorPermit"));
    }
    if !length_passes(sn, uid, dests) {
        return Err(subtensor("WeightVecLengthIsLow"));
    }
    Ok(dests.iter().copied().zip(weights.iter().copied()).collect())
}

/// Whether [`reveal_due`] would apply a commit of `sn` at `block` with the beacon at `round`.
fn reveal_is_due(sn: &Subnet, block: BlockNumber, round: u64) -> bool {
    let current = epochs::current_epoch_with_lookahead(&sn.schedule, block);
    let period = sn.schedule.reveal_period_epochs;
    let reveal_epoch = current.saturating_sub(period);
    current >= period
        && sn
            .pending
            .iter()
            .any(|c| c.commit_epoch == reveal_epoch && round >= c.reveal_round)
}

/// The chain's reveal step for one subnet at `block`, before the block's coinbase
/// (`coinbase/reveal_commits.rs:39-201`): the reveal epoch is the look-ahead epoch minus the
/// reveal period; commits of earlier epochs are deleted (lost), commits of the reveal epoch whose
/// round the beacon has reached are decrypted and applied, the others wait for the next block. A
/// commit that does not decrypt, decode, or match its committer is dropped, as the chain drops it;
/// so is one the chain's `set_weights` checks refuse (`reveal_commits.rs`: the error is logged and
/// the commit deleted, no event): a version key below `WeightsVersionKey`, or weights on other
/// uids from a hotkey without a validator permit (`permitted`).
fn reveal_due(
    sn: &mut Subnet,
    netuid: NetUid,
    block: BlockNumber,
    round: u64,
    beacon: &LocalBeacon,
    permitted: &std::collections::BTreeSet<u16>,
) {
    if sn.pending.is_empty() {
        return;
    }
    let current = epochs::current_epoch_with_lookahead(&sn.schedule, block);
    let period = sn.schedule.reveal_period_epochs;
    let reveal_epoch = current.saturating_sub(period);
    let before = sn.pending.len();
    let (due, waiting): (Vec<PendingCommit>, Vec<PendingCommit>) = sn
        .pending
        .iter()
        .filter(|c| c.commit_epoch >= reveal_epoch)
        .cloned()
        .partition(|c| {
            current >= period && c.commit_epoch == reveal_epoch && round >= c.reveal_round
        });
    let expired = before - due.len() - waiting.len();
    if expired > 0 {
        tracing::debug!(target: "tao20::sim", netuid, block, expired, "commits past their reveal epoch deleted unrevealed");
    }
    if due.is_empty() && expired == 0 {
        return;
    }
    sn.pending = Arc::new(waiting);
    for c in due {
        let payload = beacon
            .signature(c.reveal_round)
            .and_then(|sig| drand::decrypt_payload(&c.commit, &sig));
        match payload {
            Ok(p) if p.hotkey == c.who.0 && p.uids.len() == p.values.len() => {
                if p.uids.iter().any(|u| usize::from(*u) >= sn.neurons.len()) {
                    tracing::debug!(target: "tao20::sim", netuid, uid = c.uid, "revealed weights name unknown uids; dropped");
                    continue;
                }
                if !version_key_passes(sn, p.version_key) {
                    tracing::debug!(target: "tao20::sim", netuid, uid = c.uid, key = p.version_key, "revealed weights carry an old version key; dropped");
                    continue;
                }
                if !permitted.contains(&c.uid) && p.uids.iter().any(|u| *u != c.uid) {
                    tracing::debug!(target: "tao20::sim", netuid, uid = c.uid, "revealed weights of a hotkey without a permit; dropped");
                    continue;
                }
                if !length_passes(sn, c.uid, &p.uids) {
                    tracing::debug!(target: "tao20::sim", netuid, uid = c.uid, n = p.uids.len(), "revealed weights name fewer uids than MinAllowedWeights; dropped");
                    continue;
                }
                let row = p
                    .uids
                    .iter()
                    .copied()
                    .zip(p.values.iter().copied())
                    .collect();
                Arc::make_mut(&mut sn.weights).insert((c.mecid, c.uid), row);
                tracing::debug!(target: "tao20::sim", netuid, uid = c.uid, block, "timelocked weights revealed");
            }
            Ok(_) => {
                tracing::debug!(target: "tao20::sim", netuid, uid = c.uid, "payload hotkey mismatch; dropped")
            }
            Err(e) => {
                tracing::debug!(target: "tao20::sim", netuid, uid = c.uid, %e, "commit does not decrypt; dropped")
            }
        }
    }
}

/// `blocks_until_next_auto_epoch` (`run_coinbase.rs:1109-1118`).
fn blocks_until_next_auto_epoch(s: &EpochSchedule, now: BlockNumber) -> u64 {
    if s.tempo == 0 {
        return u64::MAX;
    }
    s.last_epoch_block
        .saturating_add(u64::from(s.tempo))
        .saturating_sub(now)
}

/// `is_in_admin_freeze_window` (`utils/misc.rs:59-72`): a trigger is counting down, or the
/// automatic epoch is closer than the window.
fn in_admin_freeze_window(s: &EpochSchedule, now: BlockNumber, window: u64) -> bool {
    if s.tempo == 0 {
        return false;
    }
    if s.pending_epoch_at > 0 && s.pending_epoch_at > now {
        return true;
    }
    blocks_until_next_auto_epoch(s, now) < window
}

#[cfg(test)]
mod tests;
