//! The chain's subnet epoch schedule (the stateful tempo model of subtensor spec 423 and later),
//! ported as pure integer code: no I/O, no clock, no floats.
//!
//! Sources, opentensor/subtensor `main` 14bc6f9f (spec 425):
//! - `should_run_epoch` (`pallets/subtensor/src/coinbase/run_coinbase.rs:1085-1100`): false at
//!   tempo 0; true once `PendingEpochAt` is reached; true when `BlocksSinceLastStep > 50 400`
//!   (the safety net); otherwise `block - LastEpochBlock >= tempo`. The period is `tempo`.
//! - `drain_pending` (`run_coinbase.rs:347-431`), per subnet and block, in subnet order:
//!   `BlocksSinceLastStep += 1`; if the epoch is due but `MaxEpochsPerBlock` epochs already ran in
//!   this block, `PendingEpochAt = block + 1` (`EpochDeferred`); otherwise the epoch runs
//!   (`BlocksSinceLastStep = 0`) and the slot is consumed: `LastEpochBlock = block`,
//!   `PendingEpochAt = 0`, `SubnetEpochIndex += 1`.
//! - `current_epoch_with_lookahead` (`subnets/weights.rs:1275-1283`): `SubnetEpochIndex`, plus one
//!   if the epoch is due at this block. Commits are filed under it (`weights.rs:345`), after the
//!   block's coinbase; reveals read it before (`coinbase/block_step.rs:18-20`).
//! - Reveals (`coinbase/reveal_commits.rs:39-201`): in every block whose look-ahead epoch is
//!   `commit_epoch + RevealPeriodEpochs` (and whose epoch is not being deferred in that block,
//!   `block_step.rs:81-99`) the chain tries to decrypt the commits of `commit_epoch`; a commit
//!   whose drand pulse is not on chain yet is kept and retried next block; once the look-ahead
//!   epoch moves past, the commit is deleted.
//! - `get_next_epoch_start_block` (`run_coinbase.rs:1124-1146`): `min(LastEpochBlock + tempo,
//!   PendingEpochAt if set)`, ignoring deferral and the safety net.
//!
//! The per-block cap on epochs is a property of all subnets together; the simulation takes it as
//! a hook (`cap_exhausted(block)`: whether `MaxEpochsPerBlock` epochs of subnets with a lower
//! netuid already ran in that block). `BlocksSinceLastStep` is reset only when the epoch's input
//! state is consistent (`is_epoch_input_state_consistent`); this port assumes it always is, as
//! `bittensor-drand` does.

use crate::types::EpochSchedule;
use crate::{Error, Result};

/// `MAX_TEMPO` (`pallets/subtensor/src/lib.rs:1814`): the owner's upper bound on tempo and the
/// safety net's threshold on `BlocksSinceLastStep`.
pub const MAX_TEMPO: u16 = 50_400;
/// [`MAX_TEMPO`] as a block count.
const SAFETY_NET: u64 = MAX_TEMPO as u64;
/// `MIN_TEMPO` (`lib.rs:1812`): the owner's lower bound on tempo (`set_tempo`).
pub const MIN_TEMPO: u16 = 360;
/// `AdminFreezeWindow`'s default (`lib.rs:1081`): a triggered epoch runs this many blocks after
/// the trigger, and owner changes are refused this close to an epoch.
pub const DEFAULT_ADMIN_FREEZE_WINDOW: u64 = 10;
/// `MaxEpochsPerBlock` on finney (`runtime/src/lib.rs:1042`, `prod_or_fast!(2, 32)`).
pub const DEFAULT_MAX_EPOCHS_PER_BLOCK: u8 = 2;
/// A commit made with the head at block `h` is assumed included at `h + 1`, as the SDK assumes.
pub const COMMIT_INCLUSION_BLOCK_OFFSET: u64 = 1;
/// The SDK aims the reveal round this many blocks after the first reveal block, so that the chain
/// has ingested the pulse when it reveals.
pub const SECURITY_BLOCK_OFFSET: u64 = 3;

/// What the chain's coinbase did with one subnet's epoch in one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// No epoch was due.
    Idle,
    /// The epoch ran (the slot was consumed).
    Ran,
    /// The epoch was due but the per-block cap was used up: it is now pending at the next block.
    Deferred,
}

/// `should_run_epoch(block)` over the state at the end of the previous block (or, after the
/// block's coinbase, over the state at its end).
pub fn should_run_epoch(s: &EpochSchedule, block: u64) -> bool {
    if s.tempo == 0 {
        return false;
    }
    if s.pending_epoch_at > 0 && block >= s.pending_epoch_at {
        return true;
    }
    if s.blocks_since_last_step > SAFETY_NET {
        return true;
    }
    block.saturating_sub(s.last_epoch_block) >= u64::from(s.tempo)
}

/// `current_epoch_with_lookahead` at `block`: the epoch a commit or a reveal in that block belongs
/// to.
pub fn current_epoch_with_lookahead(s: &EpochSchedule, block: u64) -> u64 {
    if should_run_epoch(s, block) {
        s.subnet_epoch_index.saturating_add(1)
    } else {
        s.subnet_epoch_index
    }
}

/// `get_next_epoch_start_block`: the earliest block the next epoch can run at from this state,
/// `min(LastEpochBlock + tempo, PendingEpochAt if set)`; `None` at tempo 0. Deferral can make the
/// epoch later, the safety net earlier.
pub fn next_epoch_block(s: &EpochSchedule) -> Option<u64> {
    if s.tempo == 0 {
        return None;
    }
    let auto = s.last_epoch_block.saturating_add(u64::from(s.tempo));
    Some(if s.pending_epoch_at > 0 {
        auto.min(s.pending_epoch_at)
    } else {
        auto
    })
}

/// One block of the chain's coinbase for one subnet (`drain_pending`): moves `s` from the end of
/// block `block - 1` to the end of `block`. `cap_exhausted` says whether the per-block cap was
/// already used up by subnets before this one in that block.
pub fn step(s: &mut EpochSchedule, block: u64, cap_exhausted: bool) -> StepOutcome {
    s.blocks_since_last_step = s.blocks_since_last_step.saturating_add(1);
    if !should_run_epoch(s, block) {
        return StepOutcome::Idle;
    }
    if cap_exhausted {
        s.pending_epoch_at = block.saturating_add(1);
        return StepOutcome::Deferred;
    }
    s.blocks_since_last_step = 0;
    s.last_epoch_block = block;
    s.pending_epoch_at = 0;
    s.subnet_epoch_index = s.subnet_epoch_index.saturating_add(1);
    StepOutcome::Ran
}

/// `set_tempo` / `sudo_set_tempo` (`utils/misc.rs:119-125`): the new tempo, and the cycle
/// re-anchored at `now` (no epoch runs, the index does not move).
pub fn set_tempo(s: &mut EpochSchedule, tempo: u16, now: u64) {
    s.tempo = tempo;
    s.last_epoch_block = now;
}

/// How far [`predict_first_reveal_block`] simulates past the inclusion block before giving up:
/// `bittensor-drand`'s budget, `(reveal_period + 1) x MAX_TEMPO`.
pub fn simulation_budget(reveal_period_epochs: u64) -> u64 {
    reveal_period_epochs
        .saturating_mul(SAFETY_NET)
        .saturating_add(SAFETY_NET)
}

fn no_reveal(head: u64, why: &str) -> Error {
    Error::invalid(format!("epoch schedule at block {head}"), why.to_string())
}

fn check_revealable(s: &EpochSchedule, head: u64) -> Result<()> {
    if s.tempo == 0 {
        return Err(no_reveal(head, "tempo is 0: the subnet runs no epochs"));
    }
    if s.reveal_period_epochs == 0 {
        // The chain's range is 1..=100 (`RevealPeriodTooSmall`).
        return Err(no_reveal(
            head,
            "reveal period 0 (the chain allows 1..=100)",
        ));
    }
    Ok(())
}

/// The epoch a commit included at `head + 1` is filed under: the look-ahead epoch after that
/// block's coinbase, as `internal_commit_timelocked_weights` computes it. Also returns the state
/// at the end of `head + 1`.
fn commit_epoch(
    head_state: &EpochSchedule,
    head: u64,
    cap_exhausted: &mut impl FnMut(u64) -> bool,
) -> (u64, EpochSchedule) {
    let inclusion = head.saturating_add(COMMIT_INCLUSION_BLOCK_OFFSET);
    let mut s = *head_state;
    let exhausted = should_run_epoch(&s, inclusion) && cap_exhausted(inclusion);
    step(&mut s, inclusion, exhausted);
    (current_epoch_with_lookahead(&s, inclusion), s)
}

/// The first block at which the chain tries to reveal a commit made with the head at `head` (so
/// included at `head + 1`), simulating the chain block by block from the schedule at the end of
/// `head`; `cap_exhausted(block)` is the per-block cap hook (pass `|_| false` for none).
///
/// Differs from `bittensor-drand` 2.0's `predict_first_reveal_block` in one case only: when the
/// epoch runs at the inclusion block through the safety net alone (`BlocksSinceLastStep` exactly
/// 50 400 at `head`), the chain files the commit under the new epoch and this port follows the
/// chain; `bittensor-drand` reads the look-ahead before that block's coinbase and is one epoch
/// early. It also models the cap, which `bittensor-drand` does not.
pub fn predict_first_reveal_block(
    head_state: &EpochSchedule,
    head: u64,
    mut cap_exhausted: impl FnMut(u64) -> bool,
) -> Result<u64> {
    check_revealable(head_state, head)?;
    let (commit, mut s) = commit_epoch(head_state, head, &mut cap_exhausted);
    let target = commit.saturating_add(head_state.reveal_period_epochs);
    let inclusion = head.saturating_add(COMMIT_INCLUSION_BLOCK_OFFSET);
    let last = inclusion.saturating_add(simulation_budget(head_state.reveal_period_epochs));
    // The inclusion block's reveals ran before the commit existed.
    let mut block = inclusion.saturating_add(1);
    while block <= last {
        let due = should_run_epoch(&s, block);
        let exhausted = due && cap_exhausted(block);
        // `reveal_crv3_commits` skips a subnet whose epoch is deferred in this block.
        if !exhausted && current_epoch_with_lookahead(&s, block) == target {
            return Ok(block);
        }
        step(&mut s, block, exhausted);
        block = block.saturating_add(1);
    }
    Err(no_reveal(
        head,
        "no reveal within the simulation budget of (reveal period + 1) x 50400 blocks",
    ))
}

/// [`predict_first_reveal_block`] without the per-block cap, in closed form: the epochs run at
/// `G1 = max(h + 1, min(LastEpochBlock + tempo, PendingEpochAt if set, h + 50 401 -
/// BlocksSinceLastStep))` and then every `min(tempo, 50 401)` blocks; the commit is filed under
/// `SubnetEpochIndex + [G1 = h + 1]`, and the chain first tries to reveal it where the
/// look-ahead reaches `commit epoch + reveal period`, which is the block of that epoch, or the
/// block after it when that epoch runs through the safety net alone (the look-ahead before the
/// coinbase does not see it). In the common case (`G1 > h + 1`, tempo at most 50 400, no safety
/// net) this is `next_epoch_block + (reveal_period - 1) x tempo`.
pub fn first_reveal_block(head_state: &EpochSchedule, head: u64) -> Result<u64> {
    let s = head_state;
    check_revealable(s, head)?;
    let tempo = u64::from(s.tempo);
    let inclusion = head.saturating_add(COMMIT_INCLUSION_BLOCK_OFFSET);
    let auto = s.last_epoch_block.saturating_add(tempo);
    let pending = if s.pending_epoch_at > 0 {
        s.pending_epoch_at
    } else {
        u64::MAX
    };
    // The safety net runs the epoch in the first block whose incremented counter exceeds 50 400.
    let safety = head
        .saturating_add(SAFETY_NET + 1)
        .saturating_sub(s.blocks_since_last_step);
    let first = inclusion.max(auto.min(pending).min(safety));
    // A safety-net epoch is seen by the look-ahead only in the block after it runs.
    let first_late = safety < auto && safety < pending && safety >= inclusion;
    let spacing = tempo.min(SAFETY_NET + 1);
    let later_late = tempo > SAFETY_NET + 1;
    let runs_at_inclusion = first == inclusion;
    let needed = s
        .reveal_period_epochs
        .saturating_add(u64::from(runs_at_inclusion));
    let last = inclusion.saturating_add(simulation_budget(s.reveal_period_epochs));
    let reveal = if needed == 1 {
        // A late-seen first epoch followed at once by the next one (tempo 1) makes the look-ahead
        // skip its index; the chain never reveals then.
        if first_late && spacing == 1 {
            return Err(no_reveal(head, "the look-ahead skips the reveal epoch"));
        }
        first.saturating_add(u64::from(first_late))
    } else {
        first
            .saturating_add(spacing.saturating_mul(needed.saturating_sub(1)))
            .saturating_add(u64::from(later_late))
    };
    if reveal > last {
        return Err(no_reveal(
            head,
            "no reveal within the simulation budget of (reveal period + 1) x 50400 blocks",
        ));
    }
    Ok(reveal)
}

/// What the reveal round depends on besides the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundClock {
    /// Unix time at the head (seconds).
    pub now_unix: u64,
    /// Seconds per block (12 on finney).
    pub block_time_secs: u64,
    /// The beacon's genesis time.
    pub beacon_genesis: u64,
    /// The beacon's period (seconds).
    pub beacon_period: u64,
}

/// The beacon round a commit revealed first at `reveal_block` is encrypted to, with the head at
/// `head`: `max(1, floor((now + (reveal_block + 3 - head) x block_time - genesis) / period))`,
/// `bittensor-drand` 2.0's `generate_commit_v2` in integers (with a whole number of seconds per
/// block its float expression has the same floor: the fractional second of its clock cannot
/// carry over a multiple of the period).
pub fn reveal_round(reveal_block: u64, head: u64, clock: &RoundClock) -> Result<u64> {
    if clock.beacon_period == 0 {
        return Err(Error::invalid("beacon period", "zero"));
    }
    let blocks = reveal_block
        .saturating_add(SECURITY_BLOCK_OFFSET)
        .saturating_sub(head);
    let target = clock
        .now_unix
        .saturating_add(blocks.saturating_mul(clock.block_time_secs));
    Ok((target.saturating_sub(clock.beacon_genesis) / clock.beacon_period).max(1))
}

/// The first reveal block (no cap) and the reveal round of a commit made with the head at `head`.
pub fn commit_reveal_target(
    head_state: &EpochSchedule,
    head: u64,
    clock: &RoundClock,
) -> Result<(u64, u64)> {
    let block = predict_first_reveal_block(head_state, head, |_| false)?;
    Ok((block, reveal_round(block, head, clock)?))
}

/// The block after which a commit made with the head at `head` is filed under a later epoch than
/// one included at `head + 1` (the next epoch is due by then); `None` when no epoch is due within
/// `slack` blocks after the inclusion block. A keeper reading the finalized head commits some
/// blocks later than `head + 1`: inside that slack the chain may reveal it an epoch later than the
/// round it was encrypted to, so the weights become readable an epoch early.
pub fn commit_epoch_changes_within(s: &EpochSchedule, head: u64, slack: u64) -> Option<u64> {
    let inclusion = head.saturating_add(COMMIT_INCLUSION_BLOCK_OFFSET);
    let (epoch, mut state) = commit_epoch(s, head, &mut |_| false);
    for block in inclusion.saturating_add(1)..=inclusion.saturating_add(slack) {
        step(&mut state, block, false);
        if current_epoch_with_lookahead(&state, block) != epoch {
            return Some(block);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn state(
        tempo: u16,
        last: u64,
        pending: u64,
        index: u64,
        bsls: u64,
        period: u64,
    ) -> EpochSchedule {
        EpochSchedule {
            tempo,
            last_epoch_block: last,
            pending_epoch_at: pending,
            subnet_epoch_index: index,
            blocks_since_last_step: bsls,
            reveal_period_epochs: period,
        }
    }

    /// Runs `n` blocks after `from` without a cap; returns the blocks where an epoch ran.
    fn run(s: &mut EpochSchedule, from: u64, n: u64) -> Vec<u64> {
        (from + 1..=from + n)
            .filter(|b| step(s, *b, false) == StepOutcome::Ran)
            .collect()
    }

    #[test]
    fn should_run_epoch_follows_the_chain() {
        let s = state(360, 1000, 0, 5, 0, 1);
        assert!(!should_run_epoch(&s, 1359));
        assert!(should_run_epoch(&s, 1360));
        assert!(!should_run_epoch(&state(0, 0, 1, 0, 60_000, 1), 10_000));
        // A pending epoch fires from its block on.
        let p = state(360, 1000, 1100, 5, 0, 1);
        assert!(!should_run_epoch(&p, 1099));
        assert!(should_run_epoch(&p, 1100));
        // The safety net: strictly more than 50 400 blocks since the last step.
        assert!(!should_run_epoch(&state(360, 1000, 0, 5, 50_400, 1), 1001));
        assert!(should_run_epoch(&state(360, 1000, 0, 5, 50_401, 1), 1001));
        assert_eq!(current_epoch_with_lookahead(&s, 1360), 6);
        assert_eq!(current_epoch_with_lookahead(&s, 1359), 5);
        assert_eq!(next_epoch_block(&s), Some(1360));
        assert_eq!(next_epoch_block(&p), Some(1100));
        assert_eq!(next_epoch_block(&state(0, 1, 0, 0, 0, 1)), None);
    }

    #[test]
    fn the_period_is_tempo_not_tempo_plus_one() {
        let mut s = state(360, 1000, 0, 0, 0, 1);
        let ran = run(&mut s, 1000, 3600);
        assert_eq!(ran, (1..=10).map(|k| 1000 + 360 * k).collect::<Vec<_>>());
        assert_eq!(s.subnet_epoch_index, 10);
        assert_eq!(s.last_epoch_block, 4600);
    }

    #[test]
    fn a_deferred_epoch_runs_a_block_later_and_re_anchors() {
        let mut s = state(360, 1000, 0, 7, 0, 1);
        run(&mut s, 1000, 359);
        assert_eq!(step(&mut s, 1360, true), StepOutcome::Deferred);
        assert_eq!((s.pending_epoch_at, s.subnet_epoch_index), (1361, 7));
        // Deferred again, then it runs; the cycle continues from where it ran.
        assert_eq!(step(&mut s, 1361, true), StepOutcome::Deferred);
        assert_eq!(s.pending_epoch_at, 1362);
        assert_eq!(step(&mut s, 1362, false), StepOutcome::Ran);
        assert_eq!(
            (s.last_epoch_block, s.pending_epoch_at, s.subnet_epoch_index),
            (1362, 0, 8)
        );
        assert_eq!(run(&mut s, 1362, 360), vec![1722]);
    }

    #[test]
    fn set_tempo_re_anchors_the_cycle_without_an_epoch() {
        let mut s = state(360, 1000, 0, 3, 0, 1);
        run(&mut s, 1000, 100);
        set_tempo(&mut s, 720, 1100);
        assert_eq!((s.last_epoch_block, s.subnet_epoch_index), (1100, 3));
        assert_eq!(next_epoch_block(&s), Some(1820));
        assert_eq!(run(&mut s, 1100, 1440), vec![1820, 2540]);
    }

    #[test]
    fn a_pending_epoch_runs_early_and_the_cycle_follows_it() {
        let mut s = state(360, 1000, 1050, 0, 40, 1);
        assert_eq!(run(&mut s, 1040, 400), vec![1050, 1410]);
        assert_eq!(s.pending_epoch_at, 0);
    }

    #[test]
    fn reveal_vectors_of_bittensor_drand_hold() {
        // `cycle_reset` and `pending_fires_before_auto` of bittensor-drand's epoch schedule
        // vectors (src/epoch_schedule_vectors.rs), as quoted in the research notes.
        let reset = state(50, 10, 0, 0, 0, 1);
        assert_eq!(
            predict_first_reveal_block(&reset, 10, |_| false).unwrap(),
            60
        );
        assert_eq!(first_reveal_block(&reset, 10).unwrap(), 60);
        // Tempo 360, epoch at 1000: a commit at 1100 is revealed when the next epoch runs.
        let s = state(360, 1000, 0, 4, 100, 1);
        assert_eq!(
            predict_first_reveal_block(&s, 1100, |_| false).unwrap(),
            1360
        );
        let two = EpochSchedule {
            reveal_period_epochs: 2,
            ..s
        };
        assert_eq!(
            predict_first_reveal_block(&two, 1100, |_| false).unwrap(),
            1720
        );
        // A commit included in the epoch's own block belongs to that epoch.
        assert_eq!(
            predict_first_reveal_block(&s, 1359, |_| false).unwrap(),
            1720
        );
        assert!(predict_first_reveal_block(&state(0, 0, 0, 0, 0, 1), 5, |_| false).is_err());
    }

    #[test]
    fn a_deferral_delays_the_reveal_to_the_block_the_epoch_runs() {
        let s = state(360, 1000, 0, 4, 100, 1);
        // The cap is used up at 1360 and 1361: the epoch runs at 1362, and reveals are skipped
        // while it is being deferred.
        let reveal = predict_first_reveal_block(&s, 1100, |b| b == 1360 || b == 1361).unwrap();
        assert_eq!(reveal, 1362);
        // A commit included at a deferred fire block belongs to the epoch that is about to run.
        let at = predict_first_reveal_block(&s, 1359, |b| b == 1360).unwrap();
        assert_eq!(at, 1361 + 360);
    }

    #[test]
    fn the_safety_net_edge_follows_the_chain() {
        // 50 400 blocks since the last step at the head: the epoch runs at the inclusion block
        // through the safety net, the commit is filed under the new epoch, and its reveal epoch
        // is the one after; the reveal is seen a tempo later.
        let s = state(60_000, 0, 0, 2, 50_400, 1);
        let head = 50_400;
        assert!(!should_run_epoch(&s, head + 1));
        let (epoch, after) = commit_epoch(&s, head, &mut |_| false);
        assert_eq!((epoch, after.subnet_epoch_index), (3, 3));
        let reveal = predict_first_reveal_block(&s, head, |_| false).unwrap();
        assert_eq!(reveal, first_reveal_block(&s, head).unwrap());
        // The next epoch also runs through the safety net (tempo 60 000 > 50 401) and is seen a
        // block after it runs.
        assert_eq!(reveal, head + 1 + 50_401 + 1);
    }

    #[test]
    fn reveal_round_is_the_sdk_formula_in_integers() {
        let clock = RoundClock {
            now_unix: 1_692_803_367 + 3_000,
            block_time_secs: 12,
            beacon_genesis: 1_692_803_367,
            beacon_period: 3,
        };
        // 84 blocks (reveal 1081 + 3 - head 1000) = 1008 s after now.
        assert_eq!(
            reveal_round(1081, 1000, &clock).unwrap(),
            (3_000 + 1008) / 3
        );
        let early = RoundClock {
            now_unix: 0,
            ..clock
        };
        assert_eq!(reveal_round(1081, 1000, &early).unwrap(), 1);
        let broken = RoundClock {
            beacon_period: 0,
            ..clock
        };
        assert!(reveal_round(1081, 1000, &broken).is_err());
    }

    #[test]
    fn a_commit_near_an_epoch_is_flagged() {
        let s = state(360, 1000, 0, 4, 100, 1);
        assert_eq!(commit_epoch_changes_within(&s, 1350, 12), Some(1360));
        assert_eq!(commit_epoch_changes_within(&s, 1300, 12), None);
    }

    fn arb_state() -> impl Strategy<Value = (EpochSchedule, u64)> {
        (
            prop_oneof![1u16..=400, 360u16..=1000, 1u16..=u16::MAX],
            0u64..5_000,
            prop_oneof![Just(0u64), 0u64..6_000],
            0u64..1_000,
            prop_oneof![0u64..400, 50_000u64..50_500, 0u64..60_000],
            0u64..4,
            0u64..6_000,
        )
            .prop_map(|(tempo, last, pending, index, bsls, period, head)| {
                (state(tempo, last, pending, index, bsls, period), head)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn the_closed_form_equals_the_simulation((s, head) in arb_state()) {
            let simulated = predict_first_reveal_block(&s, head, |_| false).ok();
            prop_assert_eq!(first_reveal_block(&s, head).ok(), simulated);
        }

        #[test]
        fn epochs_are_tempo_apart_and_counted(tempo in 1u16..2_000, last in 0u64..10_000, n in 1u64..5_000) {
            let mut s = state(tempo, last, 0, 0, 0, 1);
            let ran = run(&mut s, last, n);
            prop_assert_eq!(ran.len() as u64, n / u64::from(tempo));
            prop_assert!(ran.iter().enumerate().all(|(k, b)| *b == last + (k as u64 + 1) * u64::from(tempo)));
            prop_assert_eq!(s.subnet_epoch_index, ran.len() as u64);
        }

        #[test]
        fn a_deferral_by_d_blocks_shifts_later_epochs_by_d(tempo in 10u16..1_000, d in 1u64..5) {
            let mut s = state(tempo, 0, 0, 0, 0, 1);
            let t = u64::from(tempo);
            let mut ran = Vec::new();
            for b in 1..=3 * t + d {
                let exhausted = b >= t && b < t + d;
                if step(&mut s, b, exhausted) == StepOutcome::Ran {
                    ran.push(b);
                }
            }
            prop_assert_eq!(ran, vec![t + d, 2 * t + d, 3 * t + d]);
        }

        #[test]
        fn set_tempo_restarts_the_cycle_at_the_call(t1 in 360u16..2_000, t2 in 360u16..2_000, at in 1u64..2_000) {
            let mut s = state(t1, 0, 0, 0, 0, 1);
            let before = run(&mut s, 0, at);
            set_tempo(&mut s, t2, at);
            let after = run(&mut s, at, 2 * u64::from(t2));
            prop_assert_eq!(after, vec![at + u64::from(t2), at + 2 * u64::from(t2)]);
            prop_assert_eq!(s.subnet_epoch_index, before.len() as u64 + 2);
        }

        #[test]
        fn a_reveal_block_is_where_the_lookahead_reaches_the_reveal_epoch((s, head) in arb_state()) {
            if let Ok(reveal) = predict_first_reveal_block(&s, head, |_| false) {
                let (commit, mut st) = commit_epoch(&s, head, &mut |_| false);
                for b in head + 2..reveal {
                    prop_assert_ne!(current_epoch_with_lookahead(&st, b), commit + s.reveal_period_epochs);
                    step(&mut st, b, false);
                }
                prop_assert_eq!(current_epoch_with_lookahead(&st, reveal), commit + s.reveal_period_epochs);
            }
        }
    }
}
