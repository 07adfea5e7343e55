//! Winner selection at the sizes of the reference comparison (miners x workers per miner), on the
//! instances `tao20 auction generate` writes for the same seed, and on the worst bids the bid rule
//! allows (`instance::with_adversaries`: every size a different multiple of 0.01 PH, small v1
//! sizes among them, prices written to the last of 18 decimals; all 256 uids, a few dozen honest
//! miners among them, all of them at one price, and sizes whose sums leave gaps), each of which
//! must be proven by the bounded search. One case beyond the rule (a miner with sizes written to
//! the last of 18 decimals, which the codec refuses) keeps the Pareto programme measured.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tao20_auction::instance::{
    at_one_price, gaps, generate, with_adversaries, with_full_precision_adversaries, Instance,
};
use tao20_auction::solve::select_winners;

/// The seed the reference script uses too (tools/bench_auction_reference.py).
const SEED: u64 = 20;

fn report(name: &str, inst: &Instance) {
    let s = select_winners(&inst.rows, inst.budget, inst.max_price).unwrap();
    let adversarial: u64 = s
        .winners
        .iter()
        .filter(|w| w.hotkey.starts_with("5adv"))
        .map(|w| w.count)
        .sum();
    eprintln!(
        "{name}: total {} PH, optimal {}, {} states, value bound gap {}, {adversarial} adversarial workers won",
        s.total_hashrate,
        s.certificate.optimal,
        s.certificate.states,
        s.certificate.value_bound - s.certificate.value
    );
}

fn bench(c: &mut Criterion, group: &str, cases: &[(String, Instance, bool)]) {
    let mut group = c.benchmark_group(group);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for (name, inst, proven) in cases {
        let s = select_winners(&inst.rows, inst.budget, inst.max_price).unwrap();
        assert_eq!(s.certificate.optimal, *proven, "{name}");
        report(name, inst);
        group.bench_with_input(BenchmarkId::from_parameter(name), inst, |b, inst| {
            b.iter(|| select_winners(black_box(&inst.rows), inst.budget, inst.max_price).unwrap())
        });
    }
    group.finish();
}

fn winners(c: &mut Criterion) {
    let honest: Vec<(String, Instance, bool)> =
        [(16u32, 20u32), (64, 100), (256, 300), (256, 1000)]
            .into_iter()
            .map(|(m, w)| (format!("{m}x{w}"), generate(m, w, SEED), true))
            .collect();
    bench(c, "select_winners", &honest);
    let adversarial = vec![
        (
            "0x0+256adv".to_owned(),
            with_adversaries(generate(0, 0, SEED), 256, SEED),
            true,
        ),
        (
            "32x1000+224adv".to_owned(),
            with_adversaries(generate(32, 1000, SEED), 224, SEED),
            true,
        ),
        (
            "256x1000+1adv".to_owned(),
            with_adversaries(generate(256, 1000, SEED), 1, SEED),
            true,
        ),
        (
            "256adv_one_price".to_owned(),
            at_one_price(
                with_adversaries(generate(0, 0, SEED), 256, SEED),
                tao20_core::Fp18::ONE,
            ),
            true,
        ),
        ("256gaps".to_owned(), gaps(256), true),
        // Beyond the bid rule: rows only `tao20 auction solve` can be given.
        (
            "256x300+1full_precision".to_owned(),
            with_full_precision_adversaries(generate(256, 300, SEED), 1, SEED),
            true,
        ),
    ];
    bench(c, "select_winners_adversarial", &adversarial);
}

criterion_group!(benches, winners);
criterion_main!(benches);
