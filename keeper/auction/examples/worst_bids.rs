//! Winner selection on the worst bids the bid rule allows, timed in one process (so that
//! `/usr/bin/time -v` reports its peak memory):
//!
//! ```text
//! cargo build --release -p tao20-auction --example worst_bids
//! /usr/bin/time -v target/release/examples/worst_bids [--pareto] [CASE] [PERCENT]
//! ```
//!
//! CASE is one of (without it, all five):
//! - `all`: 256 adversarial uids (`instance::with_adversaries`: legal commitments with every size
//!   a different multiple of 0.01 PH, small v1 sizes among them, prices written to the last of
//!   18 decimals);
//! - `mixed`: 32 honest miners with 1000 workers each and 224 adversaries;
//! - `one`: 256 honest miners with 1000 workers each and one adversary;
//! - `flat`: the 256 adversaries of `all`, every one bidding the same price (1);
//! - `gaps`: 256 miners at one price with 995 workers of 0.09, 0.18, 0.27, 0.36 and 0.45 PH,
//!   and one 0.05 PH worker among them, so most budgets cannot be spent to the last grain
//!   (`instance::gaps`).
//!
//! PERCENT is the budget as a percentage of the hashrate offered; without it, every odd
//! percentage from 1 to 99. Each line is the slowest budget of a case. `--pareto` selects with
//! the Pareto programme alone, the engine before the bounded search.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tao20_auction::instance::{at_one_price, gaps, generate, with_adversaries, Instance};
use tao20_auction::solve::{Model, MAX_STATES};
use tao20_core::Fp18;

const SEED: u64 = 20;

fn case(name: &str) -> Option<Instance> {
    match name {
        "all" => Some(with_adversaries(generate(0, 0, SEED), 256, SEED)),
        "mixed" => Some(with_adversaries(generate(32, 1000, SEED), 224, SEED)),
        "one" => Some(with_adversaries(generate(256, 1000, SEED), 1, SEED)),
        "flat" => Some(at_one_price(
            with_adversaries(generate(0, 0, SEED), 256, SEED),
            Fp18::ONE,
        )),
        "gaps" => Some(gaps(256)),
        _ => None,
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let pareto = args.first().is_some_and(|a| a == "--pareto");
    if pareto {
        args.remove(0);
    }
    let names: Vec<&str> = match args.first() {
        Some(name) => vec![name.as_str()],
        None => vec!["all", "mixed", "one", "flat", "gaps"],
    };
    let percents: Vec<u128> = match args.get(1).map(|p| p.parse()) {
        Some(Ok(p)) => vec![p],
        Some(Err(e)) => {
            eprintln!("PERCENT: {e}");
            std::process::exit(2);
        }
        None => (1..100).step_by(2).collect(),
    };
    for name in names {
        let Some(inst) = case(name) else {
            eprintln!("unknown case {name:?}: all, mixed, one, flat or gaps");
            std::process::exit(2);
        };
        let offered: u128 = inst
            .rows
            .iter()
            .filter(|r| r.price <= inst.max_price)
            .map(|r| r.hashrate.raw() * u128::from(r.count))
            .sum();
        let workers: u64 = inst.rows.iter().map(|r| r.count).sum();
        let mut slowest: Option<(Duration, String)> = None;
        let mut unproven = 0;
        for &percent in &percents {
            let budget = Fp18::from_raw(offered * percent / 100);
            let start = Instant::now();
            let model = Model::new(&inst.rows, budget, inst.max_price).unwrap();
            let (counts, cert) = if pareto {
                model.pareto_counts_within(MAX_STATES).unwrap()
            } else {
                model.solve_counts().unwrap()
            };
            let (_, total, _) = model.winners(&counts).unwrap();
            let took = start.elapsed();
            unproven += usize::from(!cert.optimal);
            let line = format!(
                "{name}: {} rows, {workers} workers, {} types; budget {percent}% = {budget} PH: \
                 {took:?}, optimal {}, {} states, {total} PH",
                inst.rows.len(),
                model.types.len(),
                cert.optimal,
                cert.states,
            );
            if slowest.as_ref().is_none_or(|(t, _)| took > *t) {
                slowest = Some((took, line));
            }
        }
        if let Some((_, line)) = slowest {
            println!(
                "{line} (slowest of {} budgets, {unproven} unproven)",
                percents.len()
            );
        }
    }
}
