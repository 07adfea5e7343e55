//! The subnet's two mechanisms, block by block, unattended: the keeper's price commitment, the
//! hashrate auction settled window by window, and the weights of both mechanisms once per subnet
//! epoch. The decisions are the pure crates' ([`tao20_auction::settle`], [`tao20_auction::window`],
//! [`tao20_auction::weights`], [`tao20_creation::weights`]); this module reads their inputs at the
//! right finalized blocks and hands back what the block transaction must store and do.
//!
//! A block is sensed, then decided: [`Mechanisms::step`] gathers what the block's decision reads
//! into a [`MechInputs`] (the chain's reads, the price feeds' cache, the stored telemetry,
//! settlements, mints and bans), and the pure [`decide`] names what else it needs until it has
//! all of it. The inputs are recorded with the block, so `tao20 validator replay` decides the
//! block again.
//!
//! - **Epochs.** Every finalized block, the subnet's schedule state is read; a block at which
//!   `SubnetEpochIndex` rose ran an epoch. The list of those blocks (from the first one seen, an
//!   anchor) is all [`tao20_auction::window::final_windows`] needs.
//! - **Windows.** Every final window without a stored result is settled, in order, from the
//!   commitments, neurons and emission split at its start and the keeper's own pool telemetry
//!   during it; a restart or an outage catches up the same way. Failed winners are banned.
//! - **Weights.** Once every window of an epoch is settled (early in the next epoch's window 1:
//!   window 5's end is known only when the next epoch has run), mechanism 1's weights pay the
//!   delivered hashrate and burn the rest; mechanism 0's pay the value created by
//!   `CreationMinted` records of the same epoch (a miner's uid is the subnet neuron owned by the
//!   coldkey that delivered). One submission per (mechanism, epoch), ever.
//! - **Price commitment.** `1;p;ALPHA_TAO=…;HASHP_USDC=…;TAO_USDC=…;cap=…` with the ban bitmap of
//!   the last 12 hours, published when it changes or before it goes stale, within the commitments
//!   pallet's space allowance per subnet epoch (3 100 units, a commitment costing at least 100).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, RwLock};

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};
use tao20_auction::bids::{recent_ban_bitmap, PostedCommitment};
use tao20_auction::budget::BudgetParams;
use tao20_auction::commitment::{BidPolicy, Commitment, PriceCommitment};
use tao20_auction::delivery::{DeliveryParams, Telemetry};
use tao20_auction::settle::{self, AuctionParams, NeuronView, WindowInputs, WindowResult};
use tao20_auction::weights::{epoch_weights, PROTOCOL_UNUSED_BUDGET};
use tao20_auction::window::{self, Window};
use tao20_chain::types::{AccountId, EpochSchedule, Neuron};
use tao20_chain::Subtensor;
use tao20_core::Fp18;

use crate::config::MechanismsConfig;
use crate::store::mechanisms as stored;
use crate::store::Store;
use crate::{Error, Result};

/// The least space one commitment uses.
pub const COMMITMENT_MIN_SPACE: u64 = 100;

/// The mechanisms' persisted state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MechState {
    /// Blocks at which the subnet's epoch ran, ascending; the first is an anchor.
    pub epoch_blocks: Vec<u64>,
    /// `SubnetEpochIndex` at the last block seen.
    pub last_index: Option<u64>,
    /// Starts of settled windows.
    pub settled: BTreeSet<u64>,
    /// (mechanism, epoch block) whose weights were submitted.
    pub weighted: BTreeSet<(u8, u64)>,
    /// The last price commitment published: block and payload.
    pub last_commitment: Option<(u64, Vec<u8>)>,
    /// Space used in the commitments pallet this subnet epoch: (epoch index, used).
    pub commitment_space: (u64, u64),
    /// The pallet's `MaxSpace` as the chain said at this epoch's first commitment (0: not read).
    #[serde(default)]
    pub commitment_max_space: u64,
}

/// The latest TAO_USDC and HASHP_USDC readings (from the price feeds' task).
pub type PriceCache = Arc<RwLock<BTreeMap<String, Fp18>>>;

/// What of the configuration a mechanisms decision reads. It is recorded with every block, so
/// a replay needs no configuration and sees what the keeper decided with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MechParams {
    /// The auction's mechanism.
    pub auction_mecid: u8,
    /// The commitment's cap.
    pub cap: Fp18,
    /// The auction's gamma.
    pub gamma: Fp18,
    /// The highest price multiplier a bid may ask.
    pub max_price: Fp18,
    /// The share of the bought hashrate a winner must deliver.
    pub delivery_threshold: Fp18,
    /// The longest gap between pool samples a delivery tolerates.
    pub max_gap_blocks: u64,
    /// How far back a ban counts in the commitment's bitmap.
    pub ban_lookback_blocks: u64,
    /// Seconds per block, for a bid's age.
    pub block_time_secs: u64,
    /// The oldest bid accepted, in seconds.
    pub bid_max_age_secs: u64,
    /// From this block on only version-2 bids count.
    pub v2_only_from_block: Option<u64>,
    /// Blocks after which an unchanged commitment is published again.
    pub commitment_refresh_blocks: u64,
    /// The pool subaccount workers are named under.
    pub subaccount: Option<String>,
}

impl MechParams {
    /// The parameters of `cfg`.
    pub fn new(cfg: &MechanismsConfig) -> Self {
        Self {
            auction_mecid: cfg.auction_mecid,
            cap: cfg.cap,
            gamma: cfg.gamma,
            max_price: cfg.max_price,
            delivery_threshold: cfg.delivery_threshold,
            max_gap_blocks: cfg.max_gap_blocks,
            ban_lookback_blocks: cfg.ban_lookback_blocks,
            block_time_secs: cfg.block_time_secs,
            bid_max_age_secs: cfg.bid_max_age_secs,
            v2_only_from_block: cfg.v2_only_from_block,
            commitment_refresh_blocks: cfg.commitment_refresh_blocks,
            // Workers are named `subaccount.hotkey.worker` at the pool: match on the hotkey.
            subaccount: cfg.pool.as_ref().and_then(|p| {
                p.luxor
                    .as_ref()
                    .or(p.proxy.as_ref())
                    .and_then(|s| s.subaccount.clone())
            }),
        }
    }

    /// The auction's parameters.
    pub fn auction(&self) -> AuctionParams {
        AuctionParams {
            gamma: self.gamma,
            bids: BidPolicy {
                v2_only_from_block: self.v2_only_from_block,
                block_time_secs: self.block_time_secs,
                max_age_secs: self.bid_max_age_secs,
            },
            max_price: self.max_price,
            budget: BudgetParams::default(),
            delivery: DeliveryParams {
                threshold: self.delivery_threshold,
                max_gap_blocks: self.max_gap_blocks,
                subaccount: self.subaccount.clone(),
                ..DeliveryParams::default()
            },
        }
    }
}

/// What settling one window reads: the chain at its start and the keeper's pool samples
/// during it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowReads {
    /// The subnet's commitments.
    pub commitments: Vec<tao20_chain::types::Commitment>,
    /// The subnet's neurons.
    pub neurons: Vec<Neuron>,
    /// The emission split between the mechanisms.
    pub split: Vec<u16>,
    /// The keeper's pool samples with blocks in the window.
    pub telemetry: Telemetry,
}

/// Everything one block's mechanisms decision reads, gathered before it by
/// [`Mechanisms::step`] and recorded with the block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MechInputs {
    /// The subnet's epoch schedule at the block; `None`: the subnet does not exist there.
    pub schedule: Option<EpochSchedule>,
    /// The subnet's alpha price at the block.
    pub alpha: Option<u64>,
    /// The off-chain prices (TAO_USDC, HASHP_USDC) the price feeds last read.
    pub prices: BTreeMap<String, Fp18>,
    /// The bans stored within the commitment's lookback: (uid, block).
    pub bans: Vec<(u8, u64)>,
    /// The `CreationMinted` records the creation side decided at this block.
    pub fresh_mints: Vec<MintRow>,
    /// Each window this block settles, by start.
    pub windows: BTreeMap<u64, WindowReads>,
    /// The burn uid and the neurons at the block, when weights are due.
    pub current: Option<(u16, Vec<Neuron>)>,
    /// Stored settlements of each epoch whose mechanism-1 weights are due.
    pub settlements: BTreeMap<u64, Vec<tao20_auction::weights::WindowSettlement>>,
    /// Stored mints of each epoch whose mechanism-0 weights are due.
    pub mints: BTreeMap<u64, Vec<MintRow>>,
    /// The commitments pallet's allowance for this keeper, when the decision needed it.
    pub space: Option<tao20_chain::types::CommitmentSpace>,
}

/// A block's mechanisms record: the inputs and the parameters they were decided with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MechRecord {
    /// The parameters.
    pub params: MechParams,
    /// The inputs.
    pub inputs: MechInputs,
}

/// An input a decision found missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MechNeed {
    /// The reads of a window to settle.
    Window(Window),
    /// The burn uid and the neurons at the block.
    Current,
    /// The stored settlements of an epoch.
    Settlements(u64),
    /// The stored mints of the epoch at `.0`, blocks `.0..=.1`.
    Mints(u64, u64),
    /// The commitments pallet's allowance.
    Space,
}

/// What [`decide`] gives.
#[derive(Debug, Clone)]
pub enum MechOutcome {
    /// The state after the block and what the block decided.
    Decided(Box<(MechState, MechDecisions)>),
    /// Inputs the decision needs before it can be made.
    Needs(Vec<MechNeed>),
}

/// The subnet's reads of a block made ahead of it ([`Mechanisms::read_ahead`]).
#[derive(Debug, Clone, Default)]
pub struct MechAhead {
    /// The subnet's epoch schedule at the block.
    pub schedule: Option<EpochSchedule>,
    /// The subnet's alpha price at the block.
    pub alpha: Option<u64>,
}

/// What one block decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MechDecisions {
    /// Windows settled.
    pub windows: Vec<WindowResult>,
    /// Bans: (uid, hotkey, block, window start).
    pub bans: Vec<(u16, String, u64, u64)>,
    /// Weights to submit: (mechanism, epoch block, uids, values).
    pub weights: Vec<(u8, u64, Vec<u16>, Vec<u16>)>,
    /// A price commitment to publish.
    pub commitment: Option<Vec<u8>>,
}

/// One block's mechanisms step: the state after it, what it decided and its record.
#[derive(Debug, Clone)]
pub struct MechStep {
    /// The state after the block.
    pub state: MechState,
    /// What the block decided.
    pub decisions: MechDecisions,
    /// The block's inputs and parameters.
    pub record: MechRecord,
}

/// Passes of [`decide`] one block may take: what the first reveals due (windows, weights) is
/// read for the second, and a commitment's allowance for the third.
const MAX_PASSES: usize = 4;

fn lock(m: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A hotkey as the auction names it: ss58 (format 42), as miners' pool worker names carry it.
pub fn hotkey_name(a: &AccountId) -> String {
    tao20_wallet::ss58::encode(&a.0)
}

fn neuron_views(neurons: &[Neuron]) -> Vec<NeuronView> {
    neurons
        .iter()
        .map(|n| NeuronView {
            uid: n.uid,
            hotkey: hotkey_name(&n.hotkey),
            stake: u128::from(n.stake),
            validator_permit: n.validator_permit,
        })
        .collect()
}

/// The mechanisms of one subnet.
#[derive(Debug, Clone)]
pub struct Mechanisms {
    /// The subnet.
    pub netuid: u16,
    /// Their configuration.
    pub cfg: MechanismsConfig,
    /// This keeper's hotkey.
    pub hotkey: AccountId,
    /// What of the configuration the decisions read.
    pub params: MechParams,
}

impl Mechanisms {
    /// The mechanisms of `netuid` under `cfg`, for the keeper with `hotkey`.
    pub fn new(netuid: u16, cfg: MechanismsConfig, hotkey: AccountId) -> Self {
        let params = MechParams::new(&cfg);
        Self {
            netuid,
            cfg,
            hotkey,
            params,
        }
    }

    /// The subnet's reads at block `b` that depend on nothing decided: what a catching-up
    /// engine reads ahead of the block. A read that fails is left out (the block reads it again).
    pub async fn read_ahead<S: Subtensor>(&self, subtensor: &S, b: u64) -> MechAhead {
        let (schedule, alpha) = tokio::join!(
            subtensor.epoch_schedule(b, self.netuid),
            subtensor.current_alpha_price(b, self.netuid)
        );
        MechAhead {
            schedule: schedule.ok(),
            alpha: alpha.ok(),
        }
    }

    /// Block `b`: senses what the decision reads, decides, and reads and decides again while
    /// the decision names inputs it lacks. Nothing is written.
    #[allow(clippy::too_many_arguments)]
    pub async fn step<S: Subtensor>(
        &self,
        st: &MechState,
        b: u64,
        subtensor: &S,
        store: &Mutex<Store>,
        fresh_mints: &[MintRow],
        prices: &PriceCache,
        ahead: MechAhead,
    ) -> Result<MechStep> {
        let mut inputs = self
            .sense(b, subtensor, store, fresh_mints, prices, ahead)
            .await?;
        for _ in 0..MAX_PASSES {
            match decide(st, b, &inputs, &self.params)? {
                MechOutcome::Decided(decided) => {
                    let (state, decisions) = *decided;
                    for w in &decisions.windows {
                        tracing::info!(target: "keeper::auction", epoch = w.window.subnet_epoch_start,
                            index = w.window.index, start = w.window.start, end = w.window.end,
                            budget_ph = ?w.budget_ph.map(|b| b.to_string()), winners = w.winners.len(),
                            failed = w.failed.len(), skipped = ?w.skipped, "window settled");
                    }
                    return Ok(MechStep {
                        state,
                        decisions,
                        record: MechRecord {
                            params: self.params.clone(),
                            inputs,
                        },
                    });
                }
                MechOutcome::Needs(needs) => {
                    self.fetch(&mut inputs, &needs, b, subtensor, store).await?;
                }
            }
        }
        Err(Error::Store {
            what: format!("mechanisms at block {b}"),
            reason: format!("the decision still lacked inputs after {MAX_PASSES} passes"),
        })
    }

    /// What every block's decision reads: the schedule and alpha price (both read ahead when
    /// catching up), the price feeds' cache, the recent bans and the block's mints.
    async fn sense<S: Subtensor>(
        &self,
        b: u64,
        subtensor: &S,
        store: &Mutex<Store>,
        fresh_mints: &[MintRow],
        prices: &PriceCache,
        ahead: MechAhead,
    ) -> Result<MechInputs> {
        let (schedule, alpha) = tokio::join!(
            async {
                match ahead.schedule {
                    Some(s) => Ok(s),
                    None => subtensor.epoch_schedule(b, self.netuid).await,
                }
            },
            async {
                match ahead.alpha {
                    Some(a) => Ok(a),
                    None => subtensor.current_alpha_price(b, self.netuid).await,
                }
            }
        );
        let schedule = match schedule {
            Ok(s) => s,
            // The subnet does not exist at this block (the keeper started before it did).
            Err(tao20_chain::Error::NotFound { later: false, .. }) => {
                return Ok(MechInputs::default());
            }
            Err(e) => return Err(e.into()),
        };
        let alpha = alpha?;
        let cached = prices.read().map(|p| p.clone()).unwrap_or_default();
        let prices: BTreeMap<String, Fp18> = cached
            .into_iter()
            .filter(|(k, _)| k == settle::TAO_USDC || k == settle::HASHP_USDC)
            .collect();
        // The bans only go into a commitment, and without both off-chain prices there is none.
        let bans = if prices.len() == 2 {
            let since = b.saturating_sub(self.params.ban_lookback_blocks);
            stored::bans(lock(store).conn())?
                .into_iter()
                .filter(|(_, at)| (since..=b).contains(at))
                .collect()
        } else {
            Vec::new()
        };
        Ok(MechInputs {
            schedule: Some(schedule),
            alpha: Some(alpha),
            prices,
            bans,
            fresh_mints: fresh_mints.to_vec(),
            ..MechInputs::default()
        })
    }

    /// Reads what a decision named missing: the chain's reads together, then the store's.
    async fn fetch<S: Subtensor>(
        &self,
        inputs: &mut MechInputs,
        needs: &[MechNeed],
        b: u64,
        subtensor: &S,
        store: &Mutex<Store>,
    ) -> Result<()> {
        let windows: Vec<Window> = needs
            .iter()
            .filter_map(|n| match n {
                MechNeed::Window(w) => Some(*w),
                _ => None,
            })
            .collect();
        let current = needs.contains(&MechNeed::Current);
        let space = needs.contains(&MechNeed::Space);
        let (reads, current, space) = tokio::try_join!(
            futures_util::future::try_join_all(
                windows.iter().map(|w| self.window_reads(w, subtensor))
            ),
            async {
                if !current {
                    return Ok(None);
                }
                let (burn, neurons) = tokio::try_join!(
                    subtensor.burn_uid(b, self.netuid),
                    subtensor.neurons(b, self.netuid)
                )?;
                Ok::<_, Error>(Some((burn.unwrap_or(0), neurons)))
            },
            async {
                if !space {
                    return Ok(None);
                }
                Ok::<_, Error>(Some(
                    subtensor
                        .commitment_space(b, self.netuid, self.hotkey)
                        .await?,
                ))
            },
        )?;
        if current.is_some() {
            inputs.current = current;
        }
        if space.is_some() {
            inputs.space = space;
        }
        let s = lock(store);
        for (w, (commitments, neurons, split)) in windows.iter().zip(reads) {
            let telemetry = stored::telemetry(s.conn(), w.start, w.end)?;
            inputs.windows.insert(
                w.start,
                WindowReads {
                    commitments,
                    neurons,
                    split,
                    telemetry,
                },
            );
        }
        for n in needs {
            match *n {
                MechNeed::Settlements(epoch) => {
                    inputs
                        .settlements
                        .insert(epoch, stored::settlements(s.conn(), epoch)?);
                }
                MechNeed::Mints(epoch, to) => {
                    inputs
                        .mints
                        .insert(epoch, stored::mints(s.conn(), epoch, to)?);
                }
                MechNeed::Window(_) | MechNeed::Current | MechNeed::Space => {}
            }
        }
        Ok(())
    }

    /// What settling window `w` reads from the chain, at its start.
    async fn window_reads<S: Subtensor>(
        &self,
        w: &Window,
        subtensor: &S,
    ) -> Result<(Vec<tao20_chain::types::Commitment>, Vec<Neuron>, Vec<u16>)> {
        let at = w.start;
        Ok(tokio::try_join!(
            subtensor.commitments(at, self.netuid),
            subtensor.neurons(at, self.netuid),
            subtensor.mechanism_emission_split(at, self.netuid),
        )?)
    }
}

/// The epochs whose weights are due at `b` given the windows settled: (epoch, next epoch,
/// mechanism 1 due, mechanism 0 due).
fn due_weights(st: &MechState, b: u64, auction_mecid: u8) -> Result<Vec<(u64, u64, bool, bool)>> {
    let mut due = Vec::new();
    for pair in st.epoch_blocks.windows(2) {
        let (epoch, next) = (pair[0], pair[1]);
        if st.epoch_blocks.first() == Some(&epoch) {
            continue; // the anchor's own windows are not known
        }
        if !window::epoch_settled(&st.epoch_blocks, b, epoch, &st.settled)? {
            continue;
        }
        let m1 = !st.weighted.contains(&(auction_mecid, epoch));
        let m0 = !st.weighted.contains(&(0u8, epoch));
        if m1 || m0 {
            due.push((epoch, next, m1, m0));
        }
    }
    Ok(due)
}

/// Everything block `b` decides from `inputs`: epochs seen, windows settled, weights due, the
/// commitment. Pure: the same state, inputs and parameters give the same outcome on every
/// keeper and in a replay.
pub fn decide(
    before: &MechState,
    b: u64,
    inputs: &MechInputs,
    p: &MechParams,
) -> Result<MechOutcome> {
    let Some(sched) = inputs.schedule else {
        return Ok(MechOutcome::Decided(Box::new((
            before.clone(),
            MechDecisions::default(),
        ))));
    };
    let mut st = before.clone();
    let mut out = MechDecisions::default();
    // Windows are anchored on the block the chain ran the epoch at (`LastEpochBlock`), not on
    // the block this keeper noticed the index rise: a keeper whose mechanisms failed at the
    // epoch's block sees the rise a block later and would otherwise settle other windows
    // than its peers.
    match st.last_index {
        None => st.epoch_blocks.push(sched.last_epoch_block.min(b)),
        Some(prev) if sched.subnet_epoch_index > prev => {
            st.epoch_blocks.push(sched.last_epoch_block.min(b));
        }
        Some(_) => {}
    }
    st.last_index = Some(sched.subnet_epoch_index);
    st.epoch_blocks.dedup();
    // Keep what the windows and weights still need: the last few epochs.
    let keep = st.epoch_blocks.len().saturating_sub(8);
    st.epoch_blocks.drain(..keep);

    // An epoch's windows become final together and are settled in order.
    let pending = window::pending_windows(&st.epoch_blocks, b, &st.settled)?;
    st.settled.extend(pending.iter().map(|w| w.start));
    let first_kept = st
        .epoch_blocks
        .first()
        .copied()
        .unwrap_or(0)
        .saturating_sub(window::WINDOW_BLOCKS);
    st.settled.retain(|s| *s >= first_kept);
    let due = due_weights(&st, b, p.auction_mecid)?;

    let mut needs: Vec<MechNeed> = pending
        .iter()
        .filter(|w| !inputs.windows.contains_key(&w.start))
        .map(|w| MechNeed::Window(*w))
        .collect();
    if !due.is_empty() && inputs.current.is_none() {
        needs.push(MechNeed::Current);
    }
    for &(epoch, next, m1, m0) in &due {
        if m1 && !inputs.settlements.contains_key(&epoch) {
            needs.push(MechNeed::Settlements(epoch));
        }
        if m0 && !inputs.mints.contains_key(&epoch) {
            needs.push(MechNeed::Mints(epoch, next - 1));
        }
    }
    if !needs.is_empty() {
        return Ok(MechOutcome::Needs(needs));
    }

    let params = p.auction();
    for w in pending {
        let Some(reads) = inputs.windows.get(&w.start) else {
            continue; // asked for above
        };
        let result = settle_window(w, reads, p.auction_mecid, &params)?;
        for f in &result.failed {
            if let Some(uid) = f.uid {
                out.bans.push((uid, f.hotkey.clone(), w.end, w.start));
            }
        }
        out.windows.push(result);
    }

    // Weights of every epoch whose windows are all settled and not weighted yet.
    if let Some((burn, neurons)) = &inputs.current {
        for (epoch, next, m1, m0) in due {
            if m1 {
                let mut settlements = inputs.settlements.get(&epoch).cloned().unwrap_or_default();
                settlements.extend(
                    out.windows
                        .iter()
                        .filter(|r| r.window.subnet_epoch_start == epoch)
                        .filter_map(WindowResult::settlement),
                );
                let w = epoch_weights(&settlements, *burn, PROTOCOL_UNUSED_BUDGET)?;
                let (uids, values): (Vec<u16>, Vec<u16>) = w.weights.into_iter().unzip();
                out.weights.push((p.auction_mecid, epoch, uids, values));
                st.weighted.insert((p.auction_mecid, epoch));
            }
            if m0 {
                let mut mints = inputs.mints.get(&epoch).cloned().unwrap_or_default();
                mints.extend(
                    inputs
                        .fresh_mints
                        .iter()
                        .filter(|m| (epoch..next).contains(&m.block))
                        .cloned(),
                );
                let weights = mechanism0(&mints, neurons, epoch, next - 1, *burn)?;
                let (uids, values): (Vec<u16>, Vec<u16>) = weights
                    .iter()
                    .filter(|w| w.weight > 0)
                    .map(|w| (w.uid, w.weight))
                    .unzip();
                out.weights.push((0, epoch, uids, values));
                st.weighted.insert((0, epoch));
            }
        }
    }
    st.weighted
        .retain(|(_, e)| *e >= st.epoch_blocks.first().copied().unwrap_or(0));

    match commitment_due(&mut st, b, &sched, inputs, p, &out)? {
        Commit::Publish(payload) => out.commitment = Some(payload),
        Commit::Keep => {}
        Commit::NeedSpace => return Ok(MechOutcome::Needs(vec![MechNeed::Space])),
    }
    Ok(MechOutcome::Decided(Box::new((st, out))))
}

fn settle_window(
    w: Window,
    reads: &WindowReads,
    auction_mecid: u8,
    params: &AuctionParams,
) -> Result<WindowResult> {
    let commitments: Vec<PostedCommitment> = reads
        .commitments
        .iter()
        .map(|c| PostedCommitment {
            hotkey: hotkey_name(&c.hotkey),
            payload: c.data.clone(),
            block: c.block,
        })
        .collect();
    let neurons = neuron_views(&reads.neurons);
    let split = reads
        .split
        .get(usize::from(auction_mecid))
        .copied()
        .unwrap_or(0);
    Ok(settle::settle_window(&WindowInputs {
        window: w,
        commitments: &commitments,
        neurons: &neurons,
        split,
        telemetry: &reads.telemetry,
        params,
    })?)
}

enum Commit {
    Publish(Vec<u8>),
    Keep,
    NeedSpace,
}

fn commitment_due(
    st: &mut MechState,
    b: u64,
    sched: &EpochSchedule,
    inputs: &MechInputs,
    p: &MechParams,
    decided: &MechDecisions,
) -> Result<Commit> {
    let Some(alpha) = inputs.alpha else {
        return Ok(Commit::Keep);
    };
    let mut values = BTreeMap::new();
    values.insert(
        settle::ALPHA_TAO.to_string(),
        tao20_creation::pricing::spot_to_fp18(alpha),
    );
    for key in [settle::TAO_USDC, settle::HASHP_USDC] {
        match inputs.prices.get(key) {
            Some(v) => {
                values.insert(key.to_string(), *v);
            }
            // Without both off-chain prices the commitment would say nothing a window can
            // use; keep the previous one.
            None => return Ok(Commit::Keep),
        }
    }
    values.insert(settle::CAP.to_string(), p.cap);
    let mut bans = inputs.bans.clone();
    bans.extend(
        decided
            .bans
            .iter()
            .filter_map(|(uid, _, block, _)| u8::try_from(*uid).ok().map(|u| (u, *block))),
    );
    let bitmap = recent_ban_bitmap(&bans, b, p.ban_lookback_blocks);
    let commitment = Commitment::Price(PriceCommitment {
        prices: values,
        bans: Some(bitmap),
    });
    let payload = commitment.encode()?;
    let changed = st.last_commitment.as_ref().map(|(_, p)| p) != Some(&payload);
    let old = st
        .last_commitment
        .as_ref()
        .is_none_or(|(at, _)| b >= at + p.commitment_refresh_blocks);
    if !changed && !old {
        return Ok(Commit::Keep);
    }
    // The pallet's allowance: space per subnet epoch, reset when the epoch index moves. Its
    // size (`MaxSpace`, which governance sets) and what the chain already counts against this
    // hotkey come from the chain, read once an epoch (a read every block slowed a keeper
    // catching up); the state adds what this keeper decided since.
    let cost = u64::try_from(payload.len())
        .unwrap_or(u64::MAX)
        .max(COMMITMENT_MIN_SPACE);
    if st.commitment_space.0 != sched.subnet_epoch_index || st.commitment_max_space == 0 {
        let Some(space) = inputs.space else {
            return Ok(Commit::NeedSpace);
        };
        let used = if space.last_epoch == sched.subnet_epoch_index {
            space.used_space
        } else {
            0
        };
        let kept = if st.commitment_space.0 == sched.subnet_epoch_index {
            st.commitment_space.1
        } else {
            0
        };
        st.commitment_space = (sched.subnet_epoch_index, kept.max(used));
        st.commitment_max_space = space.max_space;
    }
    let max_space = st.commitment_max_space;
    if st.commitment_space.1 + cost > max_space {
        return Ok(Commit::Keep);
    }
    // Within one epoch the last commitments are kept for a change of bans, not of prices:
    // a price that moves every block must not exhaust the allowance.
    let reserve = 2 * cost;
    let bans_changed = st
        .last_commitment
        .as_ref()
        .and_then(|(_, p)| Commitment::decode(p).ok())
        .is_none_or(|c| match c {
            Commitment::Price(p) => p.bans != Some(bitmap),
            Commitment::Bid(_) => true,
        });
    if !old && !bans_changed && st.commitment_space.1 + cost + reserve > max_space {
        return Ok(Commit::Keep);
    }
    st.commitment_space.1 += cost;
    st.last_commitment = Some((b, payload.clone()));
    Ok(Commit::Publish(payload))
}

/// A `CreationMinted` record as the mechanisms read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MintRow {
    /// The miner's EVM address.
    pub miner: alloy_primitives::Address,
    /// The coldkey that delivered.
    pub coldkey: B256,
    /// Value created, rao.
    pub value_rao: alloy_primitives::U256,
    /// Block of the mint.
    pub block: u64,
}

/// Mechanism 0 over `[from, to]`: a miner's uid is the lowest uid of a subnet neuron owned by the
/// coldkey that delivered.
pub fn mechanism0(
    mints: &[MintRow],
    neurons: &[Neuron],
    from: u64,
    to: u64,
    burn_uid: u16,
) -> Result<Vec<tao20_creation::weights::UidWeight>> {
    use tao20_creation::weights::{mechanism0_weights, Miner, WeightParams};
    let mut miners: BTreeMap<alloy_primitives::Address, u16> = BTreeMap::new();
    for m in mints {
        if let Some(n) = neurons
            .iter()
            .filter(|n| n.coldkey.0 == m.coldkey.0)
            .min_by_key(|n| n.uid)
        {
            miners.entry(m.miner).or_insert(n.uid);
        }
    }
    let records: Vec<tao20_creation::lifecycle::MintRecord> = mints
        .iter()
        .map(|m| tao20_creation::lifecycle::MintRecord {
            request_id: B256::ZERO,
            miner: m.miner,
            epoch_id: 0,
            units: 0,
            value_rao: m.value_rao,
            shares_out: alloy_primitives::U256::ZERO,
            block: m.block,
        })
        .collect();
    let registry: Vec<Miner> = miners
        .into_iter()
        .map(|(address, uid)| Miner { address, uid })
        .collect();
    Ok(mechanism0_weights(
        &records,
        &registry,
        &WeightParams {
            from_block: from,
            to_block: to,
            burn_uid,
            target_value_rao: None,
        },
    )?)
}
