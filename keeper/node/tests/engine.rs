//! The engine in-process, block by block: the in-process subtensor simulator and an in-memory
//! BEVM chain stand in for the nodes, the test advances both one block at a time and runs the
//! engine's rounds itself. No wall clock, no anvil, no process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod world;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use alloy_primitives::{Bytes, B256, U256};
use tao20_bevm::events::ContractEvent;
use tao20_bevm::writer::Call;
use tao20_chain::client::SubxtClient;
use tao20_chain::sim::node::{NodeConfig, NodeServer};
use tao20_chain::Subtensor as _;
use tao20_creation::eip712::{CreationReport, Eip712Message};
use tao20_creation::lifecycle::{MintRecord, Status};
use tao20_devnet::proxy::{self, Relay};
use world::*;

#[tokio::test]
async fn a_delivered_request_is_valued_and_journaled_block_by_block_and_replays() {
    let w = World::new().await;
    let mut k = Keeper::start(&w, 0, 0, 10_000).await;
    w.blocks(3).await;
    k.catch_up().await;
    let r = w.request(1).await;
    k.catch_up().await;
    assert_eq!(
        k.engine
            .state()
            .machine
            .request(&r.request_id)
            .map(|s| s.status),
        Some(Status::Pending)
    );
    assert!(k.creation_reports().is_empty(), "nothing delivered yet");

    let delivered_at = w.deliver(&r).await;
    w.blocks(2).await;
    k.catch_up().await;
    assert_eq!(k.engine.next_block(), w.head() + 1);
    assert_eq!(k.shared.processed.load(Ordering::SeqCst), w.head());
    let made = k.creation_reports();
    assert_eq!(made.len(), 1, "one creation report");
    let Eip712Message::CreationReport(report) = &made[0].1 else {
        unreachable!()
    };
    assert_eq!(report.request_id, r.request_id);
    assert_eq!(report.delivery_block, delivered_at);
    let positions: Vec<(u16, u64)> = report
        .positions
        .iter()
        .map(|p| (p.netuid, p.amount))
        .collect();
    assert_eq!(positions, vec![(2, 2 * TAO), (3, 2 * TAO)]);
    assert!(report.value_rao > U256::ZERO && report.nav_per_share > U256::ZERO);
    // The report is queued for signing exactly once, journaled before any signature exists.
    let queued = k.conn(|c| {
        c.query_row(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'sign'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .unwrap()
    });
    assert_eq!(queued, 1);

    // Every block's decision is recomputed from its record and matches what was committed.
    let replayed = k.conn(|c| tao20_node::replay::replay(c).unwrap());
    assert!(replayed.mismatches.is_empty(), "{:?}", replayed.mismatches);
    assert_eq!(replayed.skipped, 0);
    assert_eq!(
        replayed.range,
        Some((w.deployment.deploy_block, w.head())),
        "from the first block on"
    );
    assert_eq!(replayed.reports, 1);
}

/// Keeper 0 values a delivered request and journals its report; returns the report.
async fn journaled_report(w: &World, k: &mut Keeper, nonce: u64) -> CreationReport {
    let r = w.request(nonce).await;
    k.catch_up().await;
    w.deliver(&r).await;
    w.blocks(2).await;
    k.catch_up().await;
    k.creation_reports()
        .into_iter()
        .find_map(|(_, m)| match m {
            Eip712Message::CreationReport(c) if c.request_id == r.request_id => Some(c),
            _ => None,
        })
        .expect("the delivery was valued and journaled")
}

/// `report` minted on chain by a transaction carrying `signatures`.
async fn land_mint(w: &World, report: &CreationReport, signatures: Vec<Bytes>) -> u64 {
    let input = Call::Mint {
        report: report.clone(),
        signatures,
    }
    .calldata();
    w.block_with_call(
        input,
        vec![ContractEvent::CreationMinted(MintRecord {
            request_id: report.request_id,
            miner: MINER_EVM,
            epoch_id: report.epoch_id,
            units: report.units,
            value_rao: report.value_rao,
            shares_out: U256::from(4u64),
            block: w.head() + 1,
        })],
    )
    .await
}

fn sign(i: u8, digest: &B256) -> Bytes {
    Bytes::from(signer(i).sign_digest(digest).unwrap().to_vec())
}

#[tokio::test]
async fn a_landed_report_signed_with_the_keepers_key_over_content_it_never_signed_stops_its_signing(
) {
    let w = World::new().await;
    let mut k = Keeper::start(&w, 0, 0, 10_000).await;
    w.blocks(3).await;
    k.catch_up().await;

    // Its own report lands with its own signature (and a peer's, and one that recovers to
    // nobody): nothing is wrong.
    let report = journaled_report(&w, &mut k, 1).await;
    let digest = Eip712Message::CreationReport(report.clone()).digest(CHAIN, CONTRACT);
    // `v` outside {27, 28}: the contract would refuse it, and it recovers to no one.
    let mut garbage = vec![0x1b; 65];
    garbage[64] = 5;
    let garbage = Bytes::from(garbage);
    let landed_at = land_mint(
        &w,
        &report,
        vec![sign(0, &digest), sign(1, &digest), garbage],
    )
    .await;
    w.blocks(1).await;
    k.catch_up().await;
    let recorded = k.conn(|c| {
        c.query_row(
            "SELECT inputs FROM block_inputs WHERE block = ?1",
            [landed_at as i64],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
    });
    let recorded: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    let landed = &recorded["inputs"]["landed"];
    assert_eq!(landed.as_array().map(Vec::len), Some(1), "{landed}");
    assert_eq!(landed[0]["digest"], digest.to_string());
    let signers: Vec<alloy_primitives::Address> =
        serde_json::from_value(landed[0]["signers"].clone()).unwrap();
    assert_eq!(
        signers,
        vec![me(0), me(1)],
        "the garbage signature recovers to no one"
    );
    assert!(!k.doppelganger.tripped(), "{:?}", k.doppelganger.detail());

    // Another process with the same key signs other content for the next request, and that
    // lands: the keeper never signed its digest, so its signing stops.
    let own = journaled_report(&w, &mut k, 2).await;
    let mut other = own.clone();
    other.value_rao += U256::from(1u64);
    let other_digest = Eip712Message::CreationReport(other.clone()).digest(CHAIN, CONTRACT);
    let doppel_at = land_mint(
        &w,
        &other,
        vec![sign(0, &other_digest), sign(1, &other_digest)],
    )
    .await;
    assert!(!k.doppelganger.tripped(), "not read yet");
    w.blocks(1).await;
    k.catch_up().await;
    let detail = k
        .doppelganger
        .detail()
        .expect("the doppelganger is detected");
    assert!(detail.contains(&other_digest.to_string()), "{detail}");
    assert!(detail.contains("on chain"), "{detail}");
    assert!(k.engine.next_block() > doppel_at, "the engine goes on");

    // Keeper 1's key signed that report too, but its database starts after it landed: history
    // from before its journal existed, which it cannot speak for, trips nothing.
    let mut late = Keeper::start(&w, 1, 0, 10_000).await;
    late.catch_up().await;
    assert!(late.engine.next_block() > doppel_at);
    assert!(
        !late.doppelganger.tripped(),
        "{:?}",
        late.doppelganger.detail()
    );
}

/// Rewrites block `b`'s recorded inputs with `f`.
fn alter_record<S: tao20_chain::Subtensor + Clone>(
    k: &Keeper<S>,
    b: u64,
    f: impl FnOnce(&mut serde_json::Value),
) {
    k.conn(|c| {
        let text: String = c
            .query_row(
                "SELECT inputs FROM block_inputs WHERE block = ?1",
                [b as i64],
                |r| r.get(0),
            )
            .unwrap();
        let mut rec: serde_json::Value = serde_json::from_str(&text).unwrap();
        f(&mut rec);
        c.execute(
            "UPDATE block_inputs SET inputs = ?1 WHERE block = ?2",
            rusqlite::params![rec.to_string(), b as i64],
        )
        .unwrap()
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mechanisms_decisions_replay_from_their_record_and_an_altered_record_is_found() {
    use tao20_auction::settle::{HASHP_USDC, TAO_USDC};
    // Windows are settled from the chain's state at their start, older than a pruning node keeps.
    let w = World::archive().await;
    let cfg = config_with(100_000, "[mechanisms]\nenabled = true\n");
    // The keeper is a staked validator of the subnet, so its price commitments make the
    // windows' price consensus.
    let hotkey = tao20_chain::types::Bytes32([0x5a; 32]);
    let coldkey = tao20_chain::types::Bytes32([0x5b; 32]);
    w.sim.register_neuron(2, hotkey, coldkey).await.unwrap();
    w.sim
        .as_signer(coldkey)
        .add_stake(hotkey, 2, 100 * TAO)
        .await
        .unwrap();
    let mut k = Keeper::start_with(&w, 0, w.sim.as_signer(hotkey), cfg).await;
    k.prices.write().unwrap().extend([
        (
            TAO_USDC.to_string(),
            tao20_core::Fp18::from_raw(400 * 10u128.pow(18)),
        ),
        (
            HASHP_USDC.to_string(),
            tao20_core::Fp18::from_raw(5 * 10u128.pow(16)),
        ),
    ]);
    // Four subnet epochs (tempo 360): the first seen is the anchor, the next two have all
    // their windows settled and weighted.
    for i in 0..4 {
        w.blocks(361).await;
        k.catch_up().await;
        if i == 0 {
            // What the subtensor executor would do: publish the keeper's price commitment.
            let payload: String = k.conn(|c| {
                c.query_row(
                    "SELECT payload FROM commitments ORDER BY block DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
            });
            w.sim
                .as_signer(hotkey)
                .set_commitment(2, alloy_primitives::hex::decode(payload).unwrap())
                .await
                .unwrap();
        }
    }
    let count = |sql: &str| k.conn(|c| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap());
    let windows = count("SELECT COUNT(*) FROM windows");
    let weights = count("SELECT COUNT(*) FROM weights");
    let commitments = count("SELECT COUNT(*) FROM commitments");
    assert!(windows >= 12, "{windows} windows settled");
    assert!(weights >= 4, "{weights} weights decided");
    assert!(commitments >= 1, "{commitments} price commitments");

    let replayed = k.conn(|c| tao20_node::replay::replay(c).unwrap());
    assert!(replayed.mismatches.is_empty(), "{:?}", replayed.mismatches);
    assert_eq!(replayed.skipped, 0);
    assert_eq!(
        replayed.mechanism_blocks, replayed.blocks,
        "every block has a record"
    );
    assert!(
        replayed.blocks >= 4 * 361,
        "{} blocks replayed",
        replayed.blocks
    );

    // A window's emission split (the subnet gives the auction none) and a commitment block's
    // alpha price, altered after the fact.
    let block_of = |sql: &str| count(sql) as u64;
    let settled_at = block_of(
        "SELECT MIN(settled_block) FROM windows WHERE skipped LIKE '%emission split is zero'",
    );
    let committed_at = block_of("SELECT MAX(block) FROM commitments");
    assert_ne!(settled_at, committed_at);
    alter_record(&k, settled_at, |rec| {
        let windows = rec["mechanisms"]["inputs"]["windows"]
            .as_object_mut()
            .unwrap();
        assert!(
            !windows.is_empty(),
            "block {settled_at} records its windows"
        );
        for w in windows.values_mut() {
            w["split"] = serde_json::json!([0, 65535]);
        }
    });
    alter_record(&k, committed_at, |rec| {
        let alpha = rec["mechanisms"]["inputs"]["alpha"].as_u64().unwrap();
        rec["mechanisms"]["inputs"]["alpha"] = serde_json::json!(alpha + 1_000_000);
    });
    let replayed = k.conn(|c| tao20_node::replay::replay(c).unwrap());
    let at = |b: u64| -> Vec<&str> {
        replayed
            .mismatches
            .iter()
            .filter(|m| m.block == b)
            .map(|m| m.what.as_str())
            .collect()
    };
    assert!(
        at(settled_at).iter().any(|m| m.starts_with("window ")),
        "{:?}",
        replayed.mismatches
    );
    assert!(
        at(committed_at)
            .iter()
            .any(|m| m.starts_with("the price commitment")),
        "{:?}",
        replayed.mismatches
    );
    assert_eq!(
        replayed.mismatches.len(),
        at(settled_at).len() + at(committed_at).len(),
        "no other block differs: {:?}",
        replayed.mismatches
    );
}

#[tokio::test]
async fn replay_finds_a_record_that_no_longer_gives_the_committed_decision() {
    let w = World::new().await;
    let mut k = Keeper::start(&w, 0, 0, 10_000).await;
    let r = w.request(1).await;
    w.deliver(&r).await;
    w.blocks(2).await;
    k.catch_up().await;
    assert_eq!(k.creation_reports().len(), 1);
    // The block whose inputs carry the valuation: the prices of one subnet's window altered.
    let (block, text) = k.conn(|c| {
        tao20_node::store::state::recorded(c)
            .unwrap()
            .into_iter()
            .find(|(_, t)| t.contains("\"valuations\":[{"))
            .expect("a block with a valuation")
    });
    let mut rec: serde_json::Value = serde_json::from_str(&text).unwrap();
    let samples = rec["inputs"]["valuations"][0]["valuation"]["Ok"]["spot"][0]["samples"]
        .as_array_mut()
        .expect("the window's samples");
    for sample in samples {
        let p: u64 = sample["raoPerAlpha"].as_str().unwrap().parse().unwrap();
        sample["raoPerAlpha"] = serde_json::json!((p * 2).to_string());
    }
    k.conn(|c| {
        c.execute(
            "UPDATE block_inputs SET inputs = ?1 WHERE block = ?2",
            rusqlite::params![rec.to_string(), block as i64],
        )
        .unwrap()
    });
    // The block that journaled the report: decided again with the wrong-NAV fault on.
    let signed_at = k.conn(|c| {
        c.query_row(
            "SELECT created_block FROM reports WHERE kind = 'CreationReport'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    });
    assert_ne!(
        signed_at as u64, block,
        "valued and signed at different blocks"
    );
    k.conn(|c| {
        let text: String = c
            .query_row(
                "SELECT inputs FROM block_inputs WHERE block = ?1",
                [signed_at],
                |r| r.get(0),
            )
            .unwrap();
        let mut rec: serde_json::Value = serde_json::from_str(&text).unwrap();
        rec["params"]["wrongNav"] = serde_json::json!(true);
        c.execute(
            "UPDATE block_inputs SET inputs = ?1 WHERE block = ?2",
            rusqlite::params![rec.to_string(), signed_at],
        )
        .unwrap()
    });
    let replayed = k.conn(|c| tao20_node::replay::replay(c).unwrap());
    let at = |b: u64| -> Vec<&str> {
        replayed
            .mismatches
            .iter()
            .filter(|m| m.block == b)
            .map(|m| m.what.as_str())
            .collect()
    };
    assert!(
        at(block).iter().any(|m| m.contains("raoPerAlpha")),
        "{:?}",
        replayed.mismatches
    );
    let signed = at(signed_at as u64);
    assert!(
        signed
            .iter()
            .any(|m| m.contains("journaled but not decided again"))
            && signed
                .iter()
                .any(|m| m.contains("neither journaled nor refused")),
        "{:?}",
        replayed.mismatches
    );
    assert_eq!(
        replayed.mismatches.len(),
        at(block).len() + signed.len(),
        "no other block differs"
    );
}

#[tokio::test]
async fn keepers_decide_the_same_whatever_their_endpoint_failures_and_batching() {
    let w = World::new().await;
    // Keeper 0 follows every block; keeper 1's node fails one request in ten; keeper 2 starts
    // late and catches up the whole history in one round.
    let mut steady = Keeper::start(&w, 0, 0, 10_000).await;
    let mut flaky = Keeper::start(&w, 1, 10, 10_000).await;
    let mut requests = Vec::new();
    for nonce in 1..=3 {
        let r = w.request(nonce).await;
        steady.catch_up().await;
        if nonce != 2 {
            w.deliver(&r).await;
        }
        w.blocks(2).await;
        flaky.catch_up().await;
        steady.catch_up().await;
        requests.push(r);
    }
    // The delivered ones are minted (their reports went through), the other one is not.
    for r in [&requests[0], &requests[2]] {
        let id = r.request_id;
        w.block(vec![ContractEvent::CreationMinted(MintRecord {
            request_id: id,
            miner: r.miner,
            epoch_id: r.epoch_id,
            units: r.units,
            value_rao: U256::from(4 * TAO),
            shares_out: U256::from(4u64),
            block: w.head() + 1,
        })])
        .await;
        w.bevm.mine(Vec::new(), |s| {
            s.expireable.remove(&id);
        });
        w.sim.advance(1).await.unwrap();
    }
    w.blocks(WINDOW + GRACE + 3).await;
    steady.catch_up().await;
    flaky.catch_up().await;
    let mut late = Keeper::start(&w, 2, 0, 10_000).await;
    late.catch_up().await;
    // Reads made ahead of a block fail silently (the block reads again): only the rounds that
    // met a failure in a block's own reads count here.
    assert!(
        flaky.failed >= 3,
        "the flaky keeper's node failed: {}",
        flaky.failed
    );

    let head = w.head();
    for b in w.deployment.deploy_block..=head {
        let s = steady.state_json(b);
        assert!(s.is_some(), "block {b} committed");
        assert_eq!(s, flaky.state_json(b), "block {b}: flaky keeper differs");
        assert_eq!(s, late.state_json(b), "block {b}: late keeper differs");
    }
    let digests = |k: &Keeper| -> Vec<B256> { k.creation_reports().iter().map(|r| r.0).collect() };
    assert_eq!(digests(&steady).len(), 2, "two delivered requests");
    assert_eq!(digests(&steady), digests(&flaky));
    assert_eq!(digests(&steady), digests(&late));
    // The undelivered one expires once the contract allows it, each keeper at its own turn.
    let expiring = |k: &Keeper| -> Vec<(String, i64)> {
        k.conn(|c| {
            let mut s = c
                .prepare("SELECT key, not_before_block FROM outbox WHERE kind = 'expire'")
                .unwrap();
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        })
    };
    let turns: Vec<i64> = [&steady, &flaky, &late]
        .iter()
        .map(|k| {
            let e = expiring(k);
            assert_eq!(e.len(), 1, "one expiry");
            assert!(e[0].0.contains(&requests[1].request_id.to_string()[2..]));
            e[0].1
        })
        .collect();
    let mut sorted = turns.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        3,
        "three distinct transmission turns: {turns:?}"
    );
    for k in [&steady, &flaky, &late] {
        let replayed = k.conn(|c| tao20_node::replay::replay(c).unwrap());
        assert!(replayed.mismatches.is_empty(), "{:?}", replayed.mismatches);
    }
}

#[tokio::test]
async fn a_bevm_reorganisation_below_the_cursor_undoes_the_blocks_and_reads_them_again() {
    let w = World::new().await;
    let mut k = Keeper::start(&w, 0, 0, 64).await;
    w.blocks(2).await;
    k.catch_up().await;
    let r = w.request(1).await;
    w.blocks(3).await;
    k.catch_up().await;
    assert!(k.engine.state().machine.request(&r.request_id).is_some());
    let processed = k.engine.next_block() - 1;
    // BEVM reorganises from the request's block: the request never happened on the new branch.
    w.bevm.reorg(r.request_block);
    w.bevm.mine_to(processed);
    // The keeper finds out at its next block.
    w.blocks(1).await;
    k.catch_up().await;
    assert!(
        k.engine.state().machine.request(&r.request_id).is_none(),
        "the orphaned request is gone from the state"
    );
    assert_eq!(
        k.engine.next_block(),
        processed + 2,
        "processed again up to the head"
    );
    let replayed = k.conn(|c| tao20_node::replay::replay(c).unwrap());
    assert!(replayed.mismatches.is_empty(), "{:?}", replayed.mismatches);
    // The committed history now says the same as a keeper that only saw the new branch.
    let mut fresh = Keeper::start(&w, 1, 0, 64).await;
    fresh.catch_up().await;
    for b in r.request_block..=processed + 1 {
        assert_eq!(k.state_json(b), fresh.state_json(b), "block {b}");
    }

    // A reorganisation deeper than the kept history stops the keeper with what to do.
    w.blocks(80).await;
    k.catch_up().await;
    let from = w.head() - 70;
    w.bevm.reorg(from);
    w.blocks(1).await;
    let err = k.engine.round().await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("from block {from}")), "{msg}");
    assert!(msg.contains("Never restore an older copy"), "{msg}");
}

#[tokio::test]
async fn a_pruned_or_unreachable_bevm_node_is_waited_out_or_named() {
    let w = World::new().await;
    let mut k = Keeper::start(&w, 0, 0, 64).await;
    w.blocks(2).await;
    k.catch_up().await;
    let before = k.engine.next_block();
    w.bevm.set_down(Some("connection refused"));
    w.blocks(3).await;
    let err = k.engine.round().await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(
        k.engine.next_block(),
        before,
        "nothing committed while BEVM is down"
    );
    w.bevm.set_down(None);
    k.catch_up().await;
    assert_eq!(k.engine.next_block(), w.head() + 1);

    // A node that discarded the blocks the cursor must check is an error no retry cures.
    let mut late = Keeper::start(&w, 1, 0, 64).await;
    w.bevm.prune_below(w.head());
    let err = late.engine.round().await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
    assert!(err.to_string().contains("archive"), "{err}");
    drop(late);
    let _ = std::fs::metadata(&k.path).unwrap();
}

/// The keeper's own subxt client at the simulator's Substrate endpoint, through a relay that can
/// fail as a network does; every request bounded by `timeout`.
async fn through_relay(w: &World, timeout: Duration) -> (NodeServer, Relay, SubxtClient) {
    let server = NodeServer::start("127.0.0.1:0", w.node.clone(), NodeConfig::default())
        .await
        .unwrap();
    let relay = Relay::start(&proxy::host_port(&server.url()).unwrap())
        .await
        .unwrap();
    let url = proxy::through(&server.url(), relay.addr()).unwrap();
    let client = SubxtClient::connect_with(&url, None, timeout)
        .await
        .unwrap();
    (server, relay, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_behind_a_faulty_substrate_endpoint_never_stalls_and_decides_as_a_clean_one() {
    let w = World::new().await;
    let timeout = Duration::from_secs(1);
    let (_server, relay, client) = through_relay(&w, timeout).await;
    let mut clean = Keeper::start(&w, 0, 0, 10_000).await;
    let mut faulty = Keeper::start_with(&w, 1, client, config(10_000)).await;
    type Inject = fn(&Relay);
    let faults: [(&str, Inject); 4] = [
        ("an answer cut mid-frame", |r| r.truncate_next(1)),
        ("a garbled answer", |r| r.garble_next(1)),
        ("a hung endpoint", Relay::hang),
        ("a slow endpoint", |r| {
            r.set_latency(Duration::from_millis(30))
        }),
    ];
    for (nonce, (what, inject)) in (1u64..).zip(faults) {
        let r = w.request(nonce).await;
        w.deliver(&r).await;
        w.blocks(5).await;
        inject(&relay);
        // A round meets the fault and ends within the request timeout: it never hangs with it.
        let start = Instant::now();
        let round = tokio::time::timeout(timeout * 8, faulty.engine.round())
            .await
            .unwrap_or_else(|_| panic!("{what}: a round outlived eight request timeouts"));
        let took = start.elapsed();
        assert!(took < timeout * 8, "{what}: one round took {took:?}");
        if what == "a hung endpoint" {
            let e = round.expect_err("a hung endpoint fails the round");
            assert!(e.is_transient(), "{what}: {e}");
            relay.restore();
        }
        faulty.catch_up().await;
        clean.catch_up().await;
        assert_eq!(relay.faults_pending(), 0, "{what}: the fault was met");
        assert_eq!(
            faulty.engine.next_block(),
            w.head() + 1,
            "{what}: caught up"
        );
    }
    relay.set_latency(Duration::ZERO);

    // No block missed, none decided differently from a keeper that never saw a fault.
    for b in w.deployment.deploy_block..=w.head() {
        let s = clean.state_json(b);
        assert!(s.is_some(), "block {b} committed");
        assert_eq!(
            s,
            faulty.state_json(b),
            "block {b} differs behind the faults"
        );
    }
    assert_eq!(clean.report_digests().len(), 4, "four deliveries signed");
    assert_eq!(clean.report_digests(), faulty.report_digests());
    let replayed = faulty.conn(|c| tao20_node::replay::replay(c).unwrap());
    assert!(replayed.mismatches.is_empty(), "{:?}", replayed.mismatches);
}
