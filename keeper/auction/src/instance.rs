//! A deterministic auction generator, shared by the benchmarks, the CLI (`tao20 auction
//! generate`) and the reference comparison, so every tool solves the same instances.
//!
//! Each miner posts workers of 0.05..0.45 PH (0.01 steps) at one to three price levels drawn from
//! 0.900..1.100 (0.001 steps, so some lie above the 1.05 cap); the budget is 40% of the offered
//! hashrate, to 0.01 PH. The generator is SplitMix64, fixed forever: changing it changes the
//! benchmark's instances.
//!
//! [`adversary`] adds the adversarial bidder of the tests and the benchmark: a legal v2
//! commitment (it encodes within 128 bytes) with up to 1000 workers whose sizes and price are
//! written to the last of 18 decimals, which makes every gcd of the model 1.

use std::collections::BTreeMap;

use tao20_core::Fp18;

use crate::commitment::{BidCommitment, Commitment, MAX_WORKERS};
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

/// `inst` plus `adversaries` adversarial miners ([`adversary`], 1000 workers each, hotkeys
/// `5adv00000`, ..., seeds `seed`, `seed + 1`, ...), with the budget recomputed by the rule of
/// [`generate`]: 40% of all the hashrate offered, rounded down to 0.01 PH.
pub fn with_adversaries(inst: Instance, adversaries: u32, seed: u64) -> Instance {
    let mut rows = inst.rows;
    for a in 0..adversaries {
        rows.extend(adversary(
            &format!("5adv{a:05}"),
            MAX_WORKERS,
            seed.wrapping_add(u64::from(a)),
        ));
    }
    rows.sort();
    let offered: u128 = rows
        .iter()
        .map(|r| r.hashrate.raw() * u128::from(r.count))
        .sum();
    Instance {
        budget: Fp18::from_raw(offered * 2 / 5 / (10 * MILLI) * (10 * MILLI)),
        max_price: inst.max_price,
        rows,
    }
}

/// A random FP18 value in `[low, low + span)` whose last (18th) decimal is never zero.
fn full_precision(rng: &mut SplitMix64, low: u128, span: u64) -> Fp18 {
    let raw = low + u128::from(rng.below(span));
    Fp18::from_raw(if raw.is_multiple_of(10) { raw + 1 } else { raw })
}

/// The bid rows of one adversarial miner `hotkey`, from `seed`: `workers` workers (clamped to
/// 1..=1000) in the largest v2 commitment that still fits 128 bytes at full precision, one price
/// in 0.9..1.05 and up to four worker sizes in 0.05..0.45 PH, all with 18 decimals; the counts
/// are as equal as possible.
pub fn adversary(hotkey: &str, workers: u32, seed: u64) -> Vec<BidRow> {
    let mut rng = SplitMix64(seed);
    let workers = workers.clamp(1, MAX_WORKERS);
    let price = full_precision(&mut rng, 900 * MILLI, 150_000_000_000_000_000);
    let all: Vec<Fp18> = (0..4)
        .map(|_| full_precision(&mut rng, 50 * MILLI, 399_999_999_999_999_999))
        .collect();
    for sizes in (1..=4u32).rev() {
        let mut counts = BTreeMap::new();
        for (i, &hashrate) in (0u32..).zip(&all).take_while(|&(i, _)| i < sizes) {
            let share = workers / sizes + u32::from(i < workers % sizes);
            if share > 0 {
                *counts.entry(hashrate).or_insert(0) += share;
            }
        }
        let bid = BidCommitment::V2(BTreeMap::from([(price, counts)]));
        if Commitment::Bid(bid.clone()).encode().is_ok() {
            return bid
                .lines()
                .into_iter()
                .map(|l| BidRow {
                    hotkey: hotkey.to_owned(),
                    hashrate: l.hashrate,
                    price: l.price,
                    count: u64::from(l.count),
                })
                .collect();
        }
    }
    // One full-precision size at one price always fits (about 60 bytes).
    Vec::new()
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

    #[test]
    fn the_adversary_is_a_legal_full_precision_commitment() {
        for (workers, seed) in [(1000, 1), (1000, 2), (999, 3), (3, 4), (1, 5)] {
            let rows = adversary("5adv", workers, seed);
            assert_eq!(
                rows.iter().map(|r| r.count).sum::<u64>(),
                u64::from(workers)
            );
            assert_eq!(rows.len(), workers.min(4) as usize);
            let payload = format!(
                "2;b;BTC,{}={}",
                rows[0].price,
                rows.iter()
                    .map(|r| format!("{}:{}", r.hashrate, r.count))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let Commitment::Bid(bid) = Commitment::decode(payload.as_bytes()).unwrap() else {
                panic!("{payload}")
            };
            assert_eq!(bid.lines().len(), rows.len());
            for r in &rows {
                assert_ne!(r.hashrate.raw() % 10, 0);
                assert_ne!(r.price.raw() % 10, 0);
                assert!(r.price <= DEFAULT_MAX_PRICE);
            }
        }
        assert_eq!(adversary("a", 1000, 9), adversary("a", 1000, 9));
    }

    #[test]
    fn adversaries_extend_an_instance_and_its_budget() {
        let honest = generate(8, 10, 3);
        let same = with_adversaries(honest.clone(), 0, 1);
        assert_eq!(same, honest);
        let inst = with_adversaries(honest.clone(), 2, 1);
        assert_eq!(inst.rows.len(), honest.rows.len() + 8);
        assert_eq!(inst.rows.iter().map(|r| r.count).sum::<u64>(), 80 + 2000);
        assert!(inst.budget > honest.budget);
        assert!(inst.rows.windows(2).all(|w| w[0] < w[1]));
    }
}
