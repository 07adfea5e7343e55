//! From the adapters' plain data to the pure cores' inputs: a finalized substrate block as the
//! creation lifecycle reads it, and the contract's events as lifecycle events. Translation only.

use tao20_bevm::events::ContractEvent;
use tao20_chain::types::{Call, Event, Extrinsic};
use tao20_creation::delivery::{self, ChainEvent, SubstrateBlock};
use tao20_creation::lifecycle;

fn call(c: &Call) -> delivery::Call {
    match c {
        Call::Remark { data } => delivery::Call::Remark {
            data: data.clone().into(),
        },
        Call::TransferStake(t) => delivery::Call::TransferStake {
            destination_coldkey: t.destination_coldkey.0.into(),
            hotkey: t.hotkey.0.into(),
            origin_netuid: t.origin_netuid,
            destination_netuid: t.destination_netuid,
            alpha_amount: t.alpha_amount,
        },
        Call::BatchAll { calls } => delivery::Call::BatchAll {
            calls: calls.iter().map(call).collect(),
        },
        other => {
            let name = other.name();
            let (pallet, name) = name.split_once("::").unwrap_or(("", name.as_str()));
            delivery::Call::Other {
                pallet: pallet.to_string(),
                name: name.to_string(),
            }
        }
    }
}

fn event(e: &Event) -> ChainEvent {
    match e {
        Event::StakeAdded(s) => ChainEvent::StakeAdded {
            coldkey: s.coldkey.0.into(),
            hotkey: s.hotkey.0.into(),
            tao_amount: s.tao,
            alpha_amount: s.alpha,
            netuid: s.netuid,
        },
        other => {
            let (pallet, name) = match other {
                Event::StakeRemoved(_) => ("SubtensorModule", "StakeRemoved"),
                Event::StakeTransferred { .. } => ("SubtensorModule", "StakeTransferred"),
                Event::Remarked { .. } => ("System", "Remarked"),
                Event::Commitment { .. } => ("Commitments", "Commitment"),
                Event::WeightsSet { .. } => ("SubtensorModule", "WeightsSet"),
                Event::TimelockedWeightsCommitted { .. } => {
                    ("SubtensorModule", "TimelockedWeightsCommitted")
                }
                Event::AxonServed { .. } => ("SubtensorModule", "AxonServed"),
                Event::ItemCompleted => ("Utility", "ItemCompleted"),
                Event::BatchCompleted => ("Utility", "BatchCompleted"),
                Event::ExtrinsicSuccess => ("System", "ExtrinsicSuccess"),
                Event::ExtrinsicFailed { .. } => ("System", "ExtrinsicFailed"),
                Event::Other { pallet, name } => (pallet.as_str(), name.as_str()),
                Event::StakeAdded(_) => ("SubtensorModule", "StakeAdded"),
            };
            ChainEvent::Other {
                pallet: pallet.to_string(),
                name: name.to_string(),
            }
        }
    }
}

/// A finalized block's extrinsics as the creation lifecycle reads them.
pub fn substrate_block(number: u64, extrinsics: &[Extrinsic]) -> SubstrateBlock {
    SubstrateBlock {
        number,
        extrinsics: extrinsics
            .iter()
            .map(|x| delivery::Extrinsic {
                index: x.index,
                signer: x.signer.map(|s| s.0.into()),
                success: x.success,
                call: call(&x.call),
                events: x.events.iter().map(event).collect(),
            })
            .collect(),
    }
}

/// The lifecycle event of a contract event, if the lifecycle follows it. `EpochPublished` needs
/// the file itself, which the caller reads from the contract.
pub fn lifecycle_event(e: &ContractEvent) -> Option<lifecycle::Event> {
    match e {
        ContractEvent::CreationRequested(r) => Some(lifecycle::Event::CreationRequested(r.clone())),
        ContractEvent::CreationMinted(m) => Some(lifecycle::Event::CreationMinted(m.clone())),
        ContractEvent::Refunded {
            request_id,
            delivery,
            refunded_mask,
            ..
        } => Some(lifecycle::Event::Refunded {
            request_id: *request_id,
            delivery: *delivery,
            refunded_mask: *refunded_mask,
        }),
        ContractEvent::CreationExpired { request_id, .. } => Some(lifecycle::Event::Expired {
            request_id: *request_id,
        }),
        ContractEvent::SignersUpdated { version, .. } => {
            Some(lifecycle::Event::SignerSetChanged { version: *version })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tao20_chain::types::{Bytes32, StakeEvent, TransferStake};

    #[test]
    fn a_delivery_extrinsic_keeps_its_calls_amounts_and_events() {
        let vault = Bytes32([7; 32]);
        let hk = Bytes32([8; 32]);
        let x = Extrinsic {
            index: 2,
            signer: Some(Bytes32([1; 32])),
            call: Call::BatchAll {
                calls: vec![
                    Call::Remark { data: vec![9; 32] },
                    Call::TransferStake(TransferStake {
                        destination_coldkey: vault,
                        hotkey: hk,
                        origin_netuid: 3,
                        destination_netuid: 3,
                        alpha_amount: 500,
                    }),
                ],
            },
            events: vec![
                Event::StakeAdded(StakeEvent {
                    coldkey: vault,
                    hotkey: hk,
                    tao: 10,
                    alpha: 499,
                    netuid: 3,
                    fee: 0,
                }),
                Event::ExtrinsicSuccess,
            ],
            success: true,
        };
        let b = substrate_block(40, &[x]);
        let e = &b.extrinsics[0];
        assert_eq!(e.index, 2);
        assert!(matches!(&e.call, delivery::Call::BatchAll { calls } if calls.len() == 2));
        assert!(matches!(
            e.events[0],
            ChainEvent::StakeAdded {
                alpha_amount: 499,
                tao_amount: 10,
                netuid: 3,
                ..
            }
        ));
        assert!(
            matches!(&e.events[1], ChainEvent::Other { name, .. } if name == "ExtrinsicSuccess")
        );
    }
}
