//! The creation state machine over recorded inputs: the happy path, first-delivery-wins, orphans,
//! invalid deliveries refunded after expiry, expiry of an unminted delivery, signer-set changes,
//! and a property test that no flawed delivery is ever reported for minting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_primitives::{Address, Bytes, B256, U256};
use proptest::prelude::*;
use tao20_creation::delivery::{Call, ChainEvent, DeliveryId, Extrinsic, SubstrateBlock};
use tao20_creation::eip712::{Asset, CreationFile};
use tao20_creation::ids::delivery_remark;
use tao20_creation::lifecycle::{
    expireable_at, Action, CreationMachine, CreationRequest, Event, FundHotkey, MachineConfig,
    MintRecord, PauseClock, SpotWindow, Status, Valuation,
};
use tao20_creation::nav::{FundState, Holding, DEAD_SHARES, ONE_SHARE};
use tao20_creation::pricing::SpotSample;
use tao20_creation::Error;

const CHAIN: u64 = 964;
const VAULT: B256 = B256::repeat_byte(0xee);
const FUND_HOTKEY: B256 = B256::repeat_byte(0xf1);
const COLDKEY: B256 = B256::repeat_byte(0xc0);
const REQUEST_BLOCK: u64 = 100;
const EXPIRY: u64 = 400;
const H1: B256 = B256::repeat_byte(0xa1);
const H2: B256 = B256::repeat_byte(0xa2);

fn rid(n: u8) -> B256 {
    B256::repeat_byte(n)
}

fn file() -> CreationFile {
    CreationFile {
        epoch_id: 0,
        valid_from_block: 0,
        valid_until_block: 100_799,
        shares_per_unit: U256::from(1000u64) * U256::from(10u64).pow(U256::from(18u64)),
        tolerance_bps: 10,
        min_units: 1,
        assets: vec![
            Asset {
                netuid: 1,
                qty_per_unit: 1_000_000_000_000,
                weight_bps: 5000,
            },
            Asset {
                netuid: 2,
                qty_per_unit: 2_000_000_000_000,
                weight_bps: 5000,
            },
        ],
        signer_set_version: 1,
    }
}

fn request(id: B256) -> CreationRequest {
    CreationRequest {
        request_id: id,
        miner: Address::repeat_byte(0x33),
        receiver: Address::repeat_byte(0x44),
        coldkey: COLDKEY,
        epoch_id: 0,
        units: 2,
        request_block: REQUEST_BLOCK,
        expiry_block: EXPIRY,
        min_shares_out: U256::ZERO,
        bond: U256::from(1u8),
    }
}

fn machine() -> CreationMachine {
    let mut m = CreationMachine::new(
        MachineConfig {
            chain_id: CHAIN,
            contract: Address::repeat_byte(0x7a),
            vault: VAULT,
            fund_hotkeys: vec![
                FundHotkey {
                    netuid: 1,
                    hotkey: FUND_HOTKEY,
                },
                FundHotkey {
                    netuid: 2,
                    hotkey: B256::repeat_byte(0xf2),
                },
                FundHotkey {
                    netuid: 9,
                    hotkey: B256::repeat_byte(0xf9),
                },
            ],
            price_window: 3,
        },
        1,
    );
    let file_hash = tao20_creation::eip712::creation_file_hash(&file());
    assert!(m
        .apply(&Event::CreationFilePublished {
            file: file(),
            file_hash: B256::ZERO
        })
        .is_err());
    m.apply(&Event::CreationFilePublished {
        file: file(),
        file_hash,
    })
    .unwrap();
    m
}

/// A machine with request 1 known and valued, waiting for its delivery.
fn requested_and_valued() -> CreationMachine {
    let mut m = machine();
    m.apply(&Event::CreationRequested(request(rid(1)))).unwrap();
    m.apply(&Event::Valuation {
        request_id: rid(1),
        valuation: valuation(),
    })
    .unwrap();
    m
}

fn valuation() -> Valuation {
    // netuid 1 at 0.5 TAO per alpha, netuid 2 at 0.25 (rao per alpha x 1e9 -> FP18).
    let window = |netuid, p| SpotWindow {
        netuid,
        samples: (97..100)
            .map(|block| SpotSample {
                block,
                rao_per_alpha: p,
            })
            .collect(),
    };
    Valuation {
        spot: vec![window(1, 500_000_000), window(2, 250_000_000)],
        fund: FundState {
            positions: vec![Holding {
                netuid: 1,
                amount: 4_000_000_000_000,
            }],
            reserved: vec![],
            native_tao_rao: U256::ZERO,
            total_supply: U256::from(2_000_000_000_000_000_000_000u128),
            management_fee_bps: 0,
            last_accrual_block: 0,
        },
        mint_fee_bps: 0,
    }
}

fn transfer(netuid: u16, hotkey: B256) -> Call {
    Call::TransferStake {
        destination_coldkey: VAULT,
        hotkey,
        origin_netuid: netuid,
        destination_netuid: netuid,
        alpha_amount: 0,
    }
}

fn added(netuid: u16, hotkey: B256, alpha: u64) -> ChainEvent {
    ChainEvent::StakeAdded {
        coldkey: VAULT,
        hotkey,
        tao_amount: 0,
        alpha_amount: alpha,
        netuid,
    }
}

fn remark(id: B256) -> Call {
    Call::Remark {
        data: Bytes::copy_from_slice(delivery_remark(CHAIN, VAULT, id).as_slice()),
    }
}

/// A well-formed delivery of `amounts` (netuid, hotkey, alpha) for request `id`.
fn delivery(index: u32, id: B256, amounts: &[(u16, B256, u64)]) -> Extrinsic {
    let mut calls = vec![remark(id)];
    calls.extend(amounts.iter().map(|(n, h, _)| transfer(*n, *h)));
    Extrinsic {
        index,
        signer: Some(COLDKEY),
        success: true,
        call: Call::BatchAll { calls },
        events: amounts.iter().map(|(n, h, a)| added(*n, *h, *a)).collect(),
    }
}

fn exact() -> Vec<(u16, B256, u64)> {
    vec![(1, H1, 2_000_000_000_000), (2, H2, 4_000_000_000_000)]
}

fn block(number: u64, extrinsics: Vec<Extrinsic>) -> Event {
    Event::Block(SubstrateBlock { number, extrinsics })
}

fn reports(actions: &[Action]) -> Vec<&tao20_creation::eip712::CreationReport> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SignCreationReport(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn refunds(actions: &[Action]) -> Vec<&tao20_creation::eip712::RefundReport> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SignRefundReport(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn valid_delivery_is_reported_then_minted() {
    let mut m = machine();
    let a = m.apply(&Event::CreationRequested(request(rid(1)))).unwrap();
    assert!(
        matches!(&a[..], [Action::FetchValuation { valuation_block: 100, window: 3, netuids, .. }] if netuids == &vec![1, 2])
    );
    assert!(m
        .apply(&Event::Valuation {
            request_id: rid(1),
            valuation: valuation()
        })
        .unwrap()
        .is_empty());
    let a = m
        .apply(&block(150, vec![delivery(4, rid(1), &exact())]))
        .unwrap();
    let r = reports(&a);
    assert_eq!(r.len(), 1);
    let r = r[0];
    // 2000 alpha x 0.5 + 4000 alpha x 0.25 = 2000 TAO; NAV = 4000 x 0.5 TAO / 2000 shares = 1 TAO.
    assert_eq!(r.value_rao, U256::from(2_000_000_000_000u64));
    assert_eq!(r.nav_per_share, U256::from(1_000_000_000u64));
    assert_eq!((r.delivery_block, r.delivery_index, r.units), (150, 4, 2));
    assert_eq!(r.positions.len(), 2);
    assert_eq!(
        r.creation_file_hash,
        tao20_creation::eip712::creation_file_hash(&file())
    );
    // No refund after expiry for a valid delivery; then the mint closes it.
    assert!(refunds(&m.apply(&block(401, vec![])).unwrap()).is_empty());
    let record = MintRecord {
        request_id: rid(1),
        miner: Address::repeat_byte(0x33),
        epoch_id: 0,
        units: 2,
        value_rao: r.value_rao,
        shares_out: U256::from(1u8),
        block: 402,
    };
    m.apply(&Event::CreationMinted(record.clone())).unwrap();
    assert_eq!(m.request(&rid(1)).unwrap().status, Status::Minted);
    assert_eq!(m.minted, vec![record.clone()]);
    let mut pruned = m.clone();
    pruned.prune(EXPIRY);
    assert_eq!(pruned, m, "nothing before the expiry block is final yet");
    pruned.prune(1_000);
    assert!(pruned.requests.is_empty() && pruned.minted.is_empty());
    assert_eq!(pruned.files.len(), 1, "epoch 0 runs to block 100 799");
    // States move only out of Pending.
    assert!(matches!(
        m.apply(&Event::CreationMinted(record)),
        Err(Error::Lifecycle(_))
    ));
}

#[test]
fn first_delivery_wins_and_the_second_is_an_orphan() {
    let mut m = requested_and_valued();
    let a = m
        .apply(&block(
            101,
            vec![delivery(1, rid(1), &exact()), delivery(2, rid(1), &exact())],
        ))
        .unwrap();
    assert_eq!(reports(&a).len(), 1);
    assert_eq!(reports(&a)[0].delivery_index, 1);
    let r = refunds(&a);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].request_id, B256::ZERO);
    assert_eq!((r[0].delivery_block, r[0].delivery_index), (101, 2));
    assert_eq!(r[0].coldkey, COLDKEY);
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::DeliveryRejected { .. })));
}

#[test]
fn invalid_delivery_is_refunded_only_after_expiry() {
    let mut m = requested_and_valued();
    // 0.1 % tolerance of 2000 alpha is 2 alpha; 3 alpha short is out.
    let short = vec![(1, H1, 1_997_000_000_000), (2, H2, 4_000_000_000_000)];
    let a = m
        .apply(&block(120, vec![delivery(0, rid(1), &short)]))
        .unwrap();
    assert!(reports(&a).is_empty() && refunds(&a).is_empty());
    assert!(refunds(&m.apply(&block(400, vec![])).unwrap()).is_empty());
    let a = m.apply(&block(401, vec![])).unwrap();
    let r = refunds(&a);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].request_id, r[0].coldkey), (rid(1), COLDKEY));
    assert!(refunds(&m.apply(&block(402, vec![])).unwrap()).is_empty());
    // expire() before the refund landed: the signed refund stays valid, no second one is made.
    let mut expired = m.clone();
    assert!(refunds(
        &expired
            .apply(&Event::Expired { request_id: rid(1) })
            .unwrap()
    )
    .is_empty());
    expired
        .apply(&Event::Refunded {
            request_id: rid(1),
            delivery: DeliveryId {
                block: 120,
                index: 0,
            },
            refunded_mask: U256::from(3u8),
        })
        .unwrap();
    assert_eq!(expired.request(&rid(1)).unwrap().status, Status::Expired);
    m.apply(&Event::Refunded {
        request_id: rid(1),
        delivery: DeliveryId {
            block: r[0].delivery_block,
            index: r[0].delivery_index,
        },
        refunded_mask: U256::from(3u8),
    })
    .unwrap();
    assert_eq!(m.request(&rid(1)).unwrap().status, Status::Refunded);
}

#[test]
fn an_expired_delivery_becomes_an_orphan_and_signer_changes_resign() {
    let mut m = machine();
    m.apply(&Event::CreationRequested(request(rid(1)))).unwrap();
    m.apply(&block(130, vec![delivery(0, rid(1), &exact())]))
        .unwrap();
    let a = m
        .apply(&Event::Valuation {
            request_id: rid(1),
            valuation: valuation(),
        })
        .unwrap();
    assert_eq!(reports(&a).len(), 1);
    // A new signer set: the pending report is re-signed with identical content.
    let a = m.apply(&Event::SignerSetChanged { version: 2 }).unwrap();
    let r = reports(&a);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].signer_set_version, 2);
    assert!(m.apply(&Event::SignerSetChanged { version: 2 }).is_err());
    // Nobody minted; expire() ran: the delivery is refundable by its delivery id.
    let a = m.apply(&Event::Expired { request_id: rid(1) }).unwrap();
    let r = refunds(&a);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (
            r[0].request_id,
            r[0].delivery_block,
            r[0].signer_set_version
        ),
        (B256::ZERO, 130, 2)
    );
    let delivery = m.orphans[0].id;
    let refunded = Event::Refunded {
        request_id: B256::ZERO,
        delivery,
        refunded_mask: U256::from(3u8),
    };
    m.apply(&refunded).unwrap();
    assert!(m.apply(&refunded).is_err());
}

#[test]
fn stray_stake_fund_hotkey_deposits_and_order_errors() {
    let mut m = machine();
    let stray = Extrinsic {
        index: 9,
        signer: Some(B256::repeat_byte(0x99)),
        success: true,
        call: Call::Other {
            pallet: "SubtensorModule".into(),
            name: "transfer_stake".into(),
        },
        events: vec![added(3, H1, 77), added(3, FUND_HOTKEY, 5)],
    };
    let a = m.apply(&block(10, vec![stray])).unwrap();
    let r = refunds(&a);
    assert_eq!(r.len(), 1);
    // The fund-hotkey credit is the fund's own and is not refunded.
    assert_eq!(r[0].positions.len(), 1);
    assert_eq!(r[0].positions[0].amount, 77);
    let before = m.clone();
    assert!(matches!(
        m.apply(&block(10, vec![])),
        Err(Error::Lifecycle(_))
    ));
    assert_eq!(m, before, "a failed apply leaves the state unchanged");
    assert!(m
        .apply(&Event::CreationRequested(CreationRequest {
            epoch_id: 7,
            ..request(rid(2))
        }))
        .is_err());
    // The state is plain serde data.
    let text = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<CreationMachine>(&text).unwrap(), m);
}

#[test]
fn a_delivery_the_mint_would_revert_is_refunded_not_reported() {
    // The valuation gives 2000 shares at 1 TAO per share; asking for more makes mint revert.
    let mut m = machine();
    m.apply(&Event::CreationRequested(CreationRequest {
        min_shares_out: U256::from(2_000u64) * U256::from(ONE_SHARE) + U256::from(1u8),
        ..request(rid(1))
    }))
    .unwrap();
    m.apply(&Event::Valuation {
        request_id: rid(1),
        valuation: valuation(),
    })
    .unwrap();
    let a = m
        .apply(&block(101, vec![delivery(0, rid(1), &exact())]))
        .unwrap();
    assert!(reports(&a).is_empty());
    assert!(matches!(
        m.request(&rid(1))
            .unwrap()
            .delivery
            .as_ref()
            .unwrap()
            .invalid,
        Some(tao20_creation::delivery::Invalidity::WouldNotMint { .. })
    ));
    assert_eq!(
        refunds(&m.apply(&block(EXPIRY + 1, vec![])).unwrap()).len(),
        1
    );
}

#[test]
fn incomplete_valuation_data_is_refused_on_arrival() {
    let mut m = machine();
    m.apply(&Event::CreationRequested(request(rid(1)))).unwrap();
    let mut v = valuation();
    v.spot.pop(); // netuid 2 of the file is missing
    assert!(matches!(
        m.apply(&Event::Valuation {
            request_id: rid(1),
            valuation: v,
        }),
        Err(Error::MissingPrice { netuid: 2 })
    ));
    let mut v = valuation();
    v.spot[0].samples.pop(); // a block of the window is missing
    assert!(matches!(
        m.apply(&Event::Valuation {
            request_id: rid(1),
            valuation: v,
        }),
        Err(Error::PriceWindow { netuid: 1, .. })
    ));
    // The feeder can send correct data afterwards.
    m.apply(&Event::Valuation {
        request_id: rid(1),
        valuation: valuation(),
    })
    .unwrap();
}

#[test]
fn the_first_mint_accounts_for_the_dead_shares() {
    let mut m = machine();
    m.apply(&Event::CreationRequested(request(rid(1)))).unwrap();
    let mut v = valuation();
    v.fund.total_supply = U256::ZERO;
    v.fund.positions.clear();
    m.apply(&Event::Valuation {
        request_id: rid(1),
        valuation: v,
    })
    .unwrap();
    let a = m
        .apply(&block(101, vec![delivery(0, rid(1), &exact())]))
        .unwrap();
    assert_eq!(reports(&a)[0].nav_per_share, U256::from(1_000_000_000u64));
    let valued = m.request(&rid(1)).unwrap().valued.clone().unwrap();
    assert_eq!(valued.dead_shares, U256::from(DEAD_SHARES));
    assert_eq!(
        valued.receiver_shares,
        U256::from(2_000u64) * U256::from(ONE_SHARE) - U256::from(DEAD_SHARES)
    );
}

#[test]
fn sweep_takes_only_what_no_request_or_orphan_claims() {
    let mut m = machine();
    m.apply(&Event::CreationRequested(request(rid(1)))).unwrap();
    m.apply(&block(150, vec![delivery(0, rid(1), &exact())]))
        .unwrap();
    let p = |netuid, hotkey, amount| tao20_creation::eip712::Position {
        netuid,
        hotkey,
        amount,
    };
    // The pending delivery earned 5 rao of emissions on netuid 1; netuid 9 holds unclaimed stake;
    // the fund hotkey's stake is never swept.
    let stakes = [
        p(1, H1, 2_000_000_000_005),
        p(2, H2, 4_000_000_000_000),
        p(9, H2, 42),
        p(1, FUND_HOTKEY, 1_000),
    ];
    let sweep = m.sweep(&stakes, 7).unwrap().unwrap();
    assert_eq!(sweep.positions, vec![p(1, H1, 5), p(9, H2, 42)]);
    assert_eq!((sweep.nonce, sweep.signer_set_version), (7, 1));
    assert!(m.sweep(&stakes[1..2], 8).unwrap().is_none());
}

/// The contract refunds position by position: a dust position stays in the vault (the sweep must
/// leave it alone), the same signed report is relayed again, and a signer-set change re-signs it.
#[test]
fn a_refund_settled_in_two_relays_keeps_its_dust_claimed() {
    let mut m = requested_and_valued();
    let short = vec![(1, H1, 1_997_000_000_000), (2, H2, 4_000_000_000_000)];
    m.apply(&block(120, vec![delivery(0, rid(1), &short)]))
        .unwrap();
    let signed = refunds(&m.apply(&block(401, vec![])).unwrap())[0].clone();
    let id = DeliveryId {
        block: 120,
        index: 0,
    };
    let p = |netuid, hotkey, amount| tao20_creation::eip712::Position {
        netuid,
        hotkey,
        amount,
    };
    // First relay: position 1 (netuid 2) was dust, only position 0 moved.
    m.apply(&Event::Refunded {
        request_id: rid(1),
        delivery: id,
        refunded_mask: U256::from(1u8),
    })
    .unwrap();
    let st = m.request(&rid(1)).unwrap();
    assert_eq!(st.status, Status::Refunded);
    assert!(!st.delivery_refunded, "a position is still in the vault");
    let stakes = [p(2, H2, 4_000_000_000_000)];
    assert!(
        m.sweep(&stakes, 0).unwrap().is_none(),
        "the unrefunded position is not stray stake"
    );
    // A signer-set change re-signs the refund with identical content.
    let a = m.apply(&Event::SignerSetChanged { version: 2 }).unwrap();
    let r = refunds(&a);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].positions, signed.positions);
    // The same report relayed later refunds the rest; a mask naming a position twice is refused.
    assert!(m
        .apply(&Event::Refunded {
            request_id: rid(1),
            delivery: id,
            refunded_mask: U256::from(3u8),
        })
        .is_err());
    assert!(m
        .apply(&Event::Refunded {
            request_id: rid(1),
            delivery: id,
            refunded_mask: U256::from(4u8),
        })
        .is_err());
    m.apply(&Event::Refunded {
        request_id: rid(1),
        delivery: id,
        refunded_mask: U256::from(2u8),
    })
    .unwrap();
    assert!(m.request(&rid(1)).unwrap().delivery_refunded);
    assert_eq!(
        m.sweep(&stakes, 0).unwrap().unwrap().positions,
        stakes.to_vec(),
        "settled: what is left is stray"
    );
}

#[test]
fn expiry_counts_only_unpaused_blocks() {
    let clock = |since, total, last| PauseClock {
        paused_since: since,
        paused_total: total,
        last_unpause: last,
    };
    assert_eq!(
        expireable_at(1000, 300, 600, 0, &clock(0, 0, 0)).unwrap(),
        Some(1901)
    );
    assert_eq!(
        expireable_at(1000, 300, 600, 0, &clock(1200, 0, 0)).unwrap(),
        None,
        "never while paused"
    );
    assert_eq!(
        expireable_at(1000, 300, 600, 40, &clock(0, 1040, 1500)).unwrap(),
        Some(2901)
    );
    assert_eq!(
        expireable_at(1000, 300, 600, 0, &clock(0, 2, 1897)).unwrap(),
        Some(2498),
        "a whole grace after the unpause"
    );
    assert!(expireable_at(1000, 300, 600, 5, &clock(0, 4, 0)).is_err());
    assert!(expireable_at(u64::MAX, 1, 1, 0, &clock(0, 0, 0)).is_err());
}

/// The ways a delivery can be flawed.
#[derive(Debug, Clone)]
enum Flaw {
    OutOfTolerance {
        netuid_index: usize,
        up: bool,
        extra: u64,
    },
    MissingAsset(usize),
    ExtraAsset(u16),
    NoRemark,
    WrongRemark,
    OtherColdkey,
    Outside {
        late: bool,
        by: u64,
    },
    FundHotkey,
    CrossNetuid,
    NotBatchAll,
}

fn flaw() -> impl Strategy<Value = Flaw> {
    prop_oneof![
        (
            0..2usize,
            any::<bool>(),
            2_000_000_001..1_000_000_000_000u64
        )
            .prop_map(|(netuid_index, up, extra)| Flaw::OutOfTolerance {
                netuid_index,
                up,
                extra
            }),
        (0..2usize).prop_map(Flaw::MissingAsset),
        (3..200u16).prop_map(Flaw::ExtraAsset),
        Just(Flaw::NoRemark),
        Just(Flaw::WrongRemark),
        Just(Flaw::OtherColdkey),
        (any::<bool>(), 0..500u64).prop_map(|(late, by)| Flaw::Outside { late, by }),
        Just(Flaw::FundHotkey),
        Just(Flaw::CrossNetuid),
        Just(Flaw::NotBatchAll),
    ]
}

fn flawed(f: &Flaw) -> (u64, Extrinsic) {
    let mut amounts = exact();
    let mut at = 200;
    match f {
        Flaw::OutOfTolerance {
            netuid_index,
            up,
            extra,
        } => {
            // Tolerance is max(1, 0.1 %) of 2000 or 4000 alpha: at most 4 alpha = 4e9 rao.
            let a = &mut amounts[*netuid_index].2;
            let extra = extra + 2_000_000_000 * (*netuid_index as u64);
            *a = if *up {
                *a + extra
            } else {
                a.saturating_sub(extra)
            };
        }
        Flaw::MissingAsset(i) => {
            amounts.remove(*i);
        }
        Flaw::ExtraAsset(n) => amounts.push((*n, H1, 1_000)),
        Flaw::Outside { late, by } => {
            at = if *late {
                EXPIRY + 1 + by
            } else {
                REQUEST_BLOCK - (*by).min(REQUEST_BLOCK - 1)
            };
        }
        _ => {}
    }
    let mut ext = delivery(0, rid(1), &amounts);
    match f {
        Flaw::NoRemark => {
            if let Call::BatchAll { calls } = &mut ext.call {
                calls.remove(0);
            }
        }
        Flaw::WrongRemark => {
            if let Call::BatchAll { calls } = &mut ext.call {
                calls[0] = remark(rid(2));
            }
        }
        Flaw::OtherColdkey => ext.signer = Some(B256::repeat_byte(0x01)),
        Flaw::FundHotkey => {
            ext = delivery(0, rid(1), &[(1, FUND_HOTKEY, amounts[0].2), amounts[1]]);
        }
        Flaw::CrossNetuid => {
            if let Call::BatchAll { calls } = &mut ext.call {
                calls[1] = Call::TransferStake {
                    destination_coldkey: VAULT,
                    hotkey: H1,
                    origin_netuid: 5,
                    destination_netuid: 1,
                    alpha_amount: 0,
                };
            }
        }
        Flaw::NotBatchAll => {
            if let Call::BatchAll { calls } = ext.call.clone() {
                ext.call = Call::Batch { calls };
            }
        }
        _ => {}
    }
    (at, ext)
}

proptest! {
    #[test]
    fn flawed_deliveries_are_never_reported_for_minting(f in flaw()) {
        let mut m = machine();
        m.apply(&Event::CreationRequested(request(rid(1)))).unwrap();
        m.apply(&Event::Valuation { request_id: rid(1), valuation: valuation() }).unwrap();
        let (at, ext) = flawed(&f);
        let mut actions = Vec::new();
        if at > REQUEST_BLOCK {
            actions.extend(m.apply(&block(at, vec![ext])).unwrap());
        } else {
            // A delivery before the request is known: feed it first, then the request.
            let mut early = machine();
            actions.extend(early.apply(&block(at, vec![ext])).unwrap());
            actions.extend(early.apply(&Event::CreationRequested(request(rid(1)))).unwrap());
            actions.extend(early.apply(&Event::Valuation { request_id: rid(1), valuation: valuation() }).unwrap());
            m = early;
        }
        actions.extend(m.apply(&block(at.max(EXPIRY) + 10, vec![])).unwrap());
        prop_assert!(reports(&actions).is_empty(), "{f:?} was reported: {actions:?}");
        let st = m.request(&rid(1)).unwrap();
        prop_assert!(st.report.is_none());
        prop_assert!(st.delivery.as_ref().is_none_or(|d| d.invalid.is_some()));
    }
}
