//! The substrate data the creation lifecycle reads, and the delivery rule (PROTOCOL.md, Creation
//! steps 2-3).
//!
//! # Types for the chain adapters
//! The adapters (subxt against a node, or the in-process simulator) convert each **finalized**
//! block into a [`SubstrateBlock`]: every extrinsic with its index in the block, its signer, whether
//! it succeeded, its decoded call tree ([`Call`]) and the events it emitted ([`ChainEvent`], in
//! order, the extrinsic's `ApplyExtrinsic(index)` phase only). Only the calls and events named here
//! matter; anything else becomes [`Call::Other`] / [`ChainEvent::Other`]. Account ids are the raw
//! 32 bytes (`B256`), amounts are rao.
//!
//! # The rule
//! A delivery for request `r` is one successful extrinsic, signed by `r.coldkey`, in a block of
//! `(r.requestBlock, r.expiryBlock]`, whose call is `utility.batch_all` of exactly one
//! `system.remark` (or `remark_with_event`) whose data is the 32 raw bytes of
//! `delivery_remark(chainid, vault, r.requestId)`
//! and one or more `subtensor.transfer_stake` calls with `origin_netuid == destination_netuid` and
//! `destination_coldkey == vault`, one hotkey per netuid, none on a fund hotkey. The delivered
//! amounts are the alpha of the extrinsic's `StakeAdded` events whose coldkey is the vault (not the
//! TAO-valued `StakeTransferred` amount); every such event must match a call's (netuid, hotkey).
//! It is **valid** when every asset of the creation file is delivered within tolerance,
//! `|delivered - units x qtyPerUnit| <= max(1, floor(units x qtyPerUnit x toleranceBps / 10 000))`,
//! and no other netuid is present.

use alloy_primitives::{Bytes, B256};
use serde::{Deserialize, Serialize};

use crate::eip712::{CreationFile, Position};
use crate::BPS;

/// A 32-byte substrate account id (coldkey or hotkey).
pub type AccountId = B256;

/// A decoded call, as much of it as the delivery rule reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "call")]
pub enum Call {
    /// `utility.batch_all(calls)`: atomic, the only batch a delivery may use.
    BatchAll {
        /// The inner calls, in order.
        calls: Vec<Call>,
    },
    /// `utility.batch(calls)` or `utility.force_batch(calls)`: not atomic, never a delivery.
    Batch {
        /// The inner calls, in order.
        calls: Vec<Call>,
    },
    /// `system.remark(data)` or `system.remark_with_event(data)`.
    Remark {
        /// The remark bytes.
        data: Bytes,
    },
    /// `subtensor.transfer_stake(destination_coldkey, hotkey, origin_netuid, destination_netuid,
    /// alpha_amount)`.
    #[serde(rename_all = "camelCase")]
    TransferStake {
        /// Receiving coldkey.
        destination_coldkey: AccountId,
        /// The hotkey the stake stays under.
        hotkey: AccountId,
        /// Source subnet.
        origin_netuid: u16,
        /// Destination subnet.
        destination_netuid: u16,
        /// Requested alpha, rao (the runtime may clamp it; the events tell what moved).
        alpha_amount: u64,
    },
    /// Any other call.
    Other {
        /// Pallet name.
        pallet: String,
        /// Call name.
        name: String,
    },
}

/// An event emitted by an extrinsic, as much of it as the lifecycle reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "event")]
pub enum ChainEvent {
    /// `subtensor.StakeAdded(coldkey, hotkey, tao, alpha, netuid, ..)`.
    #[serde(rename_all = "camelCase")]
    StakeAdded {
        /// Coldkey credited.
        coldkey: AccountId,
        /// Hotkey credited.
        hotkey: AccountId,
        /// TAO-valued amount, rao (informational).
        tao_amount: u64,
        /// Alpha credited, rao: the delivered amount.
        alpha_amount: u64,
        /// The subnet.
        netuid: u16,
    },
    /// Any other event (`StakeRemoved`, `StakeTransferred`, ...), ignored by the rule.
    Other {
        /// Pallet name.
        pallet: String,
        /// Event name.
        name: String,
    },
}

/// One extrinsic of a finalized block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extrinsic {
    /// Index in its block (the `extrinsicIndex` of a delivery id).
    pub index: u32,
    /// The signer's account, `None` for unsigned and self-contained (EVM) extrinsics.
    pub signer: Option<AccountId>,
    /// Whether it succeeded (`ExtrinsicSuccess`).
    pub success: bool,
    /// The decoded call.
    pub call: Call,
    /// The events of its `ApplyExtrinsic` phase, in order.
    pub events: Vec<ChainEvent>,
}

/// A finalized substrate block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubstrateBlock {
    /// Block number (BEVM uses the same numbers).
    pub number: u64,
    /// Its extrinsics.
    pub extrinsics: Vec<Extrinsic>,
}

/// `(block, extrinsicIndex)`: how the contract names a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryId {
    /// Block number.
    pub block: u64,
    /// Extrinsic index.
    pub index: u32,
}

/// Stake an extrinsic put into the vault under non-fund hotkeys, summed per (netuid, hotkey) and
/// sorted; deposits on fund hotkeys (the fund's own `moveStake`) are left out.
pub fn vault_deposits(
    ext: &Extrinsic,
    vault: &AccountId,
    fund_hotkeys: &[AccountId],
) -> Vec<Position> {
    let mut out: Vec<Position> = Vec::new();
    if !ext.success {
        return out;
    }
    for e in &ext.events {
        if let ChainEvent::StakeAdded {
            coldkey,
            hotkey,
            alpha_amount,
            netuid,
            ..
        } = e
        {
            // A zero credit moves nothing (and the contract refuses zero-amount positions).
            if coldkey != vault || fund_hotkeys.contains(hotkey) || *alpha_amount == 0 {
                continue;
            }
            match out
                .iter_mut()
                .find(|p| p.netuid == *netuid && p.hotkey == *hotkey)
            {
                Some(p) => p.amount = p.amount.saturating_add(*alpha_amount),
                None => out.push(Position {
                    netuid: *netuid,
                    hotkey: *hotkey,
                    amount: *alpha_amount,
                }),
            }
        }
    }
    out.sort_by_key(|p| (p.netuid, p.hotkey));
    out
}

/// The remark of an extrinsic shaped like a delivery (`batch_all` of one remark and
/// transfer-stake calls only), or `None`.
pub fn delivery_remark_of(ext: &Extrinsic) -> Option<B256> {
    let Call::BatchAll { calls } = &ext.call else {
        return None;
    };
    let mut remark = None;
    for c in calls {
        match c {
            Call::Remark { data } => {
                if remark.is_some() || data.len() != 32 {
                    return None;
                }
                remark = Some(B256::from_slice(data));
            }
            Call::TransferStake { .. } => {}
            _ => return None,
        }
    }
    remark
}

/// Why an extrinsic carrying a request's remark is not its delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "reason")]
pub enum NotDelivery {
    /// The extrinsic failed.
    Failed,
    /// Not signed by the request's coldkey.
    WrongSigner,
    /// Included outside `(requestBlock, expiryBlock]`.
    OutsideWindow,
    /// Not a `batch_all` of one remark and transfer-stake calls only.
    WrongShape,
    /// A transfer moves stake across subnets or to another coldkey.
    NotSameNetuidToVault,
    /// Two hotkeys for one netuid.
    TwoHotkeysForNetuid {
        /// The netuid.
        netuid: u16,
    },
    /// A transfer on a fund hotkey.
    FundHotkey {
        /// The netuid.
        netuid: u16,
    },
    /// A vault `StakeAdded` event that no call explains, or no stake arrived.
    EventsDisagree,
    /// A delivery for the request was already recognized.
    AlreadyDelivered,
}

/// Checks the delivery rule's shape for an extrinsic whose remark matched the request; returns the
/// delivered positions (from the events) or why it is not a delivery.
pub fn recognize(
    ext: &Extrinsic,
    block: u64,
    request_coldkey: &AccountId,
    request_block: u64,
    expiry_block: u64,
    vault: &AccountId,
    fund_hotkeys: &[AccountId],
) -> Result<Vec<Position>, NotDelivery> {
    if !ext.success {
        return Err(NotDelivery::Failed);
    }
    if ext.signer.as_ref() != Some(request_coldkey) {
        return Err(NotDelivery::WrongSigner);
    }
    if block <= request_block || block > expiry_block {
        return Err(NotDelivery::OutsideWindow);
    }
    let Call::BatchAll { calls } = &ext.call else {
        return Err(NotDelivery::WrongShape);
    };
    let mut hotkeys: Vec<(u16, AccountId)> = Vec::new();
    for c in calls {
        match c {
            Call::Remark { .. } => {}
            Call::TransferStake {
                destination_coldkey,
                hotkey,
                origin_netuid,
                destination_netuid,
                ..
            } => {
                if origin_netuid != destination_netuid || destination_coldkey != vault {
                    return Err(NotDelivery::NotSameNetuidToVault);
                }
                if fund_hotkeys.contains(hotkey) {
                    return Err(NotDelivery::FundHotkey {
                        netuid: *origin_netuid,
                    });
                }
                match hotkeys.iter().find(|(n, _)| n == origin_netuid) {
                    Some((_, h)) if h != hotkey => {
                        return Err(NotDelivery::TwoHotkeysForNetuid {
                            netuid: *origin_netuid,
                        })
                    }
                    Some(_) => {}
                    None => hotkeys.push((*origin_netuid, *hotkey)),
                }
            }
            _ => return Err(NotDelivery::WrongShape),
        }
    }
    if hotkeys.is_empty() {
        return Err(NotDelivery::WrongShape);
    }
    // Every vault credit must be one of the calls' (netuid, hotkey); fund-hotkey credits are
    // impossible here since no call names a fund hotkey, so include them in the check.
    let credits = vault_deposits(ext, vault, &[]);
    if credits.is_empty()
        || credits
            .iter()
            .any(|p| !hotkeys.contains(&(p.netuid, p.hotkey)))
    {
        return Err(NotDelivery::EventsDisagree);
    }
    Ok(credits)
}

/// Why a recognized delivery is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "reason")]
pub enum Invalidity {
    /// An asset of the creation file is missing.
    MissingAsset {
        /// The netuid.
        netuid: u16,
    },
    /// A netuid outside the creation file was delivered.
    ExtraAsset {
        /// The netuid.
        netuid: u16,
    },
    /// An amount is outside the tolerance.
    OutOfTolerance {
        /// The netuid.
        netuid: u16,
        /// Delivered, rao.
        delivered: u64,
        /// `units x qtyPerUnit`, rao.
        expected: u128,
        /// The allowed deviation, rao.
        tolerance: u128,
    },
    /// The valuation mints nothing or less than the request's `minSharesOut` (mint would revert).
    WouldNotMint {
        /// Why.
        detail: String,
    },
}

/// `max(1, floor(expected x toleranceBps / 10 000))`: the allowed deviation, rao.
pub fn tolerance(expected: u128, tolerance_bps: u16) -> u128 {
    (expected.saturating_mul(u128::from(tolerance_bps)) / u128::from(BPS)).max(1)
}

/// Checks a delivery's positions (one hotkey per netuid) against the creation file.
pub fn check_validity(
    file: &CreationFile,
    units: u32,
    delivered: &[Position],
) -> Result<(), Invalidity> {
    if let Some(p) = delivered
        .iter()
        .find(|p| !file.assets.iter().any(|a| a.netuid == p.netuid))
    {
        return Err(Invalidity::ExtraAsset { netuid: p.netuid });
    }
    for a in &file.assets {
        let Some(p) = delivered.iter().find(|p| p.netuid == a.netuid) else {
            return Err(Invalidity::MissingAsset { netuid: a.netuid });
        };
        let expected = u128::from(units) * u128::from(a.qty_per_unit);
        let tol = tolerance(expected, file.tolerance_bps);
        if u128::from(p.amount).abs_diff(expected) > tol {
            return Err(Invalidity::OutOfTolerance {
                netuid: a.netuid,
                delivered: p.amount,
                expected,
                tolerance: tol,
            });
        }
    }
    Ok(())
}
