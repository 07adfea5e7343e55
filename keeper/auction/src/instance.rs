//! A deterministic auction generator, shared by the benchmarks, the CLI (`tao20 auction
//! generate`) and the reference comparison, so every tool solves the same instances.
//!
//! Each miner posts workers of 0.05..0.45 PH (0.01 steps) at one to three price levels drawn from
//! 0.900..1.100 (0.001 steps, so some lie above the 1.05 cap); the budget is 40% of the offered
//! hashrate, to 0.01 PH. The generator is SplitMix64, fixed forever: changing it changes the
//! benchmark's instances.

use std::collections::BTreeMap;

use tao20_core::Fp18;

use crate::solve::{BidRow, DEFAULT_MAX_PRICE};

/// A generated auction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The budget in PH.
    pub budget: Fp18,
    /// The price cap.
    pub max_price: Fp18,
    /// The bid rows, by (hotkey, hashrate, price).
    pub rows: Vec<BidRow>,
}

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const MILLI: u128 = 1_000_000_000_000_000;

/// `miners` miners with `workers` workers each, from `seed`.
pub fn generate(miners: u32, workers: u32, seed: u64) -> Instance {
    let mut rng = SplitMix64(seed);
    let mut rows: BTreeMap<(String, Fp18, Fp18), u64> = BTreeMap::new();
    let mut offered: u128 = 0;
    for m in 0..miners {
        let hotkey = format!("5miner{m:05}");
        let levels: Vec<u64> = (0..=rng.below(3)).map(|_| 900 + rng.below(201)).collect();
        for _ in 0..workers {
            let hashrate = Fp18::from_raw(u128::from(5 + rng.below(41)) * 10 * MILLI);
            let level = levels
                .get(usize::try_from(rng.below(levels.len() as u64)).unwrap_or(0))
                .copied()
                .unwrap_or(1000);
            let price = Fp18::from_raw(u128::from(level) * MILLI);
            offered += hashrate.raw();
            *rows.entry((hotkey.clone(), hashrate, price)).or_insert(0) += 1;
        }
    }
    // 40% of the offer, rounded down to 0.01 PH.
    let budget = offered * 2 / 5 / (10 * MILLI) * (10 * MILLI);
    Instance {
        budget: Fp18::from_raw(budget),
        max_price: DEFAULT_MAX_PRICE,
        rows: rows
            .into_iter()
            .map(|((hotkey, hashrate, price), count)| BidRow {
                hotkey,
                hashrate,
                price,
                count,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_deterministic_and_sized() {
        let a = generate(16, 20, 7);
        assert_eq!(a, generate(16, 20, 7));
        assert_ne!(a, generate(16, 20, 8));
        assert_eq!(a.rows.iter().map(|r| r.count).sum::<u64>(), 320);
        assert!(a.rows.iter().any(|r| r.price > DEFAULT_MAX_PRICE));
        assert!(!a.budget.is_zero());
    }
}
