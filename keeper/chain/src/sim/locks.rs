//! Locked alpha (`pallets/subtensor/src/staking/lock.rs`, main 14bc6f9): a coldkey locks part of
//! its stake on a subnet to one hotkey; the lock is subnet-wide (it counts against all of the
//! coldkey's stake there) and decays exponentially with `UnlockRate` (half in about 90 days)
//! unless perpetual. While locked, that much alpha cannot be unstaked (`StakeUnavailable`) or
//! moved to another subnet; moved to another coldkey it carries its lock, which the destination
//! must accept (`AccountFlags`' accept-locked-alpha bit, else `AccountRejectsLockedAlpha`).
//!
//! The simulator models the individual lock's locked mass (not conviction or the aggregates,
//! which only weigh hotkeys), with the runtime's own decay: `exp(-dt / UnlockRate)` in `I64F64`
//! (`exp_decay`), times the mass in `U64F64`, truncated.

use serde::{Deserialize, Serialize};
use substrate_fixed::transcendental::exp;
use substrate_fixed::types::{I64F64, U64F64};

use crate::types::{AccountId, BlockNumber};

/// `DefaultUnlockRate`: the locked mass decays by `exp(-dt / 934 866)` (half in about 90 days).
pub const DEFAULT_UNLOCK_RATE: u64 = 934_866;
/// A lock below this (`LOCK_STATE_ZERO_THRESHOLD`, with no conviction) is removed.
pub const LOCK_STATE_ZERO_THRESHOLD: u64 = 100;

/// One coldkey's lock on a subnet (`Lock((coldkey, netuid, hotkey))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// The hotkey the stake is locked to.
    pub hotkey: AccountId,
    /// The locked mass at `last_update` (alpha rao).
    pub locked_mass: u64,
    /// The block the mass was last rolled forward to.
    pub last_update: BlockNumber,
}

/// `exp_decay(dt, tau)`: `exp(-dt / tau)` in `I64F64`, clamped at `exp(-40)`, as `U64F64`.
pub fn exp_decay(dt: u64, tau: u64) -> U64F64 {
    if dt == 0 {
        return U64F64::saturating_from_num(1);
    }
    if tau == 0 {
        return U64F64::saturating_from_num(0);
    }
    let min_ratio = I64F64::saturating_from_num(-40);
    let neg_ratio = I64F64::saturating_from_num(-i128::from(dt))
        .checked_div(I64F64::saturating_from_num(tau))
        .unwrap_or(min_ratio);
    let clamped = neg_ratio.max(min_ratio);
    let decay: I64F64 = exp(clamped).unwrap_or(I64F64::saturating_from_num(0));
    if decay < I64F64::saturating_from_num(0) {
        U64F64::saturating_from_num(0)
    } else {
        U64F64::saturating_from_num(decay)
    }
}

impl Lock {
    /// The locked mass at block `now` (`roll_forward_lock` for a decaying lock); 0 once below
    /// [`LOCK_STATE_ZERO_THRESHOLD`].
    pub fn locked_at(&self, now: BlockNumber, unlock_rate: u64) -> u64 {
        let mass = if now > self.last_update {
            exp_decay(now - self.last_update, unlock_rate)
                .saturating_mul(U64F64::saturating_from_num(self.locked_mass))
                .saturating_to_num::<u64>()
        } else {
            self.locked_mass
        };
        if mass < LOCK_STATE_ZERO_THRESHOLD {
            0
        } else {
            mass
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Bytes32;

    #[test]
    fn a_lock_halves_in_about_ninety_days() {
        let lock = Lock {
            hotkey: Bytes32([1; 32]),
            locked_mass: 1_000_000_000_000,
            last_update: 0,
        };
        assert_eq!(lock.locked_at(0, DEFAULT_UNLOCK_RATE), 1_000_000_000_000);
        // ln 2 x 934 866 = 648 000 blocks (90 days of 12 s blocks).
        let half = lock.locked_at(648_000, DEFAULT_UNLOCK_RATE);
        assert!(half.abs_diff(500_000_000_000) < 1_000_000, "{half}");
        // A day later it has lost about 0.8 %: a miner cannot wait one out.
        let day = lock.locked_at(7_200, DEFAULT_UNLOCK_RATE);
        assert!(day < 992_400_000_000 && day > 992_200_000_000, "{day}");
        // Decayed below the threshold, it is gone.
        assert_eq!(
            lock.locked_at(40 * DEFAULT_UNLOCK_RATE, DEFAULT_UNLOCK_RATE),
            0
        );
    }
}
