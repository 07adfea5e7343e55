//! The arbitrageur's decisions as pure functions of what its driver read: no chain, no store, no
//! clock. The driver ([`super::Arbitrageur`]) reads, asks these what to do, records the answer
//! and only then acts, so every rule a restart or a P&L depends on is tested here on its own, the
//! boundaries included.
//!
//! Amounts are integers (rao, wei, alpha rao); every division says which way it rounds.

use std::collections::BTreeMap;

use alloy::primitives::U256;
use tao20_chain::types::{AccountId, Call, Event, StakeAvailability, StakeEvent};
use tao20_creation::nav::WEI_PER_RAO;

use super::op::{CreateOp, Pnl, RedeemOp, StakeMove, TxRecord};
use crate::sizing::less_slippage;

/// Wei to rao, rounded up: what a cost is counted at.
pub(crate) fn ceil_rao(wei: U256) -> u64 {
    u64::try_from(wei.div_ceil(U256::from(WEI_PER_RAO))).unwrap_or(u64::MAX)
}

/// Wei to rao, rounded down: what proceeds are counted at.
pub(crate) fn floor_rao(wei: U256) -> u64 {
    u64::try_from(wei / U256::from(WEI_PER_RAO)).unwrap_or(u64::MAX)
}

/// Whether `call` carries `remark` (a delivery is a `batch_all` with the request's remark).
pub(crate) fn has_remark(call: &Call, remark: &[u8]) -> bool {
    match call {
        Call::BatchAll { calls } => calls
            .iter()
            .any(|c| matches!(c, Call::Remark { data } if data == remark)),
        _ => false,
    }
}

/// Whether `call` stakes or unstakes (a purchase or a sale of the miner's, not a delivery).
pub(crate) fn stake_calls(call: &Call) -> bool {
    match call {
        Call::AddStake { .. } | Call::RemoveStake { .. } => true,
        Call::BatchAll { calls } => calls.iter().any(stake_calls),
        _ => false,
    }
}

fn stake_move(block: u64, index: u32, e: &StakeEvent) -> StakeMove {
    StakeMove {
        block,
        index,
        netuid: e.netuid,
        tao: e.tao,
        alpha: e.alpha,
        fee: e.fee,
    }
}

/// The coldkey's own purchases (`added`) or sales among the events of extrinsic `index` of
/// `block`.
pub(crate) fn own_moves(
    block: u64,
    index: u32,
    events: &[Event],
    coldkey: AccountId,
    added: bool,
) -> Vec<StakeMove> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::StakeAdded(s) if added && s.coldkey == coldkey => {
                Some(stake_move(block, index, s))
            }
            Event::StakeRemoved(s) if !added && s.coldkey == coldkey => {
                Some(stake_move(block, index, s))
            }
            _ => None,
        })
        .collect()
}

/// Adds to `recorded` the moves found in the blocks that it does not hold yet (a move is its
/// block, extrinsic and netuid: one found twice, or found and also recorded from its inclusion,
/// counts once). Returns how many were new.
pub(crate) fn merge_moves(recorded: &mut Vec<StakeMove>, found: Vec<StakeMove>) -> usize {
    let mut new = 0;
    for m in found {
        let key = (m.block, m.index, m.netuid);
        if !recorded.iter().any(|r| (r.block, r.index, r.netuid) == key) {
            recorded.push(m);
            new += 1;
        }
    }
    new
}

/// Whether a stake extrinsic that may have been submitted at finalized head `from` (by a process
/// that died before recording it) is final by `head`: it lands a block after the best head then,
/// which finality trails, so scanning to `head` sooner could miss it and buy or sell twice.
pub(crate) fn watch_settled(from: u64, head: u64, inflight_blocks: u64) -> bool {
    head >= from.saturating_add(inflight_blocks)
}

/// What the staking hotkey's alpha can give a delivery, per basket netuid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holdings {
    /// What a delivery can move, per basket entry: the stake, less what a lock keeps.
    pub movable: Vec<u64>,
    /// `(netuid, alpha)` held under the hotkey that a stake lock keeps out of a delivery.
    pub locked: Vec<(u16, u64)>,
}

/// A stake lock (`staking/lock.rs`) counts against all of the coldkey's alpha on a subnet, and a
/// delivery that includes locked alpha fails whole: only the unlocked part of `staked` (the
/// hotkey's stake per basket entry) counts. `None` availability: the runtime has no locks.
pub(crate) fn holdings(
    basket: &[(u16, u64)],
    staked: &[u64],
    availability: Option<&BTreeMap<u16, StakeAvailability>>,
) -> Holdings {
    let mut movable = Vec::with_capacity(basket.len());
    let mut locked = Vec::new();
    for ((n, _), staked) in basket.iter().zip(staked) {
        let free = match availability {
            Some(a) => (*staked).min(a.get(n).map_or(0, |a| a.available)),
            None => *staked,
        };
        if free < *staked {
            locked.push((*n, staked - free));
        }
        movable.push(free);
    }
    Holdings { movable, locked }
}

/// The value of `alpha` at `price` (rao per alpha, FP18 raw), rounded down, saturating.
pub(crate) fn alpha_value(alpha: u64, price: u64) -> u64 {
    let v = u128::from(alpha) * u128::from(price) / u128::from(WEI_PER_RAO);
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// What the basket still needs bought: `(netuid, alpha)` where the movable holding is short.
pub(crate) fn shortfall(basket: &[(u16, u64)], movable: &[u64]) -> Vec<(u16, u64)> {
    basket
        .iter()
        .zip(movable)
        .filter(|((_, need), have)| *have < need)
        .map(|((n, need), have)| (*n, need - have))
        .collect()
}

/// Why a purchase must not be attempted, if it must not: too close to the delivery window's end
/// (`head + margin >= window end`), or three purchases failed already.
pub(crate) fn purchase_refused(
    c: &CreateOp,
    head: u64,
    window_end: u64,
    margin_blocks: u64,
) -> Option<&'static str> {
    if head.saturating_add(margin_blocks) >= window_end {
        Some("the delivery window closes before the basket is bought")
    } else if c.buy_failures >= 3 {
        Some("the basket could not be bought")
    } else {
        None
    }
}

/// The `add_stake` amount for `tao_to_buy` (the smallest that buys the shortfall at the pool's
/// state): raised by `buffer_bps` (rounded down) against the pool moving before inclusion, and at
/// least twice the runtime's minimum stake (the minimum plus its fee).
pub(crate) fn stake_for(tao_to_buy: u64, buffer_bps: u16, min_stake_rao: u64) -> u64 {
    let tao = u128::from(tao_to_buy) * u128::from(10_000 + u64::from(buffer_bps)) / 10_000;
    let floor = u128::from(min_stake_rao) * 2;
    u64::try_from(tao.max(floor)).unwrap_or(u64::MAX)
}

/// What a recorded delivery intent calls for when its extrinsic is not (yet) found on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Absent {
    /// It may still land: within `inflight_blocks` of its submission and inside the window.
    Wait,
    /// Too late for another try.
    Abandon,
    /// Proven absent for `inflight_blocks` blocks with time left: the first submission is lost.
    Resubmit,
}

/// The rule that keeps a restarted miner from delivering twice for one request.
pub(crate) fn delivery_absent(
    submitted_head: u64,
    head: u64,
    window_end: u64,
    inflight_blocks: u64,
    margin_blocks: u64,
) -> Absent {
    if head <= submitted_head.saturating_add(inflight_blocks) && head <= window_end {
        Absent::Wait
    } else if head.saturating_add(margin_blocks) >= window_end {
        Absent::Abandon
    } else {
        Absent::Resubmit
    }
}

/// The alpha of a creation to sell back on one netuid: what the hotkey holds above what it held
/// before the purchase, never more than the lock leaves free (a `batch_all` with one refused sale
/// sells nothing).
pub(crate) fn unwind_extra(held: u64, held_before: u64, free: u64) -> u64 {
    held.saturating_sub(held_before).min(free)
}

/// Whether selling `alpha` at `price` is more than dust: worth at least twice the minimum stake
/// (the runtime refuses to unstake less than the minimum unless it empties the position, which
/// would sell alpha held before).
pub(crate) fn worth_unstaking(alpha: u64, price: u64, min_stake_rao: u64) -> bool {
    u128::from(alpha_value(alpha, price)) >= u128::from(min_stake_rao) * 2
}

/// `minAmounts` of a redeem: each position's planned alpha scaled to the shares actually bought
/// (rounded down) less the slippage, in the fund's position order (`netuids`), native TAO last
/// with no minimum. A position the plan does not name gets 0.
pub(crate) fn redeem_min_amounts(
    planned: &[(u16, u64)],
    planned_shares: U256,
    shares: U256,
    netuids: &[u16],
    slippage_bps: u16,
) -> Vec<U256> {
    let mut out: Vec<U256> = netuids
        .iter()
        .map(|n| {
            let planned = planned.iter().find(|(k, _)| k == n).map_or(0, |(_, a)| *a);
            let scaled = if planned_shares.is_zero() {
                U256::ZERO
            } else {
                U256::from(planned) * shares / planned_shares
            };
            less_slippage(scaled, slippage_bps)
        })
        .collect();
    out.push(U256::ZERO);
    out
}

/// Gas of the mined transactions, rao (rounded up).
pub(crate) fn gas_rao(txs: &[TxRecord]) -> u64 {
    ceil_rao(
        txs.iter()
            .filter_map(|t| t.outcome.as_ref())
            .fold(U256::ZERO, |a, o| a + o.cost_wei),
    )
}

/// A creation's P&L: proceeds (the shares' sale, rounded down, and alpha sold back) less cost
/// (alpha bought and alpha already held, at its value when the basket was bought), gas, and the
/// bond when a request existed and did not mint.
pub(crate) fn creation_pnl(c: &CreateOp) -> Pnl {
    let spent: u64 = c.buys.iter().map(|b| b.tao).fold(0, u64::saturating_add);
    let sold_back: u64 = c.unwinds.iter().map(|u| u.tao).fold(0, u64::saturating_add);
    let sale = c.sale_wei.map_or(0, floor_rao);
    let gas = gas_rao(&c.txs);
    let minted = c.outcome.as_deref() == Some("minted");
    let bond_lost = if minted || c.request_block.is_none() {
        0
    } else {
        floor_rao(c.bond_wei)
    };
    let cost = spent.saturating_add(c.held_value_rao);
    let proceeds = sale.saturating_add(sold_back);
    Pnl {
        cost_rao: cost,
        proceeds_rao: proceeds,
        gas_rao: gas,
        bond_lost_rao: bond_lost,
        profit_rao: i128::from(proceeds)
            - i128::from(cost)
            - i128::from(gas)
            - i128::from(bond_lost),
    }
}

/// A redemption's P&L: alpha sold and native TAO paid (rounded down) less the TAO spent on shares
/// (none when no share was bought) and gas.
pub(crate) fn redemption_pnl(r: &RedeemOp) -> Pnl {
    let spent = if r.shares.is_some() {
        r.plan.spend_rao
    } else {
        0
    };
    let unstaked: u64 = r
        .unstakes
        .iter()
        .map(|u| u.tao)
        .fold(0, u64::saturating_add);
    let proceeds = unstaked.saturating_add(r.native_wei.map_or(0, floor_rao));
    let gas = gas_rao(&r.txs);
    Pnl {
        cost_rao: spent,
        proceeds_rao: proceeds,
        gas_rao: gas,
        bond_lost_rao: 0,
        profit_rao: i128::from(proceeds) - i128::from(spent) - i128::from(gas),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arb::op::Snapshot;
    use crate::evm::{SignedTx, TxOutcome};
    use crate::sizing::{CreationPlan, RedemptionPlan};
    use alloy::primitives::{Bytes, B256};
    use tao20_chain::types::Bytes32;

    const ME: AccountId = Bytes32([7; 32]);
    const OTHER: AccountId = Bytes32([8; 32]);

    fn ev(coldkey: AccountId, netuid: u16, tao: u64) -> StakeEvent {
        StakeEvent {
            coldkey,
            hotkey: Bytes32([1; 32]),
            netuid,
            tao,
            alpha: tao * 2,
            fee: 1,
        }
    }

    fn mv(block: u64, index: u32, netuid: u16, tao: u64) -> StakeMove {
        StakeMove {
            block,
            index,
            netuid,
            tao,
            alpha: tao * 2,
            fee: 1,
        }
    }

    fn tx(cost_wei: u64, mined: bool) -> TxRecord {
        TxRecord {
            signed: SignedTx {
                purpose: "x".into(),
                hash: B256::ZERO,
                nonce: 0,
                raw: Bytes::new(),
            },
            outcome: mined.then(|| TxOutcome {
                hash: B256::ZERO,
                block: 5,
                success: true,
                gas_used: 21_000,
                cost_wei: U256::from(cost_wei),
            }),
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            block: 1,
            nav_rao: U256::from(1u64),
            pool_price_rao: U256::from(1u64),
            premium_bps: 0,
        }
    }

    fn creation() -> CreateOp {
        let plan = CreationPlan {
            units: 1,
            value_rao: U256::ZERO,
            shares_out: U256::ZERO,
            cost_rao: 0,
            proceeds_rao: 0,
            profit_rao: 0,
            basket: Vec::new(),
        };
        let mut c = CreateOp::new(
            plan,
            snapshot(),
            (U256::ZERO, B256::ZERO, B256::ZERO),
            U256::ZERO,
            U256::from(3 * WEI_PER_RAO + 5),
        );
        c.step = "buying".into();
        c.request_block = Some(10);
        c.epoch_id = Some(0);
        c
    }

    #[test]
    fn only_the_coldkeys_own_moves_of_the_asked_direction_are_its_moves() {
        let events = vec![
            Event::StakeAdded(ev(ME, 1, 10)),
            Event::StakeAdded(ev(OTHER, 1, 11)),
            Event::StakeRemoved(ev(ME, 2, 12)),
            Event::StakeAdded(ev(ME, 3, 13)),
        ];
        let bought = own_moves(9, 4, &events, ME, true);
        assert_eq!(bought, vec![mv(9, 4, 1, 10), mv(9, 4, 3, 13)]);
        let sold = own_moves(9, 4, &events, ME, false);
        assert_eq!(sold, vec![mv(9, 4, 2, 12)]);
    }

    #[test]
    fn a_move_found_in_the_blocks_and_already_recorded_counts_once() {
        let mut recorded = vec![mv(9, 4, 1, 10)];
        // The same extrinsic's move (as its inclusion recorded it), a second netuid of it, and
        // another block.
        let found = vec![
            mv(9, 4, 1, 10),
            mv(9, 4, 2, 7),
            mv(11, 0, 1, 3),
            mv(11, 0, 1, 3),
        ];
        assert_eq!(merge_moves(&mut recorded, found), 2);
        assert_eq!(
            recorded,
            vec![mv(9, 4, 1, 10), mv(9, 4, 2, 7), mv(11, 0, 1, 3)]
        );
    }

    #[test]
    fn a_watched_submission_is_settled_only_inflight_blocks_after_it() {
        assert!(!watch_settled(100, 103, 4));
        assert!(watch_settled(100, 104, 4));
        // Saturating: a watch near the end of the numbers never settles early.
        assert!(!watch_settled(u64::MAX - 1, u64::MAX - 1, 4));
    }

    #[test]
    fn locked_alpha_is_not_movable_and_a_subnet_the_lock_map_omits_has_none_free() {
        let basket = [(1u16, 100u64), (2, 100), (3, 100)];
        let staked = [80u64, 50, 40];
        let mut avail = BTreeMap::new();
        avail.insert(
            1u16,
            StakeAvailability {
                total: 80,
                locked: 30,
                available: 50,
            },
        );
        avail.insert(
            2,
            StakeAvailability {
                total: 500,
                locked: 0,
                available: 500,
            },
        );
        let h = holdings(&basket, &staked, Some(&avail));
        assert_eq!(h.movable, vec![50, 50, 0]);
        assert_eq!(h.locked, vec![(1, 30), (3, 40)]);
        let h = holdings(&basket, &staked, None);
        assert_eq!(h.movable, staked.to_vec());
        assert!(h.locked.is_empty());
        assert_eq!(shortfall(&basket, &[50, 100, 120]), vec![(1, 50)]);
    }

    #[test]
    fn no_purchase_inside_the_margin_or_after_three_failures() {
        let mut c = creation();
        // Window ends at 110 with a margin of 5: 104 may buy, 105 may not.
        assert_eq!(purchase_refused(&c, 104, 110, 5), None);
        assert!(purchase_refused(&c, 105, 110, 5)
            .unwrap()
            .contains("window closes"));
        c.buy_failures = 2;
        assert_eq!(purchase_refused(&c, 100, 110, 5), None);
        c.buy_failures = 3;
        assert!(purchase_refused(&c, 100, 110, 5)
            .unwrap()
            .contains("could not be bought"));
    }

    #[test]
    fn a_purchase_carries_its_buffer_and_never_goes_below_twice_the_minimum_stake() {
        // 1 000 000 + 2.5 % = 1 025 000.
        assert_eq!(stake_for(1_000_000, 250, 1_000), 1_025_000);
        // Rounded down: 999 x 1.0001 = 999.0999.
        assert_eq!(stake_for(999, 1, 0), 999);
        assert_eq!(stake_for(10, 250, 500_000), 1_000_000);
        assert_eq!(stake_for(u64::MAX, 10_000, 0), u64::MAX);
    }

    #[test]
    fn a_lost_delivery_is_resubmitted_only_once_proven_absent_with_time_left() {
        // Submitted at 100, 4 blocks in flight, window ends at 130, margin 5.
        assert_eq!(delivery_absent(100, 104, 130, 4, 5), Absent::Wait);
        assert_eq!(delivery_absent(100, 105, 130, 4, 5), Absent::Resubmit);
        assert_eq!(delivery_absent(100, 124, 130, 4, 5), Absent::Resubmit);
        assert_eq!(delivery_absent(100, 125, 130, 4, 5), Absent::Abandon);
        // Past the window nothing waits, however recent the submission.
        assert_eq!(delivery_absent(129, 131, 130, 4, 5), Absent::Abandon);
    }

    #[test]
    fn only_the_bought_extra_the_lock_leaves_free_and_not_dust_is_sold_back() {
        let price = WEI_PER_RAO; // one rao per alpha rao
        assert_eq!(unwind_extra(150, 100, 1_000), 50);
        // The lock leaves 30 free.
        assert_eq!(unwind_extra(150, 100, 30), 30);
        // Worth 19 < 2 x 10: dust stays; worth exactly 20 sells.
        assert_eq!(unwind_extra(119, 100, 1_000), 19);
        assert!(!worth_unstaking(19, price, 10));
        assert_eq!(unwind_extra(120, 100, 1_000), 20);
        assert!(worth_unstaking(20, price, 10));
        // Half a rao per alpha rao: 39 alpha is worth 19 (rounded down), dust.
        assert!(!worth_unstaking(39, price / 2, 10));
        // Nothing above what was held before.
        assert_eq!(unwind_extra(90, 100, 1_000), 0);
    }

    #[test]
    fn redeem_minimums_scale_to_the_shares_bought_in_position_order_native_last() {
        let planned = [(2u16, 1_000u64), (1, 500)];
        let got = redeem_min_amounts(
            &planned,
            U256::from(100u64),
            U256::from(50u64),
            &[1, 2, 3],
            0,
        );
        assert_eq!(
            got,
            vec![
                U256::from(250u64),
                U256::from(500u64),
                U256::ZERO,
                U256::ZERO
            ]
        );
        // A plan of no shares asks no minimum.
        let got = redeem_min_amounts(&planned, U256::ZERO, U256::from(50u64), &[1, 2], 0);
        assert_eq!(got, vec![U256::ZERO; 3]);
        // Slippage lowers each minimum.
        let got = redeem_min_amounts(&planned, U256::from(1u64), U256::from(1u64), &[2], 100);
        assert_eq!(got[0], less_slippage(U256::from(1_000u64), 100));
        assert!(got[0] < U256::from(1_000u64));
    }

    #[test]
    fn a_creations_pnl_counts_held_alpha_gas_up_and_the_bond_only_when_lost() {
        let mut c = creation();
        c.buys = vec![mv(11, 0, 1, 1_000), mv(11, 0, 2, 500)];
        c.held_value_rao = 200;
        c.unwinds = vec![mv(20, 1, 1, 40)];
        c.sale_wei = Some(U256::from(2_000 * WEI_PER_RAO + WEI_PER_RAO - 1));
        // 1.5 rao of gas is 2.
        c.txs = vec![
            tx(WEI_PER_RAO + WEI_PER_RAO / 2, true),
            tx(99 * WEI_PER_RAO, false),
        ];
        c.outcome = Some("minted".into());
        let p = creation_pnl(&c);
        assert_eq!(
            (p.cost_rao, p.proceeds_rao, p.gas_rao, p.bond_lost_rao),
            (1_700, 2_040, 2, 0)
        );
        assert_eq!(p.profit_rao, 2_040 - 1_700 - 2);
        c.outcome = Some("refunded".into());
        let p = creation_pnl(&c);
        assert_eq!(p.bond_lost_rao, 3);
        assert_eq!(p.profit_rao, 2_040 - 1_700 - 2 - 3);
        // No request ever existed: no bond was posted.
        c.request_block = None;
        assert_eq!(creation_pnl(&c).bond_lost_rao, 0);
    }

    #[test]
    fn a_redemption_that_bought_no_share_spent_nothing_on_shares() {
        let mut r = RedeemOp {
            step: "unstaking".into(),
            plan: RedemptionPlan {
                spend_rao: 5_000,
                shares: U256::from(9u64),
                burned: U256::from(9u64),
                amounts: Vec::new(),
                native_rao: 0,
                proceeds_rao: 0,
                profit_rao: 0,
            },
            decided: snapshot(),
            txs: vec![tx(3 * WEI_PER_RAO, true)],
            shares: Some(U256::from(9u64)),
            redeemed: None,
            native_wei: Some(U256::from(100 * WEI_PER_RAO + 1)),
            unstakes: vec![mv(30, 0, 1, 4_000), mv(30, 0, 2, 1_500)],
            unstake_watch_from: None,
            pnl: None,
            finished: None,
            note: None,
        };
        let p = redemption_pnl(&r);
        assert_eq!((p.cost_rao, p.proceeds_rao, p.gas_rao), (5_000, 5_600, 3));
        assert_eq!(p.profit_rao, 597);
        r.shares = None;
        r.unstakes.clear();
        r.native_wei = None;
        let p = redemption_pnl(&r);
        assert_eq!((p.cost_rao, p.proceeds_rao, p.profit_rao), (0, 0, -3));
    }

    #[test]
    fn each_step_settles_the_watch_of_its_own_stake_extrinsic() {
        use crate::arb::op::Operation;
        let mut c = creation();
        c.buy_watch_from = Some(1);
        c.unwind_watch_from = Some(2);
        let mut op = Operation::Create(Box::new(c));
        let (watch, moves) = op.stake_watch().unwrap();
        assert_eq!(*watch, Some(1));
        moves.push(mv(3, 0, 1, 1));
        op.set_step("unwinding");
        assert_eq!(*op.stake_watch().unwrap().0, Some(2));
        // Delivering has no stake extrinsic of its own: a watch there would be some other step's.
        op.set_step("delivering");
        assert!(op.stake_watch().is_none());
        let Operation::Create(c) = &op else {
            unreachable!()
        };
        assert_eq!(c.buys, vec![mv(3, 0, 1, 1)]);
        assert!(c.unwinds.is_empty());
    }

    #[test]
    fn stake_calls_and_remarks_are_found_inside_batches() {
        let remark = vec![1u8, 2, 3];
        let delivery = Call::BatchAll {
            calls: vec![Call::Remark {
                data: remark.clone(),
            }],
        };
        assert!(has_remark(&delivery, &remark));
        assert!(!has_remark(&delivery, &[9]));
        assert!(!has_remark(&Call::Remark { data: remark }, &[1, 2, 3]));
        assert!(!stake_calls(&delivery));
        let buy = Call::BatchAll {
            calls: vec![Call::AddStake {
                hotkey: ME,
                netuid: 1,
                amount_staked: 5,
            }],
        };
        assert!(stake_calls(&buy));
    }
}
