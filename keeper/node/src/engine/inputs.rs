//! Sense: everything one block's decisions read, gathered before anything is decided into a
//! plain value ([`BlockInputs`]) that is recorded with the block (`block_inputs`), so the decision
//! can be recomputed from the record alone.
//!
//! The reads a pass of [`super::decide::decide`] names as missing ([`Needs`]) are fetched
//! concurrently, then the block is decided again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use alloy_primitives::{Address, B256};
use futures_util::future::try_join_all;
use serde::{Deserialize, Serialize};
use tao20_bevm::cursor::Cursor;
use tao20_bevm::events::{ContractEvent, LoggedEvent};
use tao20_bevm::reader::{FundSnapshot, SignerSet};
use tao20_bevm::Bevm;
use tao20_chain::types::Extrinsic;
use tao20_chain::Subtensor;
use tao20_creation::delivery::SubstrateBlock;
use tao20_creation::eip712::{CreationFile, Eip712Message};
use tao20_creation::index::Epoch;
use tao20_creation::lifecycle::{SpotWindow, Valuation};
use tao20_creation::pricing::SpotSample;

use super::decide::{self, Params};
use super::{lock, CreationState};
use crate::mechanisms::{MechAhead, Mechanisms};
use crate::store::{self, Store};
use crate::{Error, Result};

/// A read that failed for good (the chain or the keeper's history does not have it): the
/// decision names it, it never guesses.
pub type Fetched<T> = std::result::Result<T, String>;

/// One block's inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockInputs {
    /// The substrate block.
    pub block: u64,
    /// Its extrinsics, as the creation lifecycle reads them.
    pub substrate: SubstrateBlock,
    /// The contract's events of the BEVM blocks the cursor read with it, in chain order.
    pub events: Vec<LoggedEvent>,
    /// Spot price of each fund and creation-file netuid with a subnet at the block.
    pub spots: Vec<(u16, u64)>,
    /// The signer set before the block's events.
    pub signers: SignerSet,
    /// Whether most peers' config digests differed from this keeper's when the block was read.
    #[serde(default)]
    pub minority: bool,
    /// Creation files read at the block of an event naming them: `(epoch, block, file)`.
    pub files: Vec<(u64, u64, Option<CreationFile>)>,
    /// Valuations of requests the block made due.
    pub valuations: Vec<ValuationRead>,
    /// What the current epoch's creation file needs, when this keeper has not settled it.
    pub epoch: Option<EpochRead>,
    /// `expireableAt` of each request the state says may be due.
    pub expireable: Vec<(B256, Option<u64>)>,
    /// Creation files this keeper signed and the contract has not published (read from its own
    /// reports when the signer set changed).
    pub open_files: Option<Vec<CreationFile>>,
    /// Prices the keeper's history lacked and the node supplied, `(netuid, block, price)`: the
    /// commit adds them to the history.
    pub backfill: Vec<(u16, u64, u64)>,
    /// The report transactions behind the block's settlement events, with the signers their
    /// signatures recover to: read for doppelganger detection, never by a decision.
    #[serde(default)]
    pub landed: Vec<Landed>,
}

/// A report transaction that landed on chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Landed {
    /// The transaction.
    pub tx: B256,
    /// The digest its signatures are over.
    pub digest: B256,
    /// The addresses they recover to (a signature that does not recover is left out).
    pub signers: Vec<Address>,
}

impl BlockInputs {
    /// The file of `epoch` read at `block`: `None` if not read, `Some(None)` if not published.
    pub fn file(&self, epoch: u64, block: u64) -> Option<Option<&CreationFile>> {
        self.files
            .iter()
            .find(|(e, b, _)| *e == epoch && *b == block)
            .map(|(_, _, f)| f.as_ref())
    }

    /// The valuation of `request_id` at `block`, if read.
    pub fn valuation(&self, request_id: &B256, block: u64) -> Option<&Fetched<Valuation>> {
        self.valuations
            .iter()
            .find(|v| v.request_id == *request_id && v.valuation_block == block)
            .map(|v| &v.valuation)
    }
}

/// A request's valuation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValuationRead {
    /// The request.
    pub request_id: B256,
    /// Its valuation block.
    pub valuation_block: u64,
    /// The data, or why it cannot be had.
    pub valuation: Fetched<Valuation>,
}

/// What the epoch's creation file is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochRead {
    /// The epoch.
    pub epoch_id: u64,
    /// Its boundary block (0 when it has none).
    pub boundary: u64,
    /// The fund at the boundary; `None` when the contract already has the file.
    pub fund: Option<FundSnapshot>,
    /// Why the file cannot be computed at all (no boundary, a window before block 0).
    pub unreadable: Option<String>,
    /// Each fund position's subnet at the boundary, in the fund's order, up to the first whose
    /// price window cannot be had.
    pub subnets: Vec<EpochSubnet>,
}

/// One subnet at an epoch boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochSubnet {
    /// The subnet.
    pub netuid: u16,
    /// The price window's samples.
    pub samples: Fetched<Vec<SpotSample>>,
    /// `SubnetTAO`.
    pub tao_in: u64,
    /// `SubnetAlphaIn`.
    pub alpha_in: u64,
    /// `SubnetAlphaOut`.
    pub alpha_out: u64,
    /// Whether alpha transfers are enabled.
    pub transfers_enabled: bool,
}

/// Inputs a pass of `decide` found missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// Creation files, `(epoch, block)`.
    pub files: Vec<(u64, u64)>,
    /// Valuations.
    pub valuations: Vec<ValuationNeed>,
    /// The epoch whose file is due.
    pub epoch: Option<u64>,
    /// `expireableAt` of these requests.
    pub expireable: Vec<B256>,
    /// The keeper's unpublished creation files.
    pub open_files: bool,
}

impl Needs {
    /// Whether nothing is missing.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.valuations.is_empty()
            && self.epoch.is_none()
            && self.expireable.is_empty()
            && !self.open_files
    }
}

/// A valuation a request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuationNeed {
    /// The request.
    pub request_id: B256,
    /// The valuation block.
    pub valuation_block: u64,
    /// Blocks of the price window.
    pub window: u64,
    /// The netuids of the request's basket.
    pub netuids: Vec<u16>,
}

/// Where a keeper senses from.
pub struct Sources<'a, S, B> {
    /// Subtensor.
    pub subtensor: &'a S,
    /// BEVM.
    pub bevm: &'a B,
    /// The keeper's store (its price history, its unpublished reports).
    pub store: &'a Mutex<Store>,
}

/// Spot prices `(netuid, price)`.
pub type Spots = Vec<(u16, u64)>;

/// Reads of a finalized block that depend on nothing decided before it, made ahead of the block
/// while the engine catches up, so that many blocks' round trips overlap.
#[derive(Debug, Default)]
pub struct Ahead {
    /// The block's extrinsics.
    pub extrinsics: Option<Vec<Extrinsic>>,
    /// Spot prices, with the netuids they were read for.
    pub spots: Option<(Vec<u16>, Spots)>,
    /// The mechanisms' reads.
    pub mech: MechAhead,
}

/// Reads [`Ahead`] of block `b`. A read that fails is left out: the block's own step reads it
/// again, in order, and meets the failure there.
pub async fn ahead<S: Subtensor>(
    subtensor: &S,
    b: u64,
    netuids: &[u16],
    mechanisms: Option<&Mechanisms>,
) -> Ahead {
    // The extrinsics first: they make the client's handle on the block, which the others reuse.
    let extrinsics = subtensor.block_extrinsics(b).await.ok();
    let spots = async {
        subtensor
            .alpha_prices(b, netuids)
            .await
            .ok()
            .map(|s| (netuids.to_vec(), s))
    };
    let mech = async {
        match mechanisms {
            Some(m) => m.read_ahead(subtensor, b).await,
            None => MechAhead::default(),
        }
    };
    let (spots, mech) = tokio::join!(spots, mech);
    Ahead {
        extrinsics,
        spots,
        mech,
    }
}

/// The first reads of block `b`: what every block needs, and what the state before it says
/// the block will need. `None` when BEVM reorganised below the cursor (undo from that block).
#[allow(clippy::too_many_arguments)]
pub async fn first<S: Subtensor, B: Bevm>(
    src: &Sources<'_, S, B>,
    state: &CreationState,
    cursor: &Cursor,
    signers: &SignerSet,
    minority: bool,
    b: u64,
    p: &Params,
    ahead: Ahead,
) -> Result<Sensed> {
    // A fund netuid whose subnet does not exist (yet, or any more) has no price: a valuation
    // that needs it finds the hole and refuses, it never guesses.
    let netuids = price_netuids(state);
    // The extrinsics first: reading them makes the client's handle on the block, which the
    // prices then reuse (read together, each would pay for its own). BEVM meanwhile.
    let substrate = async {
        let extrinsics = match ahead.extrinsics {
            Some(x) => x,
            None => src.subtensor.block_extrinsics(b).await?,
        };
        let spots = match ahead.spots {
            Some((read_for, s)) if read_for == netuids => s,
            _ => src.subtensor.alpha_prices(b, &netuids).await?,
        };
        Ok::<_, Error>((extrinsics, spots))
    };
    let bevm = async { cursor.poll(src.bevm, b).await.map_err(Error::from) };
    let ((extrinsics, spots), batch) = tokio::try_join!(substrate, bevm)?;
    if let Some(from) = batch.undo_from {
        return Ok(Sensed::Undo(from));
    }
    let mut inputs = BlockInputs {
        block: b,
        substrate: crate::convert::substrate_block(b, &extrinsics),
        events: batch.events,
        spots,
        signers: signers.clone(),
        minority,
        files: Vec::new(),
        valuations: Vec::new(),
        epoch: None,
        expireable: Vec::new(),
        open_files: None,
        backfill: Vec::new(),
        landed: Vec::new(),
    };
    inputs.landed = landed(src.bevm, &inputs.events, p).await?;
    // What the state and the events already say this block reads, fetched before the first pass.
    let mut needs = Needs {
        expireable: decide::expiry_candidates(state, b, p),
        epoch: decide::epoch_due(state, b, p),
        ..Needs::default()
    };
    for e in &inputs.events {
        let epoch = match &e.event {
            ContractEvent::EpochPublished { epoch_id, .. } => *epoch_id,
            ContractEvent::CreationRequested(r) => r.epoch_id,
            _ => continue,
        };
        if !state.machine.files.iter().any(|f| f.epoch_id == epoch) {
            needs.files.push((epoch, e.block));
        }
    }
    fetch(src, &mut inputs, needs, p).await?;
    Ok(Sensed::Inputs(Box::new(inputs), batch.next))
}

/// The report transactions behind `events`' settlements (`EpochPublished`, `CreationMinted`,
/// `Refunded`, `Swept`), each read once. A transaction the node does not have, or whose input is
/// not a report call, is left out: the check is a safety net, and it never holds the block back.
async fn landed<B: Bevm>(bevm: &B, events: &[LoggedEvent], p: &Params) -> Result<Vec<Landed>> {
    let mut txs: Vec<B256> = Vec::new();
    for e in events {
        let settles = matches!(
            e.event,
            ContractEvent::EpochPublished { .. }
                | ContractEvent::CreationMinted(_)
                | ContractEvent::Refunded { .. }
                | ContractEvent::Swept { .. }
        );
        if settles && !txs.contains(&e.tx_hash) {
            txs.push(e.tx_hash);
        }
    }
    let inputs = try_join_all(txs.iter().map(|tx| bevm.transaction_input(*tx))).await?;
    let mut out = Vec::new();
    for (tx, input) in txs.into_iter().zip(inputs) {
        let Some(call) = input.and_then(|i| tao20_bevm::writer::Call::from_calldata(&i)) else {
            tracing::debug!(target: "keeper::engine", %tx, "settlement transaction not read as a report call");
            continue;
        };
        let Some((message, signatures)) = call.signed() else {
            continue;
        };
        let digest = message.digest(p.chain_id, p.contract);
        let signers = signatures
            .iter()
            .filter_map(|s| tao20_creation::signing::recover(&digest, s).ok())
            .collect();
        out.push(Landed {
            tx,
            digest,
            signers,
        });
    }
    Ok(out)
}

/// The result of [`first`].
#[derive(Debug)]
pub enum Sensed {
    /// The block's inputs and the BEVM cursor after them.
    Inputs(Box<BlockInputs>, Cursor),
    /// BEVM reorganised from this block, below the cursor.
    Undo(u64),
}

/// The netuids whose spot prices a block's inputs hold.
pub fn price_netuids(state: &CreationState) -> Vec<u16> {
    let m = &state.machine;
    let mut set: BTreeSet<u16> = m.config.fund_hotkeys.iter().map(|f| f.netuid).collect();
    for f in &m.files {
        set.extend(f.assets.iter().map(|a| a.netuid));
    }
    set.into_iter().collect()
}

/// Reads what `needs` names into `inputs`, the independent reads concurrently.
pub async fn fetch<S: Subtensor, B: Bevm>(
    src: &Sources<'_, S, B>,
    inputs: &mut BlockInputs,
    mut needs: Needs,
    p: &Params,
) -> Result<()> {
    needs.files.sort_unstable();
    needs.files.dedup();
    needs.expireable.sort_unstable();
    needs.expireable.dedup();
    let b = inputs.block;
    let files = try_join_all(needs.files.iter().map(|&(epoch, at)| async move {
        Ok::<_, Error>((epoch, at, src.bevm.creation_file(epoch, at).await?))
    }));
    let expireable = try_join_all(
        needs
            .expireable
            .iter()
            .map(|&id| async move { Ok::<_, Error>((id, src.bevm.expireable_at(id, b).await?)) }),
    );
    let spots = inputs.spots.clone();
    let valuations = try_join_all(needs.valuations.iter().map(|v| {
        let spots = &spots;
        async move {
            let mut backfill = Vec::new();
            let valuation = match valuation(src, v, b, spots, &mut backfill).await {
                Ok(val) => Ok(val),
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => Err(e.to_string()),
            };
            Ok((
                ValuationRead {
                    request_id: v.request_id,
                    valuation_block: v.valuation_block,
                    valuation,
                },
                backfill,
            ))
        }
    }));
    let (files, expireable, valuations) = tokio::try_join!(files, expireable, valuations)?;
    inputs.files.extend(files);
    inputs.expireable.extend(expireable);
    for (v, backfill) in valuations {
        inputs.valuations.push(v);
        inputs.backfill.extend(backfill);
    }
    if let Some(epoch_id) = needs.epoch {
        let read = epoch_read(src, epoch_id, b, p, &mut inputs.backfill).await?;
        inputs.epoch = Some(read);
    }
    if needs.open_files {
        let open = crate::store::reports::open_reports(lock(src.store).conn(), 0)?;
        inputs.open_files = Some(
            open.into_iter()
                .filter_map(|r| match r.message {
                    Eip712Message::CreationFile(f) => Some(f),
                    _ => None,
                })
                .collect(),
        );
    }
    inputs.backfill.sort_unstable();
    inputs.backfill.dedup();
    Ok(())
}

async fn valuation<S: Subtensor, B: Bevm>(
    src: &Sources<'_, S, B>,
    need: &ValuationNeed,
    current: u64,
    spots: &[(u16, u64)],
    backfill: &mut Vec<(u16, u64, u64)>,
) -> Result<Valuation> {
    let v = need.valuation_block;
    let window = need.window;
    let fund = src.bevm.fund(v).await?;
    let mut all: BTreeSet<u16> = need.netuids.iter().copied().collect();
    all.extend(fund.positions.iter().map(|p| p.netuid));
    let from = v.checked_sub(window).ok_or_else(|| Error::Decode {
        what: format!("valuation at block {v}"),
        reason: format!("the price window of {window} blocks starts before block 0"),
    })?;
    let mut spot = Vec::new();
    for n in all {
        spot.push(SpotWindow {
            netuid: n,
            samples: spot_window(src, n, from, v - 1, current, spots, backfill).await?,
        });
    }
    Ok(Valuation {
        spot,
        fund: fund.fund_state(),
        mint_fee_bps: fund.fees.mint_bps,
    })
}

/// Spot samples of `netuid` over `[from, to]`: the keeper's history, the current block's
/// readings, and what the node's state window still has for any hole (added to `backfill`).
async fn spot_window<S: Subtensor, B: Bevm>(
    src: &Sources<'_, S, B>,
    netuid: u16,
    from: u64,
    to: u64,
    current: u64,
    current_spots: &[(u16, u64)],
    backfill: &mut Vec<(u16, u64, u64)>,
) -> Result<Vec<SpotSample>> {
    let mut have: BTreeMap<u64, u64> =
        store::state::price_history(lock(src.store).conn(), netuid, from, to)?;
    if (from..=to).contains(&current) {
        if let Some((_, p)) = current_spots.iter().find(|(n, _)| *n == netuid) {
            have.insert(current, *p);
        }
    }
    let mut out = Vec::new();
    for blk in from..=to {
        let price = match have.get(&blk) {
            Some(p) => *p,
            None => {
                let p = src
                    .subtensor
                    .current_alpha_price(blk, netuid)
                    .await
                    .map_err(|e| {
                        if e.retry() != tao20_chain::Retry::Never {
                            Error::Subtensor(e)
                        } else {
                            Error::Decode {
                                what: format!("price of netuid {netuid} at block {blk}"),
                                reason: format!(
                                    "not in the keeper's history and not on the node: {e}"
                                ),
                            }
                        }
                    })?;
                backfill.push((netuid, blk, p));
                p
            }
        };
        out.push(SpotSample {
            block: blk,
            rao_per_alpha: price,
        });
    }
    Ok(out)
}

async fn epoch_read<S: Subtensor, B: Bevm>(
    src: &Sources<'_, S, B>,
    epoch_id: u64,
    b: u64,
    p: &Params,
    backfill: &mut Vec<(u16, u64, u64)>,
) -> Result<EpochRead> {
    let mut read = EpochRead {
        epoch_id,
        boundary: 0,
        fund: None,
        unreadable: None,
        subnets: Vec::new(),
    };
    let epoch = Epoch {
        epoch_id,
        genesis_block: p.genesis_block,
        epoch_length: p.epoch_length,
    };
    let boundary = match epoch.start() {
        Ok(boundary) => boundary,
        Err(e) => {
            read.unreadable = Some(e.to_string());
            return Ok(read);
        }
    };
    read.boundary = boundary;
    if src.bevm.creation_file(epoch_id, b).await?.is_some() {
        return Ok(read);
    }
    let Some(from) = boundary.checked_sub(p.price_window) else {
        read.unreadable = Some("the price window starts before block 0".into());
        return Ok(read);
    };
    let fund = src.bevm.fund(boundary).await?;
    for pos in &fund.positions {
        let n = pos.netuid;
        let samples = match spot_window(src, n, from, boundary - 1, b, &[], backfill).await {
            Ok(s) => Ok(s),
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => Err(e.to_string()),
        };
        let failed = samples.is_err();
        let mut subnet = EpochSubnet {
            netuid: n,
            samples,
            tao_in: 0,
            alpha_in: 0,
            alpha_out: 0,
            transfers_enabled: false,
        };
        if failed {
            read.subnets.push(subnet);
            break;
        }
        let reserves = src.subtensor.pool_reserves(boundary, n).await?;
        subnet.tao_in = reserves.tao_in;
        subnet.alpha_in = reserves.alpha_in;
        subnet.alpha_out = reserves.alpha_out;
        subnet.transfers_enabled = src.subtensor.transfers_enabled(boundary, n).await?;
        read.subnets.push(subnet);
    }
    read.fund = Some(fund);
    Ok(read)
}
