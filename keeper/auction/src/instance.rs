//! A deterministic auction generator, shared by the benchmarks, the CLI (`tao20 auction
//! generate`) and the reference comparison, so every tool solves the same instances.
//!
//! Each miner posts workers of 0.05..0.45 PH (0.01 steps) at one to three price levels drawn from
//! 0.900..1.100 (0.001 steps, so some lie above the 1.05 cap); the budget is 40% of the offered
//! hashrate, to 0.01 PH. The generator is SplitMix64, fixed forever: changing it changes the
//! benchmark's instances.
//!
//! [`adversary`] and [`v1_adversary`] are the adversarial bidders of the benchmark and the tests:
//! legal commitments (they encode within 128 bytes and keep the bid rule) that make winner
//! selection work hardest, with every size a different multiple of 0.01 PH, small v1 sizes
//! among them, and prices written to the last of 18 decimals. [`full_precision_adversary`] writes
//! sizes to the last of 18 decimals too, which the bid rule refuses: it exercises the Pareto
//! programme that rows beyond the rule (`tao20 auction solve`) still get.

use std::collections::BTreeMap;

use tao20_core::Fp18;

use crate::commitment::{
    BidCommitment, Commitment, HASHRATE_GRAIN, MAX_PAYLOAD_BYTES, MAX_V1_WORKER_HASHRATE,
    MAX_WORKERS, MAX_WORKER_HASHRATE, MIN_WORKER_HASHRATE,
};
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

/// `inst` plus `adversaries` adversarial miners within the bid rule (hotkeys `5adv00000`, ...,
/// seeds `seed`, `seed + 1`, ...): every fourth a [`v1_adversary`], the others [`adversary`],
/// with the budget recomputed by the rule of [`generate`]: 40% of all the hashrate offered,
/// rounded down to 0.01 PH.
pub fn with_adversaries(inst: Instance, adversaries: u32, seed: u64) -> Instance {
    extend(inst, adversaries, |a| {
        let hotkey = format!("5adv{a:05}");
        let seed = seed.wrapping_add(u64::from(a));
        if a % 4 == 3 {
            v1_adversary(&hotkey, seed)
        } else {
            adversary(&hotkey, seed)
        }
    })
}

/// [`with_adversaries`] with [`full_precision_adversary`] miners of 1000 workers each, beyond
/// the bid rule.
pub fn with_full_precision_adversaries(inst: Instance, adversaries: u32, seed: u64) -> Instance {
    extend(inst, adversaries, |a| {
        full_precision_adversary(
            &format!("5adv{a:05}"),
            MAX_WORKERS,
            seed.wrapping_add(u64::from(a)),
        )
    })
}

/// `inst` with every bid at `price` (rows merged, budget kept): many miners bidding one price,
/// the case where every distinct subset sum of their workers ties.
pub fn at_one_price(inst: Instance, price: Fp18) -> Instance {
    let mut merged: BTreeMap<(String, Fp18), u64> = BTreeMap::new();
    for r in inst.rows {
        *merged.entry((r.hotkey, r.hashrate)).or_insert(0) += r.count;
    }
    Instance {
        budget: inst.budget,
        max_price: inst.max_price,
        rows: merged
            .into_iter()
            .map(|((hotkey, hashrate), count)| BidRow {
                hotkey,
                hashrate,
                price,
                count,
            })
            .collect(),
    }
}

/// `miners` miners at price 1, each with 199 workers of each of 0.09, 0.18, 0.27, 0.36 and
/// 0.45 PH, and one 0.05 PH worker from the first: every sum is a multiple of 0.09 PH or
/// 0.05 PH more, so most budgets cannot be spent to the last 0.01 PH. The budget is 40% of the
/// offer, rounded down to 0.01 PH.
pub fn gaps(miners: u32) -> Instance {
    let mut rows = Vec::new();
    for m in 0..miners {
        for k in 1..=5u128 {
            rows.push(BidRow {
                hotkey: format!("5miner{m:05}"),
                hashrate: Fp18::from_raw(9 * k * HASHRATE_GRAIN.raw()),
                price: Fp18::ONE,
                count: 199,
            });
        }
    }
    if miners > 0 {
        rows.push(BidRow {
            hotkey: "5miner00000".into(),
            hashrate: MIN_WORKER_HASHRATE,
            price: Fp18::ONE,
            count: 1,
        });
    }
    extend(
        Instance {
            budget: Fp18::ZERO,
            max_price: DEFAULT_MAX_PRICE,
            rows,
        },
        0,
        |_| Vec::new(),
    )
}

fn extend(inst: Instance, adversaries: u32, rows_of: impl Fn(u32) -> Vec<BidRow>) -> Instance {
    let mut rows = inst.rows;
    for a in 0..adversaries {
        rows.extend(rows_of(a));
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

/// `count` different sizes on the 0.01 PH grain in `[low, high]`, drawn from `rng`.
fn grain_sizes(rng: &mut SplitMix64, low: Fp18, high: Fp18, count: usize) -> Vec<Fp18> {
    let grain = HASHRATE_GRAIN.raw();
    let (first, last) = (low.raw() / grain, high.raw() / grain);
    let mut pool: Vec<u128> = (first..=last).collect();
    let mut out = Vec::new();
    while out.len() < count && !pool.is_empty() {
        let i = usize::try_from(rng.below(pool.len() as u64)).unwrap_or(0);
        out.push(Fp18::from_raw(pool.swap_remove(i) * grain));
    }
    out
}

fn rows_of(hotkey: &str, bid: &BidCommitment) -> Vec<BidRow> {
    bid.lines()
        .into_iter()
        .map(|l| BidRow {
            hotkey: hotkey.to_owned(),
            hashrate: l.hashrate,
            price: l.price,
            count: u64::from(l.count),
        })
        .collect()
}

/// The bid rows of one adversarial v2 miner `hotkey` within the bid rule, from `seed`: 1000
/// workers at one price in 0.9..1.05 written to the last of 18 decimals, spread as evenly as
/// possible over as many different sizes on the 0.01 PH grain (in 0.05..0.45 PH) as 128 bytes
/// hold.
pub fn adversary(hotkey: &str, seed: u64) -> Vec<BidRow> {
    let mut rng = SplitMix64(seed);
    let price = full_precision(&mut rng, 900 * MILLI, 150_000_000_000_000_000);
    let all = grain_sizes(&mut rng, MIN_WORKER_HASHRATE, MAX_WORKER_HASHRATE, 41);
    let n = u32::try_from(all.len()).unwrap_or(1);
    for sizes in (1..=n).rev() {
        let counts: BTreeMap<Fp18, u32> = (0u32..)
            .zip(&all)
            .take_while(|&(i, _)| i < sizes)
            .map(|(i, &h)| (h, MAX_WORKERS / sizes + u32::from(i < MAX_WORKERS % sizes)))
            .filter(|&(_, c)| c > 0)
            .collect();
        let bid = BidCommitment::V2(BTreeMap::from([(price, counts)]));
        if Commitment::Bid(bid.clone()).encode().is_ok() {
            return rows_of(hotkey, &bid);
        }
    }
    Vec::new()
}

/// The bid rows of one adversarial v1 miner `hotkey` within the bid rule, from `seed`: one
/// price in 0.9..1.05 written to the last of 18 decimals and as many different sizes on the
/// 0.01 PH grain in 0.01..0.45 PH as 128 bytes hold, the smallest among them, which no v2 bid
/// can post.
pub fn v1_adversary(hotkey: &str, seed: u64) -> Vec<BidRow> {
    let mut rng = SplitMix64(seed);
    let price = full_precision(&mut rng, 900 * MILLI, 150_000_000_000_000_000);
    let mut all = vec![
        Fp18::from_raw(HASHRATE_GRAIN.raw()),
        Fp18::from_raw(2 * HASHRATE_GRAIN.raw()),
        Fp18::from_raw(3 * HASHRATE_GRAIN.raw()),
        Fp18::from_raw(4 * HASHRATE_GRAIN.raw()),
    ];
    all.extend(grain_sizes(
        &mut rng,
        MIN_WORKER_HASHRATE,
        MAX_V1_WORKER_HASHRATE,
        41,
    ));
    for sizes in (1..=all.len()).rev() {
        let bid = BidCommitment::V1(BTreeMap::from([(
            price,
            all.iter().take(sizes).copied().collect(),
        )]));
        if Commitment::Bid(bid.clone()).encode().is_ok() {
            return rows_of(hotkey, &bid);
        }
    }
    Vec::new()
}

/// The bid rows of one miner `hotkey` beyond the bid rule, from `seed`: `workers` workers
/// (clamped to 1..=1000) at one price in 0.9..1.05 and up to four sizes in 0.05..0.45 PH, all
/// written to the last of 18 decimals, in the largest such v2 commitment that fits 128 bytes;
/// the counts are as equal as possible.
pub fn full_precision_adversary(hotkey: &str, workers: u32, seed: u64) -> Vec<BidRow> {
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
        // The encoder refuses these sizes (the bid rule), so the payload is measured here.
        let items: Vec<String> = counts.iter().map(|(h, c)| format!("{h}:{c}")).collect();
        if format!("2;b;BTC,{price}={}", items.join(",")).len() <= MAX_PAYLOAD_BYTES {
            return rows_of(
                hotkey,
                &BidCommitment::V2(BTreeMap::from([(price, counts)])),
            );
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
    fn the_full_precision_adversary_fits_a_payload_but_breaks_the_bid_rule() {
        for (workers, seed) in [(1000, 1), (1000, 2), (999, 3), (3, 4), (1, 5)] {
            let rows = full_precision_adversary("5adv", workers, seed);
            assert_eq!(
                rows.iter().map(|r| r.count).sum::<u64>(),
                u64::from(workers)
            );
            assert_eq!(rows.len(), workers.min(4) as usize);
            let payload = v2_payload(&rows);
            assert!(payload.len() <= MAX_PAYLOAD_BYTES);
            assert!(matches!(
                Commitment::decode(payload.as_bytes()),
                Err(crate::Error::BidRule { .. })
            ));
            for r in &rows {
                assert_ne!(r.hashrate.raw() % 10, 0);
                assert_ne!(r.price.raw() % 10, 0);
                assert!(r.price <= DEFAULT_MAX_PRICE);
            }
        }
        assert_eq!(
            full_precision_adversary("a", 1000, 9),
            full_precision_adversary("a", 1000, 9)
        );
    }

    /// A v2 bid payload of `rows`, all at the first row's price.
    fn v2_payload(rows: &[BidRow]) -> String {
        format!(
            "2;b;BTC,{}={}",
            rows[0].price,
            rows.iter()
                .map(|r| format!("{}:{}", r.hashrate, r.count))
                .collect::<Vec<_>>()
                .join(",")
        )
    }

    /// The rows a commitment carries, as the keepers read them.
    fn decoded(payload: &str, hotkey: &str) -> Vec<BidRow> {
        let Commitment::Bid(bid) = Commitment::decode(payload.as_bytes()).unwrap() else {
            panic!("{payload}")
        };
        rows_of(hotkey, &bid)
    }

    #[test]
    fn the_adversaries_are_legal_commitments_at_the_finest_grain() {
        for seed in 0..20 {
            let rows = adversary("5adv", seed);
            assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 1000);
            assert!(rows.len() >= 10, "{rows:?}");
            let payload = v2_payload(&rows);
            assert_eq!(decoded(&payload, "5adv"), rows);
            assert_ne!(rows[0].price.raw() % 10, 0);

            let rows = v1_adversary("5adv", seed);
            assert!(rows.len() >= 15, "{rows:?}");
            assert_eq!(rows[0].hashrate, HASHRATE_GRAIN);
            let payload = format!(
                "1;b;{}={}",
                rows[0].price,
                rows.iter()
                    .map(|r| r.hashrate.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            assert_eq!(decoded(&payload, "5adv"), rows);
        }
        assert_eq!(adversary("a", 9), adversary("a", 9));
    }

    #[test]
    fn adversaries_extend_an_instance_and_its_budget() {
        let honest = generate(8, 10, 3);
        let same = with_adversaries(honest.clone(), 0, 1);
        assert_eq!(same, honest);
        let inst = with_adversaries(honest.clone(), 4, 1);
        assert!(inst.budget > honest.budget);
        assert!(inst.rows.windows(2).all(|w| w[0] < w[1]));
        assert!(inst.rows.iter().any(|r| r.hashrate == HASHRATE_GRAIN));
        let inst = with_full_precision_adversaries(honest.clone(), 2, 1);
        assert_eq!(inst.rows.len(), honest.rows.len() + 8);
        assert_eq!(inst.rows.iter().map(|r| r.count).sum::<u64>(), 80 + 2000);
    }
}
