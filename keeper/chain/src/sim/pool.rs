//! Weighted alpha pools, in integers. Spot price (TAO per alpha x 1e9, as
//! `current_alpha_price` returns it) = (alpha weight / TAO weight) x (TAO reserve / alpha reserve),
//! rounded down. Swaps keep the pool solvent with a rational rule that is exact for equal weights
//! (constant product, the runtime's starting point) and first-order in the weight ratio otherwise:
//! `alpha_out = floor(A x t x wT / (wA x T + wT x t))`, symmetric for alpha -> TAO.

use serde::{Deserialize, Serialize};

use crate::types::PoolReserves;
use crate::{Error, Result};

/// Weight scale: a pool's two weights are parts of this.
pub const WEIGHT_ONE: u64 = 1_000_000_000;

/// One subnet's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// TAO reserve (rao).
    pub tao_in: u64,
    /// Alpha reserve (rao).
    pub alpha_in: u64,
    /// Alpha outstanding as stake (rao).
    pub alpha_out: u64,
    /// TAO-side weight, parts of [`WEIGHT_ONE`].
    pub weight_tao: u64,
    /// Alpha-side weight, parts of [`WEIGHT_ONE`].
    pub weight_alpha: u64,
}

fn narrow(value: u128, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| Error::invalid(what, format!("{value} exceeds u64")))
}

impl Pool {
    /// The reserves as the storage items report them.
    pub fn reserves(&self) -> PoolReserves {
        PoolReserves {
            tao_in: self.tao_in,
            alpha_in: self.alpha_in,
            alpha_out: self.alpha_out,
        }
    }

    /// Spot price, TAO per alpha x 1e9, rounded down; 0 for an empty pool.
    pub fn price(&self) -> u64 {
        let den = u128::from(self.weight_tao) * u128::from(self.alpha_in);
        if den == 0 {
            return 0;
        }
        let num = u128::from(self.weight_alpha) * u128::from(self.tao_in) * 1_000_000_000;
        u64::try_from(num / den).unwrap_or(u64::MAX)
    }

    /// TAO value (rao) of an alpha amount at the spot price, rounded down.
    pub fn value(&self, alpha: u64) -> u64 {
        let v = u128::from(alpha) * u128::from(self.price()) / 1_000_000_000;
        u64::try_from(v).unwrap_or(u64::MAX)
    }

    /// Swaps `tao` in for alpha (stake added); returns the alpha bought.
    pub fn buy_alpha(&mut self, tao: u64) -> Result<u64> {
        let num = u128::from(self.alpha_in) * u128::from(tao) * u128::from(self.weight_tao);
        let den = u128::from(self.weight_alpha) * u128::from(self.tao_in)
            + u128::from(self.weight_tao) * u128::from(tao);
        if den == 0 {
            return Err(Error::invalid("swap", "empty pool"));
        }
        let out = narrow(num / den, "alpha out")?;
        self.tao_in = self
            .tao_in
            .checked_add(tao)
            .ok_or_else(|| Error::invalid("swap", "TAO reserve overflows"))?;
        self.alpha_in = self.alpha_in.saturating_sub(out);
        self.alpha_out = self.alpha_out.saturating_add(out);
        Ok(out)
    }

    /// Swaps `alpha` in for TAO (stake removed); returns the TAO paid out.
    pub fn sell_alpha(&mut self, alpha: u64) -> Result<u64> {
        let num = u128::from(self.tao_in) * u128::from(alpha) * u128::from(self.weight_alpha);
        let den = u128::from(self.weight_tao) * u128::from(self.alpha_in)
            + u128::from(self.weight_alpha) * u128::from(alpha);
        if den == 0 {
            return Err(Error::invalid("swap", "empty pool"));
        }
        let out = narrow(num / den, "TAO out")?;
        self.alpha_in = self
            .alpha_in
            .checked_add(alpha)
            .ok_or_else(|| Error::invalid("swap", "alpha reserve overflows"))?;
        self.tao_in = self.tao_in.saturating_sub(out);
        self.alpha_out = self.alpha_out.saturating_sub(alpha);
        Ok(out)
    }

    /// Moves the TAO reserve by `delta_ppm` parts per million (the seeded price walk); the
    /// reserve never drops below 1 rao.
    pub fn drift(&mut self, delta_ppm: i64) {
        let t = i128::from(self.tao_in);
        let next = t + t * i128::from(delta_ppm) / 1_000_000;
        self.tao_in = u64::try_from(next.max(1)).unwrap_or(u64::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(w_tao: u64) -> Pool {
        Pool {
            tao_in: 1_000_000_000_000,
            alpha_in: 4_000_000_000_000,
            alpha_out: 0,
            weight_tao: w_tao,
            weight_alpha: WEIGHT_ONE - w_tao,
        }
    }

    #[test]
    fn price_is_weights_ratio_times_reserves_ratio() {
        assert_eq!(pool(WEIGHT_ONE / 2).price(), 250_000_000);
        // wA / wT = 3 -> three times the reserves ratio.
        assert_eq!(pool(WEIGHT_ONE / 4).price(), 750_000_000);
        assert_eq!(pool(WEIGHT_ONE / 2).value(4_000_000_000), 1_000_000_000);
    }

    #[test]
    fn equal_weight_swaps_are_constant_product_and_round_trip_down() {
        let mut p = pool(WEIGHT_ONE / 2);
        let k = u128::from(p.tao_in) * u128::from(p.alpha_in);
        let before = p.price();
        let alpha = p.buy_alpha(10_000_000_000).unwrap();
        assert!(u128::from(p.tao_in) * u128::from(p.alpha_in) >= k);
        assert!(p.price() > before, "buying alpha raises its price");
        assert_eq!(p.alpha_out, alpha);
        let tao = p.sell_alpha(alpha).unwrap();
        assert!(tao <= 10_000_000_000, "no free TAO from a round trip");
        assert_eq!(p.alpha_out, 0);
    }

    #[test]
    fn drift_moves_the_price_and_keeps_the_pool_alive() {
        let mut p = pool(WEIGHT_ONE / 2);
        p.drift(1_000);
        assert_eq!(p.tao_in, 1_001_000_000_000);
        p.drift(-1_000_000);
        assert_eq!(p.tao_in, 1);
    }
}
