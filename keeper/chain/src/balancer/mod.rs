//! The subnet pools' swap maths, as subtensor's swap pallet computes it (`pallets/swap/src/pallet/
//! balancer.rs`, `swap_step.rs`, `impls.rs`, main 14bc6f9): a weighted (balancer) pool of alpha
//! (the base, reserve `x`, weight `w1`) and TAO (the quote, reserve `y`, weight `w2 = 1 - w1`),
//! the quote weight stored per subnet as a `Perquintill` (`Swap::SwapBalancer`, 1/2 when unset).
//!
//! - Spot price, TAO per alpha: `(w1 / w2) x (y / x)` in `U64F64`; the runtime API's
//!   `current_alpha_price` is that times 1e9, truncated (rao per alpha).
//! - Buying alpha with `dy` TAO (after the fee): `dx = x x (1 - (y / (y + dy))^(w2 / w1))`.
//! - Selling `dx` alpha (after the fee): `dy = y x (1 - (x / (x + dx))^(w1 / w2))`.
//! - The fee is taken from the input first: `amount x (FeeRate / 65535)` in `U64F64`, truncated.
//!
//! Every step uses the runtime's own types and rounding: `U64F64` from `substrate-fixed` (the
//! crate the runtime uses), the power `(a / b)^(p / q) x 1e18` from [`pow`] (safe-bigmath's
//! `pow_ratio_scaled` at 256 bits, as the pallet calls it), so a swap here pays what the runtime
//! pays to the rao. Integer in, integer out: nothing here is floating point.

use substrate_fixed::types::U64F64;

pub mod pow;

/// `Perquintill`'s one: weights are parts of this.
pub const ACCURACY: u64 = 1_000_000_000_000_000_000;
/// Neither weight may fall below 1 % (`MIN_WEIGHT`).
pub const MIN_WEIGHT: u64 = ACCURACY / 100;
/// `FeeRate`'s denominator (`u16::MAX`).
pub const FEE_RATE_DENOMINATOR: u64 = 65_535;
/// The runtime's `FeeRate` when a subnet has none set (33 / 65 535, about 0.05 %).
pub const DEFAULT_FEE_RATE: u16 = 33;
/// `SwapMinimumReserve`: a swap whose output reserve is below this is refused (`ReservesTooLow`).
pub const MINIMUM_RESERVE: u64 = 1_000_000;
/// A swap's input (after the fee) may be at most this many times its input reserve
/// (`MAX_SWAP_INPUT_RESERVE_MULTIPLIER`, else `SwapInputTooLarge`).
pub const MAX_SWAP_INPUT_RESERVE_MULTIPLIER: u64 = 1_000;
/// The power's precision, in bits, as `Balancer::exp_scaled` asks for it.
const PRECISION: u32 = 256;

/// A pool's weights: the quote (TAO) weight in parts of [`ACCURACY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Balancer {
    quote: u64,
}

impl Default for Balancer {
    /// Equal weights: the runtime's `DefaultBalancer` (a constant-product pool).
    fn default() -> Self {
        Self {
            quote: ACCURACY / 2,
        }
    }
}

/// Why a swap is refused, by the swap pallet's error name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SwapError {
    /// The output reserve is below [`MINIMUM_RESERVE`], or the swap would pay out nothing.
    #[error("ReservesTooLow")]
    ReservesTooLow,
    /// The input (after the fee) exceeds [`MAX_SWAP_INPUT_RESERVE_MULTIPLIER`] times its reserve.
    #[error("SwapInputTooLarge")]
    SwapInputTooLarge,
}

impl SwapError {
    /// The runtime's error name (`Swap` pallet).
    pub fn name(self) -> &'static str {
        match self {
            SwapError::ReservesTooLow => "ReservesTooLow",
            SwapError::SwapInputTooLarge => "SwapInputTooLarge",
        }
    }
}

/// What one swap takes and pays, in the input's and the output's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swap {
    /// The fee taken from the input (in the input's units).
    pub fee: u64,
    /// The input that went into the pool (`amount - fee`).
    pub net_in: u64,
    /// What the pool paid out.
    pub out: u64,
}

fn fixed(v: u64) -> U64F64 {
    U64F64::saturating_from_num(v)
}

impl Balancer {
    /// A pool with quote (TAO) weight `quote` parts of [`ACCURACY`]; `None` outside
    /// `[MIN_WEIGHT, ACCURACY - MIN_WEIGHT]`, as `Balancer::new` refuses it.
    pub fn new(quote: u64) -> Option<Self> {
        let base = ACCURACY.checked_sub(quote)?;
        (base >= MIN_WEIGHT && quote >= MIN_WEIGHT).then_some(Self { quote })
    }

    /// The quote (TAO) weight, parts of [`ACCURACY`] (`SwapBalancer`'s stored value).
    pub fn quote_weight(&self) -> u64 {
        self.quote
    }

    /// The base (alpha) weight, parts of [`ACCURACY`].
    pub fn base_weight(&self) -> u64 {
        ACCURACY - self.quote
    }

    /// `(x / (x + dx))^(w_num / w_den)` in `U64F64` (`exp_scaled`): `base_quote` raises by
    /// `w1 / w2` (selling alpha), otherwise by `w2 / w1` (buying alpha). At most 1.
    fn exp_scaled(&self, x: u64, dx: u64, base_quote: bool) -> U64F64 {
        let x_plus_dx = x.saturating_add(dx);
        if x_plus_dx == 0 {
            return fixed(0);
        }
        let (w1, w2) = (
            u128::from(self.base_weight()),
            u128::from(self.quote_weight()),
        );
        let (p, q) = if base_quote { (w1, w2) } else { (w2, w1) };
        match pow::pow_ratio_scaled(
            u128::from(x),
            u128::from(x_plus_dx),
            p,
            q,
            PRECISION,
            u128::from(ACCURACY),
        )
        .and_then(|r| u64::try_from(r).ok())
        {
            Some(r) => fixed(r)
                .checked_div(fixed(ACCURACY))
                .unwrap_or_default()
                .min(fixed(1)),
            None => fixed(0),
        }
    }

    /// Spot price, TAO per alpha, in `U64F64` (`calculate_price(x = alpha, y = tao)`).
    pub fn price(&self, alpha_reserve: u64, tao_reserve: u64) -> U64F64 {
        let w1 = fixed(self.base_weight());
        let w2 = fixed(self.quote_weight());
        w1.checked_div(w2).unwrap_or_default().saturating_mul(
            fixed(tao_reserve)
                .checked_div(fixed(alpha_reserve))
                .unwrap_or_default(),
        )
    }

    /// `SwapRuntimeApi::current_alpha_price`: rao per alpha, truncated; 0 for an empty pool.
    pub fn price_rao(&self, alpha_reserve: u64, tao_reserve: u64) -> u64 {
        if alpha_reserve == 0 {
            return 0;
        }
        self.price(alpha_reserve, tao_reserve)
            .saturating_mul(fixed(1_000_000_000))
            .saturating_to_num::<u64>()
    }

    /// Alpha paid out for `tao_net` TAO put into the pool (`convert_deltas`, TAO to alpha).
    pub fn alpha_out(&self, tao_reserve: u64, alpha_reserve: u64, tao_net: u64) -> u64 {
        let e = self.exp_scaled(tao_reserve, tao_net, false);
        fixed(alpha_reserve)
            .saturating_mul(fixed(1).saturating_sub(e))
            .saturating_to_num::<u64>()
    }

    /// TAO paid out for `alpha_net` alpha put into the pool (`convert_deltas`, alpha to TAO).
    pub fn tao_out(&self, tao_reserve: u64, alpha_reserve: u64, alpha_net: u64) -> u64 {
        let e = self.exp_scaled(alpha_reserve, alpha_net, true);
        fixed(tao_reserve)
            .saturating_mul(fixed(1).saturating_sub(e))
            .saturating_to_num::<u64>()
    }

    /// `add_stake`'s swap of `tao` (fee included) at `fee_rate` parts of 65 535.
    pub fn buy_alpha(
        &self,
        tao_reserve: u64,
        alpha_reserve: u64,
        tao: u64,
        fee_rate: u16,
    ) -> Result<Swap, SwapError> {
        let fee = fee_amount(tao, fee_rate);
        let net_in = tao - fee;
        check_swap(net_in, tao_reserve, alpha_reserve)?;
        let out = self.alpha_out(tao_reserve, alpha_reserve, net_in);
        finish(fee, net_in, out, alpha_reserve)
    }

    /// `remove_stake`'s swap of `alpha` (fee included) at `fee_rate` parts of 65 535.
    pub fn sell_alpha(
        &self,
        tao_reserve: u64,
        alpha_reserve: u64,
        alpha: u64,
        fee_rate: u16,
    ) -> Result<Swap, SwapError> {
        let fee = fee_amount(alpha, fee_rate);
        let net_in = alpha - fee;
        check_swap(net_in, alpha_reserve, tao_reserve)?;
        let out = self.tao_out(tao_reserve, alpha_reserve, net_in);
        finish(fee, net_in, out, tao_reserve)
    }

    /// The smallest `add_stake` amount (rao, fee included) whose swap pays at least `alpha`, or
    /// `None` when the pool cannot supply it (it holds no more, or the runtime would refuse the
    /// swap's size). From the closed-form inverse `tao x ((x / (x - a))^(w1 / w2) - 1)` grossed
    /// up by the fee, then settled on the exact swap, which the power's and the fee's rounding
    /// put a few rao away.
    pub fn tao_to_buy(
        &self,
        tao_reserve: u64,
        alpha_reserve: u64,
        alpha: u64,
        fee_rate: u16,
    ) -> Option<u64> {
        use num_bigint::BigUint;
        use num_integer::Integer;
        if alpha == 0 {
            return Some(0);
        }
        if alpha >= alpha_reserve {
            return None;
        }
        let ratio = pow::pow_ratio_scaled(
            u128::from(alpha_reserve),
            u128::from(alpha_reserve - alpha),
            u128::from(self.base_weight()),
            u128::from(self.quote_weight()),
            PRECISION,
            u128::from(ACCURACY),
        )?;
        let excess = ratio.checked_sub(u128::from(ACCURACY))?;
        let net =
            (BigUint::from(tao_reserve) * BigUint::from(excess)).div_ceil(&BigUint::from(ACCURACY));
        let keep = (FEE_RATE_DENOMINATOR - u64::from(fee_rate)).max(1);
        let gross = (net * BigUint::from(FEE_RATE_DENOMINATOR)).div_ceil(&BigUint::from(keep));
        let limit = tao_reserve.checked_mul(MAX_SWAP_INPUT_RESERVE_MULTIPLIER)?;
        let estimate = u64::try_from(gross).ok()?.min(limit);
        let enough = |g: u64| {
            self.buy_alpha(tao_reserve, alpha_reserve, g, fee_rate)
                .is_ok_and(|s| s.out >= alpha)
        };
        let (mut hi, mut step) = (estimate, 1u64);
        while !enough(hi) {
            if hi >= limit {
                return None;
            }
            hi = hi.saturating_add(step).min(limit);
            step = step.saturating_mul(2);
        }
        let mut step = 1u64;
        let mut lo = loop {
            let next = hi.saturating_sub(step);
            // Nothing is bought for nothing: 0 never buys `alpha > 0`.
            if next == 0 || !enough(next) {
                break next;
            }
            hi = next;
            step = step.saturating_mul(2);
        };
        // Invariant: `enough(hi)`, not `enough(lo)`.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if enough(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    }

    /// The weights after emission adds `tao_delta` and `alpha_delta` to the reserves
    /// (`update_weights_for_added_liquidity`): chosen so the spot price does not move. `None`
    /// when the new quote weight would leave the allowed range (the runtime then adds nothing).
    pub fn with_added_liquidity(
        &self,
        tao_reserve: u64,
        alpha_reserve: u64,
        tao_delta: u64,
        alpha_delta: u64,
    ) -> Option<Self> {
        let (t, a) = (u128::from(tao_reserve), u128::from(alpha_reserve));
        let new_t = t.saturating_add(u128::from(tao_delta));
        let new_a = a.saturating_add(u128::from(alpha_delta));
        let q1 = mul_perquintill_round(self.base_weight(), t.saturating_mul(new_a));
        let q2 = mul_perquintill_round(self.quote_weight(), a.saturating_mul(new_t));
        let sum = q1.saturating_add(q2);
        let quote = if sum == 0 {
            ACCURACY / 2
        } else {
            perquintill_from_rational(q2, sum)
        };
        Self::new(quote)
    }
}

/// `calculate_fee_amount`: `U64F64(amount) x (U64F64(rate) / U64F64(65535))`, truncated.
pub fn fee_amount(amount: u64, fee_rate: u16) -> u64 {
    let rate = fixed(u64::from(fee_rate))
        .checked_div(fixed(FEE_RATE_DENOMINATOR))
        .unwrap_or_default();
    fixed(amount)
        .saturating_mul(rate)
        .saturating_to_num::<u64>()
}

fn check_swap(net_in: u64, reserve_in: u64, reserve_out: u64) -> Result<(), SwapError> {
    if net_in > reserve_in.saturating_mul(MAX_SWAP_INPUT_RESERVE_MULTIPLIER) {
        return Err(SwapError::SwapInputTooLarge);
    }
    if reserve_out < MINIMUM_RESERVE {
        return Err(SwapError::ReservesTooLow);
    }
    Ok(())
}

fn finish(fee: u64, net_in: u64, out: u64, reserve_out: u64) -> Result<Swap, SwapError> {
    if net_in > 0 && out == 0 {
        return Err(SwapError::ReservesTooLow);
    }
    // `do_swap` refuses a result that pays out more than the reserve holds; the maths keeps
    // `out < reserve`, so this guards the arithmetic, not a case the pool reaches.
    if out > reserve_out {
        return Err(SwapError::ReservesTooLow);
    }
    Ok(Swap { fee, net_in, out })
}

/// `value x p / 1e18`, rounded half up, in 256 bits (`mul_perquintill_round`).
fn mul_perquintill_round(p: u64, value: u128) -> u128 {
    use num_bigint::BigUint;
    let num = BigUint::from(value) * BigUint::from(p);
    let den = BigUint::from(ACCURACY);
    let r: BigUint = (num + (&den >> 1usize)) / den;
    u128::try_from(r).unwrap_or(u128::MAX)
}

/// `Perquintill::from_rational(p, q)`: `floor(p x 1e18 / q)`, one for `p >= q` (sp-arithmetic's
/// `from_rational` rounds down: 2/3 is 66 %).
fn perquintill_from_rational(p: u128, q: u128) -> u64 {
    use num_bigint::BigUint;
    if q == 0 || p >= q {
        return ACCURACY;
    }
    let r: BigUint = BigUint::from(p) * BigUint::from(ACCURACY) / BigUint::from(q);
    u64::try_from(r).unwrap_or(ACCURACY)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_000_000_000_000; // 1000 TAO
    const A: u64 = 4_000_000_000_000; // 4000 alpha

    #[test]
    fn weights_outside_one_percent_are_refused() {
        assert!(Balancer::new(MIN_WEIGHT - 1).is_none());
        assert!(Balancer::new(ACCURACY - MIN_WEIGHT + 1).is_none());
        assert!(Balancer::new(ACCURACY + 1).is_none());
        assert!(Balancer::new(MIN_WEIGHT).is_some());
    }

    #[test]
    fn price_is_the_weight_ratio_times_the_reserve_ratio() {
        let half = Balancer::default();
        assert_eq!(half.price_rao(A, T), 250_000_000);
        // w1 / w2 = 3.
        let b = Balancer::new(ACCURACY / 4).unwrap();
        assert_eq!(b.price_rao(A, T), 750_000_000);
        assert_eq!(b.price_rao(0, T), 0);
    }

    #[test]
    fn equal_weights_are_constant_product() {
        let b = Balancer::default();
        let dy = 10_000_000_000u64;
        let out = b.alpha_out(T, A, dy);
        // x dy / (y + dy), to within the power's last unit of 1e-18.
        let cp = u128::from(A) * u128::from(dy) / (u128::from(T) + u128::from(dy));
        assert!(u128::from(out).abs_diff(cp) <= 1, "{out} vs {cp}");
    }

    #[test]
    fn a_heavier_alpha_side_pays_less_alpha_than_constant_product_at_the_same_price() {
        // The same spot price, 0.3 TAO per alpha: equal weights over 1200 TAO, or w1 / w2 = 3
        // over 400 TAO.
        let eq = Balancer::default();
        let tilted = Balancer::new(ACCURACY / 4).unwrap();
        let (t_eq, t_tilted) = (1_200_000_000_000u64, 400_000_000_000u64);
        assert!(
            eq.price_rao(A, t_eq)
                .abs_diff(tilted.price_rao(A, t_tilted))
                <= 1
        );
        let dy = 100_000_000_000u64; // 100 TAO
        let out_eq = eq.alpha_out(t_eq, A, dy);
        let out_tilted = tilted.alpha_out(t_tilted, A, dy);
        // The TAO side is thinner, so the same TAO moves the price further: fewer alpha.
        assert!(out_tilted < out_eq, "{out_tilted} >= {out_eq}");
        // And the exact curve is below the first-order rule the simulator used before.
        // `A dy w2 / (w1 T + w2 dy)`, the weights in parts of 1e9 to stay within u128.
        let (w1, w2) = (
            u128::from(tilted.base_weight() / 1_000_000_000),
            u128::from(tilted.quote_weight() / 1_000_000_000),
        );
        let first_order =
            u128::from(A) * u128::from(dy) * w2 / (w1 * u128::from(t_tilted) + w2 * u128::from(dy));
        assert!(u128::from(out_tilted) < first_order);
    }

    #[test]
    fn a_round_trip_never_gains() {
        let b = Balancer::new(300_000_000_000_000_000).unwrap();
        let mut tao = T;
        let mut alpha = A;
        let bought = b
            .buy_alpha(tao, alpha, 50_000_000_000, DEFAULT_FEE_RATE)
            .unwrap();
        tao += bought.net_in;
        alpha -= bought.out;
        let sold = b
            .sell_alpha(tao, alpha, bought.out, DEFAULT_FEE_RATE)
            .unwrap();
        assert!(sold.out < 50_000_000_000, "{sold:?}");
    }

    #[test]
    fn the_fee_is_the_runtimes_fixed_point_product() {
        // 1e9 x 33 / 65535 = 503547.72...: truncated.
        assert_eq!(fee_amount(1_000_000_000, 33), 503_547);
        assert_eq!(fee_amount(0, 33), 0);
        assert_eq!(fee_amount(1_000_000_000, 0), 0);
    }

    #[test]
    fn swaps_the_runtime_refuses_are_refused() {
        let b = Balancer::default();
        assert_eq!(
            b.buy_alpha(T, A, T * 1_001, 0),
            Err(SwapError::SwapInputTooLarge)
        );
        assert_eq!(
            b.buy_alpha(T, MINIMUM_RESERVE - 1, 1_000, 0),
            Err(SwapError::ReservesTooLow)
        );
        // One rao where an alpha costs a thousand buys nothing: refused, not taken for free.
        assert_eq!(
            b.buy_alpha(T * 1_000, A / 4, 1, 0),
            Err(SwapError::ReservesTooLow)
        );
    }

    #[test]
    fn added_liquidity_keeps_the_price() {
        let b = Balancer::new(400_000_000_000_000_000).unwrap();
        let before = b.price(A, T);
        // Emission injects TAO and alpha in a ratio other than the pool's.
        let (dt, da) = (10_000_000_000u64, 10_000_000_000u64);
        let after = b.with_added_liquidity(T, A, dt, da).unwrap();
        assert_ne!(after, b);
        let moved = after.price(A + da, T + dt);
        let diff = if moved > before {
            moved - before
        } else {
            before - moved
        };
        assert!(
            diff < U64F64::from_num(1) / 1_000_000_000,
            "{before} -> {moved}"
        );
    }
}
