//! Unit tests of every simulated rule.

use super::*;
use crate::drand::{RevealSchedule, WeightsTlockPayload};

const OWNER: Bytes32 = Bytes32([1; 32]);
const OWNER_HOT: Bytes32 = Bytes32([2; 32]);
const MINER: Bytes32 = Bytes32([3; 32]);
const MINER_HOT: Bytes32 = Bytes32([4; 32]);
const VAULT: Bytes32 = Bytes32([5; 32]);
const VALI: Bytes32 = Bytes32([6; 32]);
const VALI_HOT: Bytes32 = Bytes32([7; 32]);
const TAO: u64 = 1_000_000_000;

fn spec(netuid: NetUid, tempo: u16) -> SubnetSpec {
    SubnetSpec {
        netuid,
        owner: OWNER,
        owner_hotkey: if netuid == 1 {
            OWNER_HOT
        } else {
            Bytes32([100 + u8::try_from(netuid).unwrap(); 32])
        },
        tempo,
        tao_in: 1_000 * TAO,
        alpha_in: 4_000 * TAO,
        weight_tao: WEIGHT_ONE / 2,
    }
}

/// Subnets 1 and 2, a miner with 10 TAO of stake on subnet 1 and 2 TAO on subnet 2.
fn setup() -> Simulator {
    let mut sim = Simulator::new(SimConfig {
        volatility_ppm: 0,
        ..SimConfig::default()
    })
    .unwrap();
    sim.register_subnet(spec(1, 10)).unwrap();
    sim.register_subnet(spec(2, 10)).unwrap();
    sim.register_neuron(1, MINER_HOT, MINER).unwrap();
    sim.register_neuron(2, MINER_HOT, MINER).unwrap();
    sim.add_stake(MINER, MINER_HOT, 1, 10 * TAO).unwrap();
    sim.add_stake(MINER, MINER_HOT, 2, 2 * TAO).unwrap();
    sim
}

fn held(sim: &Simulator, coldkey: AccountId, netuid: NetUid) -> u64 {
    sim.stake(sim.head(), coldkey, MINER_HOT, netuid).unwrap()
}

fn transfer(netuid: NetUid, amount: u64) -> Call {
    Call::TransferStake(TransferStake {
        destination_coldkey: VAULT,
        hotkey: MINER_HOT,
        origin_netuid: netuid,
        destination_netuid: netuid,
        alpha_amount: amount,
    })
}

fn dispatch_name(r: Result<Inclusion>) -> String {
    r.unwrap_err().dispatch_error_name().unwrap().to_string()
}

#[test]
fn transfer_stake_clamps_to_what_is_available() {
    let mut sim = setup();
    let have = held(&sim, MINER, 1);
    assert!(have > 0);
    let inc = sim.submit(Some(MINER), transfer(1, have * 10)).unwrap();
    assert_eq!(held(&sim, MINER, 1), 0);
    assert_eq!(held(&sim, VAULT, 1), have);
    let added: Vec<&StakeEvent> = inc
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StakeAdded(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].alpha, have);
    assert_eq!(added[0].coldkey, VAULT);
}

#[test]
fn a_same_netuid_transfer_emits_removed_added_in_alpha_and_transferred_in_tao() {
    let mut sim = setup();
    let price = sim.current_alpha_price(sim.head(), 1).unwrap();
    let amount = TAO;
    let inc = sim.submit(Some(MINER), transfer(1, amount)).unwrap();
    let tao = u64::try_from(u128::from(amount) * u128::from(price) / 1_000_000_000).unwrap();
    assert_eq!(
        inc.events,
        vec![
            Event::StakeRemoved(StakeEvent {
                coldkey: MINER,
                hotkey: MINER_HOT,
                tao,
                alpha: amount,
                netuid: 1,
                fee: 0
            }),
            Event::StakeAdded(StakeEvent {
                coldkey: VAULT,
                hotkey: MINER_HOT,
                tao,
                alpha: amount,
                netuid: 1,
                fee: 0
            }),
            Event::StakeTransferred {
                origin_coldkey: MINER,
                destination_coldkey: VAULT,
                hotkey: MINER_HOT,
                origin_netuid: 1,
                destination_netuid: 1,
                tao
            },
            Event::ExtrinsicSuccess,
        ]
    );
    assert_ne!(
        tao, amount,
        "the transferred amount is TAO-valued, not alpha"
    );
}

#[test]
fn transfers_below_the_minimum_stake_value_fail_and_change_nothing() {
    let mut sim = setup();
    let before = held(&sim, MINER, 1);
    // Price 0.25 TAO/alpha: 0.002 TAO needs 0.008 alpha; ask for a little less.
    let err = sim.submit(Some(MINER), transfer(1, 7_000_000));
    assert_eq!(dispatch_name(err), "AmountTooLow");
    assert_eq!(held(&sim, MINER, 1), before);
    let block = sim.block_extrinsics(sim.head()).unwrap();
    assert_eq!(block.len(), 2, "the failed extrinsic is still included");
    assert!(!block[1].success);
    assert!(matches!(
        block[1].events[..],
        [Event::ExtrinsicFailed { .. }]
    ));
    // Exactly at the minimum it passes.
    sim.submit(Some(MINER), transfer(1, 8_000_000)).unwrap();
    assert_eq!(held(&sim, VAULT, 1), 8_000_000);
    assert_eq!(
        dispatch_name(sim.submit(Some(VAULT), transfer(2, 8_000_000))),
        "NotEnoughStakeToWithdraw"
    );
}

#[test]
fn the_transfer_toggle_blocks_transfers_to_other_coldkeys_only() {
    let mut sim = setup();
    sim.set_transfers_enabled(1, false).unwrap();
    assert!(!sim.transfers_enabled(sim.head(), 1).unwrap());
    assert_eq!(
        dispatch_name(sim.submit(Some(MINER), transfer(1, TAO))),
        "TransferDisallowed"
    );
    // Moving to one's own coldkey is not a transfer of ownership.
    let own = Call::TransferStake(TransferStake {
        destination_coldkey: MINER,
        hotkey: MINER_HOT,
        origin_netuid: 1,
        destination_netuid: 1,
        alpha_amount: TAO,
    });
    sim.submit(Some(MINER), own).unwrap();
    // Subnet 2 is unaffected.
    sim.submit(Some(MINER), transfer(2, TAO)).unwrap();
    sim.set_transfers_enabled(1, true).unwrap();
    sim.submit(Some(MINER), transfer(1, TAO)).unwrap();
}

#[test]
fn batch_all_is_all_or_nothing() {
    let mut sim = setup();
    let (a1, a2) = (held(&sim, MINER, 1), held(&sim, MINER, 2));
    let prices = (
        sim.pool_reserves(sim.head(), 1).unwrap(),
        sim.pool_reserves(sim.head(), 2).unwrap(),
    );
    let bad = Call::BatchAll {
        calls: vec![
            Call::Remark { data: vec![9] },
            transfer(1, TAO),
            transfer(3, TAO), // no subnet 3
        ],
    };
    assert_eq!(
        dispatch_name(sim.submit(Some(MINER), bad)),
        "SubnetNotExists"
    );
    assert_eq!((held(&sim, MINER, 1), held(&sim, MINER, 2)), (a1, a2));
    assert_eq!(held(&sim, VAULT, 1), 0);
    assert_eq!(
        (
            sim.pool_reserves(sim.head(), 1).unwrap(),
            sim.pool_reserves(sim.head(), 2).unwrap()
        ),
        prices
    );
    let ext = &sim.block_extrinsics(sim.head()).unwrap()[1];
    assert_eq!(
        ext.events.len(),
        1,
        "a failed batch_all emits only ExtrinsicFailed"
    );

    let good = Call::BatchAll {
        calls: vec![
            Call::Remark { data: vec![9] },
            transfer(1, TAO),
            transfer(2, TAO),
        ],
    };
    let inc = sim.submit(Some(MINER), good).unwrap();
    assert_eq!(held(&sim, VAULT, 1), TAO);
    assert_eq!(held(&sim, VAULT, 2), TAO);
    let names: Vec<&str> = inc
        .events
        .iter()
        .map(|e| match e {
            Event::Remarked { .. } => "Remarked",
            Event::ItemCompleted => "ItemCompleted",
            Event::BatchCompleted => "BatchCompleted",
            Event::ExtrinsicSuccess => "ExtrinsicSuccess",
            Event::StakeAdded(_) => "StakeAdded",
            Event::StakeRemoved(_) => "StakeRemoved",
            Event::StakeTransferred { .. } => "StakeTransferred",
            _ => "other",
        })
        .collect();
    assert_eq!(
        names,
        [
            "Remarked",
            "ItemCompleted",
            "StakeRemoved",
            "StakeAdded",
            "StakeTransferred",
            "ItemCompleted",
            "StakeRemoved",
            "StakeAdded",
            "StakeTransferred",
            "ItemCompleted",
            "BatchCompleted",
            "ExtrinsicSuccess"
        ]
    );
}

#[test]
fn a_cross_subnet_transfer_swaps_through_both_pools() {
    let mut sim = setup();
    let before = (
        sim.current_alpha_price(sim.head(), 1).unwrap(),
        sim.current_alpha_price(sim.head(), 2).unwrap(),
    );
    let call = Call::TransferStake(TransferStake {
        destination_coldkey: MINER,
        hotkey: MINER_HOT,
        origin_netuid: 1,
        destination_netuid: 2,
        alpha_amount: TAO,
    });
    let stake2 = held(&sim, MINER, 2);
    sim.submit(Some(MINER), call).unwrap();
    let after = (
        sim.current_alpha_price(sim.head(), 1).unwrap(),
        sim.current_alpha_price(sim.head(), 2).unwrap(),
    );
    assert!(after.0 < before.0, "selling alpha on 1 lowers its price");
    assert!(after.1 > before.1, "buying alpha on 2 raises its price");
    let gained = held(&sim, MINER, 2) - stake2;
    // At spot prices 1 alpha of subnet 1 buys p1 / p2 alpha of subnet 2; slippage takes some.
    let ideal = u128::from(TAO) * u128::from(before.0) / u128::from(before.1);
    assert!(
        gained > 0 && u128::from(gained) < ideal,
        "{gained} vs {ideal}"
    );
    assert!(u128::from(gained) > ideal * 99 / 100, "{gained} vs {ideal}");
}

#[test]
fn adding_stake_swaps_and_moves_the_price() {
    let mut sim = setup();
    let r0 = sim.pool_reserves(sim.head(), 1).unwrap();
    let p0 = sim.current_alpha_price(sim.head(), 1).unwrap();
    let inc = sim.add_stake(VALI, MINER_HOT, 1, 100 * TAO).unwrap();
    let r1 = sim.pool_reserves(sim.head(), 1).unwrap();
    assert_eq!(r1.tao_in, r0.tao_in + 100 * TAO);
    let Event::StakeAdded(e) = &inc.events[0] else {
        panic!("{:?}", inc.events)
    };
    assert_eq!(r1.alpha_in, r0.alpha_in - e.alpha);
    assert_eq!(r1.alpha_out, r0.alpha_out + e.alpha);
    assert!(sim.current_alpha_price(sim.head(), 1).unwrap() > p0);
    sim.remove_stake(VALI, MINER_HOT, 1, e.alpha).unwrap();
    assert_eq!(sim.stake(sim.head(), VALI, MINER_HOT, 1).unwrap(), 0);
    assert_eq!(
        sim.add_stake(VALI, MINER_HOT, 1, 1)
            .unwrap_err()
            .dispatch_error_name(),
        Some("AmountTooLow")
    );
}

#[test]
fn prices_walk_reproducibly_from_the_seed() {
    let run = |seed: u64| {
        let mut sim = Simulator::new(SimConfig {
            seed,
            ..SimConfig::default()
        })
        .unwrap();
        sim.register_subnet(spec(1, 10)).unwrap();
        (0..20)
            .map(|_| {
                sim.advance(1).unwrap();
                sim.current_alpha_price(sim.head(), 1).unwrap()
            })
            .collect::<Vec<_>>()
    };
    let a = run(42);
    assert_eq!(a, run(42));
    assert_ne!(a, run(43));
    assert!(a.windows(2).any(|w| w[0] != w[1]), "the price moves");
    let initial = 250_000_000u64;
    assert!(
        a.iter().all(|p| p.abs_diff(initial) < initial / 10),
        "small steps: {a:?}"
    );
}

#[test]
fn reads_see_past_blocks_inside_the_window_only() {
    let mut sim = Simulator::new(SimConfig {
        state_window: 16,
        ..SimConfig::default()
    })
    .unwrap();
    sim.register_subnet(spec(1, 10)).unwrap();
    sim.advance(5).unwrap();
    let at5 = sim.current_alpha_price(5, 1).unwrap();
    sim.advance(10).unwrap();
    assert_eq!(sim.current_alpha_price(5, 1).unwrap(), at5);
    sim.advance(10).unwrap();
    let pruned = sim.current_alpha_price(5, 1).unwrap_err();
    assert_eq!(pruned.retry(), crate::Retry::Never);
    let future = sim.current_alpha_price(sim.head() + 1, 1).unwrap_err();
    assert_eq!(future.retry(), crate::Retry::Later);
    assert!(matches!(
        sim.tempo(sim.head(), 9),
        Err(Error::NotFound { later: false, .. })
    ));
}

#[test]
fn epochs_run_on_the_tempo_schedule() {
    let mut sim = setup();
    // netuid 1, tempo 10: the epoch runs when (block + 2) % 11 == 0.
    let start = sim.head();
    sim.advance(40).unwrap();
    let expected: Vec<u64> = (start + 1..=sim.head())
        .filter(|b| (b + 2) % 11 == 0)
        .collect();
    let info = sim.epoch_info(1).unwrap();
    assert_eq!(info.epochs_run, expected.len() as u64);
    assert_eq!(info.last_epoch_block, *expected.last().unwrap());
    assert_eq!(info.epoch, (sim.head() + 2) / 11);
    // netuid 2 runs on its own offset.
    let info2 = sim.epoch_info(2).unwrap();
    assert_eq!((info2.last_epoch_block + 3) % 11, 0);
}

fn timelocked_setup() -> (Simulator, u16) {
    let mut sim = setup();
    let uid = sim.register_neuron(1, VALI_HOT, VALI).unwrap();
    sim.add_stake(VALI, VALI_HOT, 1, 50 * TAO).unwrap();
    sim.set_mechanisms(1, 2, Some(vec![32768, 32767])).unwrap();
    sim.set_commit_reveal(1, true, 1).unwrap();
    (sim, uid)
}

fn commit_for(sim: &Simulator, hotkey: AccountId, uids: Vec<u16>, values: Vec<u16>) -> (Call, u64) {
    let head = sim.head();
    let round = drand::reveal_round(&RevealSchedule {
        tempo: 10,
        netuid: 1,
        current_block: head,
        reveal_period_epochs: 1,
        block_time_secs: drand::BLOCK_TIME_SECS,
        now_unix: sim.chain_time(head).unwrap(),
        beacon_genesis: sim.beacon().genesis_time,
        beacon_period: sim.beacon().period,
    })
    .unwrap();
    let payload = WeightsTlockPayload {
        hotkey: hotkey.0.to_vec(),
        uids,
        values,
        version_key: 1,
    };
    let commit = drand::encrypt_payload(&sim.beacon().public_key, round, &payload).unwrap();
    (
        Call::CommitTimelockedMechanismWeights {
            netuid: 1,
            mecid: 1,
            commit,
            reveal_round: round,
            commit_reveal_version: 4,
        },
        round,
    )
}

#[test]
fn timelocked_commits_are_revealed_at_their_round_by_the_beacon() {
    let (mut sim, uid) = timelocked_setup();
    let (call, round) = commit_for(&sim, VALI_HOT, vec![0, 1], vec![100, 65535]);
    let inc = sim.submit(Some(VALI_HOT), call).unwrap();
    let commit_block = inc.block.number;
    assert!(matches!(
        inc.events[0],
        Event::TimelockedWeightsCommitted { reveal_round, netuid_index: 4097, .. } if reveal_round == round
    ));
    // The first block whose time reaches the round, in the next epoch.
    let mut revealed_at = None;
    for _ in 0..40 {
        sim.advance(1).unwrap();
        if !sim.weights(sim.head(), 1, 1, uid).unwrap().is_empty() {
            revealed_at = Some(sim.head());
            break;
        }
    }
    let revealed_at = revealed_at.expect("revealed within 40 blocks");
    let b = sim.beacon();
    assert!(
        drand::round_at(
            sim.chain_time(revealed_at).unwrap(),
            b.genesis_time,
            b.period
        ) >= round
    );
    assert!(
        drand::round_at(
            sim.chain_time(revealed_at - 1).unwrap(),
            b.genesis_time,
            b.period
        ) < round
            || drand::epoch_index(revealed_at - 1, 1, 10)
                <= drand::epoch_index(commit_block, 1, 10)
    );
    assert_eq!(
        drand::epoch_index(revealed_at, 1, 10),
        drand::epoch_index(commit_block, 1, 10) + 1
    );
    assert_eq!(
        sim.weights(sim.head(), 1, 1, uid).unwrap(),
        vec![(0, 100), (1, 65535)]
    );
    assert!(sim.weights(revealed_at - 1, 1, 1, uid).unwrap().is_empty());
    assert!(
        sim.weights(sim.head(), 1, 0, uid).unwrap().is_empty(),
        "mechanism 1 only"
    );
}

#[test]
fn commits_that_do_not_open_or_name_another_hotkey_are_dropped() {
    let (mut sim, uid) = timelocked_setup();
    let (mut call, _) = commit_for(&sim, VALI_HOT, vec![0], vec![1]);
    if let Call::CommitTimelockedMechanismWeights { commit, .. } = &mut call {
        commit.truncate(commit.len() - 1);
    }
    sim.submit(Some(VALI_HOT), call).unwrap();
    let (forged, _) = commit_for(&sim, MINER_HOT, vec![0], vec![1]);
    sim.submit(Some(VALI_HOT), forged).unwrap();
    sim.advance(40).unwrap();
    assert!(sim.weights(sim.head(), 1, 1, uid).unwrap().is_empty());
}

#[test]
fn weight_rules_follow_the_runtime() {
    let (mut sim, uid) = timelocked_setup();
    let set = |dests: Vec<u16>, weights: Vec<u16>, mecid: u8| Call::SetMechanismWeights {
        netuid: 1,
        mecid,
        dests,
        weights,
        version_key: 0,
    };
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI_HOT), set(vec![0], vec![1], 1))),
        "CommitRevealEnabled"
    );
    sim.set_commit_reveal(1, false, 1).unwrap();
    let (commit, _) = commit_for(&sim, VALI_HOT, vec![0], vec![1]);
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI_HOT), commit)),
        "CommitRevealDisabled"
    );
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI_HOT), set(vec![0], vec![1], 2))),
        "MechanismDoesNotExist"
    );
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI_HOT), set(vec![0, 1], vec![1], 1))),
        "WeightVecNotEqualSize"
    );
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI_HOT), set(vec![99], vec![1], 1))),
        "UidVecContainInvalidOne"
    );
    assert_eq!(
        dispatch_name(sim.submit(Some(VAULT), set(vec![0], vec![1], 1))),
        "HotKeyNotRegisteredInSubNet"
    );
    // The owner hotkey holds no stake, hence no permit.
    assert_eq!(
        dispatch_name(sim.submit(Some(OWNER_HOT), set(vec![1], vec![1], 1))),
        "NeuronNoValidatorPermit"
    );
    let inc = sim
        .submit(Some(VALI_HOT), set(vec![0, 1], vec![5, 6], 1))
        .unwrap();
    assert_eq!(
        inc.events[0],
        Event::WeightsSet {
            netuid_index: 4097,
            uid
        }
    );
    assert_eq!(
        sim.weights(sim.head(), 1, 1, uid).unwrap(),
        vec![(0, 5), (1, 6)]
    );
}

#[test]
fn commitments_need_a_registered_hotkey_and_fit_three_fields() {
    let mut sim = setup();
    let call = |data: Vec<u8>| Call::SetCommitment { netuid: 1, data };
    assert_eq!(
        dispatch_name(sim.submit(Some(VAULT), call(vec![1]))),
        "AccountNotAllowedCommit"
    );
    assert_eq!(
        dispatch_name(sim.submit(Some(MINER_HOT), call(vec![0; 385]))),
        "TooManyFieldsInCommitmentInfo"
    );
    let inc = sim
        .submit(Some(MINER_HOT), call(b"1;p;cap=0.4".to_vec()))
        .unwrap();
    let list = sim.commitments(sim.head(), 1).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].data, b"1;p;cap=0.4");
    assert_eq!(list[0].block, inc.block.number);
    assert!(sim.commitments(inc.block.number - 1, 1).unwrap().is_empty());
}

#[test]
fn neurons_report_stake_permits_and_registration() {
    let (sim, uid) = timelocked_setup();
    let neurons = sim.neurons(sim.head(), 1).unwrap();
    assert_eq!(
        neurons.iter().map(|n| n.uid).collect::<Vec<_>>(),
        vec![0, 1, uid]
    );
    assert_eq!(neurons[0].hotkey, OWNER_HOT);
    assert!(!neurons[0].validator_permit, "no stake, no permit");
    assert!(neurons[2].validator_permit);
    assert_eq!(
        neurons[2].stake,
        sim.stake(sim.head(), VALI, VALI_HOT, 1).unwrap()
    );
    assert!(neurons[1].registered_at <= neurons[2].registered_at);
    let mut sim = sim;
    assert!(
        sim.register_neuron(1, VALI_HOT, VALI).is_err(),
        "registered twice"
    );
    assert!(
        sim.register_neuron(2, VALI_HOT, MINER).is_err(),
        "hotkey of another coldkey"
    );
    assert!(
        sim.submit(None, Call::Remark { data: vec![] }).is_err(),
        "writes need a signer"
    );
}
