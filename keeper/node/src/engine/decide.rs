//! Decide: what one block means, as a pure function of the state before it and the block's
//! [`BlockInputs`]. No I/O, no clock, no configuration outside [`Params`]: every honest keeper
//! with the same inputs decides the same, and `tao20 validator replay` recomputes a recorded
//! block's decision from its record.
//!
//! A pass that finds an input missing (a valuation only the block itself showed was due, a
//! creation file a request of the block names) returns [`Outcome::Needs`]; the engine reads what
//! is named and decides again from the same state. A pass is discarded unless it needs nothing.

use std::collections::{BTreeMap, VecDeque};

use alloy_primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};
use tao20_bevm::events::{ContractEvent, LoggedEvent};
use tao20_bevm::reader::SignerSet;
use tao20_creation::eip712::{CreationFile, Eip712Message};
use tao20_creation::index::{self, Epoch, IndexInput, IndexParams, SubnetSnapshot};
use tao20_creation::lifecycle::{
    Action as MachineAction, Event as MachineEvent, FundHotkey, Status,
};
use tao20_creation::nav::{self, Price};
use tao20_creation::pricing::official_price;

use super::inputs::{BlockInputs, EpochRead, Needs, ValuationNeed};
use super::CreationState;
use crate::convert;
use crate::mechanisms::MintRow;
use crate::Result;

/// What a keeper's decisions depend on besides the chain: fixed for a deployment and a
/// configuration, recorded with every block so a replay needs nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    /// BEVM chain id.
    pub chain_id: u64,
    /// The TAO20 contract.
    pub contract: Address,
    /// First block of epoch 0.
    pub genesis_block: u64,
    /// Blocks per creation epoch.
    pub epoch_length: u64,
    /// Blocks after a request's expiry block before anyone may expire it.
    pub expiry_grace: u64,
    /// Blocks of the official price window.
    pub price_window: u64,
    /// The index methodology.
    pub index: IndexParams,
    /// Blocks between transmission stages.
    pub stage_blocks: u64,
    /// This keeper's report-signing address.
    pub me: Address,
    /// Blocks of creation-machine history kept (requests settled earlier are pruned).
    pub state_history_blocks: u64,
    /// The `wrong-nav` test fault: creation reports carry a NAV 1 % high.
    #[serde(default)]
    pub wrong_nav: bool,
}

/// Everything one block decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The block.
    pub block: u64,
    /// The creation state after it.
    pub state: CreationState,
    /// Reports to sign (the journal decides whether each may be).
    pub signs: Vec<Eip712Message>,
    /// Subjects the block's events settled, with the outcome.
    pub settled: Vec<(String, &'static str)>,
    /// Requests to `expire`, each with the block its transmission may start.
    pub expire: Vec<(B256, u64)>,
    /// The block's mints, for mechanism 0.
    pub mints: Vec<(B256, MintRow)>,
    /// The signer set after the block's events.
    pub signers: SignerSet,
}

/// A pass's result.
#[derive(Debug, Clone, PartialEq, Eq)]
// A decision is the common case, and a pass's result lives only until the next pass.
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// Every input was there.
    Decided(Decision),
    /// These inputs are missing; the pass decided nothing.
    Needs(Needs),
}

/// Decides block `inputs.block` from `state`, the creation state after the block before it.
pub fn decide(state: &CreationState, inputs: &BlockInputs, p: &Params) -> Result<Outcome> {
    let b = inputs.block;
    let mut st = state.clone();
    let mut needs = Needs::default();
    let mut signs: Vec<Eip712Message> = Vec::new();
    let mut settled: Vec<(String, &'static str)> = Vec::new();
    let mut signers = inputs.signers.clone();
    let mut queue: VecDeque<MachineAction> = VecDeque::new();
    let version_before = st.machine.signer_set_version;
    for e in &inputs.events {
        queue.extend(apply_contract_event(
            &mut st,
            e,
            inputs,
            &mut settled,
            &mut signers,
            &mut needs,
        )?);
    }
    if st.machine.signer_set_version > version_before {
        match &inputs.open_files {
            Some(open) => signs.extend(files_to_resign(&st, open, &settled)),
            None => needs.open_files = true,
        }
    }
    queue.extend(
        st.machine
            .apply(&MachineEvent::Block(inputs.substrate.clone()))?,
    );
    while let Some(action) = queue.pop_front() {
        match action {
            MachineAction::FetchValuation {
                request_id,
                valuation_block,
                window,
                netuids,
            } => match inputs.valuation(&request_id, valuation_block) {
                None => needs.valuations.push(ValuationNeed {
                    request_id,
                    valuation_block,
                    window,
                    netuids,
                }),
                Some(Ok(valuation)) => {
                    queue.extend(st.machine.apply(&MachineEvent::Valuation {
                        request_id,
                        valuation: valuation.clone(),
                    })?)
                }
                Some(Err(reason)) => {
                    tracing::error!(target: "keeper::engine", %request_id, error = %reason,
                        "cannot value the request; it will not be signed");
                }
            },
            MachineAction::SignCreationReport(mut r) => {
                if p.wrong_nav {
                    r.nav_per_share = r.nav_per_share * U256::from(101u64) / U256::from(100u64);
                }
                signs.push(Eip712Message::CreationReport(r));
            }
            MachineAction::SignRefundReport(r) => signs.push(Eip712Message::RefundReport(r)),
            MachineAction::DeliveryRejected {
                request_id,
                id,
                why,
            } => {
                tracing::info!(target: "keeper::engine", %request_id, block = id.block, index = id.index, ?why,
                    "an extrinsic carried the request's remark but is not its delivery");
            }
        }
    }
    if let Some(file) = creation_file_due(&mut st, b, inputs, p, &mut needs) {
        signs.push(Eip712Message::CreationFile(file));
    }
    let expiring = expiries_due(&mut st, b, inputs, p, &mut needs);
    if !needs.is_empty() {
        return Ok(Outcome::Needs(needs));
    }
    st.machine.prune(b.saturating_sub(p.state_history_blocks));
    // A keeper whose consensus parameters most peers do not share signs nothing: the content it
    // would commit to is not the quorum's.
    if inputs.minority {
        for m in signs.drain(..) {
            tracing::warn!(target: "keeper::engine", kind = m.type_name(), digest = %m.digest(p.chain_id, p.contract),
                "not signing: most peers' config digests differ from this keeper's");
        }
    }

    let expire = expiring
        .into_iter()
        .map(|request_id| {
            let key =
                alloy_primitives::keccak256([b"expire".as_slice(), request_id.as_slice()].concat());
            let rank = crate::reports::transmission_rank(&key, &signers.signers, &p.me)
                .unwrap_or(signers.signers.len());
            let not_before = b.saturating_add(
                p.stage_blocks
                    .saturating_mul(u64::try_from(rank).unwrap_or(u64::MAX)),
            );
            (request_id, not_before)
        })
        .collect();
    // Mechanism 0's input: every mint with the coldkey that delivered it.
    let mints = inputs
        .events
        .iter()
        .filter_map(|e| match &e.event {
            ContractEvent::CreationMinted(m) => st.machine.request(&m.request_id).map(|r| {
                (
                    m.request_id,
                    MintRow {
                        miner: m.miner,
                        coldkey: r.request.coldkey.0.into(),
                        value_rao: m.value_rao,
                        block: b,
                    },
                )
            }),
            _ => None,
        })
        .collect();
    Ok(Outcome::Decided(Decision {
        block: b,
        state: st,
        signs,
        settled,
        expire,
        mints,
        signers,
    }))
}

fn apply_contract_event(
    st: &mut CreationState,
    e: &LoggedEvent,
    inputs: &BlockInputs,
    settled: &mut Vec<(String, &'static str)>,
    signers: &mut SignerSet,
    needs: &mut Needs,
) -> Result<Vec<MachineAction>> {
    match &e.event {
        ContractEvent::EpochPublished {
            epoch_id,
            file_hash,
            ..
        } => {
            settled.push((format!("epoch:{epoch_id}"), "published"));
            if st.machine.files.iter().any(|f| f.epoch_id == *epoch_id) {
                return Ok(vec![]);
            }
            let file = match inputs.file(*epoch_id, e.block) {
                None => {
                    needs.files.push((*epoch_id, e.block));
                    return Ok(vec![]);
                }
                Some(None) => {
                    return Err(crate::Error::Decode {
                        what: format!("epoch {epoch_id}"),
                        reason: "EpochPublished but no file stored".into(),
                    })
                }
                Some(Some(f)) => f.clone(),
            };
            Ok(st.machine.apply(&MachineEvent::CreationFilePublished {
                file,
                file_hash: *file_hash,
            })?)
        }
        ContractEvent::CreationRequested(r) => {
            if !st.machine.files.iter().any(|f| f.epoch_id == r.epoch_id) {
                match inputs.file(r.epoch_id, e.block) {
                    None => {
                        needs.files.push((r.epoch_id, e.block));
                        return Ok(vec![]);
                    }
                    Some(Some(file)) => {
                        let file_hash = tao20_creation::eip712::creation_file_hash(file);
                        st.machine.apply(&MachineEvent::CreationFilePublished {
                            file: file.clone(),
                            file_hash,
                        })?;
                    }
                    Some(None) => {}
                }
            }
            Ok(st
                .machine
                .apply(&MachineEvent::CreationRequested(r.clone()))?)
        }
        ContractEvent::FundHotkeyUpdated { netuid, new, .. } => {
            let list = &mut st.machine.config.fund_hotkeys;
            // A zero hotkey: the netuid was retired (its subnet dissolved) and left the fund.
            if new.is_zero() {
                list.retain(|f| f.netuid != *netuid);
                return Ok(vec![]);
            }
            match list.iter_mut().find(|f| f.netuid == *netuid) {
                Some(f) => f.hotkey = *new,
                None => list.push(FundHotkey {
                    netuid: *netuid,
                    hotkey: *new,
                }),
            }
            list.sort_by_key(|f| f.netuid);
            Ok(vec![])
        }
        ContractEvent::SignersUpdated {
            version,
            signers: list,
            threshold,
        } => {
            *signers = SignerSet {
                version: *version,
                signers: list.clone(),
                threshold: *threshold,
            };
            // The machine starts at the version current at its first block: the event that
            // installed it (the constructor's) is not a change.
            if *version <= st.machine.signer_set_version {
                return Ok(vec![]);
            }
            Ok(st
                .machine
                .apply(&MachineEvent::SignerSetChanged { version: *version })?)
        }
        other => {
            let actions = match convert::lifecycle_event(other) {
                Some(ev) => st.machine.apply(&ev)?,
                None => vec![],
            };
            match other {
                ContractEvent::CreationMinted(m) => {
                    settled.push((format!("request:{}", m.request_id), "minted"))
                }
                // A refund settles its report once every position moved; until then the same
                // report is relayed again for the positions that were dust.
                ContractEvent::Refunded {
                    request_id,
                    delivery,
                    ..
                } => {
                    let m = &st.machine;
                    if request_id.is_zero() {
                        if m.orphans.iter().any(|o| o.id == *delivery && o.refunded) {
                            settled.push((
                                format!("delivery:{}:{}", delivery.block, delivery.index),
                                "refunded",
                            ));
                        }
                    } else if m.request(request_id).is_some_and(|r| r.delivery_refunded) {
                        settled.push((format!("request:{request_id}"), "refunded"));
                    }
                }
                ContractEvent::CreationExpired { request_id, .. } => {
                    settled.push((format!("request:{request_id}"), "expired"))
                }
                ContractEvent::Swept { nonce, .. } => {
                    settled.push((format!("sweep:{nonce}"), "swept"))
                }
                _ => {}
            }
            Ok(actions)
        }
    }
}

/// The creation files this keeper signed that are not published yet, under the signer-set
/// version `st` has now: `publishEpoch` takes only the current version, so without them a
/// signer-set change between an epoch's boundary and its publication would leave the epoch
/// without a file. The content is the same (the journal re-signs only that).
fn files_to_resign(
    st: &CreationState,
    open: &[CreationFile],
    settled: &[(String, &'static str)],
) -> Vec<Eip712Message> {
    let version = st.machine.signer_set_version;
    let mut files: BTreeMap<u64, CreationFile> = BTreeMap::new();
    for f in open {
        let published = st.machine.files.iter().any(|p| p.epoch_id == f.epoch_id)
            || settled
                .iter()
                .any(|(s, _)| *s == format!("epoch:{}", f.epoch_id));
        if published || f.signer_set_version >= version {
            continue;
        }
        tracing::info!(target: "keeper::engine", epoch_id = f.epoch_id, from = f.signer_set_version, to = version,
            "signer set changed before the epoch's file was published: signing it again under the new version");
        let mut f = f.clone();
        f.signer_set_version = version;
        files.insert(f.epoch_id, f);
    }
    files
        .into_values()
        .map(Eip712Message::CreationFile)
        .collect()
}

/// The epoch current at `b`, when this keeper has not settled its creation file yet.
pub(crate) fn epoch_due(st: &CreationState, b: u64, p: &Params) -> Option<u64> {
    let epoch_id = index::epoch_of(b, p.genesis_block, p.epoch_length)?;
    let done = st.filed_epochs.contains(&epoch_id)
        || st.machine.files.iter().any(|f| f.epoch_id == epoch_id);
    (!done).then_some(epoch_id)
}

/// The creation file of the epoch current at `b`, when this keeper should sign it: the epoch
/// has started, the contract has no file for it and this keeper has not computed one.
fn creation_file_due(
    st: &mut CreationState,
    b: u64,
    inputs: &BlockInputs,
    p: &Params,
    needs: &mut Needs,
) -> Option<CreationFile> {
    let epoch_id = epoch_due(st, b, p)?;
    let read = match &inputs.epoch {
        Some(r) if r.epoch_id == epoch_id => r,
        _ => {
            needs.epoch = Some(epoch_id);
            return None;
        }
    };
    // Whatever follows, this keeper computes the epoch's file once.
    st.filed_epochs.insert(epoch_id);
    match compute_file(read, p) {
        Ok(file) => file,
        Err(e) => {
            // This keeper cannot compute the epoch's file (its boundary predates the price
            // history it can get): the others, or governance, publish it.
            tracing::warn!(target: "keeper::engine", epoch = epoch_id, error = %e, "not computing this epoch's creation file");
            None
        }
    }
}

fn compute_file(read: &EpochRead, p: &Params) -> Result<Option<CreationFile>> {
    let EpochRead {
        epoch_id, boundary, ..
    } = *read;
    if let Some(reason) = &read.unreadable {
        return Err(crate::Error::Decode {
            what: format!("epoch {epoch_id}"),
            reason: reason.clone(),
        });
    }
    let Some(fund) = &read.fund else {
        // Published already: nothing to sign.
        return Ok(None);
    };
    let epoch = Epoch {
        epoch_id,
        genesis_block: p.genesis_block,
        epoch_length: p.epoch_length,
    };
    let mut subnets = Vec::new();
    let mut prices = Vec::new();
    for s in &read.subnets {
        let samples = match &s.samples {
            Ok(samples) => samples,
            Err(reason) => {
                tracing::error!(target: "keeper::engine", epoch_id, netuid = s.netuid, error = %reason,
                    "cannot compute the creation file");
                return Ok(None);
            }
        };
        let price = official_price(s.netuid, boundary, p.price_window, samples)?.raw();
        prices.push(Price {
            netuid: s.netuid,
            price,
        });
        subnets.push(SubnetSnapshot {
            netuid: s.netuid,
            price,
            alpha_outstanding: u128::from(s.alpha_out),
            trading: s.tao_in > 0 && s.alpha_in > 0,
            transfers_enabled: s.transfers_enabled,
        });
    }
    let nav_per_share = nav::nav(&fund.fund_state(), &prices, boundary)?.nav_per_share;
    match index::compute(&IndexInput {
        epoch,
        params: p.index.clone(),
        nav_per_share,
        signer_set_version: fund.signer_set.version,
        subnets,
    }) {
        Ok(o) => {
            tracing::info!(target: "keeper::engine", epoch_id, boundary, assets = o.creation_file.assets.len(),
                hash = %o.creation_file_hash, "computed the epoch's creation file");
            Ok(Some(o.creation_file))
        }
        Err(e) => {
            tracing::error!(target: "keeper::engine", epoch_id, error = %e, "the index has no file this epoch");
            Ok(None)
        }
    }
}

/// Requests that may be due for `expire` at `b` by the state alone: pending, past their expiry
/// block and grace, and not scheduled yet (the contract's `expireableAt` has the last word,
/// since paused time does not count against a miner).
pub(crate) fn expiry_candidates(st: &CreationState, b: u64, p: &Params) -> Vec<B256> {
    st.machine
        .requests
        .iter()
        .filter(|r| {
            r.status == Status::Pending
                && b > r.request.expiry_block.saturating_add(p.expiry_grace)
                && !st.expiring.contains(&r.request.request_id)
        })
        .map(|r| r.request.request_id)
        .collect()
}

fn expiries_due(
    st: &mut CreationState,
    b: u64,
    inputs: &BlockInputs,
    p: &Params,
    needs: &mut Needs,
) -> Vec<B256> {
    let mut due = Vec::new();
    for id in expiry_candidates(st, b, p) {
        match inputs.expireable.iter().find(|(r, _)| *r == id) {
            None => needs.expireable.push(id),
            Some((_, at)) => {
                if at.is_some_and(|at| at <= b + 1) {
                    due.push(id);
                }
            }
        }
    }
    st.expiring.extend(due.iter().copied());
    due
}
