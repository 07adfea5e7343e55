//! Delivery verification: did each winner deliver the hashrate it won?
//!
//! Pool telemetry comes as samples (one poll of every worker, about every 20 s). Worker names are
//! `[subaccount.]hotkey.worker`; the hotkey is matched on its first 48 characters (the pool
//! truncates it). A worker's delivered hashrate is its average over the window's samples, a sample
//! without the worker counting as zero; H/s become PH exactly (`1 PH = 1e15 H/s`, so the FP18 raw
//! value is `H/s x 1000`) and the average is rounded down.
//!
//! Per hotkey, with every won worker item as one commitment:
//! - one price level: `delivered = min(sum(workers), sum(commitments))`, allocated greedily over
//!   the commitments in descending size;
//! - several price levels: the i-th largest worker fills the i-th largest commitment, capped at it.
//!
//! An item passes when `delivered >= threshold x committed` (exact). A hotkey with any failed item
//! is banned; its passing items are still paid. If the validator's own sampling has a gap of more
//! than `max_gap_blocks` (between samples, or at the window's start or end) and the data did not
//! come from a proxy, the check is skipped and every winner counts as delivered in full.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::U256;
use tao20_core::fixed::SCALE;
use tao20_core::Fp18;

use crate::solve::Winner;
use crate::window::Window;
use crate::{Error, Result};

/// One worker's reading in one sample.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkerReading {
    /// The pool's worker name, `[subaccount.]hotkey.worker`.
    pub name: String,
    /// Hashrate in H/s.
    pub hashrate_hs: u128,
}

/// One poll of the pool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// The block the poll was taken at.
    pub block: u64,
    /// Every worker the pool reported.
    pub workers: Vec<WorkerReading>,
}

/// The window's telemetry.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Telemetry {
    /// The samples, in any order.
    pub samples: Vec<Sample>,
    /// Whether the data came from a proxy source (then the sampling-gap rule does not apply).
    pub from_proxy: bool,
}

/// The constants of delivery verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryParams {
    /// Fraction of the committed hashrate an item must deliver (0.1 now; 0.95, 0.5, 0 before).
    pub threshold: Fp18,
    /// Largest tolerated gap between samples, or at the window's edges, in blocks.
    pub max_gap_blocks: u64,
    /// The pool subaccount prefix stripped from worker names, if any.
    pub subaccount: Option<String>,
    /// Characters of the hotkey the pool keeps.
    pub hotkey_chars: usize,
}

impl Default for DeliveryParams {
    fn default() -> Self {
        Self {
            threshold: Fp18::from_raw(100_000_000_000_000_000),
            max_gap_blocks: 10,
            subaccount: None,
            hotkey_chars: 48,
        }
    }
}

/// One won worker item and what it delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredItem {
    /// The winner.
    pub hotkey: String,
    /// Committed PH.
    pub committed: Fp18,
    /// The winning price.
    pub price: Fp18,
    /// Delivered PH (at most `committed`).
    pub delivered: Fp18,
    /// Whether it met the threshold.
    pub passed: bool,
}

/// The outcome of delivery verification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryReport {
    /// Every won item, by (hotkey, committed desc).
    pub items: Vec<DeliveredItem>,
    /// Hotkeys with a failed item: to be banned.
    pub failed_hotkeys: BTreeSet<String>,
    /// Whether the check was skipped because of a sampling gap.
    pub skipped: bool,
}

fn truncate(hotkey: &str, chars: usize) -> &str {
    match hotkey.char_indices().nth(chars) {
        Some((i, _)) => &hotkey[..i],
        None => hotkey,
    }
}

/// The hotkey part of a worker name, without the subaccount prefix.
pub fn worker_hotkey<'a>(name: &'a str, params: &DeliveryParams) -> &'a str {
    let name = match &params.subaccount {
        Some(sub) => name
            .strip_prefix(sub.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(name),
        None => name,
    };
    let hotkey = name.split_once('.').map_or(name, |(h, _)| h);
    truncate(hotkey, params.hotkey_chars)
}

/// Whether the samples leave a gap of more than `max_gap` blocks in `window`.
pub fn has_sampling_gap(window: &Window, samples: &[Sample], max_gap: u64) -> bool {
    let mut blocks: Vec<u64> = samples.iter().map(|s| s.block).collect();
    blocks.sort_unstable();
    let (Some(&first), Some(&last)) = (blocks.first(), blocks.last()) else {
        return true;
    };
    first.saturating_sub(window.start) > max_gap
        || window.end.saturating_sub(last) > max_gap
        || blocks.windows(2).any(|w| w[1] - w[0] > max_gap)
}

/// Average PH per worker, grouped by (truncated) hotkey, each hotkey's list in descending order.
pub fn worker_averages(
    samples: &[Sample],
    params: &DeliveryParams,
) -> Result<BTreeMap<String, Vec<Fp18>>> {
    let n = u128::try_from(samples.len()).map_err(|_| Error::overflow("sample count"))?;
    let mut sums: BTreeMap<(&str, &str), u128> = BTreeMap::new();
    for s in samples {
        for w in &s.workers {
            let sum = sums
                .entry((worker_hotkey(&w.name, params), w.name.as_str()))
                .or_insert(0);
            *sum = sum
                .checked_add(w.hashrate_hs)
                .ok_or_else(|| Error::overflow(format!("hashrate sum of worker {}", w.name)))?;
        }
    }
    let mut out: BTreeMap<String, Vec<Fp18>> = BTreeMap::new();
    for ((hotkey, _), sum) in sums {
        let avg = tao20_core::math::mul_div_u128(sum, 1000, n, tao20_core::Rounding::Floor)?;
        out.entry(hotkey.to_owned())
            .or_default()
            .push(Fp18::from_raw(avg));
    }
    for list in out.values_mut() {
        list.sort_unstable_by(|a, b| b.cmp(a));
    }
    Ok(out)
}

fn passes(delivered: Fp18, committed: Fp18, threshold: Fp18) -> bool {
    U256::from(delivered.raw()) * U256::from(SCALE)
        >= U256::from(threshold.raw()) * U256::from(committed.raw())
}

/// Verifies the winners of `window` against `telemetry`.
pub fn verify_delivery(
    winners: &[Winner],
    window: &Window,
    telemetry: &Telemetry,
    params: &DeliveryParams,
) -> Result<DeliveryReport> {
    let mut by_hotkey: BTreeMap<&str, Vec<(Fp18, Fp18)>> = BTreeMap::new();
    for w in winners {
        let list = by_hotkey.entry(w.hotkey.as_str()).or_default();
        for _ in 0..w.count {
            list.push((w.hashrate, w.price));
        }
    }
    for list in by_hotkey.values_mut() {
        list.sort_unstable_by(|a, b| b.cmp(a));
    }
    // Proxy data overrides the gap rule, but an empty proxy answer is no data at all.
    let proxied = telemetry.from_proxy && !telemetry.samples.is_empty();
    let skipped = !proxied && has_sampling_gap(window, &telemetry.samples, params.max_gap_blocks);
    let averages = if skipped {
        BTreeMap::new()
    } else {
        worker_averages(&telemetry.samples, params)?
    };
    let mut report = DeliveryReport {
        skipped,
        ..DeliveryReport::default()
    };
    for (hotkey, commitments) in by_hotkey {
        let delivered: Vec<Fp18> = if skipped {
            commitments.iter().map(|&(c, _)| c).collect()
        } else {
            let workers = averages
                .get(truncate(hotkey, params.hotkey_chars))
                .map_or(&[][..], Vec::as_slice);
            let single_price = commitments.windows(2).all(|w| w[0].1 == w[1].1);
            if single_price {
                let supplied = workers
                    .iter()
                    .try_fold(Fp18::ZERO, |a, &w| a.checked_add(w))?;
                let mut left = supplied;
                commitments
                    .iter()
                    .map(|&(c, _)| {
                        let d = c.min(left);
                        left = Fp18::from_raw(left.raw() - d.raw());
                        d
                    })
                    .collect()
            } else {
                commitments
                    .iter()
                    .enumerate()
                    .map(|(i, &(c, _))| workers.get(i).map_or(Fp18::ZERO, |&w| w.min(c)))
                    .collect()
            }
        };
        for (&(committed, price), delivered) in commitments.iter().zip(delivered) {
            let passed = passes(delivered, committed, params.threshold);
            if !passed {
                report.failed_hotkeys.insert(hotkey.to_owned());
            }
            report.items.push(DeliveredItem {
                hotkey: hotkey.to_owned(),
                committed,
                price,
                delivered,
                passed,
            });
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(s: &str) -> Fp18 {
        Fp18::parse(s).unwrap()
    }

    fn window() -> Window {
        Window {
            subnet_epoch_start: 1000,
            index: 1,
            start: 1000,
            end: 1059,
        }
    }

    fn samples(blocks: &[u64], workers: &[(&str, u128)]) -> Vec<Sample> {
        blocks
            .iter()
            .map(|&block| Sample {
                block,
                workers: workers
                    .iter()
                    .map(|&(name, hs)| WorkerReading {
                        name: name.into(),
                        hashrate_hs: hs,
                    })
                    .collect(),
            })
            .collect()
    }

    fn every(step: usize) -> Vec<u64> {
        (1000..=1059).step_by(step).collect()
    }

    fn win(hotkey: &str, hr: &str, price: &str, count: u64) -> Winner {
        Winner {
            hotkey: hotkey.into(),
            hashrate: fp(hr),
            price: fp(price),
            count,
        }
    }

    const PH: u128 = 1_000_000_000_000_000;

    #[test]
    fn averages_count_missing_samples_as_zero_and_convert_exactly() {
        let mut s = samples(&[1000, 1010], &[("hk.w1", 2 * PH)]);
        s[1].workers.push(WorkerReading {
            name: "hk.w2".into(),
            hashrate_hs: PH,
        });
        let avg = worker_averages(&s, &DeliveryParams::default()).unwrap();
        assert_eq!(avg["hk"], vec![fp("2"), fp("0.5")]);
    }

    #[test]
    fn names_strip_the_subaccount_and_truncate_to_48() {
        let params = DeliveryParams {
            subaccount: Some("acct".into()),
            ..DeliveryParams::default()
        };
        assert_eq!(worker_hotkey("acct.hk.rig1", &params), "hk");
        assert_eq!(worker_hotkey("hk.rig1", &params), "hk");
        let long = "x".repeat(60);
        assert_eq!(worker_hotkey(&format!("{long}.w"), &params).len(), 48);
    }

    #[test]
    fn single_price_level_aggregates() {
        // Two 0.3 commitments, one worker of 0.5: 0.3 + 0.2 delivered; at threshold 0.7 the second fails.
        let t = Telemetry {
            samples: samples(&every(10), &[("a.w", 500 * PH / 1000)]),
            from_proxy: false,
        };
        let params = DeliveryParams {
            threshold: fp("0.7"),
            ..DeliveryParams::default()
        };
        let r = verify_delivery(&[win("a", "0.3", "1", 2)], &window(), &t, &params).unwrap();
        assert!(!r.skipped);
        let d: Vec<Fp18> = r.items.iter().map(|i| i.delivered).collect();
        assert_eq!(d, vec![fp("0.3"), fp("0.2")]);
        assert_eq!(r.items.iter().filter(|i| i.passed).count(), 1);
        assert!(r.failed_hotkeys.contains("a"));
    }

    #[test]
    fn several_price_levels_match_workers_in_order() {
        // Commitments 0.4@1 and 0.2@0.9; workers 0.3 and 0.25: 0.3 -> 0.4 (fails 0.9), 0.25 -> 0.2.
        let t = Telemetry {
            samples: samples(
                &every(10),
                &[("b.w1", 300 * PH / 1000), ("b.w2", 250 * PH / 1000)],
            ),
            from_proxy: false,
        };
        let params = DeliveryParams {
            threshold: fp("0.9"),
            ..DeliveryParams::default()
        };
        let r = verify_delivery(
            &[win("b", "0.4", "1", 1), win("b", "0.2", "0.9", 1)],
            &window(),
            &t,
            &params,
        )
        .unwrap();
        let d: Vec<(Fp18, Fp18, bool)> = r
            .items
            .iter()
            .map(|i| (i.committed, i.delivered, i.passed))
            .collect();
        assert_eq!(
            d,
            vec![(fp("0.4"), fp("0.3"), false), (fp("0.2"), fp("0.2"), true)]
        );
        assert_eq!(r.failed_hotkeys, BTreeSet::from(["b".to_owned()]));
    }

    #[test]
    fn a_sampling_gap_skips_the_check_unless_proxied() {
        let w = window();
        assert!(!has_sampling_gap(&w, &samples(&every(10), &[]), 10));
        assert!(has_sampling_gap(
            &w,
            &samples(&[1000, 1011, 1021, 1031, 1041, 1051, 1059], &[]),
            10
        ));
        assert!(has_sampling_gap(
            &w,
            &samples(&[1011, 1020, 1030, 1040, 1050, 1059], &[]),
            10
        ));
        assert!(has_sampling_gap(
            &w,
            &samples(&[1000, 1010, 1020, 1030, 1040, 1048], &[]),
            10
        ));
        assert!(has_sampling_gap(&w, &[], 10));
        let gap = Telemetry {
            samples: samples(&[1000, 1030, 1059], &[]),
            from_proxy: false,
        };
        let r = verify_delivery(
            &[win("c", "0.3", "1", 1)],
            &w,
            &gap,
            &DeliveryParams::default(),
        )
        .unwrap();
        assert!(r.skipped && r.items[0].passed && r.items[0].delivered == fp("0.3"));
        let empty_proxy = Telemetry {
            samples: vec![],
            from_proxy: true,
        };
        let r = verify_delivery(
            &[win("c", "0.3", "1", 1)],
            &w,
            &empty_proxy,
            &DeliveryParams::default(),
        )
        .unwrap();
        assert!(r.skipped && r.items[0].passed);
        let proxied = Telemetry {
            from_proxy: true,
            ..gap
        };
        let r = verify_delivery(
            &[win("c", "0.3", "1", 1)],
            &w,
            &proxied,
            &DeliveryParams::default(),
        )
        .unwrap();
        assert!(!r.skipped && !r.items[0].passed);
    }

    #[test]
    fn threshold_is_inclusive_and_configurable() {
        let t = Telemetry {
            samples: samples(&every(10), &[("d.w", 100 * PH / 1000)]),
            from_proxy: false,
        };
        let at = |th: &str| {
            let p = DeliveryParams {
                threshold: fp(th),
                ..DeliveryParams::default()
            };
            verify_delivery(&[win("d", "1", "1", 1)], &window(), &t, &p)
                .unwrap()
                .items[0]
                .passed
        };
        assert!(at("0.1"));
        assert!(!at("0.100000000000000001"));
        assert!(at("0"));
    }
}
