//! Unit tests of every simulated rule.

use super::*;
use crate::drand::WeightsTlockPayload;
use crate::epochs::RoundClock;

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

/// The blocks in `from+1..=to` at which the subnet's epoch index went up.
fn epoch_blocks(sim: &Simulator, netuid: NetUid, from: u64, to: u64) -> Vec<u64> {
    (from + 1..=to)
        .filter(|b| {
            sim.epoch_schedule(*b, netuid).unwrap().subnet_epoch_index
                > sim
                    .epoch_schedule(b - 1, netuid)
                    .unwrap()
                    .subnet_epoch_index
        })
        .collect()
}

#[test]
fn epochs_run_every_tempo_blocks_from_the_staggered_anchor() {
    let mut sim = setup();
    // Subnet 1 was registered at block 1 (LastEpochBlock 1 - 1 % 10 = 0), subnet 2 at block 2
    // (2 - 2 % 10 = 0): both run at 10, 20, 30, ... (period tempo, not tempo + 1).
    let start = sim.head();
    sim.advance(40).unwrap();
    let head = sim.head();
    let expected: Vec<u64> = (start + 1..=head).filter(|b| b % 10 == 0).collect();
    assert_eq!(epoch_blocks(&sim, 1, start, head), expected);
    assert_eq!(epoch_blocks(&sim, 2, start, head), expected);
    let s = sim.epoch_schedule(head, 1).unwrap();
    assert_eq!(s.last_epoch_block, *expected.last().unwrap());
    assert_eq!(s.subnet_epoch_index, head / 10);
    assert_eq!(s.blocks_since_last_step, head - s.last_epoch_block);
    assert_eq!(
        (s.tempo, s.pending_epoch_at, s.reveal_period_epochs),
        (10, 0, 1)
    );
    // A subnet registered later is staggered by its netuid.
    sim.register_subnet(spec(7, 10)).unwrap();
    let at = sim.head();
    assert_eq!(sim.epoch_schedule(at, 7).unwrap().last_epoch_block, at - 7);
}

#[test]
fn the_per_block_cap_defers_the_highest_netuid_by_one_block() {
    let mut sim = Simulator::new(SimConfig {
        volatility_ppm: 0,
        ..SimConfig::default()
    })
    .unwrap();
    // Registered at blocks 1, 2, 3: all anchored at 0, all due at 10, 20, ...
    for n in 1..=3 {
        sim.register_subnet(spec(n, 10)).unwrap();
    }
    sim.advance(30).unwrap();
    assert_eq!(epoch_blocks(&sim, 1, 3, 33), vec![10, 20, 30]);
    assert_eq!(epoch_blocks(&sim, 2, 3, 33), vec![10, 20, 30]);
    // Cap 2: subnet 3 runs a block late, and its cycle follows the block it ran at.
    assert_eq!(epoch_blocks(&sim, 3, 3, 33), vec![11, 21, 31]);
    assert_eq!(sim.epoch_schedule(10, 3).unwrap().pending_epoch_at, 11);
    assert_eq!(sim.epoch_schedule(11, 3).unwrap().pending_epoch_at, 0);
    // A larger cap runs all three together.
    let mut wide = Simulator::new(SimConfig {
        volatility_ppm: 0,
        max_epochs_per_block: 3,
        ..SimConfig::default()
    })
    .unwrap();
    for n in 1..=3 {
        wide.register_subnet(spec(n, 10)).unwrap();
    }
    wide.advance(20).unwrap();
    assert_eq!(epoch_blocks(&wide, 3, 3, 23), vec![10, 20]);
}

#[test]
fn set_tempo_re_anchors_and_trigger_epoch_runs_after_the_freeze_window() {
    let mut sim = Simulator::new(SimConfig {
        volatility_ppm: 0,
        ..SimConfig::default()
    })
    .unwrap();
    sim.register_subnet(spec(1, 360)).unwrap();
    sim.register_subnet(spec(2, 360)).unwrap();
    sim.advance(3).unwrap();
    assert_eq!(
        sim.set_tempo(1, 100).unwrap_err().dispatch_error_name(),
        Some("TempoOutOfBounds")
    );
    sim.set_tempo(1, 400).unwrap();
    let at = sim.head();
    let s = sim.epoch_schedule(at, 1).unwrap();
    assert_eq!((s.tempo, s.last_epoch_block), (400, at));
    let index = s.subnet_epoch_index;
    // Root may set a short tempo; the cycle restarts at its block too.
    sim.sudo_set_tempo(2, 30).unwrap();
    let root_at = sim.head();
    assert_eq!(
        sim.epoch_schedule(root_at, 2).unwrap().last_epoch_block,
        root_at
    );
    // The owner triggers an epoch: it runs 10 blocks later, then the cycle follows it.
    sim.trigger_epoch(1).unwrap();
    let trigger = sim.head();
    assert_eq!(
        sim.epoch_schedule(trigger, 1).unwrap().pending_epoch_at,
        trigger + 10
    );
    assert_eq!(
        sim.trigger_epoch(1).unwrap_err().dispatch_error_name(),
        Some("EpochTriggerAlreadyPending")
    );
    // While the trigger counts down, owner changes are frozen.
    assert_eq!(
        sim.set_tempo(1, 500).unwrap_err().dispatch_error_name(),
        Some("AdminActionProhibitedDuringWeightsWindow")
    );
    sim.advance(12).unwrap();
    assert_eq!(
        epoch_blocks(&sim, 1, trigger, sim.head()),
        vec![trigger + 10]
    );
    let s = sim.epoch_schedule(sim.head(), 1).unwrap();
    assert_eq!((s.subnet_epoch_index, s.pending_epoch_at), (index + 1, 0));
    assert_eq!(epochs::next_epoch_block(&s), Some(trigger + 10 + 400));
    // Close to the automatic epoch (5 blocks before it) a trigger is refused; with commit-reveal
    // on, always.
    sim.advance(trigger + 404 - sim.head()).unwrap();
    assert_eq!(
        sim.trigger_epoch(1).unwrap_err().dispatch_error_name(),
        Some("AutoEpochAlreadyImminent")
    );
    sim.set_commit_reveal(1, true, 1).unwrap();
    assert_eq!(
        sim.trigger_epoch(1).unwrap_err().dispatch_error_name(),
        Some("DynamicTempoBlockedByCommitReveal")
    );
}

/// A subnet with two mechanisms and no split stored: the runtime splits its emission evenly
/// (`split_emissions`), and the simulator answers what the runtime applies.
#[test]
fn an_unset_split_over_two_mechanisms_is_even() {
    let mut sim = setup();
    assert_eq!(
        sim.mechanism_emission_split(sim.head(), 1).unwrap(),
        vec![65_535]
    );
    sim.set_mechanisms(1, 2, None).unwrap();
    assert_eq!(
        sim.mechanism_emission_split(sim.head(), 1).unwrap(),
        vec![32_768, 32_767]
    );
    sim.set_mechanisms(1, 2, Some(vec![65_535])).unwrap_err();
    sim.set_mechanisms(1, 3, Some(vec![0, 65_535, 0])).unwrap();
    assert_eq!(
        sim.mechanism_emission_split(sim.head(), 1).unwrap(),
        vec![0, 65_535, 0]
    );
}

fn timelocked_setup() -> (Simulator, u16) {
    let mut sim = setup();
    let uid = sim.register_neuron(1, VALI_HOT, VALI).unwrap();
    sim.add_stake(VALI, VALI_HOT, 1, 50 * TAO).unwrap();
    sim.set_mechanisms(1, 2, Some(vec![32768, 32767])).unwrap();
    sim.set_commit_reveal(1, true, 1).unwrap();
    (sim, uid)
}

fn clock(sim: &Simulator) -> RoundClock {
    RoundClock {
        now_unix: sim.chain_time(sim.head()).unwrap(),
        block_time_secs: drand::BLOCK_TIME_SECS,
        beacon_genesis: sim.beacon().genesis_time,
        beacon_period: sim.beacon().period,
    }
}

/// A v4 commit to `round`, or (with `None`) to the round the SDK computes from the schedule.
fn commit_to(
    sim: &Simulator,
    hotkey: AccountId,
    uids: Vec<u16>,
    values: Vec<u16>,
    round: Option<u64>,
) -> (Call, u64) {
    let head = sim.head();
    let schedule = sim.epoch_schedule(head, 1).unwrap();
    let round = round.unwrap_or_else(|| {
        epochs::commit_reveal_target(&schedule, head, &clock(sim))
            .unwrap()
            .1
    });
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

fn commit_for(sim: &Simulator, hotkey: AccountId, uids: Vec<u16>, values: Vec<u16>) -> (Call, u64) {
    commit_to(sim, hotkey, uids, values, None)
}

/// The first block after `from` (up to `n` blocks) whose weights row of `uid` is non-empty.
fn revealed_within(sim: &mut Simulator, uid: u16, n: u64) -> Option<u64> {
    for _ in 0..n {
        sim.advance(1).unwrap();
        if !sim.weights(sim.head(), 1, 1, uid).unwrap().is_empty() {
            return Some(sim.head());
        }
    }
    None
}

#[test]
fn timelocked_commits_are_revealed_when_their_reveal_epoch_runs() {
    let (mut sim, uid) = timelocked_setup();
    let head = sim.head();
    let schedule = sim.epoch_schedule(head, 1).unwrap();
    let predicted = epochs::predict_first_reveal_block(&schedule, head, |_| false).unwrap();
    let (call, round) = commit_for(&sim, VALI_HOT, vec![0, 1], vec![100, 65535]);
    let inc = sim.submit(Some(VALI_HOT), call).unwrap();
    assert!(matches!(
        inc.events[0],
        Event::TimelockedWeightsCommitted { reveal_round, netuid_index: 4097, .. } if reveal_round == round
    ));
    // Filed under the look-ahead epoch. The chain tries from the block the next epoch runs, but
    // the round is aimed 3 blocks later (`SECURITY_BLOCK_OFFSET`), and the local beacon publishes
    // a round when the chain's clock reaches it: revealed 3 blocks into the reveal epoch.
    let revealed_at = revealed_within(&mut sim, uid, 40).expect("revealed within 40 blocks");
    assert_eq!(revealed_at, predicted + epochs::SECURITY_BLOCK_OFFSET);
    let index_at = |b: u64| sim.epoch_schedule(b, 1).unwrap().subnet_epoch_index;
    assert_eq!(index_at(predicted), index_at(inc.block.number) + 1);
    assert_eq!(index_at(revealed_at), index_at(predicted), "the same epoch");
    assert_eq!(
        sim.epoch_schedule(predicted, 1).unwrap().last_epoch_block,
        predicted
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
fn a_late_pulse_is_retried_each_block_of_the_reveal_epoch_and_lost_after_it() {
    let (mut sim, uid) = timelocked_setup();
    let head = sim.head();
    let schedule = sim.epoch_schedule(head, 1).unwrap();
    let reveal_block = epochs::predict_first_reveal_block(&schedule, head, |_| false).unwrap();
    let b = sim.beacon();
    let now = sim.chain_time(head).unwrap();
    let round_of =
        |block: u64| drand::round_at(now + (block - head) * 12, b.genesis_time, b.period);
    // A round reached 5 blocks into the reveal epoch: revealed then, not at the epoch's block.
    let (call, _) = commit_to(
        &sim,
        VALI_HOT,
        vec![0],
        vec![9],
        Some(round_of(reveal_block + 5)),
    );
    sim.submit(Some(VALI_HOT), call).unwrap();
    assert_eq!(revealed_within(&mut sim, uid, 40), Some(reveal_block + 5));
    // A round after the reveal epoch (tempo 10) ends: kept while the epoch lasts, then deleted.
    let (mut sim, uid) = timelocked_setup();
    let (call, _) = commit_to(
        &sim,
        VALI_HOT,
        vec![0],
        vec![9],
        Some(round_of(reveal_block + 12)),
    );
    sim.submit(Some(VALI_HOT), call).unwrap();
    assert_eq!(revealed_within(&mut sim, uid, 40), None);
    assert_eq!(
        sim.subnets[&1].pending.len(),
        0,
        "dropped after its reveal epoch"
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

fn fee_sim(fee_rate: u16) -> Simulator {
    let mut sim = Simulator::new(SimConfig {
        volatility_ppm: 0,
        swap_fee_rate: fee_rate,
        ..SimConfig::default()
    })
    .unwrap();
    sim.register_subnet(spec(1, 10)).unwrap();
    sim.register_neuron(1, MINER_HOT, MINER).unwrap();
    sim
}

fn add_stake_call(tao: u64) -> Call {
    Call::AddStake {
        hotkey: MINER_HOT,
        netuid: 1,
        amount_staked: tao,
    }
}

fn remove_stake_call(alpha: u64) -> Call {
    Call::RemoveStake {
        hotkey: MINER_HOT,
        netuid: 1,
        amount_unstaked: alpha,
    }
}

fn only_stake_event(inc: &Inclusion) -> StakeEvent {
    match &inc.events[..] {
        [Event::StakeAdded(e) | Event::StakeRemoved(e), Event::ExtrinsicSuccess] => e.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn add_stake_spends_the_free_balance_and_takes_the_swap_fee_from_the_tao() {
    let mut sim = fee_sim(RUNTIME_SWAP_FEE_RATE);
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI), add_stake_call(TAO))),
        "NotEnoughBalanceToStake"
    );
    sim.faucet(VALI, 100 * TAO).unwrap();
    assert_eq!(sim.free_balance(sim.head(), VALI).unwrap(), 100 * TAO);
    assert_eq!(sim.free_balance(sim.head() - 1, VALI).unwrap(), 0);
    let r0 = sim.pool_reserves(sim.head(), 1).unwrap();
    let inc = sim.submit(Some(VALI), add_stake_call(10 * TAO)).unwrap();
    let e = only_stake_event(&inc);
    // fee = floor(10 TAO x 33 / 65535); the pool receives the rest.
    let fee = 10 * TAO * 33 / 65_535;
    assert_eq!((e.tao, e.fee), (10 * TAO, fee));
    let net = 10 * TAO - fee;
    // Equal weights: constant product on the net amount.
    let expected =
        u64::try_from(u128::from(r0.alpha_in) * u128::from(net) / u128::from(r0.tao_in + net))
            .unwrap();
    assert_eq!(e.alpha, expected);
    let r1 = sim.pool_reserves(sim.head(), 1).unwrap();
    assert_eq!(r1.tao_in, r0.tao_in + net);
    assert_eq!(r1.alpha_out, r0.alpha_out + e.alpha);
    assert_eq!(sim.free_balance(sim.head(), VALI).unwrap(), 90 * TAO);
    assert_eq!(sim.stake(sim.head(), VALI, MINER_HOT, 1).unwrap(), e.alpha);
    // Below the minimum stake plus its fee: refused, nothing spent.
    let min = DEFAULT_MIN_STAKE + DEFAULT_MIN_STAKE * 33 / 65_535;
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI), add_stake_call(min - 1))),
        "AmountTooLow"
    );
    assert_eq!(sim.free_balance(sim.head(), VALI).unwrap(), 90 * TAO);
    sim.submit(Some(VALI), add_stake_call(min)).unwrap();
    // An unknown hotkey is refused.
    let stranger = Call::AddStake {
        hotkey: Bytes32([0xEE; 32]),
        netuid: 1,
        amount_staked: TAO,
    };
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI), stranger)),
        "HotKeyAccountNotExists"
    );
}

#[test]
fn remove_stake_pays_the_free_balance_and_enforces_the_minimum_unless_it_empties_the_position() {
    let mut sim = fee_sim(RUNTIME_SWAP_FEE_RATE);
    sim.faucet(VALI, 10 * TAO).unwrap();
    let bought = only_stake_event(&sim.submit(Some(VALI), add_stake_call(10 * TAO)).unwrap());
    let r0 = sim.pool_reserves(sim.head(), 1).unwrap();
    // Price ~0.25 TAO/alpha: 4_000_000 alpha is worth ~0.001 TAO, below the minimum.
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI), remove_stake_call(4_000_000))),
        "AmountTooLow"
    );
    let half = bought.alpha / 2;
    let e = only_stake_event(&sim.submit(Some(VALI), remove_stake_call(half)).unwrap());
    let fee = half * 33 / 65_535;
    assert_eq!((e.alpha, e.fee), (half - fee, fee));
    let expected = u64::try_from(
        u128::from(r0.tao_in) * u128::from(half - fee) / u128::from(r0.alpha_in + half - fee),
    )
    .unwrap();
    assert_eq!(e.tao, expected);
    assert_eq!(sim.free_balance(sim.head(), VALI).unwrap(), expected);
    let r1 = sim.pool_reserves(sim.head(), 1).unwrap();
    assert_eq!(r1.alpha_in, r0.alpha_in + half - fee);
    assert_eq!(
        r1.alpha_out,
        r0.alpha_out - half,
        "the fee's alpha is burned"
    );
    // Emptying the position needs no minimum, and the request is clamped to what is held.
    let rest = bought.alpha - half;
    sim.submit(Some(VALI), remove_stake_call(u64::MAX)).unwrap();
    assert_eq!(sim.stake(sim.head(), VALI, MINER_HOT, 1).unwrap(), 0);
    assert!(rest > 0);
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI), remove_stake_call(1))),
        "AmountTooLow"
    );
    // A round trip loses the fees and the slippage, never gains.
    assert!(sim.free_balance(sim.head(), VALI).unwrap() < 10 * TAO);
}

#[test]
fn a_failed_batch_of_stakes_spends_nothing_and_the_faucet_stake_leaves_the_balance() {
    let mut sim = fee_sim(0);
    sim.faucet(VALI, 5 * TAO).unwrap();
    let batch = Call::BatchAll {
        calls: vec![add_stake_call(2 * TAO), add_stake_call(4 * TAO)],
    };
    assert_eq!(
        dispatch_name(sim.submit(Some(VALI), batch)),
        "NotEnoughBalanceToStake"
    );
    assert_eq!(sim.free_balance(sim.head(), VALI).unwrap(), 5 * TAO);
    assert_eq!(sim.stake(sim.head(), VALI, MINER_HOT, 1).unwrap(), 0);
    let batch = Call::BatchAll {
        calls: vec![add_stake_call(2 * TAO), add_stake_call(3 * TAO)],
    };
    sim.submit(Some(VALI), batch).unwrap();
    assert_eq!(sim.free_balance(sim.head(), VALI).unwrap(), 0);
    // The administrative stake is paid by the faucet in the same extrinsic.
    let inc = sim.add_stake(VALI, MINER_HOT, 1, 7 * TAO).unwrap();
    assert_eq!(only_stake_event(&inc).tao, 7 * TAO);
    assert_eq!(sim.free_balance(sim.head(), VALI).unwrap(), 0);
    let ext = &sim.block_extrinsics(inc.block.number).unwrap()[1];
    assert_eq!(ext.call, add_stake_call(7 * TAO));
}

#[test]
fn commitments_are_limited_to_the_pallets_space_per_epoch() {
    let mut sim = Simulator::new(SimConfig {
        volatility_ppm: 0,
        ..SimConfig::default()
    })
    .unwrap();
    sim.register_subnet(spec(1, 100)).unwrap();
    sim.register_neuron(1, MINER_HOT, MINER).unwrap();
    let epoch = sim
        .epoch_schedule(sim.head(), 1)
        .unwrap()
        .subnet_epoch_index;
    let call = |data: Vec<u8>| Call::SetCommitment { netuid: 1, data };
    // 3100 bytes an epoch, at least 100 a commitment: 29 short ones and one of 200 fill it.
    for _ in 0..29 {
        sim.submit(Some(MINER_HOT), call(b"2;b;".to_vec())).unwrap();
    }
    sim.submit(Some(MINER_HOT), call(vec![b'x'; 200])).unwrap();
    let space = sim.commitment_space(sim.head(), 1, MINER_HOT).unwrap();
    assert_eq!(
        (space.last_epoch, space.used_space, space.max_space),
        (epoch, 3_100, 3_100)
    );
    assert_eq!(space.free_in(epoch), 0);
    assert_eq!(space.free_in(epoch + 1), 3_100);
    assert_eq!(
        dispatch_name(sim.submit(Some(MINER_HOT), call(b"2;b;".to_vec()))),
        "SpaceLimitExceeded"
    );
    // The next epoch starts afresh.
    while sim
        .epoch_schedule(sim.head(), 1)
        .unwrap()
        .subnet_epoch_index
        == epoch
    {
        sim.advance(1).unwrap();
    }
    sim.submit(Some(MINER_HOT), call(b"2;b;".to_vec())).unwrap();
    let space = sim.commitment_space(sim.head(), 1, MINER_HOT).unwrap();
    assert_eq!((space.last_epoch, space.used_space), (epoch + 1, 100));
}

/// The reveal applies the weights as `set_weights` would and drops, without an event, a commit
/// whose version key is below `WeightsVersionKey` or whose hotkey lost its validator permit (and
/// weights others); the commit itself lands in both cases.
#[test]
fn reveals_drop_an_old_version_key_and_a_hotkey_without_a_permit() {
    // The payload carries version key 1.
    let (mut sim, uid) = timelocked_setup();
    sim.set_weights_rules(
        1,
        WeightsRules {
            version_key: 2,
            ..WeightsRules::default()
        },
    )
    .unwrap();
    let (call, _) = commit_for(&sim, VALI_HOT, vec![0, 1], vec![100, 65535]);
    sim.submit(Some(VALI_HOT), call).unwrap();
    assert_eq!(revealed_within(&mut sim, uid, 40), None, "old version key");

    let (mut sim, uid) = timelocked_setup();
    let (call, _) = commit_for(&sim, VALI_HOT, vec![0, 1], vec![100, 65535]);
    sim.submit(Some(VALI_HOT), call).unwrap();
    let staked = sim.stake(sim.head(), VALI, VALI_HOT, 1).unwrap();
    sim.remove_stake(VALI, VALI_HOT, 1, staked).unwrap();
    assert_eq!(revealed_within(&mut sim, uid, 40), None, "no permit");

    // Both rules at their defaults: revealed.
    let (mut sim, uid) = timelocked_setup();
    let (call, _) = commit_for(&sim, VALI_HOT, vec![0, 1], vec![100, 65535]);
    sim.submit(Some(VALI_HOT), call).unwrap();
    assert!(revealed_within(&mut sim, uid, 40).is_some());
}

#[test]
fn locked_alpha_stays_staked_and_does_not_move_to_the_vault() {
    let mut sim = setup();
    let total = held(&sim, MINER, 1);
    let lock = total / 2;
    sim.lock_stake(MINER, MINER_HOT, 1, lock).unwrap();
    let a = sim.stake_availability(sim.head(), MINER).unwrap();
    assert_eq!(a[&1].total, total);
    assert_eq!(a[&1].locked, lock);
    assert_eq!(a[&1].available, total - lock);
    // Subnet 2 has stake and no lock.
    assert_eq!(a[&2].locked, 0);
    // A lock counts against the coldkey's stake on the subnet, not beyond it, and is to one
    // hotkey.
    assert!(sim
        .lock_stake(MINER, MINER_HOT, 1, total)
        .unwrap_err()
        .to_string()
        .contains("InsufficientStakeForLock"));
    assert!(sim
        .lock_stake(MINER, OWNER_HOT, 1, 1_000)
        .unwrap_err()
        .to_string()
        .contains("LockHotkeyMismatch"));

    // Delivering more than the unlocked part to another coldkey: refused whole, in a batch too.
    let head = sim.head();
    let over = (total - lock) + 1_000_000;
    assert_eq!(
        dispatch_name(sim.submit(Some(MINER), transfer(1, over))),
        "AccountRejectsLockedAlpha"
    );
    let batch = Call::BatchAll {
        calls: vec![transfer(2, TAO / 2), transfer(1, over)],
    };
    assert_eq!(
        dispatch_name(sim.submit(Some(MINER), batch)),
        "AccountRejectsLockedAlpha"
    );
    assert_eq!(
        held(&sim, VAULT, 2),
        0,
        "the batch's first transfer was undone"
    );
    assert!(sim.head() > head);
    // Unstaking or moving it across subnets is refused too.
    let unstake = Call::RemoveStake {
        hotkey: MINER_HOT,
        netuid: 1,
        amount_unstaked: over,
    };
    assert_eq!(
        dispatch_name(sim.submit(Some(MINER), unstake)),
        "StakeUnavailable"
    );
    let across = Call::TransferStake(TransferStake {
        destination_coldkey: MINER,
        hotkey: MINER_HOT,
        origin_netuid: 1,
        destination_netuid: 2,
        alpha_amount: over,
    });
    assert_eq!(
        dispatch_name(sim.submit(Some(MINER), across)),
        "StakeUnavailable"
    );
    // The unlocked part moves.
    let free = sim.stake_availability(sim.head(), MINER).unwrap()[&1].available;
    sim.submit(Some(MINER), transfer(1, free)).unwrap();
    assert_eq!(held(&sim, VAULT, 1), free);
    // And the lock decays with the blocks (exp(-dt / UnlockRate)), as the runtime's does.
    sim.advance(7_200).unwrap();
    let later = sim.stake_availability(sim.head(), MINER).unwrap()[&1];
    assert!(
        later.locked < lock && later.locked > lock / 100 * 99,
        "{later:?}"
    );
    assert_eq!(later.available, later.total - later.locked);
}
