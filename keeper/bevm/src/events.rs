//! The contract's events as plain data: what the keeper's collectors turn into strategy events.
//! Decoding only; no event is interpreted here.

use alloy::primitives::{Address, B256, U256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEventInterface;
use serde::{Deserialize, Serialize};
use tao20_creation::delivery::DeliveryId;
use tao20_creation::lifecycle::{CreationRequest, MintRecord};

use crate::bindings::TAO20::TAO20Events;
use crate::{Error, Result};

/// One TAO20 event the keeper follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "event")]
pub enum ContractEvent {
    /// `EpochPublished`: a creation file was stored.
    EpochPublished {
        /// The epoch.
        epoch_id: u64,
        /// `hashStruct(CreationFile)`.
        file_hash: B256,
        /// Number of assets in the file.
        asset_count: u64,
    },
    /// `CreationRequested`.
    CreationRequested(CreationRequest),
    /// `CreationMinted` (its `block` is the event's block).
    CreationMinted(MintRecord),
    /// `Refunded`: a delivery (or part of it) went back to its coldkey.
    Refunded {
        /// The request, zero for an orphan.
        request_id: B256,
        /// The receiving coldkey.
        coldkey: B256,
        /// The refunded delivery.
        delivery: DeliveryId,
        /// Bit `i`: position `i` of the relayed report moved now (dust stays until relayed again).
        #[serde(with = "tao20_creation::dec")]
        refunded_mask: U256,
    },
    /// `CreationExpired`: the bond went to the fund.
    CreationExpired {
        /// The request.
        request_id: B256,
        /// The bond, wei.
        #[serde(with = "tao20_creation::dec")]
        bond: U256,
    },
    /// `SignersUpdated`.
    SignersUpdated {
        /// The new `signerSetVersion`.
        version: u64,
        /// The signers, ascending.
        signers: Vec<Address>,
        /// The threshold.
        threshold: u8,
    },
    /// `Swept`.
    Swept {
        /// The sweep's nonce.
        nonce: u64,
        /// Bit `i`: position `i` of the sweep moved (dust stays in place).
        #[serde(with = "tao20_creation::dec")]
        moved_mask: U256,
    },
    /// `BondClaimed`: a minted request's bond went back to its miner.
    BondClaimed {
        /// The request.
        request_id: B256,
        /// The miner.
        miner: Address,
        /// Wei.
        #[serde(with = "tao20_creation::dec")]
        amount: U256,
    },
    /// `ClaimBooked`: a redemption booked alpha to a coldkey instead of transferring it.
    ClaimBooked {
        /// The redeemer's coldkey.
        coldkey: B256,
        /// The subnet.
        netuid: u16,
        /// Rao of alpha.
        #[serde(with = "tao20_creation::dec")]
        amount: U256,
    },
    /// `Claimed`: booked alpha was paid to its coldkey.
    Claimed {
        /// The coldkey.
        coldkey: B256,
        /// The subnet.
        netuid: u16,
        /// Rao of alpha.
        #[serde(with = "tao20_creation::dec")]
        amount: U256,
    },
    /// `Redeemed`.
    Redeemed {
        /// The holder.
        holder: Address,
        /// The coldkey paid.
        coldkey: B256,
        /// Shares redeemed (fee included).
        #[serde(with = "tao20_creation::dec")]
        shares: U256,
        /// Fee shares.
        #[serde(with = "tao20_creation::dec")]
        fee: U256,
        /// Shares burned.
        #[serde(with = "tao20_creation::dec")]
        burned: U256,
        /// Amounts paid per position (native TAO last).
        #[serde(with = "tao20_creation::dec::vec")]
        amounts: Vec<U256>,
    },
    /// `FundHotkeyUpdated`.
    FundHotkeyUpdated {
        /// The subnet.
        netuid: u16,
        /// The previous hotkey (zero for a new netuid).
        old: B256,
        /// The new hotkey (zero: the netuid was retired and left the fund).
        new: B256,
    },
    /// `FeesUpdated`.
    FeesUpdated {
        /// Mint fee, bps.
        mint_fee_bps: u16,
        /// Redeem fee, bps.
        redeem_fee_bps: u16,
        /// Management fee, bps a year.
        management_fee_bps: u16,
        /// Fee recipient.
        recipient: Address,
    },
    /// `PausedSet`.
    PausedSet {
        /// Paused or not.
        paused: bool,
    },
    /// Any other event of the contract, by name.
    Other {
        /// The event's name.
        name: String,
    },
}

/// An event with where it was emitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedEvent {
    /// Block number.
    pub block: u64,
    /// Block hash.
    pub block_hash: B256,
    /// The emitting transaction.
    pub tx_hash: B256,
    /// Index of the log in its block.
    pub log_index: u64,
    /// The event.
    pub event: ContractEvent,
}

fn name_of(e: &TAO20Events) -> String {
    let debug = format!("{e:?}");
    debug.split('(').next().unwrap_or("unknown").to_string()
}

/// Decodes one log of the contract.
pub fn decode_log(log: &Log) -> Result<LoggedEvent> {
    let at = || {
        format!(
            "log {} of block {}",
            log.log_index.unwrap_or_default(),
            log.block_number.unwrap_or_default()
        )
    };
    let block = log
        .block_number
        .ok_or_else(|| Error::decode(at(), "no block number (a pending log)"))?;
    let block_hash = log
        .block_hash
        .ok_or_else(|| Error::decode(at(), "no block hash"))?;
    let decoded = TAO20Events::decode_log(&log.inner).map_err(|e| Error::decode(at(), e))?;
    let event = match decoded.data {
        TAO20Events::EpochPublished(e) => ContractEvent::EpochPublished {
            epoch_id: e.epochId,
            file_hash: e.fileHash,
            asset_count: u64::try_from(e.assetCount)
                .map_err(|_| Error::decode(at(), "asset count"))?,
        },
        TAO20Events::CreationRequested(e) => ContractEvent::CreationRequested(CreationRequest {
            request_id: e.requestId,
            miner: e.miner,
            receiver: e.receiver,
            coldkey: e.coldkey,
            epoch_id: e.epochId,
            units: e.units,
            request_block: e.requestBlock,
            expiry_block: e.expiryBlock,
            min_shares_out: e.minSharesOut,
            bond: e.bond,
        }),
        TAO20Events::CreationMinted(e) => ContractEvent::CreationMinted(MintRecord {
            request_id: e.requestId,
            miner: e.miner,
            epoch_id: e.epochId,
            units: e.units,
            value_rao: e.valueRao,
            shares_out: e.sharesOut,
            block,
        }),
        TAO20Events::Refunded(e) => ContractEvent::Refunded {
            request_id: e.requestId,
            coldkey: e.coldkey,
            delivery: DeliveryId {
                block: e.deliveryBlock,
                index: e.deliveryIndex,
            },
            refunded_mask: e.refundedMask,
        },
        TAO20Events::CreationExpired(e) => ContractEvent::CreationExpired {
            request_id: e.requestId,
            bond: e.bond,
        },
        TAO20Events::SignersUpdated(e) => ContractEvent::SignersUpdated {
            version: e.version,
            signers: e.signers,
            threshold: e.threshold,
        },
        TAO20Events::Swept(e) => ContractEvent::Swept {
            nonce: e.nonce,
            moved_mask: e.movedMask,
        },
        TAO20Events::BondClaimed(e) => ContractEvent::BondClaimed {
            request_id: e.requestId,
            miner: e.miner,
            amount: e.amount,
        },
        TAO20Events::ClaimBooked(e) => ContractEvent::ClaimBooked {
            coldkey: e.coldkey,
            netuid: e.netuid,
            amount: e.amount,
        },
        TAO20Events::Claimed(e) => ContractEvent::Claimed {
            coldkey: e.coldkey,
            netuid: e.netuid,
            amount: e.amount,
        },
        TAO20Events::Redeemed(e) => ContractEvent::Redeemed {
            holder: e.holder,
            coldkey: e.coldkey,
            shares: e.shares,
            fee: e.fee,
            burned: e.burned,
            amounts: e.amounts,
        },
        TAO20Events::FundHotkeyUpdated(e) => ContractEvent::FundHotkeyUpdated {
            netuid: e.netuid,
            old: e.oldHotkey,
            new: e.newHotkey,
        },
        TAO20Events::FeesUpdated(e) => ContractEvent::FeesUpdated {
            mint_fee_bps: e.mintFeeBps,
            redeem_fee_bps: e.redeemFeeBps,
            management_fee_bps: e.managementFeeBps,
            recipient: e.recipient,
        },
        TAO20Events::PausedSet(e) => ContractEvent::PausedSet { paused: e.paused },
        other => ContractEvent::Other {
            name: name_of(&other),
        },
    };
    Ok(LoggedEvent {
        block,
        block_hash,
        tx_hash: log.transaction_hash.unwrap_or_default(),
        log_index: log.log_index.unwrap_or_default(),
        event,
    })
}
