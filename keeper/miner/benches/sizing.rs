//! The creation miner's sizing, each next to the reference measured in the same run: the exact
//! evaluation at every point of the search range (every unit count; every step of the spend
//! grid), which is what the closed form and the concave search replace. Before timing, each
//! case checks that sizing found the grid's best profit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use alloy_primitives::U256;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tao20_miner::sizing::{
    evaluate_creation, evaluate_redemption, size_creation, size_redemption, AssetQuote,
    CreationInputs, PairReserves, PositionQuote, RedemptionInputs, SubnetPool,
};

const E18: u128 = 1_000_000_000_000_000_000;
const TAO: u64 = 1_000_000_000;

/// Subnet `i`'s pool: 20 000-60 000 TAO deep, 0.02-0.2 TAO per alpha.
/// Every third pool is weighted (TAO side 20-80 %), as finney's balancer pools are.
fn pool(i: u128) -> SubnetPool {
    let tao = (20_000 + i * 7_919 % 40_000) * u128::from(TAO);
    let price_milli = 20 + i * 104_729 % 180;
    let quote_weight = if i.is_multiple_of(3) {
        200_000_000_000_000_000 + u64::try_from(i * 61 % 60).unwrap() * 10_000_000_000_000_000
    } else {
        500_000_000_000_000_000
    };
    SubnetPool {
        tao: u64::try_from(tao).unwrap(),
        alpha: u64::try_from(tao * 1_000 / price_milli).unwrap(),
        quote_weight,
        fee_rate: 33,
    }
}

fn price(p: &SubnetPool) -> u128 {
    u128::from(p.spot_price_rao()) * E18 / 1_000_000_000
}

/// A basket of `n` subnets worth about 10 TAO a unit, NAV 1 TAO a share, a pair of 10 000 shares
/// at `premium_bps` above NAV.
fn creation(n: u128, premium_bps: u64) -> CreationInputs {
    let assets = (1..=n)
        .map(|i| {
            let pool = pool(i);
            let qty = u64::try_from(10 * u128::from(TAO) * E18 / n / price(&pool)).unwrap();
            AssetQuote {
                netuid: u16::try_from(i).unwrap(),
                qty_per_unit: qty,
                official_price: price(&pool),
                pool,
            }
        })
        .collect();
    let shares = U256::from(10_000u64) * U256::from(E18);
    CreationInputs {
        pair: PairReserves {
            shares,
            tao: shares * U256::from(10_000 + premium_bps) / U256::from(10_000u64),
        },
        assets,
        nav_per_share: U256::from(TAO),
        mint_fee_bps: 50,
        min_units: 1,
        max_units: 1_000,
        capital_rao: 100_000 * TAO,
        buy_buffer_bps: 30,
        fixed_cost_rao: 10_000_000,
        min_profit_rao: 0,
    }
}

/// A fund of `n` positions worth about 10 000 TAO over 10 000 shares, the pair at `discount_bps`
/// below NAV, a 0.1 TAO spend grid up to 1 000 TAO.
fn redemption(n: u128, discount_bps: u64) -> RedemptionInputs {
    let positions = (1..=n)
        .map(|i| {
            let pool = pool(i);
            let amount = u64::try_from(10_000 * u128::from(TAO) * E18 / n / price(&pool)).unwrap();
            PositionQuote {
                netuid: u16::try_from(i).unwrap(),
                amount,
                precompile_price: price(&pool),
                price_cap: price(&pool),
                pool,
            }
        })
        .collect();
    let shares = U256::from(10_000u64) * U256::from(E18);
    RedemptionInputs {
        pair: PairReserves {
            shares,
            tao: shares * U256::from(10_000 - discount_bps) / U256::from(10_000u64),
        },
        supply: shares,
        redeem_fee_bps: 50,
        positions,
        native_wei: U256::ZERO,
        min_stake_rao: 500_000,
        capital_rao: 1_000 * TAO,
        max_spend_rao: u64::MAX,
        step_rao: TAO / 10,
        fixed_cost_rao: 10_000_000,
        min_profit_rao: 0,
    }
}

/// The reference: every unit count evaluated exactly.
fn creation_by_scan(inputs: &CreationInputs) -> Option<i128> {
    (inputs.min_units..=inputs.max_units)
        .filter_map(|u| evaluate_creation(inputs, u))
        .map(|p| p.profit_rao)
        .max()
}

/// The reference: every step of the spend grid evaluated exactly.
fn redemption_by_scan(inputs: &RedemptionInputs) -> Option<i128> {
    let hi = inputs.capital_rao.min(inputs.max_spend_rao);
    (1..=hi / inputs.step_rao)
        .filter_map(|k| evaluate_redemption(inputs, k * inputs.step_rao))
        .map(|p| p.profit_rao)
        .max()
}

fn sizing(c: &mut Criterion) {
    let mut group = c.benchmark_group("sizing");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for n in [3u128, 20] {
        let inputs = creation(n, 300);
        let sized = size_creation(&inputs).map(|p| p.profit_rao);
        assert!(
            sized.is_some(),
            "a 3 % premium over {n} assets is worth a creation"
        );
        assert_eq!(sized, creation_by_scan(&inputs), "creation over {n} assets");
        group.bench_with_input(BenchmarkId::new("creation", n), &inputs, |b, i| {
            b.iter(|| size_creation(black_box(i)))
        });
        group.bench_with_input(BenchmarkId::new("creation_scan", n), &inputs, |b, i| {
            b.iter(|| creation_by_scan(black_box(i)))
        });
        let inputs = redemption(n, 300);
        let sized = size_redemption(&inputs).map(|p| p.profit_rao);
        assert!(
            sized.is_some(),
            "a 3 % discount over {n} positions is worth a redemption"
        );
        assert_eq!(
            sized,
            redemption_by_scan(&inputs),
            "redemption over {n} positions"
        );
        group.bench_with_input(BenchmarkId::new("redemption", n), &inputs, |b, i| {
            b.iter(|| size_redemption(black_box(i)))
        });
        group.bench_with_input(BenchmarkId::new("redemption_scan", n), &inputs, |b, i| {
            b.iter(|| redemption_by_scan(black_box(i)))
        });
    }
    group.finish();
}

criterion_group!(benches, sizing);
criterion_main!(benches);
