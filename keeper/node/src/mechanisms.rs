//! The subnet's two mechanisms, block by block, unattended: the keeper's price commitment, the
//! hashrate auction settled window by window, and the weights of both mechanisms once per subnet
//! epoch. The decisions are the pure crates' ([`tao20_auction::settle`], [`tao20_auction::window`],
//! [`tao20_auction::weights`], [`tao20_creation::weights`]); this module reads their inputs at the
//! right finalized blocks and hands back what the block transaction must store and do.
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
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use tao20_auction::bids::{recent_ban_bitmap, PostedCommitment};
use tao20_auction::budget::BudgetParams;
use tao20_auction::commitment::{BidPolicy, Commitment, PriceCommitment};
use tao20_auction::delivery::{DeliveryParams, Sample, Telemetry, WorkerReading};
use tao20_auction::settle::{self, AuctionParams, NeuronView, WindowInputs, WindowResult};
use tao20_auction::weights::{epoch_weights, PROTOCOL_UNUSED_BUDGET};
use tao20_auction::window::{self, Window};
use tao20_chain::types::{AccountId, EpochSchedule, Neuron};
use tao20_chain::Subtensor;
use tao20_core::Fp18;

use crate::config::MechanismsConfig;
use crate::store::{db, to_json, Store};
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

/// The chain's data a window is settled from.
struct WindowReads {
    commitments: Vec<tao20_chain::types::Commitment>,
    neurons: Vec<Neuron>,
    split: Vec<u16>,
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
#[derive(Debug, Clone, Default)]
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

fn lock(m: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
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
    /// The auction's parameters, from the configuration.
    pub params: AuctionParams,
}

impl Mechanisms {
    /// The mechanisms of `netuid` under `cfg`, for the keeper with `hotkey`.
    pub fn new(netuid: u16, cfg: MechanismsConfig, hotkey: AccountId) -> Self {
        let params = AuctionParams {
            gamma: cfg.gamma,
            bids: BidPolicy {
                v2_only_from_block: cfg.v2_only_from_block,
                block_time_secs: cfg.block_time_secs,
                max_age_secs: cfg.bid_max_age_secs,
            },
            max_price: cfg.max_price,
            budget: BudgetParams::default(),
            delivery: DeliveryParams {
                threshold: cfg.delivery_threshold,
                max_gap_blocks: cfg.max_gap_blocks,
                // Workers are named `subaccount.hotkey.worker` at the pool: match on the hotkey.
                subaccount: cfg.pool.as_ref().and_then(|p| {
                    p.luxor
                        .as_ref()
                        .or(p.proxy.as_ref())
                        .and_then(|s| s.subaccount.clone())
                }),
                ..DeliveryParams::default()
            },
        };
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

    /// Everything block `b` decides: epochs seen, windows settled, weights due, the commitment.
    #[allow(clippy::too_many_arguments)]
    pub async fn on_block<S: Subtensor>(
        &self,
        st: &mut MechState,
        b: u64,
        subtensor: &S,
        store: &Mutex<Store>,
        fresh_mints: &[MintRow],
        prices: &PriceCache,
        ahead: MechAhead,
    ) -> Result<MechDecisions> {
        let mut out = MechDecisions::default();
        let read = match ahead.schedule {
            Some(s) => Ok(s),
            None => subtensor.epoch_schedule(b, self.netuid).await,
        };
        let sched = match read {
            Ok(s) => s,
            // The subnet does not exist at this block (the keeper started before it did).
            Err(tao20_chain::Error::NotFound { later: false, .. }) => return Ok(out),
            Err(e) => return Err(e.into()),
        };
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

        // An epoch's windows become final together: their reads go out together, and they are
        // settled in order.
        let pending = window::pending_windows(&st.epoch_blocks, b, &st.settled)?;
        let reads = futures_util::future::try_join_all(
            pending.iter().map(|w| self.window_reads(w, subtensor)),
        )
        .await?;
        for (w, reads) in pending.into_iter().zip(reads) {
            let result = self.settle(w, reads, store)?;
            for f in &result.failed {
                if let Some(uid) = f.uid {
                    out.bans.push((uid, f.hotkey.clone(), w.end, w.start));
                }
            }
            st.settled.insert(w.start);
            out.windows.push(result);
        }
        let first_kept = st
            .epoch_blocks
            .first()
            .copied()
            .unwrap_or(0)
            .saturating_sub(window::WINDOW_BLOCKS);
        st.settled.retain(|s| *s >= first_kept);

        // Weights of every epoch whose windows are all settled and not weighted yet. The burn uid
        // and the neurons at this block are read once, together, when first needed.
        let mut current: Option<(u16, Vec<Neuron>)> = None;
        for pair in st.epoch_blocks.clone().windows(2) {
            let (epoch, next) = (pair[0], pair[1]);
            if st.epoch_blocks.first() == Some(&epoch) {
                continue; // the anchor's own windows are not known
            }
            if !window::epoch_settled(&st.epoch_blocks, b, epoch, &st.settled)? {
                continue;
            }
            let m1 = (self.cfg.auction_mecid, epoch);
            let m0 = (0u8, epoch);
            if st.weighted.contains(&m1) && st.weighted.contains(&m0) {
                continue;
            }
            let (burn, neurons) = match current {
                Some(ref c) => c,
                None => {
                    let (burn, neurons) = tokio::try_join!(
                        subtensor.burn_uid(b, self.netuid),
                        subtensor.neurons(b, self.netuid)
                    )?;
                    current.insert((burn.unwrap_or(0), neurons))
                }
            };
            let burn = *burn;
            if !st.weighted.contains(&m1) {
                let settlements = stored_settlements(lock(store).conn(), epoch, &out.windows)?;
                let w = epoch_weights(&settlements, burn, PROTOCOL_UNUSED_BUDGET)?;
                let (uids, values): (Vec<u16>, Vec<u16>) = w.weights.into_iter().unzip();
                out.weights.push((m1.0, epoch, uids, values));
                st.weighted.insert(m1);
            }
            if !st.weighted.contains(&m0) {
                let mut mints = stored_mints(lock(store).conn(), epoch, next - 1)?;
                mints.extend(
                    fresh_mints
                        .iter()
                        .filter(|m| (epoch..next).contains(&m.block))
                        .cloned(),
                );
                let weights = mechanism0(&mints, neurons, epoch, next - 1, burn)?;
                let (uids, values): (Vec<u16>, Vec<u16>) = weights
                    .iter()
                    .filter(|w| w.weight > 0)
                    .map(|w| (w.uid, w.weight))
                    .unzip();
                out.weights.push((0, epoch, uids, values));
                st.weighted.insert(m0);
            }
        }
        st.weighted
            .retain(|(_, e)| *e >= st.epoch_blocks.first().copied().unwrap_or(0));

        out.commitment = self
            .commitment_due(st, b, &sched, subtensor, store, prices, &out, ahead.alpha)
            .await?;
        Ok(out)
    }

    /// What settling window `w` reads from the chain, at its start.
    async fn window_reads<S: Subtensor>(&self, w: &Window, subtensor: &S) -> Result<WindowReads> {
        let at = w.start;
        let (commitments, neurons, split) = tokio::try_join!(
            subtensor.commitments(at, self.netuid),
            subtensor.neurons(at, self.netuid),
            subtensor.mechanism_emission_split(at, self.netuid),
        )?;
        Ok(WindowReads {
            commitments,
            neurons,
            split,
        })
    }

    fn settle(&self, w: Window, reads: WindowReads, store: &Mutex<Store>) -> Result<WindowResult> {
        let commitments: Vec<PostedCommitment> = reads
            .commitments
            .into_iter()
            .map(|c| PostedCommitment {
                hotkey: hotkey_name(&c.hotkey),
                payload: c.data,
                block: c.block,
            })
            .collect();
        let neurons = neuron_views(&reads.neurons);
        let split = reads
            .split
            .get(usize::from(self.cfg.auction_mecid))
            .copied()
            .unwrap_or(0);
        let telemetry = telemetry(lock(store).conn(), w.start, w.end)?;
        let result = settle::settle_window(&WindowInputs {
            window: w,
            commitments: &commitments,
            neurons: &neurons,
            split,
            telemetry: &telemetry,
            params: &self.params,
        })?;
        tracing::info!(target: "keeper::auction", epoch = w.subnet_epoch_start, index = w.index, start = w.start, end = w.end,
            budget_ph = ?result.budget_ph.map(|b| b.to_string()), winners = result.winners.len(),
            failed = result.failed.len(), skipped = ?result.skipped, "window settled");
        Ok(result)
    }

    #[allow(clippy::too_many_arguments)]
    async fn commitment_due<S: Subtensor>(
        &self,
        st: &mut MechState,
        b: u64,
        sched: &tao20_chain::types::EpochSchedule,
        subtensor: &S,
        store: &Mutex<Store>,
        prices: &PriceCache,
        decided: &MechDecisions,
        alpha: Option<u64>,
    ) -> Result<Option<Vec<u8>>> {
        let cached = prices.read().map(|p| p.clone()).unwrap_or_default();
        let mut values = BTreeMap::new();
        let alpha = match alpha {
            Some(a) => a,
            None => subtensor.current_alpha_price(b, self.netuid).await?,
        };
        values.insert(
            settle::ALPHA_TAO.to_string(),
            tao20_creation::pricing::spot_to_fp18(alpha),
        );
        for key in [settle::TAO_USDC, settle::HASHP_USDC] {
            match cached.get(key) {
                Some(v) => {
                    values.insert(key.to_string(), *v);
                }
                // Without both off-chain prices the commitment would say nothing a window can
                // use; keep the previous one.
                None => return Ok(None),
            }
        }
        values.insert(settle::CAP.to_string(), self.cfg.cap);
        let mut bans = stored_bans(lock(store).conn())?;
        bans.extend(
            decided
                .bans
                .iter()
                .filter_map(|(uid, _, block, _)| u8::try_from(*uid).ok().map(|u| (u, *block))),
        );
        let bitmap = recent_ban_bitmap(&bans, b, self.cfg.ban_lookback_blocks);
        let commitment = Commitment::Price(PriceCommitment {
            prices: values,
            bans: Some(bitmap),
        });
        let payload = commitment.encode()?;
        let changed = st.last_commitment.as_ref().map(|(_, p)| p) != Some(&payload);
        let old = st
            .last_commitment
            .as_ref()
            .is_none_or(|(at, _)| b >= at + self.cfg.commitment_refresh_blocks);
        if !changed && !old {
            return Ok(None);
        }
        // The pallet's allowance: space per subnet epoch, reset when the epoch index moves. Its
        // size (`MaxSpace`, which governance sets) and what the chain already counts against this
        // hotkey come from the chain, read once an epoch (a read every block slowed a keeper
        // catching up); the state adds what this keeper decided since.
        let cost = u64::try_from(payload.len())
            .unwrap_or(u64::MAX)
            .max(COMMITMENT_MIN_SPACE);
        if st.commitment_space.0 != sched.subnet_epoch_index || st.commitment_max_space == 0 {
            let space = subtensor
                .commitment_space(b, self.netuid, self.hotkey)
                .await?;
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
            return Ok(None);
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
            return Ok(None);
        }
        st.commitment_space.1 += cost;
        st.last_commitment = Some((b, payload.clone()));
        Ok(Some(payload))
    }
}

/// A `CreationMinted` record as the mechanisms read it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The keeper's pool samples with blocks in `[from, to]`.
pub fn telemetry(conn: &Connection, from: u64, to: u64) -> Result<Telemetry> {
    let mut stmt = conn
        .prepare(
            "SELECT p.id, p.block, p.from_proxy, w.worker, w.hashrate FROM telemetry_polls p
             LEFT JOIN telemetry_workers w ON w.poll = p.id
             WHERE p.block BETWEEN ?1 AND ?2 ORDER BY p.id, w.worker",
        )
        .map_err(db("telemetry"))?;
    let rows = stmt
        .query_map(rusqlite::params![i(from), i(to)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .map_err(db("telemetry"))?;
    let mut samples: Vec<(i64, Sample)> = Vec::new();
    let mut proxied = false;
    for row in rows {
        let (id, block, proxy, worker, hashrate) = row.map_err(db("telemetry"))?;
        proxied |= proxy != 0;
        if samples.last().map(|(i, _)| *i) != Some(id) {
            samples.push((
                id,
                Sample {
                    block: u64::try_from(block).unwrap_or(0),
                    workers: Vec::new(),
                },
            ));
        }
        if let (Some(name), Some(h), Some((_, s))) = (worker, hashrate, samples.last_mut()) {
            let hashrate_hs = h.parse().map_err(|_| Error::Decode {
                what: "stored hashrate".into(),
                reason: h.clone(),
            })?;
            s.workers.push(WorkerReading { name, hashrate_hs });
        }
    }
    Ok(Telemetry {
        samples: samples.into_iter().map(|(_, s)| s).collect(),
        from_proxy: proxied,
    })
}

/// Records one pool sample.
pub fn store_sample(
    conn: &Connection,
    block: u64,
    unix_time: u64,
    from_proxy: bool,
    workers: &[WorkerReading],
) -> Result<()> {
    conn.execute(
        "INSERT INTO telemetry_polls (block, unix_time, from_proxy) VALUES (?1, ?2, ?3)",
        rusqlite::params![i(block), i(unix_time), i64::from(from_proxy)],
    )
    .map_err(db("telemetry"))?;
    let poll = conn.last_insert_rowid();
    for w in workers {
        conn.execute(
            "INSERT OR REPLACE INTO telemetry_workers (poll, worker, hashrate) VALUES (?1, ?2, ?3)",
            rusqlite::params![poll, w.name, w.hashrate_hs.to_string()],
        )
        .map_err(db("telemetry"))?;
    }
    Ok(())
}

/// The settlements of the windows of the epoch at `epoch` (stored, or settled in this block).
fn stored_settlements(
    conn: &Connection,
    epoch: u64,
    fresh: &[WindowResult],
) -> Result<Vec<tao20_auction::weights::WindowSettlement>> {
    let mut stmt = conn
        .prepare("SELECT result FROM windows WHERE epoch_block = ?1 ORDER BY start")
        .map_err(db("windows"))?;
    let rows = stmt
        .query_map([i64::try_from(epoch).unwrap_or(i64::MAX)], |r| {
            r.get::<_, String>(0)
        })
        .map_err(db("windows"))?;
    let mut out = Vec::new();
    for row in rows {
        let text = row.map_err(db("windows"))?;
        let r: StoredWindow = serde_json::from_str(&text).map_err(|source| Error::Json {
            what: "stored window".into(),
            source,
        })?;
        if let Some(s) = r.settlement() {
            out.push(s);
        }
    }
    for r in fresh
        .iter()
        .filter(|r| r.window.subnet_epoch_start == epoch)
    {
        if let Some(s) = r.settlement() {
            out.push(s);
        }
    }
    Ok(out)
}

/// The `CreationMinted` records stored with blocks in `[from, to]`.
pub fn stored_mints(conn: &Connection, from: u64, to: u64) -> Result<Vec<MintRow>> {
    let mut stmt = conn
        .prepare("SELECT miner, coldkey, value_rao, block FROM mints WHERE block BETWEEN ?1 AND ?2 ORDER BY block, request_id")
        .map_err(db("mints"))?;
    let rows = stmt
        .query_map(rusqlite::params![i(from), i(to)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(db("mints"))?;
    let bad = |what: &str, v: &str| Error::Decode {
        what: format!("stored mint {what}"),
        reason: v.to_string(),
    };
    let mut out = Vec::new();
    for row in rows {
        let (miner, coldkey, value, block) = row.map_err(db("mints"))?;
        out.push(MintRow {
            miner: miner.parse().map_err(|_| bad("miner", &miner))?,
            coldkey: coldkey.parse().map_err(|_| bad("coldkey", &coldkey))?,
            value_rao: value.parse().map_err(|_| bad("value", &value))?,
            block: u64::try_from(block).unwrap_or(0),
        });
    }
    Ok(out)
}

/// Records a mint (once per request).
pub fn insert_mint(conn: &Connection, request_id: &B256, m: &MintRow) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO mints (request_id, miner, coldkey, value_rao, block) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![request_id.to_string(), m.miner.to_string(), m.coldkey.to_string(), m.value_rao.to_string(), i(m.block)],
    )
    .map_err(db("mints"))?;
    Ok(())
}

fn stored_bans(conn: &Connection) -> Result<Vec<(u8, u64)>> {
    let mut stmt = conn
        .prepare("SELECT uid, block FROM bans")
        .map_err(db("bans"))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .map_err(db("bans"))?;
    let mut out = Vec::new();
    for row in rows {
        let (uid, block) = row.map_err(db("bans"))?;
        if let Ok(u) = u8::try_from(uid) {
            out.push((u, u64::try_from(block).unwrap_or(0)));
        }
    }
    Ok(out)
}

/// What a stored window's JSON carries for the weights: enough to rebuild its settlement.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredWindow {
    window: StoredBounds,
    alpha_tao: Option<Fp18>,
    tao_usdc: Option<Fp18>,
    hashp_usdc: Option<Fp18>,
    miner_alpha_per_block: Option<Fp18>,
    payments: Vec<StoredPayment>,
}

#[derive(Debug, Clone, Deserialize)]
struct StoredBounds {
    start: u64,
    end: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredPayment {
    uid: u16,
    delivered: Fp18,
    price: Fp18,
}

impl StoredWindow {
    fn settlement(&self) -> Option<tao20_auction::weights::WindowSettlement> {
        Some(tao20_auction::weights::WindowSettlement {
            window_blocks: self.window.end.saturating_sub(self.window.start) + 1,
            miner_alpha_per_block: self.miner_alpha_per_block?,
            alpha_tao: self.alpha_tao?,
            tao_usdc: self.tao_usdc?,
            hashp_usdc: self.hashp_usdc?,
            payments: self
                .payments
                .iter()
                .map(|p| tao20_auction::weights::Payment {
                    uid: p.uid,
                    delivered: p.delivered,
                    price: p.price,
                })
                .collect(),
        })
    }
}

/// Writes what one block decided into its transaction: the windows, the bans, the weights (each
/// (mechanism, epoch) once, ever) and the commitment, with their outbox actions. Returns the
/// weights newly decided.
pub fn persist(
    tx: &Connection,
    b: u64,
    d: &MechDecisions,
    dry_run: bool,
) -> Result<Vec<(u8, u64)>> {
    for w in &d.windows {
        tx.execute(
            "INSERT OR IGNORE INTO windows (start, epoch_block, idx, end_block, settled_block, skipped, budget_ph, winners, result)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                i(w.window.start),
                i(w.window.subnet_epoch_start),
                w.window.index,
                i(w.window.end),
                i(b),
                w.skipped,
                w.budget_ph.map(|p| p.to_string()),
                i64::try_from(w.winners.len()).unwrap_or(i64::MAX),
                to_json("window result", w)?,
            ],
        )
        .map_err(db("windows"))?;
    }
    for (uid, hotkey, block, window_start) in &d.bans {
        tx.execute(
            "INSERT OR IGNORE INTO bans (uid, hotkey, block, window_start) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![uid, hotkey, i(*block), i(*window_start)],
        )
        .map_err(db("bans"))?;
    }
    let mut fresh = Vec::new();
    for (mecid, epoch, uids, values) in &d.weights {
        let n = tx
            .execute(
                "INSERT OR IGNORE INTO weights (mecid, epoch_block, uids, weight_values, status)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![
                    mecid,
                    i(*epoch),
                    to_json("uids", uids)?,
                    to_json("weights", values)?,
                    if dry_run { "dry-run" } else { "pending" },
                ],
            )
            .map_err(db("weights"))?;
        if n > 0 {
            fresh.push((*mecid, *epoch));
            if !dry_run {
                crate::store::outbox::enqueue(
                    tx,
                    &crate::store::outbox::ChainAction::SubmitWeights {
                        mecid: *mecid,
                        epoch: *epoch,
                    },
                    b,
                    0,
                )?;
            }
        }
    }
    if let Some(payload) = &d.commitment {
        // Hex: a price commitment ends in a binary ban bitmap.
        let payload = alloy_primitives::hex::encode(payload);
        tx.execute(
            "INSERT OR IGNORE INTO commitments (block, payload, state) VALUES (?1, ?2, ?3)",
            rusqlite::params![i(b), payload, if dry_run { "dry-run" } else { "pending" }],
        )
        .map_err(db("commitments"))?;
        if !dry_run {
            crate::store::outbox::enqueue(
                tx,
                &crate::store::outbox::ChainAction::SetCommitment { block: b },
                b,
                0,
            )?;
        }
    }
    Ok(fresh)
}
