//! Mechanism-1 weights: per-window budgets and payments in alpha, the burn, and u16 weights.
//!
//! Per window: `budgetAlpha = minerAlphaPerBlock x windowBlocks` (exact) and, per delivered item,
//! `paymentAlpha = deliveredPH x HASHP_USDC x price x (windowBlocks / 7200) / (ALPHA_TAO x
//! TAO_USDC)`, one rational over the raw integers rounded down once (a payment is never
//! overstated). Payments add up per uid over the epoch; the unused budget `sum(budget) - sum(paid)`
//! (zero if the payments reach the budget) goes to the burn uid, or with [`UnusedBudget::Winners`]
//! to the winners pro rata. The u16 weights are max-based:
//! `round(alpha / max x 65535)`, half up, exact; uids with a zero weight are left out.

use std::collections::BTreeMap;

use alloy_primitives::U512;
use tao20_core::Fp18;

use crate::units::u512_to_u128;
use crate::{Error, Result};

/// One paid item of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payment {
    /// The winner's uid.
    pub uid: u16,
    /// Delivered PH.
    pub delivered: Fp18,
    /// The winning price multiplier.
    pub price: Fp18,
}

/// One settled window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WindowSettlement {
    /// Blocks in the window.
    pub window_blocks: u64,
    /// The miners' alpha per block (uncapped).
    pub miner_alpha_per_block: Fp18,
    /// ALPHA in TAO at the window start.
    pub alpha_tao: Fp18,
    /// TAO in USDC at the window start.
    pub tao_usdc: Fp18,
    /// USDC per PH per day at the window start.
    pub hashp_usdc: Fp18,
    /// The delivered items.
    pub payments: Vec<Payment>,
}

/// The epoch's weights.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EpochWeights {
    /// Total budget in alpha.
    pub budget_alpha: Fp18,
    /// Total paid in alpha.
    pub paid_alpha: Fp18,
    /// The burn in alpha.
    pub burn_alpha: Fp18,
    /// Alpha per uid, the burn uid included.
    pub alpha_by_uid: BTreeMap<u16, Fp18>,
    /// Each uid's share of the total, rounded down (the shares add up to at most 1).
    pub normalised: Vec<(u16, Fp18)>,
    /// u16 weights, by uid, zeros left out.
    pub weights: Vec<(u16, u16)>,
}

/// Where an epoch's unused budget (`budget - paid`) goes. Every validator of a subnet must use
/// the same: it is part of the weights they agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnusedBudget {
    /// To the burn uid, as the original design does. Since subtensor spec 421 the subnet's
    /// emission share shrinks by what its miners' incentive burns (`MinerBurned`).
    #[default]
    Burn,
    /// To the delivered winners, pro rata to what they were paid: the burn uid is left out and
    /// the weights' normalisation spreads the remainder. With no payment at all, everything is
    /// burned (there is nobody to give it to).
    Winners,
}

/// Where this protocol version sends the unused budget. It is part of the weights every keeper
/// must compute alike, so it is a protocol rule, not a keeper's setting: a subnet that changes it
/// changes it for every keeper in one release (`docs/auction.md`, "What the burn costs the
/// subnet", argues for burning).
pub const PROTOCOL_UNUSED_BUDGET: UnusedBudget = UnusedBudget::Burn;

/// Blocks per day, the denominator of a window's share of a day.
pub const BLOCKS_PER_DAY: u64 = 7200;

/// The alpha paid for `delivered` PH at `price` over `window_blocks`.
pub fn payment_alpha(settlement: &WindowSettlement, delivered: Fp18, price: Fp18) -> Result<Fp18> {
    let w = |x: u128| U512::from(x);
    let denominator = w(u128::from(BLOCKS_PER_DAY))
        * w(settlement.alpha_tao.raw())
        * w(settlement.tao_usdc.raw());
    if denominator.is_zero() {
        return Err(Error::invalid(
            "prices",
            "ALPHA_TAO and TAO_USDC must be above zero",
        ));
    }
    let numerator = [
        settlement.hashp_usdc.raw(),
        price.raw(),
        u128::from(settlement.window_blocks),
    ]
    .into_iter()
    .try_fold(w(delivered.raw()), |acc, x| acc.checked_mul(w(x)))
    .ok_or_else(|| Error::overflow("payment numerator"))?;
    Ok(Fp18::from_raw(u512_to_u128(
        numerator / denominator,
        "payment",
    )?))
}

/// `round(value / max x 65535)`, half up; `max` must be positive and at least `value`.
fn to_u16(value: u128, max: u128) -> u16 {
    let scaled = (U512::from(value) * U512::from(2u32 * 65535) + U512::from(max))
        / (U512::from(max) * U512::from(2u8));
    u16::try_from(scaled).unwrap_or(u16::MAX)
}

/// The epoch's weights from its settled windows.
pub fn epoch_weights(
    windows: &[WindowSettlement],
    burn_uid: u16,
    unused: UnusedBudget,
) -> Result<EpochWeights> {
    let mut out = EpochWeights::default();
    for s in windows {
        let budget = s
            .miner_alpha_per_block
            .mul_int(u128::from(s.window_blocks))?;
        out.budget_alpha = out.budget_alpha.checked_add(budget)?;
        for p in &s.payments {
            let alpha = payment_alpha(s, p.delivered, p.price)?;
            out.paid_alpha = out.paid_alpha.checked_add(alpha)?;
            let slot = out.alpha_by_uid.entry(p.uid).or_default();
            *slot = slot.checked_add(alpha)?;
        }
    }
    let unused_alpha = Fp18::from_raw(out.budget_alpha.raw().saturating_sub(out.paid_alpha.raw()));
    out.burn_alpha = match unused {
        UnusedBudget::Winners if !out.paid_alpha.is_zero() => Fp18::ZERO,
        _ => unused_alpha,
    };
    if !out.burn_alpha.is_zero() {
        let slot = out.alpha_by_uid.entry(burn_uid).or_default();
        *slot = slot.checked_add(out.burn_alpha)?;
    }
    let total = out
        .alpha_by_uid
        .values()
        .try_fold(Fp18::ZERO, |acc, &a| acc.checked_add(a))?;
    if !total.is_zero() {
        out.normalised = out
            .alpha_by_uid
            .iter()
            .map(|(&uid, &a)| Ok((uid, a.div(total, tao20_core::Rounding::Floor)?)))
            .collect::<Result<_>>()?;
    }
    let max = out
        .alpha_by_uid
        .values()
        .map(|a| a.raw())
        .max()
        .unwrap_or(0);
    if max > 0 {
        out.weights = out
            .alpha_by_uid
            .iter()
            .map(|(&uid, a)| (uid, to_u16(a.raw(), max)))
            .filter(|&(_, w)| w > 0)
            .collect();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(s: &str) -> Fp18 {
        Fp18::parse(s).unwrap()
    }

    fn settlement(payments: Vec<Payment>) -> WindowSettlement {
        WindowSettlement {
            window_blocks: 60,
            miner_alpha_per_block: fp("0.41"),
            alpha_tao: fp("0.01"),
            tao_usdc: fp("400"),
            hashp_usdc: fp("50"),
            payments,
        }
    }

    #[test]
    fn payment_follows_the_formula() {
        let s = settlement(vec![]);
        // 1 PH x 50 x 1 x 60/7200 / (0.01 x 400) = 0.1041666... alpha, rounded down.
        assert_eq!(
            payment_alpha(&s, fp("1"), fp("1")).unwrap(),
            fp("0.104166666666666666")
        );
        let mut bad = s.clone();
        bad.alpha_tao = Fp18::ZERO;
        assert!(payment_alpha(&bad, fp("1"), fp("1")).is_err());
    }

    #[test]
    fn burn_takes_the_rest_and_weights_are_max_based() {
        // Budget 0.41 x 60 = 24.6 alpha per window; two windows = 49.2.
        let w1 = settlement(vec![Payment {
            uid: 3,
            delivered: fp("96"),
            price: fp("1"),
        }]);
        let w2 = settlement(vec![
            Payment {
                uid: 3,
                delivered: fp("48"),
                price: fp("1"),
            },
            Payment {
                uid: 7,
                delivered: fp("48"),
                price: fp("1"),
            },
        ]);
        let e = epoch_weights(&[w1, w2], 0, UnusedBudget::Burn).unwrap();
        // 96 PH -> 10 alpha, 48 PH -> 5 alpha.
        assert_eq!(e.alpha_by_uid[&3], fp("15"));
        assert_eq!(e.alpha_by_uid[&7], fp("5"));
        assert_eq!(e.budget_alpha, fp("49.2"));
        assert_eq!(e.burn_alpha, fp("29.2"));
        assert_eq!(e.alpha_by_uid[&0], fp("29.2"));
        // max 29.2: uid 3 -> round(15/29.2 x 65535) = 33665, uid 7 -> 11222.
        assert_eq!(e.weights, vec![(0, 65535), (3, 33665), (7, 11222)]);
        // 29.2 + 15 + 5 = 49.2: shares rounded down.
        assert_eq!(
            e.normalised,
            vec![
                (0, fp("0.593495934959349593")),
                (3, fp("0.304878048780487804")),
                (7, fp("0.101626016260162601")),
            ]
        );
    }

    #[test]
    fn unused_budget_to_winners_leaves_the_burn_uid_out_and_keeps_the_ratios() {
        let w1 = settlement(vec![Payment {
            uid: 3,
            delivered: fp("96"),
            price: fp("1"),
        }]);
        let w2 = settlement(vec![Payment {
            uid: 7,
            delivered: fp("48"),
            price: fp("1"),
        }]);
        let e = epoch_weights(&[w1.clone(), w2.clone()], 0, UnusedBudget::Winners).unwrap();
        assert_eq!(e.budget_alpha, fp("49.2"));
        assert_eq!(e.paid_alpha, fp("15"));
        assert_eq!(e.burn_alpha, Fp18::ZERO);
        assert!(!e.alpha_by_uid.contains_key(&0));
        // 10 : 5 alpha, all of the weight between them.
        assert_eq!(e.weights, vec![(3, 65535), (7, 32768)]);
        assert_eq!(
            e.normalised,
            vec![
                (3, fp("0.666666666666666666")),
                (7, fp("0.333333333333333333"))
            ]
        );
        // The same windows burning: the burn uid takes the rest.
        let burned = epoch_weights(&[w1, w2], 0, UnusedBudget::Burn).unwrap();
        assert_eq!(burned.alpha_by_uid[&0], fp("34.2"));
        // Nobody paid: there is nobody to give the budget to, so it is burned either way.
        let empty = epoch_weights(&[settlement(vec![])], 9, UnusedBudget::Winners).unwrap();
        assert_eq!(empty.burn_alpha, fp("24.6"));
        assert_eq!(empty.weights, vec![(9, 65535)]);
    }

    #[test]
    fn no_budget_no_weights_and_overpayment_burns_nothing() {
        assert!(epoch_weights(&[], 0, UnusedBudget::Burn)
            .unwrap()
            .weights
            .is_empty());
        let w = settlement(vec![Payment {
            uid: 1,
            delivered: fp("1000"),
            price: fp("1"),
        }]);
        let e = epoch_weights(&[w], 0, UnusedBudget::Burn).unwrap();
        assert_eq!(e.burn_alpha, Fp18::ZERO);
        assert_eq!(e.weights, vec![(1, 65535)]);
    }

    #[test]
    fn rounding_is_half_up() {
        assert_eq!(to_u16(1, 2), 32768); // 32767.5 -> 32768
        assert_eq!(to_u16(1, 3), 21845);
        assert_eq!(to_u16(0, 3), 0);
        assert_eq!(to_u16(u128::MAX, u128::MAX), 65535);
    }
}
