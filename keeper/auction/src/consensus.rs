//! Price consensus (gamma-MSI) and ban consensus, in exact integer arithmetic.
//!
//! # gamma-MSI
//! Keep the points with a non-zero price and a non-zero stake; sort them by (price, hotkey); find
//! the narrowest window in log-price whose stake is at least `gamma x total`; inside it return the
//! first price where `2 x cumulative >= window stake` (the stake-weighted lower median). The
//! original compares `ln(right) - ln(left)` in floating point; here a window's width is the ratio
//! `right / left`, and `r1 / l1 < r2 / l2` is decided as `r1 x l2 < r2 x l1` on 256-bit products,
//! so every validator gets the same bits. Ties in width go to the smallest (right, left), as in
//! the original. The coverage test `window >= gamma x total` is `window x 1e18 >= gamma_raw x
//! total`, also exact. `gamma` is a decimal in (0, 1]; above 1 no window can qualify (no price);
//! zero is an error.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::U256;
use tao20_core::Fp18;

use crate::commitment::BanBitmap;
use crate::{Error, Result};

/// The default coverage, 0.67.
pub const DEFAULT_GAMMA: Fp18 = Fp18::from_raw(670_000_000_000_000_000);

/// One validator's price for one metric, with its stake (any unit, up to 128 bits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricePoint {
    /// The validator's hotkey (opaque; the secondary sort key).
    pub hotkey: String,
    /// The validator's stake.
    pub stake: u128,
    /// The committed price.
    pub price: Fp18,
}

/// The gamma-MSI consensus of `points`, or `None` when no window covers `gamma` of the stake.
///
/// Errors when `gamma` is zero or a hotkey appears twice.
pub fn gamma_msi(points: &[PricePoint], gamma: Fp18) -> Result<Option<Fp18>> {
    if gamma.is_zero() {
        return Err(Error::invalid("gamma", "must be above 0"));
    }
    let mut seen = BTreeSet::new();
    for (i, p) in points.iter().enumerate() {
        if !seen.insert(p.hotkey.as_str()) {
            return Err(Error::invalid(
                format!("points[{i}].hotkey"),
                format!("hotkey {:?} is repeated", p.hotkey),
            ));
        }
    }
    let mut pts: Vec<&PricePoint> = points
        .iter()
        .filter(|p| !p.price.is_zero() && p.stake != 0)
        .collect();
    if pts.is_empty() {
        return Ok(None);
    }
    pts.sort_by(|a, b| (a.price, &a.hotkey).cmp(&(b.price, &b.hotkey)));
    let total: U256 = pts.iter().map(|p| U256::from(p.stake)).sum();
    let scale = U256::from(tao20_core::fixed::SCALE);
    // window >= gamma x total  <=>  window x 1e18 >= gamma_raw x total (both exact in 256 bits:
    // total < 2^128 x 2^64 points and gamma_raw < 2^128 would not fit, so gamma is capped first).
    let target = U256::from(gamma.raw()).checked_mul(total);
    let covers = |window: U256| match target {
        Some(t) => window.checked_mul(scale).is_some_and(|w| w >= t),
        None => false,
    };
    let price = |i: usize| pts.get(i).map_or(0, |p| p.price.raw());
    let stake = |i: usize| U256::from(pts.get(i).map_or(0, |p| p.stake));

    let mut best: Option<(usize, usize)> = None;
    let mut window = U256::ZERO;
    let mut left = 0usize;
    for right in 0..pts.len() {
        window += stake(right);
        while left <= right && covers(window - stake(left)) {
            window -= stake(left);
            left += 1;
        }
        if !covers(window) {
            continue;
        }
        let better = match best {
            None => true,
            Some((bl, br)) => {
                // price(right) / price(left) vs price(br) / price(bl), cross-multiplied.
                let this = U256::from(price(right)) * U256::from(price(bl));
                let that = U256::from(price(br)) * U256::from(price(left));
                this < that
                    || (this == that && (price(right), price(left)) < (price(br), price(bl)))
            }
        };
        if better {
            best = Some((left, right));
        }
    }
    let Some((left, right)) = best else {
        return Ok(None);
    };
    let window_total: U256 = (left..=right).map(stake).sum();
    let mut acc = U256::ZERO;
    for i in left..=right {
        acc += stake(i);
        if acc * U256::from(2u8) >= window_total {
            return Ok(Some(Fp18::from_raw(price(i))));
        }
    }
    Ok(Some(Fp18::from_raw(price(right))))
}

/// One validator's price commitment as seen by ban consensus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanVote {
    /// The validator's hotkey.
    pub hotkey: String,
    /// The validator's stake.
    pub stake: u128,
    /// Its ban bitmap, if its price commitment carried one (none counts as banning nobody).
    pub bans: Option<BanBitmap>,
}

/// The uids banned by consensus: those whose ban bit is backed by strictly more than half
/// (`total / 2`, integer division) of the stake of every validator that posted a price
/// commitment. Errors on a repeated hotkey.
pub fn ban_consensus(votes: &[BanVote]) -> Result<BTreeSet<u8>> {
    let mut seen = BTreeSet::new();
    let mut total = U256::ZERO;
    let mut support: BTreeMap<u8, U256> = BTreeMap::new();
    for (i, v) in votes.iter().enumerate() {
        if !seen.insert(v.hotkey.as_str()) {
            return Err(Error::invalid(
                format!("votes[{i}].hotkey"),
                format!("hotkey {:?} is repeated", v.hotkey),
            ));
        }
        total += U256::from(v.stake);
        if let Some(bans) = &v.bans {
            for uid in bans.uids() {
                *support.entry(uid).or_default() += U256::from(v.stake);
            }
        }
    }
    let half = total / U256::from(2u8);
    Ok(support
        .into_iter()
        .filter(|&(_, s)| !total.is_zero() && s > half)
        .map(|(uid, _)| uid)
        .collect())
}

/// The current hotkeys of banned uids (uids without a neuron are skipped).
pub fn banned_hotkeys(
    uids: &BTreeSet<u8>,
    hotkey_of_uid: &BTreeMap<u16, String>,
) -> BTreeSet<String> {
    uids.iter()
        .filter_map(|&u| hotkey_of_uid.get(&u16::from(u)).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pt(hotkey: &str, stake: u128, price: &str) -> PricePoint {
        PricePoint {
            hotkey: hotkey.to_owned(),
            stake,
            price: Fp18::parse(price).unwrap(),
        }
    }

    fn g(s: &str) -> Fp18 {
        Fp18::parse(s).unwrap()
    }

    #[test]
    fn picks_the_narrowest_covering_window_and_its_lower_median() {
        let pts = [
            pt("a", 40, "10"),
            pt("b", 30, "10.2"),
            pt("c", 20, "11"),
            pt("d", 10, "50"),
        ];
        // 67% of 100: {a, b} has 70 at width 1.02 -> lower median: a (2 x 40 >= 70).
        assert_eq!(gamma_msi(&pts, DEFAULT_GAMMA).unwrap(), Some(g("10")));
        // 80%: {a, b, c} (90) at width 1.1 beats {b, c, d} (60 < 80, not covering).
        assert_eq!(gamma_msi(&pts, g("0.8")).unwrap(), Some(g("10.2")));
        // 100%: the whole set; median by stake: a(40), b(70 >= 50).
        assert_eq!(gamma_msi(&pts, g("1")).unwrap(), Some(g("10.2")));
        assert_eq!(gamma_msi(&pts, g("1.01")).unwrap(), None);
        assert!(gamma_msi(&pts, Fp18::ZERO).is_err());
    }

    #[test]
    fn width_is_a_ratio_not_a_difference() {
        // {1, 1.5} differs by 0.5 (ratio 1.5); {10, 12} differs by 2 (ratio 1.2): the latter wins.
        let pts = [
            pt("a", 35, "1"),
            pt("b", 35, "1.5"),
            pt("c", 35, "10"),
            pt("d", 35, "12"),
        ];
        assert_eq!(gamma_msi(&pts, g("0.5")).unwrap(), Some(g("10")));
    }

    #[test]
    fn ties_go_to_the_smallest_prices_and_zeroes_are_ignored() {
        let pts = [
            pt("a", 1, "1"),
            pt("b", 1, "2"),
            pt("c", 1, "4"),
            pt("z", 0, "3"),
            pt("y", 5, "0"),
        ];
        // Windows {1,2} and {2,4} have the same ratio 2: the smaller (right, left) wins.
        assert_eq!(gamma_msi(&pts, g("0.6")).unwrap(), Some(g("1")));
        assert_eq!(gamma_msi(&[pt("z", 0, "3")], g("0.5")).unwrap(), None);
        assert_eq!(gamma_msi(&[], g("0.5")).unwrap(), None);
    }

    #[test]
    fn equal_prices_sort_by_hotkey_and_exact_coverage_counts() {
        let pts = [pt("b", 1, "5"), pt("a", 2, "5"), pt("c", 3, "7")];
        // gamma 0.5 of 6 = 3 exactly: {a, b} (3) at width 1 covers.
        assert_eq!(gamma_msi(&pts, g("0.5")).unwrap(), Some(g("5")));
        // Just above: needs {c} alone (3 < 3.000...1) no; {b, c} 4 at width 1.4 or {a, b, c}.
        assert_eq!(
            gamma_msi(&pts, g("0.500000000000000001")).unwrap(),
            Some(g("7"))
        );
    }

    #[test]
    fn rejects_repeated_hotkeys() {
        let pts = [pt("a", 1, "1"), pt("a", 2, "2")];
        assert!(
            matches!(gamma_msi(&pts, g("0.5")), Err(Error::Invalid { input, .. }) if input == "points[1].hotkey")
        );
    }

    #[test]
    fn huge_stakes_stay_exact() {
        // {2, 2.5} covers MAX + 1 of 2 MAX + 1 (ratio 1.25) but {2.5, 3} does too (ratio 1.2);
        // a float sum of these stakes could not tell the halves apart.
        let pts = [
            pt("a", u128::MAX, "2"),
            pt("b", u128::MAX, "3"),
            pt("c", 1, "2.5"),
        ];
        assert_eq!(gamma_msi(&pts, g("0.5")).unwrap(), Some(g("3")));
    }

    #[test]
    fn ban_needs_strictly_more_than_half() {
        let bans = |u: &[u8]| Some(BanBitmap::from_uids(u.iter().copied()));
        let votes = [
            BanVote {
                hotkey: "a".into(),
                stake: 50,
                bans: bans(&[1, 2]),
            },
            BanVote {
                hotkey: "b".into(),
                stake: 49,
                bans: bans(&[2]),
            },
            BanVote {
                hotkey: "c".into(),
                stake: 1,
                bans: None,
            },
        ];
        // total 100, half 50: uid 1 has 50 (not banned), uid 2 has 99 (banned).
        let banned = ban_consensus(&votes).unwrap();
        assert_eq!(banned, BTreeSet::from([2]));
        let odd = [
            BanVote {
                hotkey: "a".into(),
                stake: 51,
                bans: bans(&[7]),
            },
            BanVote {
                hotkey: "b".into(),
                stake: 50,
                bans: None,
            },
        ];
        // total 101, half 50: 51 > 50.
        assert_eq!(ban_consensus(&odd).unwrap(), BTreeSet::from([7]));
        let map = BTreeMap::from([(2u16, "hk2".to_owned())]);
        assert_eq!(
            banned_hotkeys(&BTreeSet::from([2, 3]), &map),
            BTreeSet::from(["hk2".to_owned()])
        );
        assert!(ban_consensus(&[]).unwrap().is_empty());
    }

    proptest! {
        #[test]
        fn consensus_is_permutation_invariant(
            raw in prop::collection::btree_map("[a-e]{1,3}", (0u128..1000, 0u128..5000), 0..12),
            gamma in 1u128..=1_100_000_000_000_000_000,
            seed in any::<u64>(),
        ) {
            let mut pts: Vec<PricePoint> = raw.iter().map(|(h, &(s, p))| PricePoint {
                hotkey: h.clone(), stake: s, price: Fp18::from_raw(p * 1_000_000_000_000_000) }).collect();
            let gamma = Fp18::from_raw(gamma);
            let expected = gamma_msi(&pts, gamma).unwrap();
            // A deterministic shuffle from the seed.
            let mut state = seed | 1;
            for i in (1..pts.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                pts.swap(i, usize::try_from(state % (i as u64 + 1)).unwrap());
            }
            prop_assert_eq!(gamma_msi(&pts, gamma).unwrap(), expected);
            if let Some(p) = expected {
                prop_assert!(pts.iter().any(|x| x.price == p && x.stake != 0));
            }
        }
    }
}
