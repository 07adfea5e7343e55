//! Winner selection at the sizes of the reference comparison (miners x workers per miner), on the
//! instances `tao20 auction generate` writes for the same seed.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tao20_auction::instance::generate;
use tao20_auction::solve::select_winners;

/// The seed the reference script uses too (tools/bench_auction_reference.py).
const SEED: u64 = 20;

fn winners(c: &mut Criterion) {
    let mut group = c.benchmark_group("select_winners");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for (miners, workers) in [(16u32, 20u32), (64, 100), (256, 300), (256, 1000)] {
        let inst = generate(miners, workers, SEED);
        let s = select_winners(&inst.rows, inst.budget, inst.max_price).unwrap();
        assert!(s.certificate.optimal);
        eprintln!(
            "{miners}x{workers}: total {} PH, {} states, value bound gap {}",
            s.total_hashrate,
            s.certificate.states,
            s.certificate.value_bound - s.certificate.value
        );
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{miners}x{workers}")),
            &inst,
            |b, inst| {
                b.iter(|| {
                    select_winners(black_box(&inst.rows), inst.budget, inst.max_price).unwrap()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, winners);
criterion_main!(benches);
