//! The simulator's blocks as a Substrate node serves them: SCALE headers chained by blake2-256
//! hashes, bodies of encoded extrinsics, and `System::Events` records.
//!
//! The simulator itself knows calls, not extrinsic bytes. A call it applied without bytes (an
//! administrative block, a `dev_simulator` request) is served as a signed v4 extrinsic of its signer
//! with an all-zero signature, immortal, nonce 0: decodable by any client, never valid to re-submit.

use codec::{Compact, Encode};
use subxt::ext::scale_encode::EncodeAsType;

use crate::client::finney::runtime_types as rt;
use crate::error::DispatchError;
use crate::types::{BlockNumber, Event, Extrinsic, StakeEvent};
use crate::{Error, Result};

/// A block's header, encoded, and its hash.
#[derive(Debug, Clone)]
pub(super) struct Header {
    pub parent: [u8; 32],
    pub number: u32,
    pub state_root: [u8; 32],
    pub extrinsics_root: [u8; 32],
    pub hash: [u8; 32],
}

impl Header {
    /// `parent_hash ++ Compact(number) ++ state_root ++ extrinsics_root ++ digest (no logs)`.
    pub fn new(parent: [u8; 32], number: u32, state_root: [u8; 32], body: &[Vec<u8>]) -> Self {
        let extrinsics_root = sp_crypto_hashing::blake2_256(&body.concat());
        let mut h = Header {
            parent,
            number,
            state_root,
            extrinsics_root,
            hash: [0; 32],
        };
        h.hash = sp_crypto_hashing::blake2_256(&h.encoded());
        h
    }

    pub fn encoded(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 * 3 + 6);
        self.parent.encode_to(&mut out);
        Compact(self.number).encode_to(&mut out);
        self.state_root.encode_to(&mut out);
        self.extrinsics_root.encode_to(&mut out);
        Vec::<u8>::new().encode_to(&mut out); // digest: no logs
        out
    }

    /// The header as `chain_getHeader` answers it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "parentHash": hex0x(&self.parent),
            "number": format!("0x{:x}", self.number),
            "stateRoot": hex0x(&self.state_root),
            "extrinsicsRoot": hex0x(&self.extrinsics_root),
            "digest": { "logs": [] },
        })
    }
}

pub(super) fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Block numbers are `u32` in the runtime's header.
pub(super) fn number_u32(n: BlockNumber) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::invalid("block number", format!("{n} exceeds u32")))
}

/// `Timestamp::set(now)` as the block's unsigned inherent.
pub(super) fn timestamp_inherent(metadata: &subxt::Metadata, now_ms: u64) -> Result<Vec<u8>> {
    let (pallet, call) = call_index(metadata, "Timestamp", "set")?;
    let mut body = vec![0x04, pallet, call];
    Compact(now_ms).encode_to(&mut body);
    Ok(with_length(body))
}

fn call_index(metadata: &subxt::Metadata, pallet: &str, call: &str) -> Result<(u8, u8)> {
    let p = metadata
        .pallet_by_name(pallet)
        .ok_or_else(|| Error::decode("metadata", format!("no pallet {pallet}")))?;
    let c = p
        .call_variant_by_name(call)
        .ok_or_else(|| Error::decode("metadata", format!("no call {pallet}::{call}")))?;
    Ok((p.call_index(), c.index))
}

fn with_length(body: Vec<u8>) -> Vec<u8> {
    let mut out = Compact(u32::try_from(body.len()).unwrap_or(u32::MAX)).encode();
    out.extend(body);
    out
}

/// A call the simulator applied without bytes, as a signed v4 extrinsic with a zero signature.
pub(super) fn placeholder_signed(metadata: &subxt::Metadata, ext: &Extrinsic) -> Result<Vec<u8>> {
    // A call the runtime has no encoding for (one the simulator refused by name) is served as a
    // remark of its name, so the block and its events still line up.
    let call = match crate::client::encode_call(metadata, &ext.call) {
        Ok(call) => call,
        Err(_) => crate::client::encode_call(
            metadata,
            &crate::types::Call::Remark {
                data: ext.call.name().into_bytes(),
            },
        )?,
    };
    let signer = ext.signer.map(|s| s.0).unwrap_or([0; 32]);
    let mut body = vec![0x84, 0x00];
    body.extend_from_slice(&signer);
    body.push(0x01); // MultiSignature::Sr25519
    body.extend_from_slice(&[0u8; 64]);
    // Extensions with a payload in the extrinsic: CheckMortality (immortal), CheckNonce (0),
    // ChargeTransactionPaymentWrapper (tip 0), CheckMetadataHash (mode Disabled).
    body.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]);
    body.extend(call);
    Ok(with_length(body))
}

fn acc(a: &crate::types::AccountId) -> subxt::utils::AccountId32 {
    subxt::utils::AccountId32(a.0)
}

fn stake_fields(
    s: &StakeEvent,
) -> (
    subxt::utils::AccountId32,
    subxt::utils::AccountId32,
    u64,
    u64,
    u16,
    u64,
) {
    (
        acc(&s.coldkey),
        acc(&s.hotkey),
        s.tao,
        s.alpha,
        s.netuid,
        s.fee,
    )
}

fn dispatch_error(metadata: &subxt::Metadata, e: &DispatchError) -> rt::sp_runtime::DispatchError {
    let module = metadata.pallet_by_name(&e.pallet).and_then(|p| {
        let variants = p.error_variants()?;
        variants.iter().find(|v| v.name == e.error).map(|v| {
            rt::sp_runtime::DispatchError::Module(rt::sp_runtime::ModuleError {
                index: p.error_index(),
                error: [v.index, 0, 0, 0],
            })
        })
    });
    module.unwrap_or(rt::sp_runtime::DispatchError::Other)
}

fn dispatch_info(mandatory: bool) -> rt::frame_system::DispatchEventInfo {
    rt::frame_system::DispatchEventInfo {
        weight: rt::sp_weights::weight_v2::Weight {
            ref_time: 0,
            proof_size: 0,
        },
        class: if mandatory {
            rt::frame_support::dispatch::DispatchClass::Mandatory
        } else {
            rt::frame_support::dispatch::DispatchClass::Normal
        },
        pays_fee: rt::frame_support::dispatch::Pays::Yes,
    }
}

/// One event as the runtime encodes it (`RuntimeEvent`); `None` for an event the simulator only
/// knows by name.
fn runtime_event(
    metadata: &subxt::Metadata,
    event: &Event,
    mandatory: bool,
) -> Option<rt::node_subtensor_runtime::RuntimeEvent> {
    use rt::node_subtensor_runtime::RuntimeEvent as R;
    use rt::pallet_subtensor::pallet::Event as S;
    Some(match event {
        Event::StakeAdded(s) => {
            let f = stake_fields(s);
            R::SubtensorModule(S::StakeAdded(f.0, f.1, f.2, f.3, f.4, f.5))
        }
        Event::StakeRemoved(s) => {
            let f = stake_fields(s);
            R::SubtensorModule(S::StakeRemoved(f.0, f.1, f.2, f.3, f.4, f.5))
        }
        Event::StakeTransferred {
            origin_coldkey,
            destination_coldkey,
            hotkey,
            origin_netuid,
            destination_netuid,
            tao,
        } => R::SubtensorModule(S::StakeTransferred(
            acc(origin_coldkey),
            acc(destination_coldkey),
            acc(hotkey),
            *origin_netuid,
            *destination_netuid,
            *tao,
        )),
        Event::WeightsSet { netuid_index, uid } => {
            R::SubtensorModule(S::WeightsSet(*netuid_index, *uid))
        }
        Event::TimelockedWeightsCommitted {
            who,
            netuid_index,
            commit_hash,
            reveal_round,
        } => R::SubtensorModule(S::TimelockedWeightsCommitted(
            acc(who),
            *netuid_index,
            subxt::utils::H256(commit_hash.0),
            *reveal_round,
        )),
        Event::AxonServed { netuid, hotkey } => {
            R::SubtensorModule(S::AxonServed(*netuid, acc(hotkey)))
        }
        Event::Remarked { sender, hash } => R::System(rt::frame_system::pallet::Event::Remarked {
            sender: acc(sender),
            hash: subxt::utils::H256(hash.0),
        }),
        Event::Commitment { netuid, who } => {
            R::Commitments(rt::pallet_commitments::pallet::Event::Commitment {
                netuid: *netuid,
                who: acc(who),
            })
        }
        Event::ItemCompleted => {
            R::Utility(rt::pallet_subtensor_utility::pallet::Event::ItemCompleted)
        }
        Event::BatchCompleted => {
            R::Utility(rt::pallet_subtensor_utility::pallet::Event::BatchCompleted)
        }
        Event::ExtrinsicSuccess => R::System(rt::frame_system::pallet::Event::ExtrinsicSuccess {
            dispatch_info: dispatch_info(mandatory),
        }),
        Event::ExtrinsicFailed { error } => {
            R::System(rt::frame_system::pallet::Event::ExtrinsicFailed {
                dispatch_error: dispatch_error(metadata, error),
                dispatch_info: dispatch_info(mandatory),
            })
        }
        Event::Other { .. } => return None,
    })
}

/// `System::Events` of a block whose extrinsics are `exts` (in order; the first is the
/// timestamp inherent).
pub(super) fn events(metadata: &subxt::Metadata, exts: &[Extrinsic]) -> Vec<u8> {
    let mut records = Vec::new();
    for (i, ext) in exts.iter().enumerate() {
        let phase = u32::try_from(i).unwrap_or(u32::MAX);
        for event in &ext.events {
            if let Some(e) = runtime_event(metadata, event, ext.signer.is_none()) {
                let mut record = vec![0x00]; // Phase::ApplyExtrinsic
                phase.encode_to(&mut record);
                let ty = metadata.outer_enums().event_enum_ty();
                if e.encode_as_type_to(ty, metadata.types(), &mut record)
                    .is_err()
                {
                    continue;
                }
                Vec::<[u8; 32]>::new().encode_to(&mut record); // topics
                records.push(record);
            }
        }
    }
    let mut out = Compact(u32::try_from(records.len()).unwrap_or(u32::MAX)).encode();
    for r in records {
        out.extend(r);
    }
    out
}
