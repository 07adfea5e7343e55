//! The index at a boundary block and the lifecycle over a busy block, each next to a reference
//! measured in the same run (sorting the same subnets by market cap; cloning the machine's state,
//! which `apply` does once per event for atomicity), so results read as ratios.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use alloy_primitives::{Address, Bytes, B256, U256};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tao20_creation::delivery::{Call, ChainEvent, Extrinsic, SubstrateBlock};
use tao20_creation::eip712::creation_file_hash;
use tao20_creation::ids::delivery_remark;
use tao20_creation::index::{compute, Epoch, IndexInput, IndexParams, SubnetSnapshot};
use tao20_creation::lifecycle::{
    CreationMachine, CreationRequest, Event, FundHotkey, MachineConfig,
};

fn subnets(n: u16) -> Vec<SubnetSnapshot> {
    (1..=n)
        .map(|i| {
            let k = u128::from(i);
            SubnetSnapshot {
                netuid: i,
                price: 1_000_000_000_000_000 * (k * 7919 % 1000 + 1),
                alpha_outstanding: 1_000_000_000_000_000 * (k * 104_729 % 997 + 1),
                trading: true,
                transfers_enabled: i % 17 != 0,
            }
        })
        .collect()
}

fn index(c: &mut Criterion) {
    let mut group = c.benchmark_group("index");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for n in [32u16, 128, 512] {
        let input = IndexInput {
            epoch: Epoch {
                epoch_id: 1,
                genesis_block: 0,
                epoch_length: 100_800,
            },
            params: IndexParams::default(),
            nav_per_share: U256::from(1_000_000_000u64),
            signer_set_version: 1,
            subnets: subnets(n),
        };
        group.bench_with_input(BenchmarkId::new("compute", n), &input, |b, i| {
            b.iter(|| compute(black_box(i)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("reference_sort", n), &input, |b, i| {
            b.iter(|| {
                let mut s = black_box(i).subnets.clone();
                s.sort_by(|a, b| {
                    (b.price * b.alpha_outstanding / 1_000_000_000_000_000_000)
                        .cmp(&(a.price * a.alpha_outstanding / 1_000_000_000_000_000_000))
                        .then(a.netuid.cmp(&b.netuid))
                });
                s
            })
        });
    }
    group.finish();
}

const VAULT: B256 = B256::repeat_byte(0xee);

/// A machine with `open` pending requests and a block delivering to every one of them.
fn busy(open: u8) -> (CreationMachine, Event) {
    let config = MachineConfig {
        chain_id: 964,
        contract: Address::repeat_byte(0x7a),
        vault: VAULT,
        fund_hotkeys: vec![FundHotkey {
            netuid: 1,
            hotkey: B256::repeat_byte(0xf1),
        }],
        price_window: 240,
    };
    let mut m = CreationMachine::new(config, 1);
    let input = IndexInput {
        epoch: Epoch {
            epoch_id: 0,
            genesis_block: 0,
            epoch_length: 100_800,
        },
        params: IndexParams::default(),
        nav_per_share: U256::from(1_000_000_000u64),
        signer_set_version: 1,
        subnets: subnets(40),
    };
    let file = compute(&input).unwrap().creation_file;
    m.apply(&Event::CreationFilePublished {
        file_hash: creation_file_hash(&file),
        file: file.clone(),
    })
    .unwrap();
    let mut extrinsics = Vec::new();
    for r in 0..open {
        let id = B256::repeat_byte(r);
        let coldkey = B256::left_padding_from(&[r, 1]);
        m.apply(&Event::CreationRequested(CreationRequest {
            request_id: id,
            miner: Address::repeat_byte(r),
            receiver: Address::repeat_byte(r),
            coldkey,
            epoch_id: 0,
            units: 1,
            request_block: 1000,
            expiry_block: 1300,
            min_shares_out: U256::ZERO,
            bond: U256::ZERO,
        }))
        .unwrap();
        let hotkey = B256::left_padding_from(&[r, 2]);
        let mut calls = vec![Call::Remark {
            data: Bytes::copy_from_slice(delivery_remark(964, VAULT, id).as_slice()),
        }];
        let mut events = Vec::new();
        for a in &file.assets {
            calls.push(Call::TransferStake {
                destination_coldkey: VAULT,
                hotkey,
                origin_netuid: a.netuid,
                destination_netuid: a.netuid,
                alpha_amount: a.qty_per_unit,
            });
            events.push(ChainEvent::StakeAdded {
                coldkey: VAULT,
                hotkey,
                tao_amount: 0,
                alpha_amount: a.qty_per_unit,
                netuid: a.netuid,
            });
        }
        extrinsics.push(Extrinsic {
            index: u32::from(r),
            signer: Some(coldkey),
            success: true,
            call: Call::BatchAll { calls },
            events,
        });
    }
    let block = Event::Block(SubstrateBlock {
        number: 1001,
        extrinsics,
    });
    (m, block)
}

fn lifecycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("lifecycle");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for open in [10u8, 100] {
        let (m, block) = busy(open);
        group.bench_with_input(
            BenchmarkId::new("apply_block", open),
            &(m.clone(), block),
            |b, (m, e)| {
                b.iter(|| {
                    let mut m = m.clone();
                    m.apply(black_box(e)).unwrap()
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("reference_clone", open), &m, |b, m| {
            b.iter(|| black_box(m).clone())
        });
    }
    group.finish();
}

criterion_group!(benches, index, lifecycle);
criterion_main!(benches);
