//! One behavioural suite over the [`Subtensor`] trait, run against the in-process simulator and
//! against a devnet node (started in-process on 127.0.0.1:0) through its `dev_simulator` method:
//! both must behave identically, wire format and typed errors included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use tao20_chain::sim::{
    DevTransport, LocalTransport, SimClient, SimConfig, Simulator, SubnetSpec, Transport,
    WEIGHT_ONE,
};
use tao20_chain::types::{Bytes32, Call, Event, TransferStake};
use tao20_chain::{Error, Retry, Subtensor};

const TAO: u64 = 1_000_000_000;
const OWNER: Bytes32 = Bytes32([0x11; 32]);
const OWNER_HOT: Bytes32 = Bytes32([0x12; 32]);
const MINER: Bytes32 = Bytes32([0x21; 32]);
const MINER_HOT: Bytes32 = Bytes32([0x22; 32]);
const VAULT: Bytes32 = Bytes32([0x31; 32]);
const VALI: Bytes32 = Bytes32([0x41; 32]);
const VALI_HOT: Bytes32 = Bytes32([0x42; 32]);

fn config() -> SimConfig {
    SimConfig {
        seed: 7,
        ..SimConfig::default()
    }
}

fn subnet(netuid: u16, owner_hotkey: Bytes32) -> SubnetSpec {
    SubnetSpec {
        netuid,
        owner: OWNER,
        owner_hotkey,
        tempo: 20,
        tao_in: 2_000 * TAO,
        alpha_in: 2_000 * TAO,
        weight_tao: WEIGHT_ONE / 2,
    }
}

/// The suite. Returns a transcript of observable values so the two runs can be compared.
async fn behaviour<T: Transport + Clone>(admin: SimClient<T>) -> Vec<String> {
    let mut transcript = Vec::new();
    admin.register_subnet(subnet(3, OWNER_HOT)).await.unwrap();
    admin
        .register_subnet(subnet(5, Bytes32([0x13; 32])))
        .await
        .unwrap();
    assert!(admin.register_subnet(subnet(3, OWNER_HOT)).await.is_err());
    let miner_uid = admin.register_neuron(3, MINER_HOT, MINER).await.unwrap();
    admin.register_neuron(5, MINER_HOT, MINER).await.unwrap();
    let vali_uid = admin.register_neuron(3, VALI_HOT, VALI).await.unwrap();
    assert_eq!((miner_uid, vali_uid), (1, 2));

    let miner = admin.as_signer(MINER);
    miner.add_stake(MINER_HOT, 3, 20 * TAO).await.unwrap();
    miner.add_stake(MINER_HOT, 5, 20 * TAO).await.unwrap();
    admin
        .as_signer(VALI)
        .add_stake(VALI_HOT, 3, 100 * TAO)
        .await
        .unwrap();
    admin.advance(5).await.unwrap();

    // Reads at the finalized head.
    let head = admin.finalized_head().await.unwrap();
    assert_eq!(admin.tempo(head.number, 3).await.unwrap(), 20);
    assert_eq!(admin.subnet_owner(head.number, 3).await.unwrap(), OWNER);
    assert!(admin.transfers_enabled(head.number, 3).await.unwrap());
    let reserves = admin.pool_reserves(head.number, 3).await.unwrap();
    let price = admin.current_alpha_price(head.number, 3).await.unwrap();
    assert!(reserves.alpha_out > 0);
    assert!(price > 0);
    transcript.push(format!("price {price} reserves {reserves:?}"));
    let staked = admin.stake(head.number, MINER, MINER_HOT, 3).await.unwrap();
    assert!(staked > 0);
    let neurons = admin.neurons(head.number, 3).await.unwrap();
    assert_eq!(neurons.len(), 3);
    assert_eq!(neurons[1].stake, staked);
    assert_eq!(admin.burn_uid(head.number, 3).await.unwrap(), Some(0));
    // One mechanism, no split stored: it takes the whole emission.
    assert_eq!(
        admin
            .mechanism_emission_split(head.number, 3)
            .await
            .unwrap(),
        vec![65_535]
    );
    admin
        .set_mechanisms(3, 2, Some(vec![40_000, 25_535]))
        .await
        .unwrap();
    let now = admin.finalized_head().await.unwrap().number;
    assert_eq!(
        admin.mechanism_emission_split(now, 3).await.unwrap(),
        vec![40_000, 25_535]
    );

    // A delivery: batch_all(remark, transfer_stake x2) signed by the miner's coldkey.
    let remark = b"TAO20 delivery".to_vec();
    let transfers = vec![
        TransferStake {
            destination_coldkey: VAULT,
            hotkey: MINER_HOT,
            origin_netuid: 3,
            destination_netuid: 3,
            alpha_amount: 2 * TAO,
        },
        TransferStake {
            destination_coldkey: VAULT,
            hotkey: MINER_HOT,
            origin_netuid: 5,
            destination_netuid: 5,
            alpha_amount: 3 * TAO,
        },
    ];
    let inc = miner
        .deliver(remark.clone(), transfers.clone())
        .await
        .unwrap();
    let block = miner.block_extrinsics(inc.block.number).await.unwrap();
    let ext = block.iter().find(|e| e.index == inc.index).unwrap();
    assert_eq!(ext.signer, Some(MINER));
    assert!(ext.success);
    assert_eq!(
        ext.call,
        Call::BatchAll {
            calls: vec![
                Call::Remark { data: remark },
                Call::TransferStake(transfers[0].clone()),
                Call::TransferStake(transfers[1].clone()),
            ]
        }
    );
    let delivered: Vec<(u16, u64)> = ext
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StakeAdded(s) if s.coldkey == VAULT => Some((s.netuid, s.alpha)),
            _ => None,
        })
        .collect();
    assert_eq!(delivered, vec![(3, 2 * TAO), (5, 3 * TAO)]);
    assert_eq!(block[0].signer, None, "index 0 is the timestamp inherent");
    let at = inc.block.number;
    assert_eq!(admin.stake(at, VAULT, MINER_HOT, 5).await.unwrap(), 3 * TAO);
    assert_eq!(admin.stake(at - 1, VAULT, MINER_HOT, 5).await.unwrap(), 0);
    transcript.push(format!("delivery {:?}", inc.block));

    // A failed delivery: the toggle is off on 5, so nothing moves, with the runtime's error name.
    admin.set_transfers_enabled(5, false).await.unwrap();
    let err = miner.deliver(vec![1], transfers.clone()).await.unwrap_err();
    assert_eq!(err.dispatch_error_name(), Some("TransferDisallowed"));
    assert_eq!(err.retry(), Retry::Never);
    let Error::Dispatch {
        block: failed_at, ..
    } = err
    else {
        panic!("{err:?}")
    };
    let failed = admin.block_extrinsics(failed_at).await.unwrap();
    assert!(!failed[1].success);
    assert_eq!(
        admin.stake(failed_at, VAULT, MINER_HOT, 3).await.unwrap(),
        2 * TAO,
        "batch_all kept nothing"
    );

    // Commitments and axons.
    let hot = admin.as_signer(MINER_HOT);
    hot.set_commitment(3, b"2;b;BTC,1=0.1:2".to_vec())
        .await
        .unwrap();
    hot.serve_axon(3, 1, 0x0a00_0001, 8091, 4, 4).await.unwrap();
    let now = admin.finalized_head().await.unwrap().number;
    let commitments = admin.commitments(now, 3).await.unwrap();
    assert_eq!(commitments.len(), 1);
    assert_eq!(commitments[0].hotkey, MINER_HOT);
    assert_eq!(commitments[0].data, b"2;b;BTC,1=0.1:2");
    let axon = admin.neurons(now, 3).await.unwrap()[1].axon.unwrap();
    assert_eq!((axon.ip, axon.port), (0x0a00_0001, 8091));

    // Money: the faucet funds a coldkey; add_stake spends its free balance through the pool,
    // remove_stake pays back into it; the commitments pallet reports the space used.
    let payer = Bytes32([0x51; 32]);
    assert_eq!(admin.free_balance(now, payer).await.unwrap(), 0);
    admin.faucet(payer, 50 * TAO).await.unwrap();
    let funded = admin.finalized_head().await.unwrap().number;
    assert_eq!(admin.free_balance(funded, payer).await.unwrap(), 50 * TAO);
    assert_eq!(admin.free_balance(funded - 1, payer).await.unwrap(), 0);
    let payer_client = admin.as_signer(payer);
    let too_much = payer_client
        .submit(Call::AddStake {
            hotkey: MINER_HOT,
            netuid: 3,
            amount_staked: 51 * TAO,
        })
        .await
        .unwrap_err();
    assert_eq!(
        too_much.dispatch_error_name(),
        Some("NotEnoughBalanceToStake")
    );
    let staked = payer_client
        .submit(Call::AddStake {
            hotkey: MINER_HOT,
            netuid: 3,
            amount_staked: 10 * TAO,
        })
        .await
        .unwrap();
    let Some(Event::StakeAdded(bought)) = staked.events.first() else {
        panic!("{:?}", staked.events)
    };
    assert_eq!(bought.tao, 10 * TAO);
    let at = staked.block.number;
    assert_eq!(admin.free_balance(at, payer).await.unwrap(), 40 * TAO);
    assert_eq!(
        admin.stake(at, payer, MINER_HOT, 3).await.unwrap(),
        bought.alpha
    );
    let sold = payer_client
        .submit(Call::RemoveStake {
            hotkey: MINER_HOT,
            netuid: 3,
            amount_unstaked: u64::MAX,
        })
        .await
        .unwrap();
    let Some(Event::StakeRemoved(paid)) = sold.events.first() else {
        panic!("{:?}", sold.events)
    };
    assert!(paid.tao > 0 && paid.tao <= 10 * TAO, "{paid:?}");
    assert_eq!(
        admin.free_balance(sold.block.number, payer).await.unwrap(),
        40 * TAO + paid.tao
    );
    transcript.push(format!("staked {bought:?} unstaked {paid:?}"));
    let space = admin
        .commitment_space(sold.block.number, 3, MINER_HOT)
        .await
        .unwrap();
    assert_eq!((space.used_space, space.max_space), (100, 3_100));

    // Weights: set directly, then commit-reveal v4 through the trait's own commit helper.
    let vali = admin.as_signer(VALI_HOT);
    vali.set_mechanism_weights(3, 1, vec![0, 1], vec![65535, 100], 0)
        .await
        .unwrap();
    let now = admin.finalized_head().await.unwrap().number;
    assert_eq!(
        admin.weights(now, 3, 1, vali_uid).await.unwrap(),
        vec![(0, 65535), (1, 100)]
    );
    admin.set_commit_reveal(3, true, 1).await.unwrap();
    let after = admin.finalized_head().await.unwrap().number;
    assert!(
        after > now,
        "administrative changes get a block of their own"
    );
    assert!(
        !admin
            .weights_settings(now, 3)
            .await
            .unwrap()
            .commit_reveal_enabled
    );
    assert!(
        admin
            .weights_settings(after, 3)
            .await
            .unwrap()
            .commit_reveal_enabled
    );
    let before = admin.finalized_head().await.unwrap().number;
    let schedule = admin.epoch_schedule(before, 3).await.unwrap();
    assert_eq!((schedule.tempo, schedule.reveal_period_epochs), (20, 1));
    let reveal_block =
        tao20_chain::epochs::predict_first_reveal_block(&schedule, before, |_| false).unwrap();
    let (commit, round) = vali
        .commit_weights_timelocked(3, 1, vec![1, 2], vec![7, 65535], 0)
        .await
        .unwrap();
    assert!(matches!(
        commit.events[0],
        Event::TimelockedWeightsCommitted { reveal_round, .. } if reveal_round == round
    ));
    let mut revealed = None;
    for _ in 0..40 {
        let head = admin.advance(1).await.unwrap();
        let row = admin.weights(head.number, 3, 1, vali_uid).await.unwrap();
        if row == vec![(1, 7), (2, 65535)] {
            revealed = Some(head.number);
            transcript.push(format!("revealed at {} round {round}", head.number));
            break;
        }
    }
    // The pulse is published 3 blocks after the reveal epoch starts (the round's offset).
    assert_eq!(
        revealed,
        Some(reveal_block + 3),
        "revealed in its reveal epoch"
    );
    let at_reveal = admin.epoch_schedule(reveal_block, 3).await.unwrap();
    assert_eq!(at_reveal.last_epoch_block, reveal_block);
    assert_eq!(
        at_reveal.subnet_epoch_index,
        schedule.subnet_epoch_index + 1
    );

    // Owner schedule changes over the transport: a trigger (refused with commit-reveal on), a
    // re-anchoring tempo change on subnet 5.
    let refused = admin.trigger_epoch(3).await.unwrap_err();
    assert_eq!(
        refused.dispatch_error_name(),
        Some("DynamicTempoBlockedByCommitReveal")
    );
    admin.sudo_set_tempo(5, 400).await.unwrap();
    let anchored = admin.finalized_head().await.unwrap().number;
    let five = admin.epoch_schedule(anchored, 5).await.unwrap();
    assert_eq!((five.tempo, five.last_epoch_block), (400, anchored));
    transcript.push(format!("subnet 5 schedule {five:?}"));

    // Typed errors across the transport.
    let later = admin.tempo(u64::MAX, 3).await.unwrap_err();
    assert_eq!(later.retry(), Retry::Later);
    let missing = admin.tempo(now, 42).await.unwrap_err();
    assert!(matches!(missing, Error::NotFound { later: false, .. }));
    let unsigned = admin
        .submit(Call::Remark { data: vec![] })
        .await
        .unwrap_err();
    assert!(matches!(unsigned, Error::Invalid { .. }));
    transcript
}

#[tokio::test]
async fn in_process() {
    let client = SimClient::in_process(config()).unwrap();
    let transcript = behaviour(client).await;
    assert_eq!(transcript.len(), 5);
}

#[tokio::test]
async fn through_a_devnet_node_and_identical_to_in_process() {
    let sim = Arc::new(Mutex::new(Simulator::new(config()).unwrap()));
    let node = tao20_chain::sim::node::NodeServer::start("127.0.0.1:0", sim, Default::default())
        .await
        .unwrap();
    let remote = SimClient::connect(node.url());
    let over_rpc = behaviour(remote).await;
    let local = behaviour(SimClient::new(LocalTransport::new(Arc::new(Mutex::new(
        Simulator::new(config()).unwrap(),
    )))))
    .await;
    assert_eq!(
        over_rpc, local,
        "same seed, same run, whatever the transport"
    );
    node.stop();
}

#[tokio::test]
async fn a_dead_server_is_a_connection_error_that_says_reconnect() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = SimClient::new(
        DevTransport::new(format!("ws://{addr}"))
            .with_timeout(std::time::Duration::from_millis(500)),
    );
    let err = client.finalized_head().await.unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert_eq!(err.retry(), Retry::Reconnect);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_the_next_call_connects_again() {
    // Accepts, reads, never answers: a stalled host keeps its connections open.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = accepted.clone();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    let client = SimClient::new(
        DevTransport::new(format!("ws://{addr}"))
            .with_timeout(std::time::Duration::from_millis(200)),
    );
    let started = std::time::Instant::now();
    let err = client.finalized_head().await.unwrap_err();
    assert!(
        matches!(&err, Error::Connection { reason, .. } if reason.contains("no connection")),
        "{err:?}"
    );
    assert_eq!(err.retry(), Retry::Reconnect);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The stalled connection was dropped: the next call opens another.
    let _ = client.finalized_head().await.unwrap_err();
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);
    task.abort();
}
