//! Property tests of the index and the share maths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_primitives::U256;
use proptest::prelude::*;
use tao20_core::Fp18;
use tao20_creation::index::{compute_index, effective_cap, IndexParams, SubnetSnapshot};
use tao20_creation::nav::{
    holdings_value, nav_per_share, redemption, shares, Holding, Price, ONE_SHARE,
};
use tao20_creation::Error;

fn subnets() -> impl Strategy<Value = Vec<SubnetSnapshot>> {
    prop::collection::btree_map(
        0u16..400,
        (
            1u128..1_000_000_000_000_000_000_000,
            1u128..100_000_000_000_000_000,
            prop::bool::weighted(0.9),
            prop::bool::weighted(0.9),
        ),
        1..45,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(
                |(netuid, (price, alpha, trading, transfers_enabled))| SubnetSnapshot {
                    netuid,
                    price,
                    alpha_outstanding: alpha,
                    trading,
                    transfers_enabled,
                },
            )
            .collect()
    })
}

fn params() -> impl Strategy<Value = IndexParams> {
    (1u16..=64, 500u16..=5000, 0u64..20).prop_filter_map(
        "threshold x cap must reach 10000",
        |(top_n, cap_bps, min_value_multiple)| {
            let small_set_threshold = u16::try_from(10_000u32.div_ceil(u32::from(cap_bps))).ok()?;
            Some(IndexParams {
                top_n,
                cap_bps,
                small_set_threshold,
                min_value_multiple,
                ..IndexParams::default()
            })
        },
    )
}

proptest! {
    #[test]
    fn weights_sum_to_10000_respect_the_cap_and_ignore_input_order(
        subnets in subnets(),
        params in params(),
        nav in 1u64..100_000_000_000,
        seed in any::<u64>(),
    ) {
        let nav = U256::from(nav);
        let index = match compute_index(&params, nav, &subnets) {
            Ok(index) => index,
            // Legitimate refusals only: nothing eligible, or a quantity beyond uint64.
            Err(e) => {
                prop_assert!(
                    matches!(e, Error::EmptyIndex(_) | Error::OutOfRange { .. }),
                    "{e}"
                );
                return Ok(());
            }
        };
        let sum: u32 = index.assets.iter().map(|a| u32::from(a.weight_bps)).sum();
        prop_assert_eq!(sum, 10_000);
        prop_assert!(index.assets.len() <= usize::from(params.top_n));
        prop_assert_eq!(index.cap_bps, effective_cap(&params, index.assets.len()));
        prop_assert!(index.assets.iter().all(|a| a.weight_bps <= index.cap_bps));
        prop_assert!(index.assets.windows(2).all(|w| w[0].netuid < w[1].netuid));
        prop_assert!(index.assets.iter().all(|a| a.netuid != 0));
        // A larger market cap never gets a smaller weight.
        for a in &index.assets {
            for b in &index.assets {
                if a.market_cap_rao > b.market_cap_rao {
                    prop_assert!(a.weight_bps + 1 >= b.weight_bps, "{a:?} {b:?}");
                }
            }
        }
        // Any permutation of the input gives the same index.
        let mut shuffled = subnets.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, usize::try_from(s >> 33).unwrap() % (i + 1));
        }
        prop_assert_eq!(compute_index(&params, nav, &shuffled).unwrap(), index);
    }

    #[test]
    fn share_rounding_never_favours_the_depositor(
        amounts in prop::collection::vec((1u16..50, 0u64..u64::MAX / 4), 1..8),
        price in 1u128..1_000_000_000_000_000_000_000,
        nav in 1u64..u64::MAX,
        fee_bps in 0u16..=100,
    ) {
        let mut holdings: Vec<Holding> = Vec::new();
        for (netuid, amount) in amounts {
            if !holdings.iter().any(|h| h.netuid == netuid) {
                holdings.push(Holding { netuid, amount });
            }
        }
        let prices: Vec<Price> = holdings.iter().map(|h| Price { netuid: h.netuid, price }).collect();
        let value = holdings_value(&holdings, &prices).unwrap();
        // Each position is floored, so the value never exceeds the exact sum.
        let exact_scaled: U256 = holdings
            .iter()
            .map(|h| U256::from(h.amount) * U256::from(price))
            .fold(U256::ZERO, |a, b| a + b);
        prop_assert!(value * U256::from(ONE_SHARE) <= exact_scaled);
        let nav = U256::from(nav);
        match shares(value, nav, fee_bps) {
            Ok(s) => {
                // Shares are never worth more than the value delivered at the reported NAV,
                prop_assert!(s.gross * nav <= value * U256::from(ONE_SHARE));
                // the fee is never below its exact share, and is taken from the gross.
                prop_assert!(s.fee * U256::from(10_000u32) >= s.gross * U256::from(fee_bps));
                prop_assert_eq!(s.shares_out + s.fee, s.gross);
            }
            Err(_) => prop_assert!(value * U256::from(ONE_SHARE) < nav),
        }
        let _ = Fp18::from_raw(price);
    }

    #[test]
    fn redemption_never_pays_more_than_the_share(
        supply in 1u128..u128::MAX / 2,
        frac in 0u128..=1_000_000,
        fee_bps in 0u16..=100,
        stakes in prop::collection::vec(0u64..u64::MAX, 0..10),
    ) {
        let supply = U256::from(supply);
        let shares_in = supply * U256::from(frac) / U256::from(1_000_000u64);
        let stakes: Vec<U256> = stakes.into_iter().map(U256::from).collect();
        let r = redemption(shares_in, fee_bps, supply, &stakes).unwrap();
        prop_assert_eq!(r.burned + r.fee, shares_in);
        prop_assert!(r.fee * U256::from(10_000u32) >= shares_in * U256::from(fee_bps));
        for (amount, stake) in r.amounts.iter().zip(&stakes) {
            prop_assert!(*amount * supply <= *stake * r.burned);
        }
    }
}

proptest! {
    /// The NAV is rounded up: a minter priced at it never receives the rounding dust.
    #[test]
    fn nav_per_share_never_undervalues_the_fund(value in 0u128..u128::MAX, supply in 1u128..u128::MAX) {
        let (value, supply) = (U256::from(value), U256::from(supply));
        let nav = nav_per_share(value, supply).unwrap();
        let scaled = value * U256::from(ONE_SHARE);
        prop_assert!(nav * supply >= scaled);
        prop_assert!(nav.is_zero() || (nav - U256::from(1u8)) * supply < scaled);
    }

    #[test]
    fn mechanism0_weights_ignore_record_order(
        values in prop::collection::vec((0u8..6, 0u64..1_000_000_000_000, 0u64..200), 0..30),
        target in prop::option::of(0u64..10_000_000_000_000),
        seed in any::<u64>(),
    ) {
        use alloy_primitives::{Address, B256};
        use tao20_creation::lifecycle::MintRecord;
        use tao20_creation::weights::{mechanism0_weights, Miner, WeightParams};
        let records: Vec<MintRecord> = values
            .iter()
            .map(|(miner, value, block)| MintRecord {
                request_id: B256::repeat_byte(*miner),
                miner: Address::repeat_byte(*miner),
                epoch_id: 0,
                units: 1,
                value_rao: U256::from(*value),
                shares_out: U256::ZERO,
                block: *block,
            })
            .collect();
        // Miners 0..4 are registered (uids 10..14); 5 is not and is burned.
        let miners: Vec<Miner> = (0u8..5)
            .map(|m| Miner { address: Address::repeat_byte(m), uid: 10 + u16::from(m) })
            .collect();
        let params = WeightParams {
            from_block: 50,
            to_block: 149,
            burn_uid: 0,
            target_value_rao: target.map(U256::from),
        };
        let w = mechanism0_weights(&records, &miners, &params).unwrap();
        prop_assert!(w.windows(2).all(|p| p[0].uid < p[1].uid));
        prop_assert_eq!(w.iter().map(|x| x.weight).max(), Some(u16::MAX));
        let mut shuffled = records.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, usize::try_from(s >> 33).unwrap() % (i + 1));
        }
        let mut miners_rev = miners.clone();
        miners_rev.reverse();
        prop_assert_eq!(mechanism0_weights(&shuffled, &miners_rev, &params).unwrap(), w);
    }
}
