//! How much to create or redeem: pure integer maths, no I/O.
//!
//! A creation of `u` units buys the basket (`u x qtyPerUnit` alpha of every asset) through the
//! subnets' pools, is minted at the request's valuation (official prices, NAV, mint fee), and its
//! shares are sold into the TAO20/WTAO pool; a redemption buys shares from that pool, redeems them
//! in kind and sells the alpha back through the subnets' pools. Profit is what comes back minus
//! what goes in, in rao, minus a fixed cost per operation (gas).
//!
//! # The TAO20 pool
//! A Uniswap V2 pair: `out = floor(997 x in x R_out / (1000 x R_in + 997 x in))` (the pair's 0.3 %
//! fee, exactly as `UniswapV2Library.getAmountOut` rounds).
//!
//! # The subnet pools
//! Weighted (balancer) pools priced exactly as the runtime's swap pallet prices them
//! ([`tao20_chain::balancer`]): the reserves, the TAO weight (`Swap::SwapBalancer`) and the fee
//! (`Swap::FeeRate`) are read from the chain at the observed block. Buying with `g` rao pays
//! `fee = g x FeeRate / 65535` (U64F64, truncated) and swaps the rest for
//! `alpha x (1 - (tao / (tao + net))^(w_tao / w_alpha))`; selling swaps `a - fee` alpha for
//! `tao x (1 - (alpha / (alpha + net))^(w_alpha / w_tao))`. The TAO that buys a given amount is the
//! closed-form inverse `tao x ((alpha / (alpha - a))^(w_alpha / w_tao) - 1)` grossed up by the fee,
//! then settled to the smallest amount whose exact swap pays at least `a`.
//!
//! # Sizing, in closed form, then exactly
//! Creation: with cost per unit `C` at the subnet pools' spot prices (a lower bound of the real,
//! convex cost) and shares per unit `s` at the valuation (an upper bound: the mint fee ignored),
//! selling `x` shares against reserves (S shares, W TAO) earns `R(x) = 997 x W / (1000 S + 997 x)`;
//! `R'(x) = C / s` at `x* = (sqrt(997000 S W s / C) - 1000 S) / 997`, so `u* = x* / s` units
//! (integer square root, each division rounded down). No unit is profitable when
//! `997 W s <= 1000 S C`, i.e. when the pool's marginal price after its fee is at most the cost of a
//! share. The exact profit (every rounding as the chain does it) is then maximised over
//! `[minUnits, min(cap, capital, 2 u* + 2)]` by a binary search on its discrete slope (it is
//! concave: concave proceeds, convex costs), and a size is chosen only if its exact profit is at
//! least the configured minimum (never below zero).
//!
//! Redemption: the same with the roles swapped: spending `y` TAO buys
//! `997 y S / (1000 W + 997 y)` shares, each worth `v` at the subnet pools' spot prices net of
//! the redeem fee (an upper bound), so `y* = (sqrt(997000 W S v) - 1000 W) / 997`, searched exactly
//! in steps of `step_rao` up to `min(cap, capital, 2 y* + step)`.

use alloy_primitives::{U256, U512};
use serde::{Deserialize, Serialize};
use tao20_chain::balancer::Balancer;
use tao20_chain::types::SwapPool;
use tao20_creation::nav::{mint_shares, WEI_PER_RAO};

use crate::{Error, Result};

/// The Uniswap V2 pair keeps 997 of every 1000 of an input.
pub const PAIR_FEE_NUMERATOR: u64 = 997;
/// The Uniswap V2 fee's denominator.
pub const PAIR_FEE_DENOMINATOR: u64 = 1000;
/// `FeeRate`'s denominator in the swap pallet.
pub const SWAP_FEE_DENOMINATOR: u64 = 65_535;
/// Basis points in one.
pub const BPS: u64 = 10_000;
/// 1e18: FP18 and wei scale.
const E18: u128 = 1_000_000_000_000_000_000;

fn w(x: U256) -> U512 {
    U512::from(x)
}

/// `x` as 256 bits, saturating.
fn narrow(x: U512) -> U256 {
    let limbs = x.as_limbs();
    if limbs[4..].iter().any(|l| *l != 0) {
        return U256::MAX;
    }
    U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]])
}

/// `UniswapV2Library.getAmountOut`: what a swap of `amount_in` pays out (0 for an empty pool).
pub fn amount_out(amount_in: U256, reserve_in: U256, reserve_out: U256) -> U256 {
    if amount_in.is_zero() || reserve_in.is_zero() || reserve_out.is_zero() {
        return U256::ZERO;
    }
    let with_fee = w(amount_in) * U512::from(PAIR_FEE_NUMERATOR);
    let num = with_fee * w(reserve_out);
    let den = w(reserve_in) * U512::from(PAIR_FEE_DENOMINATOR) + with_fee;
    narrow(num / den)
}

/// The TAO20/WTAO pair's reserves, both in wei (shares have 18 decimals, WTAO too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairReserves {
    /// TAO20 shares in the pool (wei of a share).
    pub shares: U256,
    /// WTAO in the pool (wei).
    pub tao: U256,
}

impl PairReserves {
    /// The pool's price of a whole share in rao: `floor(tao x 1e9 / shares)`; 0 for an empty pool.
    pub fn price_rao(&self) -> U256 {
        if self.shares.is_zero() {
            return U256::ZERO;
        }
        narrow(w(self.tao) * U512::from(WEI_PER_RAO) / w(self.shares))
    }
}

/// A subnet pool as `add_stake`/`remove_stake` swap through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubnetPool {
    /// The TAO reserve (rao).
    pub tao: u64,
    /// The alpha reserve (rao).
    pub alpha: u64,
    /// The TAO weight, parts of 1e18 (`Swap::SwapBalancer`).
    pub quote_weight: u64,
    /// The swap pallet's `FeeRate`, parts of 65 535.
    pub fee_rate: u16,
}

impl SubnetPool {
    /// The pool as the chain holds it.
    pub fn from_chain(pool: &SwapPool) -> Self {
        Self {
            tao: pool.reserves.tao_in,
            alpha: pool.reserves.alpha_in,
            quote_weight: pool.quote_weight,
            fee_rate: pool.fee_rate,
        }
    }

    /// An equal-weight pool (the runtime's default weights).
    pub fn equal_weights(tao: u64, alpha: u64, fee_rate: u16) -> Self {
        Self {
            tao,
            alpha,
            quote_weight: Balancer::default().quote_weight(),
            fee_rate,
        }
    }

    /// The pool's weights; a stored weight the runtime would refuse reads as equal weights (the
    /// runtime never stores one).
    fn balancer(&self) -> Balancer {
        Balancer::new(self.quote_weight).unwrap_or_default()
    }

    /// The spot price, rao per alpha, as `current_alpha_price` gives it.
    pub fn spot_price_rao(&self) -> u64 {
        self.balancer().price_rao(self.alpha, self.tao)
    }

    /// TAO (rao) worth `alpha` at the spot price, rounded down.
    pub fn spot_value(&self, alpha: u64) -> u128 {
        u128::from(alpha) * u128::from(self.spot_price_rao()) / u128::from(WEI_PER_RAO)
    }

    /// The alpha `add_stake` of `tao` rao buys; 0 for a swap the runtime refuses.
    pub fn alpha_bought(&self, tao: u64) -> u64 {
        self.balancer()
            .buy_alpha(self.tao, self.alpha, tao, self.fee_rate)
            .map_or(0, |s| s.out)
    }

    /// The TAO (rao) `remove_stake` of `alpha` pays; 0 for a swap the runtime refuses.
    pub fn tao_from_selling(&self, alpha: u64) -> u64 {
        self.balancer()
            .sell_alpha(self.tao, self.alpha, alpha, self.fee_rate)
            .map_or(0, |s| s.out)
    }

    /// The smallest `add_stake` amount (rao) that buys at least `alpha`, or `None` when the pool
    /// cannot supply it (it holds no more, or the runtime would refuse the swap's size).
    pub fn tao_to_buy(&self, alpha: u64) -> Option<u64> {
        self.balancer()
            .tao_to_buy(self.tao, self.alpha, alpha, self.fee_rate)
    }
}

/// One asset of the creation file, as a creation needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetQuote {
    /// The subnet.
    pub netuid: u16,
    /// Alpha per unit (rao).
    pub qty_per_unit: u64,
    /// The official price the request will be valued at (FP18, raw).
    pub official_price: u128,
    /// The pool the alpha is bought from.
    pub pool: SubnetPool,
}

/// Everything a creation's profit depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationInputs {
    /// The TAO20/WTAO pair.
    pub pair: PairReserves,
    /// The basket.
    pub assets: Vec<AssetQuote>,
    /// NAV per share at the valuation (rao per whole share).
    pub nav_per_share: U256,
    /// The contract's mint fee.
    pub mint_fee_bps: u16,
    /// The creation file's `minUnits`.
    pub min_units: u32,
    /// The largest creation the miner makes.
    pub max_units: u32,
    /// TAO (rao) the miner may spend on the basket.
    pub capital_rao: u64,
    /// Extra TAO per asset bought, basis points of its price (the pools move while buying).
    pub buy_buffer_bps: u16,
    /// Fixed cost of one creation (gas), rao.
    pub fixed_cost_rao: u64,
    /// The smallest profit worth a creation, rao (at least 0).
    pub min_profit_rao: u64,
}

/// What a creation of `units` is expected to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationPlan {
    /// Units.
    pub units: u32,
    /// The basket's value at the official prices (rao).
    pub value_rao: U256,
    /// Shares the mint pays (after the mint fee).
    pub shares_out: U256,
    /// TAO spent on the basket, buffer included (rao).
    pub cost_rao: u64,
    /// TAO the shares sell for (rao).
    pub proceeds_rao: u64,
    /// `proceeds - cost - fixed cost` (rao).
    #[serde(with = "i128_dec")]
    pub profit_rao: i128,
    /// Per asset: (netuid, alpha to deliver, TAO to spend on it).
    pub basket: Vec<(u16, u64, u64)>,
}

/// The exact outcome of a creation of `units`, or `None` when it cannot be made (a pool cannot
/// supply the alpha, a number overflows, nothing would be minted).
pub fn evaluate_creation(inputs: &CreationInputs, units: u32) -> Option<CreationPlan> {
    if units == 0 {
        return None;
    }
    let mut value = U256::ZERO;
    let mut cost: u64 = 0;
    let mut basket = Vec::with_capacity(inputs.assets.len());
    for a in &inputs.assets {
        let qty = a.qty_per_unit.checked_mul(u64::from(units))?;
        // The keeper values each delivered position by itself: floor(amount x price / 1e18).
        let v = U256::from(qty).checked_mul(U256::from(a.official_price))? / U256::from(E18);
        value = value.checked_add(v)?;
        let tao = a.pool.tao_to_buy(qty)?;
        let buffered =
            u128::from(tao) * u128::from(BPS + u64::from(inputs.buy_buffer_bps)) / u128::from(BPS);
        let buffered = u64::try_from(buffered).ok()?;
        cost = cost.checked_add(buffered)?;
        basket.push((a.netuid, qty, buffered));
    }
    let shares = mint_shares(value, inputs.nav_per_share, inputs.mint_fee_bps).ok()?;
    if shares.gross.is_zero() {
        return None;
    }
    let out_wei = amount_out(shares.shares_out, inputs.pair.shares, inputs.pair.tao);
    let proceeds = u64::try_from(out_wei / U256::from(WEI_PER_RAO)).ok()?;
    let profit = i128::from(proceeds) - i128::from(cost) - i128::from(inputs.fixed_cost_rao);
    Some(CreationPlan {
        units,
        value_rao: value,
        shares_out: shares.shares_out,
        cost_rao: cost,
        proceeds_rao: proceeds,
        profit_rao: profit,
        basket,
    })
}

/// `floor(sqrt(x))`.
pub fn isqrt(x: U512) -> U512 {
    if x < U512::from(2u8) {
        return x;
    }
    // Newton from a power of two above the root: decreasing to the floor.
    let bits = 512 - x.leading_zeros();
    let mut r = U512::from(1u8) << bits.div_ceil(2);
    loop {
        let next = (r + x / r) >> 1;
        if next >= r {
            return r;
        }
        r = next;
    }
}

/// The input `x*` at which `R(x) = 997 x R_out / (1000 R_in + 997 x)` has the marginal rate
/// `R'(x*) = den / num` (output per unit of input that just pays for that input):
/// `(sqrt(997000 R_in R_out num / den) - 1000 R_in) / 997`, rounded down, or 0 when even the
/// first input earns less than that rate.
fn closed_form(reserve_in: U256, reserve_out: U256, num: U512, den: U512) -> U512 {
    if den.is_zero() {
        return U512::ZERO;
    }
    let k = U512::from(PAIR_FEE_NUMERATOR * PAIR_FEE_DENOMINATOR);
    let Some(prod) = k
        .checked_mul(w(reserve_in))
        .and_then(|p| p.checked_mul(w(reserve_out)))
        .and_then(|p| p.checked_mul(num))
    else {
        return U512::MAX;
    };
    let root = isqrt(prod / den);
    let base = w(reserve_in) * U512::from(PAIR_FEE_DENOMINATOR);
    if root <= base {
        return U512::ZERO;
    }
    (root - base) / U512::from(PAIR_FEE_NUMERATOR)
}

/// The first `x` in `lo, lo + step, ..` up to `hi` after which `f` stops rising (the maximum of a
/// concave function on that grid), with its value.
fn argmax_concave(
    lo: u128,
    hi: u128,
    step: u128,
    f: impl Fn(u128) -> Option<i128>,
) -> Option<(u128, i128)> {
    if lo > hi || step == 0 {
        return None;
    }
    let steps = (hi - lo) / step;
    let at = |k: u128| f(lo + k * step).map(|v| (lo + k * step, v));
    // Smallest k whose successor is not better: the slope's sign changes there.
    let (mut a, mut b) = (0u128, steps);
    while a < b {
        let mid = a + (b - a) / 2;
        let here = f(lo + mid * step);
        let next = f(lo + (mid + 1) * step);
        match (here, next) {
            (Some(h), Some(n)) if n > h => a = mid + 1,
            // An infeasible successor (a pool exhausted) ends the rise too.
            _ => b = mid,
        }
    }
    at(a)
}

/// Shares per unit at the valuation, rounded up, mint fee ignored: an upper bound of what a
/// unit mints.
fn shares_per_unit_bound(inputs: &CreationInputs) -> Option<U256> {
    if inputs.nav_per_share.is_zero() {
        return None;
    }
    let mut value_e18 = U256::ZERO;
    for a in &inputs.assets {
        value_e18 = value_e18
            .checked_add(U256::from(a.qty_per_unit).checked_mul(U256::from(a.official_price))?)?;
    }
    Some(value_e18.div_ceil(inputs.nav_per_share))
}

/// The creation that maximises the exact profit within the bounds, if one earns at least
/// `min_profit_rao`; `None` otherwise.
pub fn size_creation(inputs: &CreationInputs) -> Option<CreationPlan> {
    let lo = inputs.min_units.max(1);
    if inputs.max_units < lo {
        return None;
    }
    let shares_per_unit = shares_per_unit_bound(inputs)?;
    // Cost per unit at the spot prices, rounded down, in wei.
    let mut spot_cost: u128 = 0;
    for a in &inputs.assets {
        spot_cost = spot_cost.checked_add(a.pool.spot_value(a.qty_per_unit))?;
    }
    let cost_wei = U512::from(spot_cost) * U512::from(WEI_PER_RAO);
    // R'(x) = C / s  <=>  (1000 S + 997 x)^2 = 997000 S W s / C.
    let x_star = closed_form(
        inputs.pair.shares,
        inputs.pair.tao,
        w(shares_per_unit),
        cost_wei,
    );
    if x_star.is_zero() {
        return None;
    }
    let u_star = x_star / w(shares_per_unit).max(U512::from(1u8));
    let u_star = u32::try_from(u_star).unwrap_or(u32::MAX);
    let mut hi = inputs
        .max_units
        .min(u_star.saturating_mul(2).saturating_add(2));
    // Capital: the largest size whose basket the miner can pay for.
    if evaluate_creation(inputs, lo).is_none_or(|p| p.cost_rao > inputs.capital_rao) {
        return None;
    }
    if evaluate_creation(inputs, hi).is_none_or(|p| p.cost_rao > inputs.capital_rao) {
        let (mut a, mut b) = (lo, hi);
        while a < b {
            let mid = a + (b - a).div_ceil(2);
            if evaluate_creation(inputs, mid).is_some_and(|p| p.cost_rao <= inputs.capital_rao) {
                a = mid;
            } else {
                b = mid - 1;
            }
        }
        hi = a;
    }
    let (units, _) = argmax_concave(u128::from(lo), u128::from(hi), 1, |u| {
        evaluate_creation(inputs, u32::try_from(u).ok()?).map(|p| p.profit_rao)
    })?;
    let plan = evaluate_creation(inputs, u32::try_from(units).ok()?)?;
    (plan.profit_rao >= i128::from(inputs.min_profit_rao)).then_some(plan)
}

/// One fund position, as a redemption pays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionQuote {
    /// The subnet.
    pub netuid: u16,
    /// The fund's alpha (stake net of booked claims), rao.
    pub amount: u64,
    /// The Alpha precompile's price (FP18 raw): below `minStakeRao` a paid amount is booked as a
    /// claim, not transferred.
    pub precompile_price: u128,
    /// The most the alpha is counted at (FP18 raw, TAO per alpha): the miner passes the lowest of
    /// the official price and the window's spot prices, so a spot pushed up in the last blocks (a
    /// stake its staker may take out before this alpha is sold) is no reason to redeem.
    pub price_cap: u128,
    /// The pool the alpha is sold into.
    pub pool: SubnetPool,
}

impl PositionQuote {
    /// TAO (rao) selling `alpha` is counted for: the pool's proceeds, capped at the value at
    /// `price_cap` (rounded down).
    pub fn sale_value(&self, alpha: u64) -> u64 {
        let capped = U256::from(alpha) * U256::from(self.price_cap) / U256::from(E18);
        let capped = u64::try_from(capped).unwrap_or(u64::MAX);
        self.pool.tao_from_selling(alpha).min(capped)
    }
}

/// Everything a redemption's profit depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedemptionInputs {
    /// The TAO20/WTAO pair.
    pub pair: PairReserves,
    /// `S`: total supply after the management fee accrued to now.
    pub supply: U256,
    /// The contract's redeem fee.
    pub redeem_fee_bps: u16,
    /// The fund's positions, in `fundNetuids()` order.
    pub positions: Vec<PositionQuote>,
    /// The fund's native TAO (wei).
    pub native_wei: U256,
    /// The contract's `minStakeRao`.
    pub min_stake_rao: u64,
    /// TAO (rao) the miner may spend on shares.
    pub capital_rao: u64,
    /// The largest redemption, rao spent.
    pub max_spend_rao: u64,
    /// The search grid, rao.
    pub step_rao: u64,
    /// Fixed cost of one redemption (gas), rao.
    pub fixed_cost_rao: u64,
    /// The smallest profit worth a redemption, rao.
    pub min_profit_rao: u64,
}

/// What a redemption spending `spend_rao` is expected to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedemptionPlan {
    /// TAO spent on shares (rao).
    pub spend_rao: u64,
    /// Shares bought.
    pub shares: U256,
    /// Shares burned (after the redeem fee).
    pub burned: U256,
    /// Alpha paid per position (0 where it would be booked as dust).
    pub amounts: Vec<(u16, u64)>,
    /// Native TAO paid (rao).
    pub native_rao: u64,
    /// TAO the alpha sells for, plus the native TAO (rao).
    pub proceeds_rao: u64,
    /// `proceeds - spend - fixed cost` (rao).
    #[serde(with = "i128_dec")]
    pub profit_rao: i128,
}

/// The exact outcome of a redemption spending `spend_rao`, or `None` when nothing would be bought.
pub fn evaluate_redemption(inputs: &RedemptionInputs, spend_rao: u64) -> Option<RedemptionPlan> {
    if inputs.supply.is_zero() {
        return None;
    }
    let spend_wei = U256::from(spend_rao).checked_mul(U256::from(WEI_PER_RAO))?;
    let shares = amount_out(spend_wei, inputs.pair.tao, inputs.pair.shares);
    if shares.is_zero() {
        return None;
    }
    let fee = (shares * U256::from(inputs.redeem_fee_bps)).div_ceil(U256::from(BPS));
    let burned = shares - fee;
    let mut amounts = Vec::with_capacity(inputs.positions.len());
    let mut proceeds: u64 = 0;
    for p in &inputs.positions {
        let amount = narrow(w(U256::from(p.amount)) * w(burned) / w(inputs.supply));
        let amount = u64::try_from(amount).ok()?;
        // The contract books an amount worth less than the minimum stake (claimable later):
        // counted as nothing here.
        let dust = U256::from(amount) * U256::from(p.precompile_price)
            < U256::from(inputs.min_stake_rao) * U256::from(E18);
        let paid = if dust { 0 } else { amount };
        amounts.push((p.netuid, paid));
        proceeds = proceeds.checked_add(p.sale_value(paid))?;
    }
    let native_wei = narrow(w(inputs.native_wei) * w(burned) / w(inputs.supply));
    let native_rao = u64::try_from(native_wei / U256::from(WEI_PER_RAO)).ok()?;
    proceeds = proceeds.checked_add(native_rao)?;
    let profit = i128::from(proceeds) - i128::from(spend_rao) - i128::from(inputs.fixed_cost_rao);
    Some(RedemptionPlan {
        spend_rao,
        shares,
        burned,
        amounts,
        native_rao,
        proceeds_rao: proceeds,
        profit_rao: profit,
    })
}

/// The redemption that maximises the exact profit on the `step_rao` grid within the bounds, if one
/// earns at least `min_profit_rao`; `None` otherwise.
pub fn size_redemption(inputs: &RedemptionInputs) -> Option<RedemptionPlan> {
    let step = inputs.step_rao.max(1);
    if inputs.supply.is_zero() {
        return None;
    }
    // Value of the whole fund at the spot prices, net of the redeem fee, in wei per share-wei:
    // v = V x 1e9 x (1e4 - fee) / (1e4 x S).
    let mut value: u128 = 0;
    for p in &inputs.positions {
        let capped =
            u128::try_from(U256::from(p.amount) * U256::from(p.price_cap) / U256::from(E18))
                .unwrap_or(u128::MAX);
        value = value.checked_add(p.pool.spot_value(p.amount).min(capped))?;
    }
    let native = u128::try_from(inputs.native_wei / U256::from(WEI_PER_RAO)).ok()?;
    value = value.checked_add(native)?;
    let num = U512::from(value)
        * U512::from(WEI_PER_RAO)
        * U512::from(BPS - u64::from(inputs.redeem_fee_bps));
    let den = U512::from(BPS) * w(inputs.supply);
    let y_star = closed_form(inputs.pair.tao, inputs.pair.shares, num, den);
    if y_star.is_zero() {
        return None;
    }
    let y_star_rao = y_star / U512::from(WEI_PER_RAO);
    let y_star_rao = u64::try_from(y_star_rao).unwrap_or(u64::MAX);
    let hi = inputs
        .capital_rao
        .min(inputs.max_spend_rao)
        .min(y_star_rao.saturating_mul(2).saturating_add(step));
    if hi < step {
        return None;
    }
    let (spend, _) = argmax_concave(u128::from(step), u128::from(hi), u128::from(step), |y| {
        evaluate_redemption(inputs, u64::try_from(y).ok()?).map(|p| p.profit_rao)
    })?;
    let plan = evaluate_redemption(inputs, u64::try_from(spend).ok()?)?;
    (plan.profit_rao >= i128::from(inputs.min_profit_rao)).then_some(plan)
}

/// Signed amounts as decimal strings in JSON: the store's records go through `serde_json::Value`,
/// which has no 128-bit integers.
pub mod i128_dec {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v` as a decimal string.
    pub fn serialize<S: Serializer>(v: &i128, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    /// Reads a decimal string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<i128, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map_err(|e| serde::de::Error::custom(format!("{text:?} is not an integer: {e}")))
    }
}

/// `shares x (10 000 - slippage) / 10 000`: the `minSharesOut` (or any minimum) a plan states.
pub fn less_slippage(amount: U256, slippage_bps: u16) -> U256 {
    amount * U256::from(BPS.saturating_sub(u64::from(slippage_bps))) / U256::from(BPS)
}

/// Checks that a basis-point setting is below 100 %.
pub fn check_bps(name: &str, bps: u16) -> Result<()> {
    if u64::from(bps) >= BPS {
        return Err(Error::Invalid(format!(
            "{name}: {bps} bps is not below 10 000"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_out_is_uniswaps() {
        // getAmountOut(1e18, 100e18, 100e18) = floor(997e18 x 100e18 / (100e18 x 1000 + 997e18)).
        let e = U256::from(E18);
        let out = amount_out(e, e * U256::from(100u8), e * U256::from(100u8));
        assert_eq!(out, U256::from(987_158_034_397_061_298u64));
        assert!(amount_out(U256::ZERO, e, e).is_zero());
    }

    #[test]
    fn isqrt_is_the_floor() {
        for x in [0u64, 1, 2, 3, 4, 15, 16, 17, 1 << 40, u64::MAX] {
            let r = isqrt(U512::from(x));
            assert!(r * r <= U512::from(x));
            assert!((r + U512::from(1u8)) * (r + U512::from(1u8)) > U512::from(x));
        }
    }

    #[test]
    fn buying_the_quoted_tao_yields_the_alpha() {
        // Equal weights, a pool whose TAO side weighs 30 %, and one whose TAO side weighs 90 %.
        for quote_weight in [
            500_000_000_000_000_000u64,
            300_000_000_000_000_000,
            900_000_000_000_000_000,
        ] {
            let pool = SubnetPool {
                tao: 2_000_000_000_000,
                alpha: 40_000_000_000_000,
                quote_weight,
                fee_rate: 33,
            };
            for alpha in [1u64, 8_000_000, 1_234_567_890_123, 39_000_000_000_000] {
                let Some(tao) = pool.tao_to_buy(alpha) else {
                    // Only a swap over the runtime's input limit (1000 x the TAO reserve).
                    assert!(
                        pool.alpha_bought(2_000_000_000_000 * 1_000) < alpha,
                        "{quote_weight}: {alpha}"
                    );
                    continue;
                };
                assert!(pool.alpha_bought(tao) >= alpha, "{quote_weight}: {alpha}");
                assert!(
                    pool.alpha_bought(tao - 1) < alpha,
                    "{quote_weight}: {alpha}: {tao} is not the least"
                );
            }
            assert_eq!(pool.tao_to_buy(40_000_000_000_000), None);
        }
    }

    #[test]
    fn the_pool_is_the_chains_and_prices_as_the_runtime_api() {
        let chain = SwapPool {
            reserves: tao20_chain::types::PoolReserves {
                tao_in: 2_000_000_000_000,
                alpha_in: 40_000_000_000_000,
                alpha_out: 0,
            },
            quote_weight: 250_000_000_000_000_000,
            fee_rate: 33,
        };
        let pool = SubnetPool::from_chain(&chain);
        // (0.75 / 0.25) x (2000 / 40000) = 0.15 TAO per alpha, less the runtime's U64F64
        // truncation (0.05 is not a binary fraction): one rao.
        assert_eq!(pool.spot_price_rao(), 149_999_999);
        assert_eq!(pool.spot_value(1_000_000_000), 149_999_999);
        // The heavier alpha side makes alpha dearer than the constant product would at the same
        // price: 10 TAO buys fewer alpha than from an equal-weight pool quoting 0.15.
        let equal = SubnetPool::equal_weights(6_000_000_000_000, 40_000_000_000_000, 33);
        assert_eq!(equal.spot_price_rao().abs_diff(150_000_000), 1);
        assert!(pool.alpha_bought(10_000_000_000) < equal.alpha_bought(10_000_000_000));
    }

    fn e18() -> U256 {
        U256::from(E18)
    }

    /// Two assets at 0.05 and 0.08 TAO per alpha, a unit worth 10 TAO, NAV 1 TAO per share, a
    /// pair of 500 shares priced at `premium_bps` above NAV.
    fn creation_at(premium_bps: u64) -> CreationInputs {
        let pool = |tao: u64, alpha: u64| SubnetPool::equal_weights(tao, alpha, 33);
        CreationInputs {
            pair: PairReserves {
                shares: U256::from(500u64) * e18(),
                tao: U256::from(500u64) * e18() * U256::from(10_000 + premium_bps)
                    / U256::from(10_000u64),
            },
            assets: vec![
                AssetQuote {
                    netuid: 2,
                    qty_per_unit: 100_000_000_000,
                    official_price: 50_000_000_000_000_000,
                    pool: pool(5_000_000_000_000, 100_000_000_000_000),
                },
                AssetQuote {
                    netuid: 3,
                    qty_per_unit: 62_500_000_000,
                    official_price: 80_000_000_000_000_000,
                    pool: pool(8_000_000_000_000, 100_000_000_000_000),
                },
            ],
            nav_per_share: U256::from(WEI_PER_RAO),
            mint_fee_bps: 50,
            min_units: 1,
            max_units: 1_000,
            capital_rao: 1_000_000_000_000,
            buy_buffer_bps: 30,
            fixed_cost_rao: 10_000_000,
            min_profit_rao: 0,
        }
    }

    #[test]
    fn a_premium_is_sized_to_the_best_profit_and_no_premium_to_nothing() {
        let inputs = creation_at(1_000);
        let plan = size_creation(&inputs).unwrap();
        assert!(plan.units >= 1, "{plan:?}");
        assert!(plan.profit_rao > 0);
        // No neighbour does better: the discrete maximum.
        for u in [plan.units.saturating_sub(1), plan.units + 1] {
            if let Some(p) = evaluate_creation(&inputs, u) {
                assert!(
                    p.profit_rao <= plan.profit_rao,
                    "{u} units: {p:?} beats {plan:?}"
                );
            }
        }
        // Priced at NAV, the fees make every size a loss.
        assert_eq!(size_creation(&creation_at(0)), None);
        // Capital binds.
        let poor = CreationInputs {
            capital_rao: plan.cost_rao / u64::from(plan.units).max(1) + 1,
            ..inputs.clone()
        };
        assert_eq!(size_creation(&poor).map(|p| p.units), Some(1));
    }

    #[test]
    fn plans_survive_the_stores_json_values() {
        let mut plan = size_creation(&creation_at(1_000)).unwrap();
        plan.profit_rao = -i128::from(u64::MAX) * 3;
        let value = serde_json::to_value(&plan).unwrap();
        assert_eq!(value["profitRao"], "-55340232221128654845");
        assert_eq!(serde_json::from_value::<CreationPlan>(value).unwrap(), plan);
    }

    /// One position of 1 000 alpha in a pool of 5 000 TAO / 100 000 alpha (spot 0.05), the fund's
    /// whole supply 100 shares, the pair at 30 % below a NAV of 0.5 TAO a share.
    fn redemption_at(price_cap: u128) -> RedemptionInputs {
        RedemptionInputs {
            pair: PairReserves {
                shares: U256::from(200u64) * e18(),
                tao: U256::from(70u64) * e18(),
            },
            supply: U256::from(100u64) * e18(),
            redeem_fee_bps: 50,
            positions: vec![PositionQuote {
                netuid: 2,
                amount: 1_000_000_000_000,
                precompile_price: 50_000_000_000_000_000,
                price_cap,
                pool: SubnetPool::equal_weights(5_000_000_000_000, 100_000_000_000_000, 33),
            }],
            native_wei: U256::ZERO,
            min_stake_rao: 500_000,
            capital_rao: 100_000_000_000,
            max_spend_rao: u64::MAX,
            step_rao: 100_000_000,
            fixed_cost_rao: 10_000_000,
            min_profit_rao: 0,
        }
    }

    #[test]
    fn a_redemption_counts_its_alpha_at_no_more_than_its_price_cap() {
        // The cap is the spot: the 30 % discount is worth a redemption.
        let plan = size_redemption(&redemption_at(50_000_000_000_000_000)).expect("a profit");
        assert!(plan.profit_rao > 1_000_000_000, "{plan:?}");
        // The spot was pushed to four times the window's other prices in the last blocks: the
        // pool's proceeds are not believed; at the cap the shares are worth a quarter of what
        // the pair asks.
        assert_eq!(
            size_redemption(&redemption_at(12_500_000_000_000_000)),
            None
        );
        let capped = evaluate_redemption(&redemption_at(12_500_000_000_000_000), plan.spend_rao)
            .expect("shares bought");
        let (_, paid) = capped.amounts[0];
        assert_eq!(
            capped.proceeds_rao,
            u64::try_from(u128::from(paid) * 12_500_000_000_000_000 / E18).unwrap()
        );
        assert!(capped.proceeds_rao < plan.proceeds_rao);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever the market, a creation that is sized earns at least the minimum profit
        /// (never a loss) at the exact, chain-rounded outcome, and stays within the bounds.
        #[test]
        fn creation_sizing_never_sizes_a_loss(
            premium in -2_000i64..5_000,
            pair_shares in 1u64..100_000,
            qty in 1u64..1_000_000_000_000,
            pool_tao in 1_000u64..1_000_000,
            pool_ratio in 1u64..100,
            price_skew in 50u64..150,
            fee_rate in 0u16..2_000,
            quote_weight in 10_000_000_000_000_000u64..=990_000_000_000_000_000,
            mint_fee in 0u16..500,
            min_units in 1u32..5,
            max_units in 1u32..2_000,
            capital in 0u64..100_000,
            fixed in 0u64..1_000_000_000,
            min_profit in 0u64..1_000_000_000,
        ) {
            let tao = u128::from(pool_tao) * 1_000_000_000;
            let alpha = tao * u128::from(pool_ratio);
            let spot = 1_000_000_000u128 / u128::from(pool_ratio);
            let official = spot * u128::from(price_skew) / 100 * 1_000_000_000;
            let nav = U256::from(WEI_PER_RAO);
            let shares = U256::from(pair_shares) * e18();
            let pair_tao = u128::try_from(shares).unwrap_or(0);
            let pair_tao = U256::from(
                i128::try_from(pair_tao).unwrap_or(i128::MAX) / 10_000 * i128::from(10_000 + premium),
            );
            let inputs = CreationInputs {
                pair: PairReserves { shares, tao: pair_tao },
                assets: vec![AssetQuote {
                    netuid: 2,
                    qty_per_unit: qty,
                    official_price: official,
                    pool: SubnetPool {
                        tao: u64::try_from(tao).unwrap(),
                        alpha: u64::try_from(alpha).unwrap(),
                        quote_weight,
                        fee_rate,
                    },
                }],
                nav_per_share: nav,
                mint_fee_bps: mint_fee,
                min_units,
                max_units,
                capital_rao: capital * 1_000_000_000,
                buy_buffer_bps: 30,
                fixed_cost_rao: fixed,
                min_profit_rao: min_profit,
            };
            if let Some(plan) = size_creation(&inputs) {
                proptest::prop_assert!(plan.profit_rao >= i128::from(min_profit));
                proptest::prop_assert!(plan.profit_rao >= 0);
                proptest::prop_assert!(plan.units >= min_units && plan.units <= max_units);
                proptest::prop_assert!(plan.cost_rao <= inputs.capital_rao);
                proptest::prop_assert_eq!(Some(plan.clone()), evaluate_creation(&inputs, plan.units));
                proptest::prop_assert_eq!(
                    i128::from(plan.proceeds_rao) - i128::from(plan.cost_rao) - i128::from(fixed),
                    plan.profit_rao
                );
            }
        }

        /// The same for redemptions.
        #[test]
        fn redemption_sizing_never_sizes_a_loss(
            discount in -2_000i64..5_000,
            pair_shares in 1u64..100_000,
            supply in 1u64..100_000,
            amount in 1u64..1_000_000,
            pool_tao in 1_000u64..1_000_000,
            pool_ratio in 1u64..100,
            official_bps in 5_000u64..20_000,
            quote_weight in 10_000_000_000_000_000u64..=990_000_000_000_000_000,
            redeem_fee in 0u16..500,
            capital in 0u64..100_000,
            fixed in 0u64..1_000_000_000,
            min_profit in 0u64..1_000_000_000,
        ) {
            let tao = u128::from(pool_tao) * 1_000_000_000;
            let alpha = tao * u128::from(pool_ratio);
            let shares = U256::from(pair_shares) * e18();
            let pair_tao = U256::from(
                i128::try_from(u128::try_from(shares).unwrap_or(0)).unwrap_or(i128::MAX) / 10_000
                    * i128::from(10_000 - discount.min(9_999)),
            );
            let inputs = RedemptionInputs {
                pair: PairReserves { shares, tao: pair_tao },
                supply: U256::from(supply) * e18(),
                redeem_fee_bps: redeem_fee,
                positions: vec![PositionQuote {
                    netuid: 2,
                    amount: amount * 1_000_000_000,
                    precompile_price: 1_000_000_000_000_000_000 / u128::from(pool_ratio),
                    price_cap: 1_000_000_000_000_000_000 * u128::from(official_bps)
                        / 10_000
                        / u128::from(pool_ratio),
                    pool: SubnetPool {
                        tao: u64::try_from(tao).unwrap(),
                        alpha: u64::try_from(alpha).unwrap(),
                        quote_weight,
                        fee_rate: 33,
                    },
                }],
                native_wei: U256::ZERO,
                min_stake_rao: 500_000,
                capital_rao: capital * 1_000_000_000,
                max_spend_rao: u64::MAX,
                step_rao: 100_000_000,
                fixed_cost_rao: fixed,
                min_profit_rao: min_profit,
            };
            if let Some(plan) = size_redemption(&inputs) {
                proptest::prop_assert!(plan.profit_rao >= i128::from(min_profit));
                proptest::prop_assert!(plan.spend_rao <= inputs.capital_rao);
                proptest::prop_assert_eq!(Some(plan.clone()), evaluate_redemption(&inputs, plan.spend_rao));
            }
        }
    }
}
