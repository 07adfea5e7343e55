//! The subnets' alpha pools: weighted (balancer) pools with the swap pallet's maths
//! ([`crate::balancer`]), so the devnet's swaps pay what finney's would to the rao. The spot price
//! is what `current_alpha_price` returns (rao per alpha); the swap fee is taken by the caller
//! (`add_stake` and `remove_stake` take it from their input before the swap).

use serde::{Deserialize, Serialize};

use crate::balancer::{Balancer, SwapError, ACCURACY};
use crate::types::PoolReserves;

/// Weight scale: a pool's two weights are parts of this (`Perquintill`, as `SwapBalancer`
/// stores the TAO weight).
pub const WEIGHT_ONE: u64 = ACCURACY;

/// One subnet's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// TAO reserve (rao).
    pub tao_in: u64,
    /// Alpha reserve (rao).
    pub alpha_in: u64,
    /// Alpha outstanding as stake (rao).
    pub alpha_out: u64,
    /// TAO-side (quote) weight, parts of [`WEIGHT_ONE`].
    pub weight_tao: u64,
    /// Alpha-side (base) weight, parts of [`WEIGHT_ONE`]: `WEIGHT_ONE - weight_tao`.
    pub weight_alpha: u64,
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

    /// The pool's weights as the swap pallet holds them (`SwapBalancer`); equal weights for a
    /// weight outside the allowed range, which registration refuses.
    pub fn balancer(&self) -> Balancer {
        Balancer::new(self.weight_tao).unwrap_or_default()
    }

    /// Spot price, rao per alpha, as `current_alpha_price` truncates it; 0 for an empty pool.
    pub fn price(&self) -> u64 {
        self.balancer().price_rao(self.alpha_in, self.tao_in)
    }

    /// TAO value (rao) of an alpha amount at the spot price, rounded down.
    pub fn value(&self, alpha: u64) -> u64 {
        let v = u128::from(alpha) * u128::from(self.price()) / 1_000_000_000;
        u64::try_from(v).unwrap_or(u64::MAX)
    }

    /// Swaps `tao` (net of the fee) in for alpha; returns the alpha bought.
    pub fn buy_alpha(&mut self, tao: u64) -> Result<u64, SwapError> {
        let swap = self
            .balancer()
            .buy_alpha(self.tao_in, self.alpha_in, tao, 0)?;
        self.tao_in = self.tao_in.saturating_add(swap.net_in);
        self.alpha_in = self.alpha_in.saturating_sub(swap.out);
        self.alpha_out = self.alpha_out.saturating_add(swap.out);
        Ok(swap.out)
    }

    /// Swaps `alpha` (net of the fee) in for TAO; returns the TAO paid out.
    pub fn sell_alpha(&mut self, alpha: u64) -> Result<u64, SwapError> {
        let swap = self
            .balancer()
            .sell_alpha(self.tao_in, self.alpha_in, alpha, 0)?;
        self.alpha_in = self.alpha_in.saturating_add(swap.net_in);
        self.tao_in = self.tao_in.saturating_sub(swap.out);
        self.alpha_out = self.alpha_out.saturating_sub(alpha);
        Ok(swap.out)
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
