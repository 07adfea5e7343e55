//! The keeper's block loop in-process (the in-process simulator and an in-memory BEVM chain), for
//! a keeper with 100 open requests and both mechanisms:
//! - `decide` alone, on blocks the keeper recorded: the block that opened the 100 requests, the
//!   block that valued and signed a delivery, and a block with nothing in it;
//! - a whole step (sense, decide, mechanisms, commit) per new block;
//!
//! next to a reference measured in the same run, cloning the state the decision starts from
//! (which every decision does once), so results read as ratios.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/world/mod.rs"]
mod world;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tao20_bevm::events::ContractEvent;
use tao20_chain::sim::{LocalTransport, SimClient};
use tao20_chain::types::Bytes32;
use tao20_creation::lifecycle::CreationRequest;
use tao20_node::engine::{decide, CreationState, Recorded};
use tao20_node::store::state as tables;
use world::*;

/// Open requests in the bench's state.
const OPEN: u64 = 100;
const HOTKEY: Bytes32 = Bytes32([0x5a; 32]);

type Bench = Keeper<SimClient<LocalTransport>>;

/// A keeper with `OPEN` open requests, one of them delivered and signed, and its records.
async fn keeper_with_open_requests() -> (World, Bench, Vec<(&'static str, u64)>) {
    let w = World::new().await;
    let cfg = config_with(1_000_000, "[mechanisms]\nenabled = true\n");
    let mut k = Keeper::start_with(&w, 0, w.sim.as_signer(HOTKEY), cfg).await;
    w.blocks(3).await;
    k.catch_up().await;
    let head = w.head() + 1;
    let requests: Vec<CreationRequest> = (1..=OPEN)
        .map(|nonce| World::creation_request(nonce, head, 100_000))
        .collect();
    let opened = w
        .block(
            requests
                .iter()
                .cloned()
                .map(ContractEvent::CreationRequested)
                .collect(),
        )
        .await;
    w.blocks(2).await;
    k.catch_up().await;
    let delivered = w.deliver(&requests[0]).await;
    w.blocks(3).await;
    k.catch_up().await;
    let signed = (delivered..=w.head())
        .find(|b| {
            k.conn(|c| {
                !tao20_node::store::reports::created_at(c, *b)
                    .unwrap()
                    .is_empty()
            })
        })
        .expect("the delivery was signed");
    w.blocks(2).await;
    k.catch_up().await;
    let idle = w.head();
    (
        w,
        k,
        vec![
            ("opens_100_requests", opened),
            ("values_and_signs_a_delivery", signed),
            ("idle_with_100_open", idle),
        ],
    )
}

fn recorded(k: &Bench, b: u64) -> (CreationState, Recorded) {
    k.conn(|c| {
        let before = tables::history(c, "creation", b - 1).unwrap().unwrap();
        let rec = tables::recorded(c)
            .unwrap()
            .into_iter()
            .find(|(n, _)| *n == b)
            .unwrap()
            .1;
        (
            serde_json::from_str(&before).unwrap(),
            serde_json::from_str(&rec).unwrap(),
        )
    })
}

fn engine(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (w, mut k, blocks) = rt.block_on(keeper_with_open_requests());
    let mut group = c.benchmark_group("engine");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, b) in blocks {
        let (state, rec) = recorded(&k, b);
        let open = state.machine.requests.len();
        assert!(open >= usize::try_from(OPEN).unwrap() || name == "opens_100_requests");
        // The recorded inputs decide the block without another read.
        assert!(matches!(
            decide::decide(&state, &rec.inputs, &rec.params).unwrap(),
            decide::Outcome::Decided(_)
        ));
        group.bench_with_input(BenchmarkId::new("decide", name), &(), |bench, ()| {
            bench.iter(|| decide::decide(black_box(&state), &rec.inputs, &rec.params).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("reference_clone_state", name),
            &(),
            |bench, ()| bench.iter(|| black_box(&state).clone()),
        );
    }
    // A new block each iteration: the simulator's and BEVM's block are made outside the timing.
    group.bench_function("step_idle_with_100_open", |bench| {
        bench.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                rt.block_on(w.blocks(1));
                let start = Instant::now();
                assert!(rt.block_on(k.engine.round()).unwrap());
                took += start.elapsed();
            }
            took
        })
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
