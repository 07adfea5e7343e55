//! The PH budget of a window and the miners' alpha per block.
//!
//! `minerAlphaPerBlock = miner_share x split / 65535` (miner share 0.41) and
//! `budgetPH = ALPHA_TAO x TAO_USDC x minerAlphaPerBlock x blocks_per_day / HASHP_USDC x cap`.
//!
//! # Rounding
//! The budget is one exact rational, `a t c 41 s 7200 / (1e18 x 100 x 65535 x h)` over the raw
//! FP18 integers (512-bit intermediates), rounded down once at the end: the budget is never
//! overstated, and no intermediate rounding can make two validators disagree. (The original rounds
//! down at every FP18 step and then converts to a float.) `minerAlphaPerBlock` on its own, used by
//! the weight stage, is also rounded down.

use alloy_primitives::U512;
use tao20_core::fixed::SCALE;
use tao20_core::Fp18;

use crate::units::u512_to_u128;
use crate::{Error, Result};

/// The denominator of `MechanismEmissionSplit` entries.
pub const SPLIT_DENOMINATOR: u128 = 65_535;

/// The constants of the budget formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetParams {
    /// Miners' share of the subnet emission before the mechanism split (0.41).
    pub miner_share: Fp18,
    /// Blocks per day (7200 at 12 s).
    pub blocks_per_day: u64,
}

impl Default for BudgetParams {
    fn default() -> Self {
        Self {
            miner_share: Fp18::from_raw(410_000_000_000_000_000),
            blocks_per_day: 7200,
        }
    }
}

/// The consensus prices a window's budget needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPrices {
    /// ALPHA in TAO.
    pub alpha_tao: Fp18,
    /// TAO in USDC.
    pub tao_usdc: Fp18,
    /// USDC per PH per day (the hashprice).
    pub hashp_usdc: Fp18,
    /// The budget cap consensus; `None` (or zero, as in the original) means 1.
    pub cap: Option<Fp18>,
}

impl BudgetParams {
    /// Alpha per block for the mechanism's miners, rounded down; `None` when the split is zero
    /// (the window is skipped).
    pub fn miner_alpha_per_block(&self, split: u16) -> Result<Option<Fp18>> {
        if split == 0 {
            return Ok(None);
        }
        let raw = tao20_core::math::mul_div_u128(
            self.miner_share.raw(),
            u128::from(split),
            SPLIT_DENOMINATOR,
            tao20_core::Rounding::Floor,
        )?;
        Ok(Some(Fp18::from_raw(raw)))
    }

    /// The window's budget in PH, rounded down; with `capped` it is multiplied by the cap
    /// consensus (the auction), without it not (the weight stage). `None` when the split or the
    /// hashprice is zero (the window is skipped).
    pub fn budget_ph(
        &self,
        prices: &WindowPrices,
        split: u16,
        capped: bool,
    ) -> Result<Option<Fp18>> {
        if split == 0 || prices.hashp_usdc.is_zero() {
            return Ok(None);
        }
        let cap = match prices.cap {
            Some(c) if capped && !c.is_zero() => c.raw(),
            _ => SCALE,
        };
        let w = |x: u128| U512::from(x);
        let numerator = [
            prices.tao_usdc.raw(),
            cap,
            self.miner_share.raw(),
            u128::from(split),
            u128::from(self.blocks_per_day),
        ]
        .into_iter()
        .try_fold(w(prices.alpha_tao.raw()), |acc, x| acc.checked_mul(w(x)))
        .ok_or_else(|| Error::overflow("budget numerator"))?;
        let denominator = w(SCALE) * w(SCALE) * w(SPLIT_DENOMINATOR) * w(prices.hashp_usdc.raw());
        Ok(Some(Fp18::from_raw(u512_to_u128(
            numerator / denominator,
            "budget_ph",
        )?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(s: &str) -> Fp18 {
        Fp18::parse(s).unwrap()
    }

    fn prices(cap: Option<&str>) -> WindowPrices {
        WindowPrices {
            alpha_tao: fp("0.01"),
            tao_usdc: fp("400"),
            hashp_usdc: fp("50"),
            cap: cap.map(fp),
        }
    }

    #[test]
    fn budget_matches_the_formula() {
        let p = BudgetParams::default();
        // Full split: 0.41 alpha/block x 7200 x 0.01 x 400 / 50 = 236.16 PH.
        assert_eq!(
            p.budget_ph(&prices(None), 65535, true).unwrap(),
            Some(fp("236.16"))
        );
        assert_eq!(
            p.budget_ph(&prices(Some("0.4")), 65535, true).unwrap(),
            Some(fp("94.464"))
        );
        assert_eq!(
            p.budget_ph(&prices(Some("0.4")), 65535, false).unwrap(),
            Some(fp("236.16"))
        );
        assert_eq!(
            p.budget_ph(&prices(Some("0")), 65535, true).unwrap(),
            Some(fp("236.16"))
        );
        assert_eq!(p.budget_ph(&prices(None), 0, true).unwrap(), None);
        let mut zero_hp = prices(None);
        zero_hp.hashp_usdc = Fp18::ZERO;
        assert_eq!(p.budget_ph(&zero_hp, 1, true).unwrap(), None);
    }

    #[test]
    fn budget_rounds_down_once() {
        let p = BudgetParams::default();
        // split 1: 236.16 / 65535 = 0.003603570611124... (floored at the 18th digit).
        let b = p.budget_ph(&prices(None), 1, true).unwrap().unwrap();
        assert_eq!(b.raw(), 236_160_000_000_000_000_000u128 / 65535);
        let mut big = prices(None);
        big.alpha_tao = Fp18::MAX;
        big.tao_usdc = Fp18::MAX;
        big.hashp_usdc = Fp18::from_raw(1);
        assert!(matches!(
            p.budget_ph(&big, 65535, true),
            Err(Error::Overflow { .. })
        ));
    }

    #[test]
    fn miner_alpha_per_block_rounds_down() {
        let p = BudgetParams::default();
        assert_eq!(p.miner_alpha_per_block(65535).unwrap(), Some(fp("0.41")));
        assert_eq!(
            p.miner_alpha_per_block(1).unwrap().unwrap().raw(),
            410_000_000_000_000_000u128 / 65535
        );
        assert_eq!(p.miner_alpha_per_block(0).unwrap(), None);
    }
}
