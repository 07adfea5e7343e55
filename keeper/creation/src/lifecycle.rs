//! The creation lifecycle as a pure state machine: [`CreationMachine::apply`] takes one
//! [`Event`] (a finalized substrate block, or a BEVM event of the contract, or the valuation data
//! a previous [`Action::FetchValuation`] asked for) and returns the [`Action`]s to carry out.
//! It never touches the network; its state is plain serde data the keeper persists.
//!
//! Driving it: feed events in block order. For each finalized block `b`, feed the contract's BEVM
//! events of `b` (same block numbers as substrate) and the substrate block `b` itself, then move
//! to `b + 1`. A request's delivery window starts at `requestBlock + 1`, so the order of the two
//! within one block does not matter. `apply` is atomic: on error the state is unchanged.
//!
//! Request states move only `Pending -> Minted | Refunded | Expired`, as in the contract. What the
//! machine signs:
//! - a valid delivery, once valued: a [`CreationReport`] (again, identical, after a signer-set
//!   change while it is still pending);
//! - an invalid delivery, once the request's expiry block has passed: a [`RefundReport`] naming
//!   the request (the contract settles it position by position: a position worth less than the
//!   runtime minimum is skipped and the same signed report, relayed again later, refunds it;
//!   [`Event::Refunded`] carries the mask of positions that moved);
//! - an orphan (stake arriving in the vault under a non-fund hotkey that is no request's winning
//!   delivery, including a valid delivery whose request expired unminted): a [`RefundReport`] with
//!   a zero request id, named by its delivery id, back to the extrinsic's signer. Orphans from
//!   unsigned extrinsics have no coldkey to return to and are left for the sweep.
//!
//! Valuation data is checked when it arrives ([`check_valuation`]); a delivery whose valuation
//! would make `mint` revert (no shares, fewer than `minSharesOut`) is treated as invalid.

use alloy_primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

use crate::delivery::{
    check_validity, delivery_remark_of, recognize, vault_deposits, AccountId, DeliveryId,
    Invalidity, NotDelivery, SubstrateBlock,
};
use crate::eip712::{
    creation_file_hash, CreationFile, CreationReport, Position, RefundReport, Sweep,
};
use crate::ids::delivery_remark;
use crate::nav::{holdings_value, nav, shares, FundState, Holding, Price, Shares, DEAD_SHARES};
use crate::pricing::{official_price, SpotSample};
use crate::{Error, Result};

/// What the machine is configured with (fixed per deployment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineConfig {
    /// BEVM chain id.
    pub chain_id: u64,
    /// The core contract.
    pub contract: Address,
    /// The vault: the contract's substrate mirror account.
    pub vault: AccountId,
    /// The fund hotkey of each netuid (deliveries on any of them are refused; deposits on them
    /// are the fund's own; a sweep only moves stake of netuids that have one).
    pub fund_hotkeys: Vec<FundHotkey>,
    /// Official price window W, blocks.
    pub price_window: u64,
}

/// The fund's hotkey for one netuid (`fundHotkey(netuid)` in the contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundHotkey {
    /// The subnet.
    pub netuid: u16,
    /// The hotkey the fund's stake of that subnet sits under.
    pub hotkey: AccountId,
}

impl MachineConfig {
    /// Every fund hotkey, whatever its netuid.
    pub fn fund_hotkey_list(&self) -> Vec<AccountId> {
        self.fund_hotkeys.iter().map(|f| f.hotkey).collect()
    }
}

/// A `CreationRequested` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationRequest {
    /// The request id.
    pub request_id: B256,
    /// The miner (EVM address).
    pub miner: Address,
    /// Receiver of the shares.
    pub receiver: Address,
    /// The coldkey that must sign the delivery.
    pub coldkey: AccountId,
    /// The request's epoch.
    pub epoch_id: u64,
    /// Units requested.
    pub units: u32,
    /// The request's block (also its valuation block).
    pub request_block: u64,
    /// Last block a delivery may be included in.
    pub expiry_block: u64,
    /// The mint reverts below this.
    #[serde(with = "crate::dec")]
    pub min_shares_out: U256,
    /// Bond paid, wei.
    #[serde(with = "crate::dec")]
    pub bond: U256,
}

/// The official-price samples of one subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpotWindow {
    /// The subnet.
    pub netuid: u16,
    /// One sample per block of `[v - W, v - 1]`.
    pub samples: Vec<SpotSample>,
}

/// What a valuation needs, read at the request's valuation block `v = requestBlock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Valuation {
    /// Spot samples for every netuid of the fund and of the creation file.
    pub spot: Vec<SpotWindow>,
    /// The fund at `v` (fund-hotkey positions only, supply, fee state).
    pub fund: FundState,
    /// The contract's mint fee at `v`, basis points.
    pub mint_fee_bps: u16,
}

/// The valuation's outcome for a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Valued {
    /// Official prices used.
    pub prices: Vec<Price>,
    /// Value of the delivery, rao.
    #[serde(with = "crate::dec")]
    pub value_rao: U256,
    /// NAV per share at `v`.
    #[serde(with = "crate::dec")]
    pub nav_per_share: U256,
    /// The shares `mint` will compute.
    pub shares: Shares,
    /// Dead shares the mint will lock (1e15 when the fund's supply is zero, else 0).
    #[serde(with = "crate::dec")]
    pub dead_shares: U256,
    /// What the receiver gets: `sharesOut - deadShares`.
    #[serde(with = "crate::dec")]
    pub receiver_shares: U256,
}

/// A request's status, as in the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// Open.
    Pending,
    /// Shares minted.
    Minted,
    /// Delivery refunded.
    Refunded,
    /// Expired (bond to the fund).
    Expired,
}

/// A recognized delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Where it is.
    pub id: DeliveryId,
    /// What arrived, sorted by (netuid, hotkey).
    pub positions: Vec<Position>,
    /// `None` while valid, or why it is invalid.
    pub invalid: Option<Invalidity>,
}

/// Everything the machine knows about one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestState {
    /// The request.
    pub request: CreationRequest,
    /// Its status.
    pub status: Status,
    /// The remark its delivery must carry.
    pub remark: B256,
    /// The winning delivery, once seen.
    pub delivery: Option<Delivery>,
    /// The valuation inputs, once fetched.
    pub valuation: Option<Valuation>,
    /// The valuation's outcome for a valid delivery.
    pub valued: Option<Valued>,
    /// The creation report last emitted.
    pub report: Option<CreationReport>,
    /// The refund report last emitted.
    pub refund: Option<RefundReport>,
    /// Whether the contract refunded every position of the delivery.
    pub delivery_refunded: bool,
    /// Bit `i`: position `i` of the delivery was refunded (the contract settles per position).
    #[serde(default, with = "crate::dec")]
    pub refunded_mask: U256,
}

/// Stake in the vault that no request claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Orphan {
    /// Its delivery id.
    pub id: DeliveryId,
    /// The extrinsic's signer (the refund's coldkey), if signed.
    pub coldkey: Option<AccountId>,
    /// The positions.
    pub positions: Vec<Position>,
    /// The refund report last emitted.
    pub refund: Option<RefundReport>,
    /// Whether the contract refunded every position of it.
    pub refunded: bool,
    /// Bit `i`: position `i` was refunded.
    #[serde(default, with = "crate::dec")]
    pub refunded_mask: U256,
}

/// A `CreationMinted` record, the input of mechanism-0 weights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MintRecord {
    /// The request.
    pub request_id: B256,
    /// The miner.
    pub miner: Address,
    /// The epoch.
    pub epoch_id: u64,
    /// Units minted.
    pub units: u32,
    /// Value delivered, rao.
    #[serde(with = "crate::dec")]
    pub value_rao: U256,
    /// Shares minted.
    #[serde(with = "crate::dec")]
    pub shares_out: U256,
    /// Block of the mint.
    pub block: u64,
}

/// An input of the machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "event")]
pub enum Event {
    /// A finalized substrate block.
    Block(SubstrateBlock),
    /// `EpochPublished(epochId, fileHash, ..)` with the full file (the keeper's own computed file
    /// for that epoch, or the one decoded from the `publishEpoch` calldata).
    CreationFilePublished {
        /// The file.
        file: CreationFile,
        /// The event's `fileHash`; the file must hash to it.
        file_hash: B256,
    },
    /// `CreationRequested`.
    CreationRequested(CreationRequest),
    /// The valuation data asked for by [`Action::FetchValuation`].
    Valuation {
        /// The request.
        request_id: B256,
        /// The data.
        valuation: Valuation,
    },
    /// `CreationMinted`.
    CreationMinted(MintRecord),
    /// `Refunded(requestId, coldkey, deliveryBlock, deliveryIndex, refundedMask)`: positions of a
    /// delivery were refunded, by request (non-zero id) or as an orphan (zero id).
    Refunded {
        /// The request, zero for an orphan.
        request_id: B256,
        /// The refunded delivery.
        delivery: DeliveryId,
        /// Bit `i`: position `i` of the relayed report (the delivery's positions, in order) moved
        /// now. Zero when every position was still dust (the request closes all the same).
        #[serde(with = "crate::dec")]
        refunded_mask: U256,
    },
    /// `expire(requestId)` succeeded.
    Expired {
        /// The request.
        request_id: B256,
    },
    /// The contract's signer set changed.
    SignerSetChanged {
        /// The new `signerSetVersion`.
        version: u64,
    },
}

/// An output of the machine, for the executors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum Action {
    /// Read the valuation data at `valuationBlock` and feed it back as [`Event::Valuation`].
    FetchValuation {
        /// The request.
        request_id: B256,
        /// `v = requestBlock`.
        valuation_block: u64,
        /// Spot samples are needed for `[v - window, v - 1]`.
        window: u64,
        /// Netuids of the creation file (the fund's own netuids are needed as well).
        netuids: Vec<u16>,
    },
    /// Sign (through the journal) and publish a creation report.
    SignCreationReport(CreationReport),
    /// Sign (through the journal) and publish a refund report.
    SignRefundReport(RefundReport),
    /// An extrinsic carried a request's remark but is not its delivery (for the operator's log;
    /// its stake, if any, is an orphan).
    DeliveryRejected {
        /// The request.
        request_id: B256,
        /// The extrinsic.
        id: DeliveryId,
        /// Why.
        why: NotDelivery,
    },
}

/// The machine's whole state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationMachine {
    /// Configuration.
    pub config: MachineConfig,
    /// The last substrate block applied.
    pub last_block: Option<u64>,
    /// The current `signerSetVersion`.
    pub signer_set_version: u64,
    /// Creation files by epoch.
    pub files: Vec<CreationFile>,
    /// Requests, in arrival order.
    pub requests: Vec<RequestState>,
    /// Orphans, in arrival order.
    pub orphans: Vec<Orphan>,
    /// Mint records, in arrival order.
    pub minted: Vec<MintRecord>,
}

fn lifecycle(msg: impl Into<String>) -> Error {
    Error::Lifecycle(msg.into())
}

impl CreationMachine {
    /// A fresh machine.
    pub fn new(config: MachineConfig, signer_set_version: u64) -> Self {
        Self {
            config,
            last_block: None,
            signer_set_version,
            files: Vec::new(),
            requests: Vec::new(),
            orphans: Vec::new(),
            minted: Vec::new(),
        }
    }

    /// The state of request `id`.
    pub fn request(&self, id: &B256) -> Option<&RequestState> {
        self.requests.iter().find(|r| r.request.request_id == *id)
    }

    fn request_mut(&mut self, id: &B256) -> Result<&mut RequestState> {
        self.requests
            .iter_mut()
            .find(|r| r.request.request_id == *id)
            .ok_or_else(|| lifecycle(format!("unknown request {id}")))
    }

    fn file(&self, epoch_id: u64) -> Result<&CreationFile> {
        self.files
            .iter()
            .find(|f| f.epoch_id == epoch_id)
            .ok_or_else(|| lifecycle(format!("no creation file for epoch {epoch_id}")))
    }

    /// Applies one event; on error the state is left unchanged.
    pub fn apply(&mut self, event: &Event) -> Result<Vec<Action>> {
        let mut next = self.clone();
        let actions = next.apply_inner(event)?;
        *self = next;
        Ok(actions)
    }

    fn apply_inner(&mut self, event: &Event) -> Result<Vec<Action>> {
        match event {
            Event::Block(b) => self.on_block(b),
            Event::CreationFilePublished { file, file_hash } => {
                crate::eip712::check_assets(&file.assets)?;
                if creation_file_hash(file) != *file_hash {
                    return Err(lifecycle(format!(
                        "the creation file given for epoch {} does not hash to {file_hash}",
                        file.epoch_id
                    )));
                }
                match self.files.iter().find(|f| f.epoch_id == file.epoch_id) {
                    Some(f) if f != file => Err(lifecycle(format!(
                        "a different creation file for epoch {} is already known",
                        file.epoch_id
                    ))),
                    Some(_) => Ok(vec![]),
                    None => {
                        self.files.push(file.clone());
                        Ok(vec![])
                    }
                }
            }
            Event::CreationRequested(r) => self.on_request(r),
            Event::Valuation {
                request_id,
                valuation,
            } => {
                let window = self.config.price_window;
                let st = self
                    .request(request_id)
                    .ok_or_else(|| lifecycle(format!("unknown request {request_id}")))?;
                if st.valuation.is_some() {
                    return Err(lifecycle(format!("request {request_id} is already valued")));
                }
                // Everything that can be wrong with the data is caught here, where the feeder can
                // fix it and send it again, not later inside a block.
                let file = self.file(st.request.epoch_id)?;
                check_valuation(&st.request, file, valuation, window)?;
                self.request_mut(request_id)?.valuation = Some(valuation.clone());
                self.try_report(request_id)
            }
            Event::CreationMinted(m) => {
                self.transition(&m.request_id, Status::Minted)?;
                self.minted.push(m.clone());
                Ok(vec![])
            }
            Event::Refunded {
                request_id,
                delivery,
                refunded_mask,
            } => self.on_refunded(request_id, *delivery, *refunded_mask),
            Event::Expired { request_id } => {
                self.transition(request_id, Status::Expired)?;
                // A delivery no refund was signed for (a valid one that was never minted) is now an
                // orphan, refundable by its delivery id; a signed request refund stays usable, as
                // the contract refunds expired requests by id too.
                let st = self.request_mut(request_id)?;
                let coldkey = st.request.coldkey;
                match (&st.delivery, &st.refund) {
                    (Some(d), None) if !st.delivery_refunded => {
                        let (id, positions) = (d.id, d.positions.clone());
                        Ok(self.add_orphan(id, Some(coldkey), positions))
                    }
                    _ => Ok(vec![]),
                }
            }
            Event::SignerSetChanged { version } => self.on_signer_set(*version),
        }
    }

    fn on_refunded(
        &mut self,
        request_id: &B256,
        delivery: DeliveryId,
        mask: U256,
    ) -> Result<Vec<Action>> {
        let mut known = false;
        if let Some(o) = self.orphans.iter_mut().find(|o| o.id == delivery) {
            o.refunded_mask = settle(o.refunded_mask, mask, o.positions.len(), delivery)?;
            o.refunded = o.refunded_mask == all_positions(o.positions.len());
            known = true;
        }
        if *request_id != B256::ZERO {
            let st = self.request_mut(request_id)?;
            let Some(d) = st.delivery.as_ref().filter(|d| d.id == delivery) else {
                return Err(lifecycle(format!(
                    "refund of request {request_id} names delivery ({}, {}), not its delivery",
                    delivery.block, delivery.index
                )));
            };
            let count = d.positions.len();
            st.refunded_mask = settle(st.refunded_mask, mask, count, delivery)?;
            st.delivery_refunded = st.refunded_mask == all_positions(count);
            match st.status {
                Status::Pending => st.status = Status::Refunded,
                // A later relay of the same report (dust that became transferable), or a refund of
                // an expired request's delivery.
                Status::Refunded | Status::Expired => {}
                other => {
                    return Err(lifecycle(format!(
                        "request {request_id} refunded while {other:?}"
                    )))
                }
            }
            known = true;
        }
        if known {
            Ok(vec![])
        } else {
            Err(lifecycle(format!(
                "refund of unknown delivery ({}, {})",
                delivery.block, delivery.index
            )))
        }
    }

    /// Whether `r`'s delivery still has positions in the vault that this request accounts for:
    /// not minted, not wholly refunded, and not handed over to an orphan of the same delivery id.
    fn holds_delivery(&self, r: &RequestState) -> bool {
        r.status != Status::Minted
            && !r.delivery_refunded
            && r.delivery
                .as_ref()
                .is_some_and(|d| !self.orphans.iter().any(|o| o.id == d.id))
    }

    fn transition(&mut self, id: &B256, to: Status) -> Result<()> {
        let st = self.request_mut(id)?;
        if st.status != Status::Pending {
            return Err(lifecycle(format!(
                "request {id} cannot move from {:?} to {to:?}",
                st.status
            )));
        }
        st.status = to;
        Ok(())
    }

    fn on_request(&mut self, r: &CreationRequest) -> Result<Vec<Action>> {
        if let Some(existing) = self.request(&r.request_id) {
            return if existing.request == *r {
                Ok(vec![])
            } else {
                Err(lifecycle(format!(
                    "request {} seen with different fields",
                    r.request_id
                )))
            };
        }
        if let Some(last) = self.last_block {
            if r.request_block < last {
                return Err(lifecycle(format!(
                    "request {} at block {} arrived after block {last} was applied",
                    r.request_id, r.request_block
                )));
            }
        }
        if r.expiry_block <= r.request_block {
            return Err(lifecycle(format!(
                "request {} expires before it opens",
                r.request_id
            )));
        }
        let netuids = self
            .file(r.epoch_id)?
            .assets
            .iter()
            .map(|a| a.netuid)
            .collect();
        self.requests.push(RequestState {
            request: r.clone(),
            status: Status::Pending,
            remark: delivery_remark(self.config.chain_id, self.config.vault, r.request_id),
            delivery: None,
            valuation: None,
            valued: None,
            report: None,
            refund: None,
            delivery_refunded: false,
            refunded_mask: U256::ZERO,
        });
        Ok(vec![Action::FetchValuation {
            request_id: r.request_id,
            valuation_block: r.request_block,
            window: self.config.price_window,
            netuids,
        }])
    }

    fn on_block(&mut self, b: &SubstrateBlock) -> Result<Vec<Action>> {
        if let Some(last) = self.last_block {
            if b.number <= last {
                return Err(lifecycle(format!(
                    "block {} applied after block {last}",
                    b.number
                )));
            }
        }
        self.last_block = Some(b.number);
        let mut actions = Vec::new();
        let vault = self.config.vault;
        let fund = self.config.fund_hotkey_list();
        for ext in &b.extrinsics {
            let id = DeliveryId {
                block: b.number,
                index: ext.index,
            };
            let deposits = vault_deposits(ext, &vault, &fund);
            let claimant = delivery_remark_of(ext)
                .and_then(|remark| self.requests.iter().position(|r| r.remark == remark));
            let mut delivered = false;
            if let Some(i) = claimant {
                let st = &self.requests[i];
                let rid = st.request.request_id;
                let verdict = if st.delivery.is_some() || st.status != Status::Pending {
                    Err(NotDelivery::AlreadyDelivered)
                } else {
                    recognize(
                        ext,
                        b.number,
                        &st.request.coldkey,
                        st.request.request_block,
                        st.request.expiry_block,
                        &vault,
                        &fund,
                    )
                };
                match verdict {
                    Ok(positions) => {
                        let file = self.file(st.request.epoch_id)?;
                        let invalid = check_validity(file, st.request.units, &positions).err();
                        self.requests[i].delivery = Some(Delivery {
                            id,
                            positions,
                            invalid,
                        });
                        delivered = true;
                        actions.extend(self.try_report(&rid)?);
                    }
                    Err(why) => actions.push(Action::DeliveryRejected {
                        request_id: rid,
                        id,
                        why,
                    }),
                }
            }
            if !delivered && !deposits.is_empty() {
                actions.extend(self.add_orphan(id, ext.signer, deposits));
            }
        }
        actions.extend(self.refund_expired(b.number));
        Ok(actions)
    }

    fn add_orphan(
        &mut self,
        id: DeliveryId,
        coldkey: Option<AccountId>,
        positions: Vec<Position>,
    ) -> Vec<Action> {
        if self.orphans.iter().any(|o| o.id == id) {
            return vec![];
        }
        let refund = coldkey.map(|coldkey| RefundReport {
            request_id: B256::ZERO,
            coldkey,
            positions: positions.clone(),
            delivery_block: id.block,
            delivery_index: id.index,
            signer_set_version: self.signer_set_version,
        });
        self.orphans.push(Orphan {
            id,
            coldkey,
            positions,
            refund: refund.clone(),
            refunded: false,
            refunded_mask: U256::ZERO,
        });
        refund.map(Action::SignRefundReport).into_iter().collect()
    }

    /// Refund reports for invalid deliveries of pending requests whose expiry block has passed.
    fn refund_expired(&mut self, block: u64) -> Vec<Action> {
        let version = self.signer_set_version;
        let mut out = Vec::new();
        for st in &mut self.requests {
            if st.status != Status::Pending
                || st.refund.is_some()
                || block <= st.request.expiry_block
            {
                continue;
            }
            let Some(d) = &st.delivery else { continue };
            if d.invalid.is_none() {
                continue;
            }
            let r = RefundReport {
                request_id: st.request.request_id,
                coldkey: st.request.coldkey,
                positions: d.positions.clone(),
                delivery_block: d.id.block,
                delivery_index: d.id.index,
                signer_set_version: version,
            };
            st.refund = Some(r.clone());
            out.push(Action::SignRefundReport(r));
        }
        out
    }

    /// Values a valid delivery once both it and the valuation data are known, and emits the report
    /// (or marks the delivery invalid when the mint would revert).
    fn try_report(&mut self, id: &B256) -> Result<Vec<Action>> {
        let window = self.config.price_window;
        let version = self.signer_set_version;
        let st = self
            .request(id)
            .ok_or_else(|| lifecycle(format!("unknown request {id}")))?;
        let (Some(d), Some(v)) = (&st.delivery, &st.valuation) else {
            return Ok(vec![]);
        };
        if d.invalid.is_some() || st.report.is_some() {
            return Ok(vec![]);
        }
        let file = self.file(st.request.epoch_id)?;
        let file_hash = creation_file_hash(file);
        let outcome = value_delivery(&st.request, &d.positions, v, window);
        let st = self.request_mut(id)?;
        let valued = match outcome {
            Ok(valued) => valued,
            // The valuation was checked on arrival, so this is a mint that would revert (no shares,
            // below minSharesOut, or an overflow): the delivery cannot mint and is refunded.
            Err(e) => {
                let detail = match e {
                    Error::Rejected(detail) => detail,
                    other => other.to_string(),
                };
                if let Some(d) = &mut st.delivery {
                    d.invalid = Some(Invalidity::WouldNotMint { detail });
                }
                return Ok(vec![]);
            }
        };
        let d = st
            .delivery
            .clone()
            .ok_or_else(|| lifecycle("delivery vanished"))?;
        let report = CreationReport {
            request_id: *id,
            epoch_id: st.request.epoch_id,
            creation_file_hash: file_hash,
            receiver: st.request.receiver,
            units: st.request.units,
            positions: d.positions,
            delivery_block: d.id.block,
            delivery_index: d.id.index,
            value_rao: valued.value_rao,
            nav_per_share: valued.nav_per_share,
            signer_set_version: version,
        };
        st.valued = Some(valued);
        st.report = Some(report.clone());
        Ok(vec![Action::SignCreationReport(report)])
    }

    /// Forgets what can no longer change before `block`: closed requests whose window ended
    /// before it, refunded orphans delivered before it, mint records before it, and files of
    /// epochs that ended before it and that no remaining request uses. Keeps the state (cloned on
    /// every `apply`) small; call it with the oldest block the weights window still needs.
    pub fn prune(&mut self, block: u64) {
        // A request whose delivery still sits (partly) in the vault is kept, whatever its age.
        let keep: Vec<bool> = self
            .requests
            .iter()
            .map(|r| {
                r.status == Status::Pending
                    || r.request.expiry_block >= block
                    || self.holds_delivery(r)
            })
            .collect();
        let mut keep = keep.into_iter();
        self.requests.retain(|_| keep.next().unwrap_or(true));
        self.orphans.retain(|o| !o.refunded || o.id.block >= block);
        self.minted.retain(|m| m.block >= block);
        let requests = &self.requests;
        self.files.retain(|f| {
            f.valid_until_block >= block
                || requests.iter().any(|r| r.request.epoch_id == f.epoch_id)
        });
    }

    /// The sweep of stray stake: `vault_stakes` (the vault's stake under non-fund hotkeys, read at
    /// one finalized block) minus the positions that unminted deliveries and orphans still hold in
    /// the vault (every position not yet refunded, dust included); `None` when nothing is left.
    /// Emissions earned by a waiting delivery are stray too. The contract leaves a swept position
    /// worth less than the runtime minimum where it is (`Swept.movedMask`); sweep it again later.
    pub fn sweep(&self, vault_stakes: &[Position], nonce: u64) -> Result<Option<Sweep>> {
        let mut claims: Vec<Position> = Vec::new();
        let pending = self
            .requests
            .iter()
            .filter(|r| self.holds_delivery(r))
            .filter_map(|r| r.delivery.as_ref().map(|d| (&d.positions, r.refunded_mask)))
            .flat_map(|(ps, mask)| unrefunded(ps, mask));
        let orphaned = self
            .orphans
            .iter()
            .filter(|o| !o.refunded)
            .flat_map(|o| unrefunded(&o.positions, o.refunded_mask));
        for p in pending.chain(orphaned) {
            match claims
                .iter_mut()
                .find(|c| (c.netuid, c.hotkey) == (p.netuid, p.hotkey))
            {
                Some(c) => c.amount = c.amount.saturating_add(p.amount),
                None => claims.push(*p),
            }
        }
        let mut positions: Vec<Position> = Vec::new();
        for s in vault_stakes {
            // Fund-hotkey stake is the fund's; a netuid without a fund hotkey cannot be swept.
            let has_fund_hotkey = self
                .config
                .fund_hotkeys
                .iter()
                .any(|f| f.netuid == s.netuid);
            if !has_fund_hotkey
                || self
                    .config
                    .fund_hotkeys
                    .iter()
                    .any(|f| f.hotkey == s.hotkey)
            {
                continue;
            }
            let claimed = claims
                .iter()
                .find(|c| (c.netuid, c.hotkey) == (s.netuid, s.hotkey))
                .map_or(0, |c| c.amount);
            if s.amount > claimed {
                positions.push(Position {
                    amount: s.amount - claimed,
                    ..*s
                });
            }
        }
        positions.sort_by_key(|p| (p.netuid, p.hotkey));
        crate::eip712::check_positions("vault stakes", &positions)?;
        Ok((!positions.is_empty()).then_some(Sweep {
            positions,
            nonce,
            signer_set_version: self.signer_set_version,
        }))
    }

    fn on_signer_set(&mut self, version: u64) -> Result<Vec<Action>> {
        if version <= self.signer_set_version {
            return Err(lifecycle(format!(
                "signer set version {version} is not after {}",
                self.signer_set_version
            )));
        }
        self.signer_set_version = version;
        // Pending reports are re-signed with identical content under the new version, and so is a
        // request's refund while positions of it are still unrefunded (dust awaiting a later relay).
        let mut out = Vec::new();
        for st in self.requests.iter_mut() {
            if st.status == Status::Pending {
                if let Some(r) = &mut st.report {
                    r.signer_set_version = version;
                    out.push(Action::SignCreationReport(r.clone()));
                }
            }
            let unsettled = st.status != Status::Minted && !st.delivery_refunded;
            if let Some(r) = st.refund.as_mut().filter(|_| unsettled) {
                r.signer_set_version = version;
                out.push(Action::SignRefundReport(r.clone()));
            }
        }
        for o in self.orphans.iter_mut().filter(|o| !o.refunded) {
            if let Some(r) = &mut o.refund {
                r.signer_set_version = version;
                out.push(Action::SignRefundReport(r.clone()));
            }
        }
        Ok(out)
    }
}

/// Every position of a list of `count` positions, as a mask.
fn all_positions(count: usize) -> U256 {
    if count >= 256 {
        U256::MAX
    } else {
        (U256::from(1u8) << count) - U256::from(1u8)
    }
}

/// `done | mask`, refusing a mask that names a position twice or one beyond the `count` positions.
fn settle(done: U256, mask: U256, count: usize, delivery: DeliveryId) -> Result<U256> {
    if mask & !all_positions(count) != U256::ZERO {
        return Err(lifecycle(format!(
            "refund mask {mask:#x} of delivery ({}, {}) names more than its {count} positions",
            delivery.block, delivery.index
        )));
    }
    if done & mask != U256::ZERO {
        return Err(lifecycle(format!(
            "delivery ({}, {}) refunded twice (positions {:#x})",
            delivery.block,
            delivery.index,
            done & mask
        )));
    }
    Ok(done | mask)
}

/// The positions whose bit is not set in `mask`.
fn unrefunded(positions: &[Position], mask: U256) -> impl Iterator<Item = &Position> {
    positions
        .iter()
        .enumerate()
        .filter(move |(i, _)| *i >= 256 || !mask.bit(*i))
        .map(|(_, p)| p)
}

/// The contract's pause clock (`pauseClock()`): time spent paused never counts against a miner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PauseClock {
    /// Block the current pause began; 0 while not paused.
    #[serde(with = "crate::dec")]
    pub paused_since: u64,
    /// Blocks spent paused in every pause that has ended.
    #[serde(with = "crate::dec")]
    pub paused_total: u64,
    /// Block of the last unpause; 0 if never paused.
    #[serde(with = "crate::dec")]
    pub last_unpause: u64,
}

/// The first block at which `expire(requestId)` succeeds, as the contract's `expireableAt`
/// computes it, for a request made at `request_block` when `paused_at_request` blocks had been
/// spent paused (`request(id).pausedAtRequest`): `requestBlock + window + grace + 1` plus every
/// block paused since, and at least `grace + 1` after the last unpause that followed the request.
/// `None` while the contract is paused (no request expires then).
pub fn expireable_at(
    request_block: u64,
    window: u64,
    grace: u64,
    paused_at_request: u64,
    clock: &PauseClock,
) -> Result<Option<u64>> {
    if clock.paused_since != 0 {
        return Ok(None);
    }
    let paused = clock
        .paused_total
        .checked_sub(paused_at_request)
        .ok_or_else(|| Error::InvalidParam {
            name: "pausedAtRequest",
            reason: format!(
                "{paused_at_request} exceeds the blocks paused so far ({})",
                clock.paused_total
            ),
        })?;
    let overflow = || Error::range("expiry block", request_block, "uint64");
    let mut last = request_block
        .checked_add(window)
        .and_then(|b| b.checked_add(grace))
        .and_then(|b| b.checked_add(paused))
        .ok_or_else(overflow)?;
    if clock.last_unpause > request_block {
        let after_unpause = clock.last_unpause.checked_add(grace).ok_or_else(overflow)?;
        last = last.max(after_unpause);
    }
    Ok(Some(last.checked_add(1).ok_or_else(overflow)?))
}

/// Checks valuation data on arrival: a full spot window for every netuid of the creation file and
/// of the fund's positions, and a computable NAV at the valuation block.
pub fn check_valuation(
    request: &CreationRequest,
    file: &CreationFile,
    valuation: &Valuation,
    window: u64,
) -> Result<()> {
    let v = request.request_block;
    let mut prices = Vec::with_capacity(valuation.spot.len());
    for w in &valuation.spot {
        if prices.iter().any(|p: &Price| p.netuid == w.netuid) {
            return Err(Error::DuplicateNetuid {
                netuid: w.netuid,
                list: "spot windows",
            });
        }
        prices.push(Price {
            netuid: w.netuid,
            price: official_price(w.netuid, v, window, &w.samples)?.raw(),
        });
    }
    let needed = file
        .assets
        .iter()
        .map(|a| a.netuid)
        .chain(valuation.fund.positions.iter().map(|h| h.netuid));
    for netuid in needed {
        if !prices.iter().any(|p| p.netuid == netuid && p.price > 0) {
            return Err(Error::MissingPrice { netuid });
        }
    }
    nav(&valuation.fund, &prices, v).map(|_| ())
}

/// Values a delivery at its request's valuation block: official prices from the spot windows,
/// NAV of the fund, value of the delivered positions, and the shares `mint` would compute.
/// `Error::Rejected` when the mint would revert (zero shares, or fewer than `minSharesOut`).
pub fn value_delivery(
    request: &CreationRequest,
    positions: &[Position],
    valuation: &Valuation,
    window: u64,
) -> Result<Valued> {
    let v = request.request_block;
    let mut prices = valuation
        .spot
        .iter()
        .map(|w| {
            Ok(Price {
                netuid: w.netuid,
                price: official_price(w.netuid, v, window, &w.samples)?.raw(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    prices.sort_by_key(|p| p.netuid);
    let holdings: Vec<Holding> = positions
        .iter()
        .map(|p| Holding {
            netuid: p.netuid,
            amount: p.amount,
        })
        .collect();
    let value_rao = holdings_value(&holdings, &prices)?;
    let fund_nav = nav(&valuation.fund, &prices, v)?;
    let shares = shares(value_rao, fund_nav.nav_per_share, valuation.mint_fee_bps)?;
    // The first mint ever locks dead shares out of the miner's (judged on the supply at `v`, the
    // state every keeper agrees on; a mint in between could only lower the lock to zero).
    let dead_shares = if fund_nav.supply.is_zero() {
        U256::from(DEAD_SHARES)
    } else {
        U256::ZERO
    };
    if shares.shares_out <= dead_shares {
        return Err(Error::Rejected(format!(
            "sharesOut {} does not exceed the {dead_shares} dead shares of a first mint",
            shares.shares_out
        )));
    }
    let receiver_shares = shares.shares_out - dead_shares;
    if receiver_shares < request.min_shares_out {
        return Err(Error::Rejected(format!(
            "the receiver's {receiver_shares} shares are below minSharesOut {}",
            request.min_shares_out
        )));
    }
    Ok(Valued {
        prices,
        value_rao,
        nav_per_share: fund_nav.nav_per_share,
        shares,
        dead_shares,
        receiver_shares,
    })
}
