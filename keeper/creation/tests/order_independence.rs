//! KEEPER.md rule 7, "exact and order-independent": five keepers that observe the same finalized
//! inputs, each receiving them in its own order, sign byte-identical creation reports.
//!
//! What a keeper may receive in a different order from its RPCs and peers: the spot windows of the
//! valuation (one per netuid) and the samples inside each window, the fund's positions and booked
//! claims, the calls of the delivery's `batch_all` (the miner's choice) and the `StakeAdded` events
//! they emit, and whether the valuation data arrives before or after the delivery block. The
//! second test covers the events of one block that come from the two chains (BEVM contract events
//! and the substrate block) in every interleaving.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use alloy_primitives::{Address, Bytes, B256, U256};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use tao20_creation::delivery::{Call, ChainEvent, DeliveryId, Extrinsic, SubstrateBlock};
use tao20_creation::eip712::{creation_file_hash, Asset, CreationFile, Eip712Message, Position};
use tao20_creation::ids::delivery_remark;
use tao20_creation::lifecycle::{
    check_valuation, value_delivery, Action, CreationMachine, CreationRequest, Event, FundHotkey,
    MachineConfig, SpotWindow, Valuation,
};
use tao20_creation::nav::{FundState, Holding};
use tao20_creation::pricing::SpotSample;
use tao20_creation::signing::ReportSigner;

const CHAIN: u64 = 964;
const CONTRACT: Address = Address::repeat_byte(0x7a);
const VAULT: B256 = B256::repeat_byte(0xee);
const COLDKEY: B256 = B256::repeat_byte(0xc0);
/// The price window W (short, so that a case stays cheap; the rule is the same at 240).
const WINDOW: u64 = 6;
const REQUEST_BLOCK: u64 = 1_000;
const DELIVERY_BLOCK: u64 = 1_003;
const EXPIRY: u64 = 1_300;
const TOLERANCE_BPS: u16 = 50;
const KEEPERS: usize = 5;
const ONE: u128 = 1_000_000_000_000_000_000;

fn hotkey(tag: u8, netuid: u16) -> B256 {
    let mut h = [tag; 32];
    h[30..].copy_from_slice(&netuid.to_be_bytes());
    B256::from(h)
}

fn fund_hotkey(netuid: u16) -> B256 {
    hotkey(0xf0, netuid)
}

fn miner_hotkey(netuid: u16) -> B256 {
    hotkey(0xa0, netuid)
}

/// A deterministic Fisher-Yates shuffle driven by `seed` (each keeper has its own).
fn shuffle<T>(v: &mut [T], seed: &mut u64) {
    for i in (1..v.len()).rev() {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        v.swap(i, usize::try_from(*seed >> 33).unwrap() % (i + 1));
    }
}

fn coin(seed: &mut u64) -> bool {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*seed >> 40) & 1 == 1
}

/// One basket asset: its quantity per unit, its spot samples (one per block of the window) and
/// where the delivered amount sits inside the tolerance, in percent of it (-100..=100).
#[derive(Debug, Clone)]
struct BasketAsset {
    qty_per_unit: u64,
    spots: Vec<u64>,
    deviation_pct: i64,
}

/// A fund position outside the basket (its own spot samples), or the fund's stake of a basket
/// netuid, with the part of it booked to redeemers.
#[derive(Debug, Clone)]
struct FundPosition {
    amount: u64,
    reserved: u64,
    spots: Vec<u64>,
}

#[derive(Debug, Clone)]
struct World {
    basket: BTreeMap<u16, BasketAsset>,
    fund: BTreeMap<u16, FundPosition>,
    units: u32,
    total_supply: u128,
    management_fee_bps: u16,
    last_accrual_block: u64,
    mint_fee_bps: u16,
}

fn spots() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(
        10_000_000u64..10_000_000_000,
        usize::try_from(WINDOW).unwrap(),
    )
}

fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::btree_map(
            1u16..40,
            (1_000_000_000u64..1_000_000_000_000, spots(), -100i64..=100).prop_map(
                |(qty_per_unit, spots, deviation_pct)| BasketAsset {
                    qty_per_unit,
                    spots,
                    deviation_pct,
                },
            ),
            1..6,
        ),
        // Fund positions; a netuid also in the basket uses the basket's samples.
        prop::collection::btree_map(
            1u16..60,
            (0u64..10_000_000_000_000, 0u64..2_000_000_000_000, spots()).prop_map(
                |(amount, reserved, spots)| FundPosition {
                    amount,
                    reserved,
                    spots,
                },
            ),
            0..6,
        ),
        1u32..=4,
        prop_oneof![Just(0u128), ONE..1_000_000 * ONE],
        0u16..=200,
        0u64..=REQUEST_BLOCK,
        0u16..=100,
    )
        .prop_map(
            |(
                basket,
                fund,
                units,
                total_supply,
                management_fee_bps,
                last_accrual_block,
                mint_fee_bps,
            )| World {
                basket,
                fund,
                units,
                total_supply,
                management_fee_bps,
                last_accrual_block,
                mint_fee_bps,
            },
        )
}

impl World {
    fn file(&self) -> CreationFile {
        let n = u16::try_from(self.basket.len()).unwrap();
        let mut weights = vec![10_000 / n; self.basket.len()];
        weights[0] += 10_000 - weights.iter().sum::<u16>();
        CreationFile {
            epoch_id: 0,
            valid_from_block: 0,
            valid_until_block: 100_799,
            shares_per_unit: U256::from(1000u64) * U256::from(ONE),
            tolerance_bps: TOLERANCE_BPS,
            min_units: 1,
            assets: self
                .basket
                .iter()
                .zip(weights)
                .map(|((&netuid, a), weight_bps)| Asset {
                    netuid,
                    qty_per_unit: a.qty_per_unit,
                    weight_bps,
                })
                .collect(),
            signer_set_version: 1,
        }
    }

    fn request(&self) -> CreationRequest {
        CreationRequest {
            request_id: B256::repeat_byte(0x11),
            miner: Address::repeat_byte(0x33),
            receiver: Address::repeat_byte(0x44),
            coldkey: COLDKEY,
            epoch_id: 0,
            units: self.units,
            request_block: REQUEST_BLOCK,
            expiry_block: EXPIRY,
            min_shares_out: U256::ZERO,
            bond: U256::from(1u8),
        }
    }

    fn config(&self) -> MachineConfig {
        let netuids: std::collections::BTreeSet<u16> = self
            .basket
            .keys()
            .chain(self.fund.keys())
            .copied()
            .collect();
        MachineConfig {
            chain_id: CHAIN,
            contract: CONTRACT,
            vault: VAULT,
            fund_hotkeys: netuids
                .into_iter()
                .map(|netuid| FundHotkey {
                    netuid,
                    hotkey: fund_hotkey(netuid),
                })
                .collect(),
            price_window: WINDOW,
        }
    }

    /// The spot samples of `netuid` (a basket netuid's samples win over a fund position's).
    fn spots_of(&self, netuid: u16) -> &[u64] {
        match self.basket.get(&netuid) {
            Some(a) => &a.spots,
            None => &self.fund[&netuid].spots,
        }
    }

    /// The delivered amounts, canonical order: (netuid, alpha).
    fn delivered(&self) -> Vec<(u16, u64)> {
        self.basket
            .iter()
            .map(|(&netuid, a)| {
                let expected = u128::from(self.units) * u128::from(a.qty_per_unit);
                let tol = (expected * u128::from(TOLERANCE_BPS) / 10_000).max(1);
                let delta = i128::try_from(tol).unwrap() * i128::from(a.deviation_pct) / 100;
                let amount = i128::try_from(expected).unwrap() + delta;
                (netuid, u64::try_from(amount).unwrap())
            })
            .collect()
    }

    /// The valuation as keeper `seed` receives it: windows, samples, positions and claims shuffled.
    fn valuation(&self, seed: &mut u64) -> Valuation {
        let netuids: std::collections::BTreeSet<u16> = self
            .basket
            .keys()
            .chain(self.fund.keys())
            .copied()
            .collect();
        let first = REQUEST_BLOCK - WINDOW;
        let mut spot: Vec<SpotWindow> = netuids
            .into_iter()
            .map(|netuid| {
                let mut samples: Vec<SpotSample> = self
                    .spots_of(netuid)
                    .iter()
                    .zip(first..)
                    .map(|(&rao_per_alpha, block)| SpotSample {
                        block,
                        rao_per_alpha,
                    })
                    .collect();
                shuffle(&mut samples, seed);
                SpotWindow { netuid, samples }
            })
            .collect();
        shuffle(&mut spot, seed);
        let mut positions: Vec<Holding> = self
            .fund
            .iter()
            .map(|(&netuid, p)| Holding {
                netuid,
                amount: p.amount,
            })
            .collect();
        shuffle(&mut positions, seed);
        let mut reserved: Vec<Holding> = self
            .fund
            .iter()
            .filter(|(_, p)| p.reserved > 0)
            .map(|(&netuid, p)| Holding {
                netuid,
                amount: p.reserved,
            })
            .collect();
        shuffle(&mut reserved, seed);
        Valuation {
            spot,
            fund: FundState {
                positions,
                reserved,
                native_tao_rao: U256::ZERO,
                total_supply: U256::from(self.total_supply),
                management_fee_bps: self.management_fee_bps,
                last_accrual_block: self.last_accrual_block,
            },
            mint_fee_bps: self.mint_fee_bps,
        }
    }

    /// The delivery extrinsic as keeper `seed` decodes it: the batch's calls (the remark among
    /// them) and the vault's `StakeAdded` events in shuffled orders.
    fn delivery(&self, seed: &mut u64) -> Extrinsic {
        let delivered = self.delivered();
        let mut calls: Vec<Call> = delivered
            .iter()
            .map(|&(netuid, amount)| Call::TransferStake {
                destination_coldkey: VAULT,
                hotkey: miner_hotkey(netuid),
                origin_netuid: netuid,
                destination_netuid: netuid,
                alpha_amount: amount,
            })
            .collect();
        calls.push(Call::Remark {
            data: Bytes::copy_from_slice(
                delivery_remark(CHAIN, VAULT, self.request().request_id).as_slice(),
            ),
        });
        shuffle(&mut calls, seed);
        let mut events: Vec<ChainEvent> = delivered
            .iter()
            .map(|&(netuid, alpha_amount)| ChainEvent::StakeAdded {
                coldkey: VAULT,
                hotkey: miner_hotkey(netuid),
                tao_amount: 0,
                alpha_amount,
                netuid,
            })
            .collect();
        shuffle(&mut events, seed);
        Extrinsic {
            index: 2,
            signer: Some(COLDKEY),
            success: true,
            call: Call::BatchAll { calls },
            events,
        }
    }

    /// The official price of `netuid`, computed here from first principles: the floor of the mean
    /// of the FP18 spot prices.
    fn price(&self, netuid: u16) -> U256 {
        let sum: u128 = self
            .spots_of(netuid)
            .iter()
            .map(|&p| u128::from(p) * 1_000_000_000)
            .sum();
        U256::from(sum / u128::from(WINDOW))
    }

    /// `valueRao` of the delivery: the sum of each position's floored value.
    fn expected_value(&self) -> U256 {
        self.delivered()
            .iter()
            .map(|&(netuid, amount)| U256::from(amount) * self.price(netuid) / U256::from(ONE))
            .fold(U256::ZERO, |a, b| a + b)
    }

    /// `navPerShare` at the request block: positions net of claims, management fee accrued.
    fn expected_nav(&self) -> U256 {
        let value = self
            .fund
            .iter()
            .map(|(&netuid, p)| {
                U256::from(p.amount.saturating_sub(p.reserved)) * self.price(netuid)
                    / U256::from(ONE)
            })
            .fold(U256::ZERO, |a, b| a + b);
        let supply = U256::from(self.total_supply);
        let fee = supply
            * U256::from(self.management_fee_bps)
            * U256::from(REQUEST_BLOCK - self.last_accrual_block)
            / U256::from(10_000u64 * 2_629_800);
        let s = supply + fee;
        if s.is_zero() {
            U256::from(1_000_000_000u64)
        } else {
            (value * U256::from(ONE)).div_ceil(s)
        }
    }
}

/// What one keeper signs for the request, and the bytes that decide it.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// `value_delivery` on the keeper's own (shuffled) positions and valuation, serialised.
    valued: String,
    /// The report the machine asked to sign, serialised (`None` if it asked for none).
    report: Option<String>,
    /// Its EIP-712 digest and one fixed key's signature over it.
    digest: Option<(B256, Result<Bytes, String>)>,
}

fn keeper(
    world: &World,
    mut seed: u64,
) -> (Outcome, Option<tao20_creation::eip712::CreationReport>) {
    let request = world.request();
    let file = world.file();
    let valuation = world.valuation(&mut seed);
    let delivery = world.delivery(&mut seed);

    // The library calls the machine makes, on this keeper's orders.
    check_valuation(&request, &file, &valuation, WINDOW).unwrap();
    let mut positions: Vec<Position> = world
        .delivered()
        .iter()
        .map(|&(netuid, amount)| Position {
            netuid,
            hotkey: miner_hotkey(netuid),
            amount,
        })
        .collect();
    shuffle(&mut positions, &mut seed);
    let valued = value_delivery(&request, &positions, &valuation, WINDOW);
    let valued = serde_json::to_string(&valued.map_err(|e| e.to_string())).unwrap();

    // The machine, with the valuation data arriving before or after the delivery block.
    let mut m = CreationMachine::new(world.config(), 1);
    m.apply(&Event::CreationFilePublished {
        file_hash: creation_file_hash(&file),
        file,
    })
    .unwrap();
    let mut actions = m.apply(&Event::CreationRequested(request.clone())).unwrap();
    let valued_first = coin(&mut seed);
    let value = |m: &mut CreationMachine| {
        m.apply(&Event::Valuation {
            request_id: request.request_id,
            valuation: valuation.clone(),
        })
        .unwrap()
    };
    if valued_first {
        actions.extend(value(&mut m));
    }
    actions.extend(
        m.apply(&Event::Block(SubstrateBlock {
            number: DELIVERY_BLOCK,
            extrinsics: vec![delivery],
        }))
        .unwrap(),
    );
    if !valued_first {
        actions.extend(value(&mut m));
    }
    let reports: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::SignCreationReport(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert!(reports.len() <= 1, "{reports:?}");
    let report = reports.into_iter().next();
    let signer = ReportSigner::from_bytes(&B256::repeat_byte(0x5e)).unwrap();
    let digest = report.as_ref().map(|r| {
        let msg = Eip712Message::CreationReport(r.clone());
        // `sign` refuses a report the contract would refuse (positions out of order).
        let sig = signer
            .sign(&msg, CHAIN, CONTRACT)
            .map(|s| Bytes::copy_from_slice(&s[..]))
            .map_err(|e| e.to_string());
        (msg.digest(CHAIN, CONTRACT), sig)
    });
    (
        Outcome {
            valued,
            report: report.as_ref().map(|r| serde_json::to_string(r).unwrap()),
            digest,
        },
        report,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn five_keepers_fed_the_same_inputs_in_different_orders_sign_identical_reports(
        world in world(),
        seeds in prop::array::uniform5(any::<u64>()),
    ) {
        let outcomes: Vec<_> = seeds.iter().map(|&s| keeper(&world, s)).collect();
        let (first, report) = &outcomes[0];
        for (i, (o, _)) in outcomes.iter().enumerate().skip(1) {
            prop_assert_eq!(&o.valued, &first.valued, "keeper {} valued differently", i);
            prop_assert_eq!(&o.report, &first.report, "keeper {} built another report", i);
            prop_assert_eq!(&o.digest, &first.digest, "keeper {} signed another digest", i);
        }
        prop_assert_eq!(outcomes.len(), KEEPERS);
        // The agreed report is the right one, not just a shared one: positions in the contract's
        // order (netuid ascending, one hotkey each), and the value and NAV computed here
        // independently. A mint that would revert (no shares) yields no report for anyone.
        match report {
            Some(r) => {
                let want: Vec<Position> = world
                    .delivered()
                    .iter()
                    .map(|&(netuid, amount)| Position { netuid, hotkey: miner_hotkey(netuid), amount })
                    .collect();
                prop_assert_eq!(&r.positions, &want);
                prop_assert_eq!(r.value_rao, world.expected_value());
                prop_assert_eq!(r.nav_per_share, world.expected_nav());
                prop_assert_eq!(r.delivery_block, DELIVERY_BLOCK);
                prop_assert_eq!(r.delivery_index, 2);
                prop_assert_eq!(r.creation_file_hash, creation_file_hash(&world.file()));
            }
            None => {
                prop_assert!(first.valued.contains("Err"), "no report but a valuation: {}", first.valued);
            }
        }
    }
}

/// Enough cases mint: the property above is not vacuous.
#[test]
fn most_generated_worlds_produce_a_report() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = world();
    let mut reported = 0;
    for _ in 0..64 {
        let w = strategy.new_tree(&mut runner).unwrap().current();
        if keeper(&w, 7).1.is_some() {
            reported += 1;
        }
    }
    assert!(reported >= 48, "only {reported} of 64 worlds minted");
}

// ---- Events of one block from the two chains ----

const B: u64 = 200;
const R1: B256 = B256::repeat_byte(0x01);
const R2: B256 = B256::repeat_byte(0x02);
const STRAY: B256 = B256::repeat_byte(0x5a);

fn two_asset_world() -> World {
    let asset = |qty| BasketAsset {
        qty_per_unit: qty,
        spots: vec![500_000_000; usize::try_from(WINDOW).unwrap()],
        deviation_pct: 0,
    };
    World {
        basket: BTreeMap::from([(1, asset(1_000_000_000_000)), (2, asset(2_000_000_000_000))]),
        fund: BTreeMap::from([(
            1,
            FundPosition {
                amount: 4_000_000_000_000,
                reserved: 0,
                spots: vec![],
            },
        )]),
        units: 2,
        total_supply: 2_000 * ONE,
        management_fee_bps: 0,
        last_accrual_block: 0,
        mint_fee_bps: 0,
    }
}

fn request_at(world: &World, id: B256, block: u64) -> CreationRequest {
    CreationRequest {
        request_id: id,
        request_block: block,
        expiry_block: block + 300,
        ..world.request()
    }
}

fn valuation_at(world: &World, block: u64) -> Valuation {
    let mut v = world.valuation(&mut 0);
    for w in &mut v.spot {
        for (s, b) in w.samples.iter_mut().zip(block - WINDOW..) {
            s.block = b;
        }
    }
    v
}

/// A machine with request R1 (block 100) known and valued, before block `B`.
fn before_block() -> (World, CreationMachine) {
    let world = two_asset_world();
    let file = world.file();
    let mut m = CreationMachine::new(world.config(), 1);
    m.apply(&Event::CreationFilePublished {
        file_hash: creation_file_hash(&file),
        file,
    })
    .unwrap();
    m.apply(&Event::CreationRequested(request_at(&world, R1, 100)))
        .unwrap();
    m.apply(&Event::Valuation {
        request_id: R1,
        valuation: valuation_at(&world, 100),
    })
    .unwrap();
    m.apply(&Event::Block(SubstrateBlock {
        number: B - 1,
        extrinsics: vec![],
    }))
    .unwrap();
    (world, m)
}

/// Substrate block `B`: R1's delivery (extrinsic 1), an extrinsic carrying R2's remark in R2's own
/// request block (outside its window: an orphan), and stake sent to the vault without a remark
/// (an orphan).
fn substrate_block(world: &World) -> SubstrateBlock {
    let remark = |id| Call::Remark {
        data: Bytes::copy_from_slice(delivery_remark(CHAIN, VAULT, id).as_slice()),
    };
    let transfer = |netuid, hotkey| Call::TransferStake {
        destination_coldkey: VAULT,
        hotkey,
        origin_netuid: netuid,
        destination_netuid: netuid,
        alpha_amount: 0,
    };
    let added = |netuid, hotkey, alpha_amount| ChainEvent::StakeAdded {
        coldkey: VAULT,
        hotkey,
        tao_amount: 0,
        alpha_amount,
        netuid,
    };
    let mut r1 = world.delivery(&mut 0);
    r1.index = 1;
    r1.call = Call::BatchAll {
        calls: vec![
            remark(R1),
            transfer(1, miner_hotkey(1)),
            transfer(2, miner_hotkey(2)),
        ],
    };
    let early = Extrinsic {
        index: 2,
        signer: Some(COLDKEY),
        success: true,
        call: Call::BatchAll {
            calls: vec![remark(R2), transfer(1, miner_hotkey(1))],
        },
        events: vec![added(1, miner_hotkey(1), 7_000_000_000)],
    };
    let stray = Extrinsic {
        index: 3,
        signer: Some(STRAY),
        success: true,
        call: Call::BatchAll {
            calls: vec![transfer(2, miner_hotkey(2))],
        },
        events: vec![added(2, miner_hotkey(2), 9_000_000_000)],
    };
    SubstrateBlock {
        number: B,
        extrinsics: vec![r1, early, stray],
    }
}

/// Block `B` as the two chains deliver it: BEVM's `CreationRequested(R2)` and
/// `SignersUpdated(version 2)` (in log order), and the substrate block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Request,
    Signers,
    Substrate,
}

/// Applies block `B`'s events in `order`, answering R2's `FetchValuation` as soon as it is asked
/// (the engine answers it within the same block).
fn run(order: &[Source]) -> (CreationMachine, Vec<Action>) {
    let (world, mut m) = before_block();
    let mut actions = Vec::new();
    for s in order {
        let out = match s {
            Source::Request => m
                .apply(&Event::CreationRequested(request_at(&world, R2, B)))
                .unwrap(),
            Source::Signers => m.apply(&Event::SignerSetChanged { version: 2 }).unwrap(),
            Source::Substrate => m.apply(&Event::Block(substrate_block(&world))).unwrap(),
        };
        for a in out {
            let fetch = match &a {
                Action::FetchValuation { request_id, .. } => Some(*request_id),
                _ => None,
            };
            actions.push(a);
            if let Some(request_id) = fetch {
                actions.extend(
                    m.apply(&Event::Valuation {
                        request_id,
                        valuation: valuation_at(&world, B),
                    })
                    .unwrap(),
                );
            }
        }
    }
    (m, actions)
}

/// The last content signed per subject (a request, or an orphan's delivery id): what counts once
/// the block is complete, since a later signature under a new signer set supersedes an earlier one.
fn last_signed(actions: &[Action]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for a in actions {
        let (subject, msg) = match a {
            Action::SignCreationReport(r) => (
                format!("request:{}", r.request_id),
                Eip712Message::CreationReport(r.clone()),
            ),
            Action::SignRefundReport(r) if r.request_id.is_zero() => (
                format!("delivery:{}:{}", r.delivery_block, r.delivery_index),
                Eip712Message::RefundReport(r.clone()),
            ),
            Action::SignRefundReport(r) => (
                format!("request:{}", r.request_id),
                Eip712Message::RefundReport(r.clone()),
            ),
            _ => continue,
        };
        out.insert(subject, msg.digest(CHAIN, CONTRACT).to_vec());
    }
    out
}

fn permutations(items: &[Source]) -> Vec<Vec<Source>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, first);
            out.push(p);
        }
    }
    out
}

/// What the machine guarantees for one block's events from the two chains, in any interleaving:
/// the same state afterwards (byte for byte) and the same last signed content per subject. What it
/// does not guarantee is the same action *sequence*: applied before `SignersUpdated`, a delivery is
/// reported under the old signer-set version and re-signed under the new one, and an extrinsic
/// carrying a request's remark in the request's own block is logged as rejected only when the
/// request is already known. The engine therefore imposes one order (`process_block` in
/// keeper/node/src/engine.rs): the block's contract events in log order (the reader sorts them by
/// (block, logIndex)), then the substrate block, and answers each `FetchValuation` from its queue
/// before the next action. That order yields exactly the actions asserted last.
#[test]
fn one_blocks_events_from_both_chains_in_any_interleaving_end_in_the_same_state() {
    let sources = [Source::Request, Source::Signers, Source::Substrate];
    let runs: Vec<(Vec<Source>, CreationMachine, Vec<Action>)> = permutations(&sources)
        .into_iter()
        .map(|order| {
            let (m, a) = run(&order);
            (order, m, a)
        })
        .collect();
    assert_eq!(runs.len(), 6);
    let (_, m0, a0) = &runs[0];
    let state0 = serde_json::to_vec(m0).unwrap();
    for (order, m, a) in &runs {
        assert_eq!(
            serde_json::to_vec(m).unwrap(),
            state0,
            "state after {order:?}"
        );
        assert_eq!(
            last_signed(a),
            last_signed(a0),
            "last signatures after {order:?}"
        );
    }

    // Real values: R1's report under version 2, both orphans refunded under version 2, R2 known
    // and valued, waiting for a delivery.
    let r1 = m0.request(&R1).unwrap();
    let report = r1.report.as_ref().unwrap();
    assert_eq!(report.signer_set_version, 2);
    assert_eq!(
        (report.delivery_block, report.delivery_index),
        (B, 1),
        "R1's delivery"
    );
    assert_eq!(report.value_rao, two_asset_world().expected_value());
    let orphans: Vec<(DeliveryId, Option<B256>, u64)> = m0
        .orphans
        .iter()
        .map(|o| {
            (
                o.id,
                o.coldkey,
                o.refund.as_ref().unwrap().signer_set_version,
            )
        })
        .collect();
    assert_eq!(
        orphans,
        [
            (DeliveryId { block: B, index: 2 }, Some(COLDKEY), 2),
            (DeliveryId { block: B, index: 3 }, Some(STRAY), 2),
        ]
    );
    let r2 = m0.request(&R2).unwrap();
    assert!(r2.valuation.is_some() && r2.delivery.is_none());
    assert_eq!(last_signed(a0).len(), 3);

    // The engine's order: contract events in log order, then the substrate block.
    let (_, engine) = run(&[Source::Request, Source::Signers, Source::Substrate]);
    let kinds: Vec<String> = engine
        .iter()
        .map(|a| match a {
            Action::FetchValuation { request_id, .. } => format!("fetch {request_id}"),
            Action::SignCreationReport(r) => {
                format!("report {} v{}", r.request_id, r.signer_set_version)
            }
            Action::SignRefundReport(r) => format!(
                "refund {}:{} v{}",
                r.delivery_block, r.delivery_index, r.signer_set_version
            ),
            Action::DeliveryRejected { id, .. } => format!("rejected {}:{}", id.block, id.index),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            format!("fetch {R2}"),
            format!("report {R1} v2"),
            "rejected 200:2".to_string(),
            "refund 200:2 v2".to_string(),
            "refund 200:3 v2".to_string(),
        ]
    );
    // Substrate first instead: R1 is reported under version 1 first, then re-signed.
    let (_, late) = run(&[Source::Substrate, Source::Request, Source::Signers]);
    let versions: Vec<u64> = late
        .iter()
        .filter_map(|a| match a {
            Action::SignCreationReport(r) => Some(r.signer_set_version),
            _ => None,
        })
        .collect();
    assert_eq!(versions, [1, 2]);
}
