//! Winner selection: the lexicographic optimum (maximum total hashrate, then minimum cost) of a
//! bounded knapsack, exact, proven and canonical.
//!
//! # Model
//! Rows with the same (hotkey, hashrate, price) are merged; rows priced above the cap
//! (`max_price`, an absolute multiplier, 1.05 by default; a price equal to the cap is kept), with
//! a zero hashrate or a zero count are dropped. Items that are identical for the optimisation, the
//! same (price, hashrate) whoever offers them, form one *type* with an integer count. With
//! `g` the gcd of all hashrates and `q` the gcd of all prices, a type's value is `hashrate / g`
//! and its cost `value x price / q`, and the capacity is `floor(budget_raw x 1e18 / (g x q))`:
//! `sum(hashrate x price x n) <= budget` holds exactly iff `sum(cost x n) <= capacity`. Costs and
//! the capacity are then divided by the gcd of the costs.
//!
//! # Integer ranges
//! Values are `u128`, costs and the capacity `U256`, and no instance within the input limits
//! overflows either: a row's hashrate is at most [`MAX_ROW_HASHRATE`] (10^24 raw, below 2^80),
//! at most [`MAX_ITEMS`] (below 2^20) items are taken, so the total value stays below 2^100 and
//! the total hashrate fits [`Fp18`]; a price (at most `max_price`, any [`Fp18`]) is below 2^128,
//! so a cost is below 2^208 and the total cost below 2^228. Legal commitments stay far inside:
//! at most 256 miners (the subnet's uids) of at most 1000 workers of at most 0.45 PH, on the
//! 0.01 PH grain (the bid rule, [`crate::commitment::BidRule`]). The engine runs in `u128`
//! whenever the model's total cost fits it (every legal auction: a value is at most 45 and a
//! price below 2^61 at the default cap) and in `U256` otherwise (rows beyond the rule); both run
//! the same code and give the same answer.
//!
//! # Bounded search
//! When no item is worth more than [`crate::proximity::MAX_VALUE`] model units, which the bid
//! rule guarantees (at most 45), the optimum differs from the greedy prefix by a bounded amount
//! of value, and [`crate::proximity`] finds it exactly by two dynamic programmes over that
//! amount, in time that depends on neither the workers, the prices nor the budget (about 20 to
//! 50 ms for the worst legal input, in a release build). Its answer carries `states: 0`.
//!
//! # Pareto programme (rows beyond the bid rule)
//! Counts are binary-split (1, 2, 4, ... units) into 0/1 chunks, sorted by (price, hashrate), and
//! a Nemhauser-Ullmann dynamic programme keeps the Pareto front of (value, cost) states: a state
//! is dropped when another has at least its value for at most its cost (exact ties keep the state
//! without the new chunk), or when its value plus the LP (Dantzig) bound of the remaining chunks
//! is below the best (value, cost) already reached, the incumbent, or when it can at best tie
//! the incumbent's value and the LP lower bound on its cost exceeds the incumbent's cost. These
//! rules only drop states that cannot lead to a lexicographically better end, so the front's best
//! state is the lexicographic optimum; its integers are the proof. The incumbent starts from the
//! greedy selection sharpened by single swaps (drop one chunk, add the most valuable one that then
//! fits), which keeps the front small even when values are fine-grained. The front is sparse, so
//! tiny hashrate units cost nothing in themselves; the states it may create are capped at
//! [`MAX_STATES`]. Beyond that the answer is the best of the incumbent and greedy completions of
//! states of the last complete front (a deterministic sample), verified and flagged
//! `optimal: false` (see [`Model::solve_counts_within`]), never an error, so adversarially
//! fine-grained bids cannot leave a window without winners.
//!
//! # Verification and fallback
//! The result is re-checked in integers: every count within what was offered, every price within
//! the cap, `sum(hashrate x price x count) <= budget` at 36 decimals, the phase-1 bounds
//! `greedy <= value <= floor(LP bound)` and the phase-2 bound `cost >= LP minimum cost of that
//! value`. If a check ever failed, the selection falls back to the greedy (cheapest first) one,
//! which is feasible by construction, and says so (`optimal: false`). [`crate::milp`] solves the
//! same model with good_lp as an independent cross-check.
//!
//! # Canonical tie-break
//! The bounded search takes, among optimal selections, the one that drops the least value from
//! the greedy prefix, units dearest first to drop and cheapest first to add
//! ([`crate::proximity`]). The Pareto programme processes types in (price, hashrate) order and
//! exact ties keep the state without the new chunk. Either way the chosen count per type depends
//! only on the multiset of offers. Inside a type the units are shared by water-filling over the
//! offering hotkeys in byte order: every hotkey gets the same number of units (or all it
//! offered), and the remainder goes one unit each to the first hotkeys in byte order. Winners are
//! listed by (price, hashrate, hotkey).

use std::collections::BTreeMap;

use alloy_primitives::{U256, U512};
use serde::Serialize;
use tao20_core::fixed::SCALE;
use tao20_core::math::mul_div_u128;
use tao20_core::{Fp18, Rounding};

use crate::{Error, Result};

/// The default price cap, 1.05.
pub const DEFAULT_MAX_PRICE: Fp18 = Fp18::from_raw(1_050_000_000_000_000_000);
/// The largest number of worker items (sum of counts after filtering) an auction takes: four
/// times the most legal commitments can carry (256 uids x 1000 workers).
pub const MAX_ITEMS: u64 = 1_000_000;
/// The largest worker hashrate a row may have, 1 000 000 PH (more than the whole Bitcoin
/// network), which keeps every total of the model within its integer range. Commitments carry
/// at most 0.45 PH a worker ([`crate::commitment::MAX_V1_WORKER_HASHRATE`]); rows from elsewhere
/// (`tao20 auction solve`) may carry more.
pub const MAX_ROW_HASHRATE: Fp18 = Fp18::from_raw(1_000_000 * SCALE);
/// Swap rounds that sharpen the greedy incumbent before the exact engine runs.
const IMPROVE_ROUNDS: usize = 256;
/// Front states whose greedy completions are scored when the state budget runs out (twice this
/// many: evenly spread and the most valuable).
const CAPPED_SAMPLE: usize = 1024;
/// The best of those completions that are sharpened by swaps and compared with the incumbent.
const CAPPED_CANDIDATES: usize = 4;
/// The largest number of states the exact engine may create.
pub const MAX_STATES: usize = 40_000_000;

/// One bid row: `count` workers of `hashrate` PH at `price`, offered by `hotkey`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BidRow {
    /// The miner (opaque).
    pub hotkey: String,
    /// PH per worker.
    pub hashrate: Fp18,
    /// Multiplier on the hashprice.
    pub price: Fp18,
    /// Number of workers.
    pub count: u64,
}

/// One identical-item class of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemType {
    /// PH per item.
    pub hashrate: Fp18,
    /// Price multiplier.
    pub price: Fp18,
    /// Items offered in total.
    pub count: u64,
    /// Value per item in model units.
    pub value: u128,
    /// Cost per item in model units.
    pub cost: U256,
    /// (hotkey, count) offering this type, hotkeys in byte order.
    pub offers: Vec<(String, u64)>,
}

/// The integer model of an auction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// Types in (price, hashrate) order.
    pub types: Vec<ItemType>,
    /// Capacity in cost units (at most the total cost of all types).
    pub capacity: U256,
    /// The budget in PH.
    pub budget: Fp18,
    /// The price cap.
    pub max_price: Fp18,
}

/// The proof data of a selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Certificate {
    /// Whether the selection is the proven lexicographic optimum: always for rows within the bid
    /// rule; false when the Pareto programme's proof needed more than the state budget (the
    /// answer is then the verified incumbent) or after the verification fallback.
    pub optimal: bool,
    /// The greedy value (phase-1 lower bound), in model units.
    pub greedy_value: u128,
    /// floor of the LP bound (phase-1 upper bound), in model units.
    pub value_bound: u128,
    /// The chosen value, in model units.
    pub value: u128,
    /// LP lower bound on the cost of that value (phase-2 bound), in model units.
    #[serde(serialize_with = "decimal")]
    pub cost_bound: U256,
    /// The chosen cost, in model units.
    #[serde(serialize_with = "decimal")]
    pub cost: U256,
    /// States the Pareto programme created; 0 when the bounded search answered.
    pub states: usize,
}

fn decimal<S: serde::Serializer>(x: &U256, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(x)
}

/// A winner row: `count` workers of `hashrate` at `price` from `hotkey`.
pub type Winner = BidRow;

/// The auction's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Winners by (price, hashrate, hotkey).
    pub winners: Vec<Winner>,
    /// Total PH bought, exact.
    pub total_hashrate: Fp18,
    /// Total `hashrate x price`, exact, as an integer at 36 decimals.
    pub total_cost_e36: U256,
    /// The proof data.
    pub certificate: Certificate,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// gcd in `u128` when both fit (the common case, and much cheaper), else in `U256`.
fn gcd_wide(a: U256, b: U256) -> U256 {
    match (u128::try_from(a), u128::try_from(b)) {
        (Ok(a), Ok(b)) => U256::from(gcd(a, b)),
        _ => a.gcd(b),
    }
}

impl Model {
    /// Builds the model: merges, filters and groups `rows` (see the module documentation).
    ///
    /// Errors only on input beyond the limits: more than [`MAX_ITEMS`] items within the cap, or
    /// a row within the cap whose hashrate exceeds [`MAX_ROW_HASHRATE`].
    pub fn new(rows: &[BidRow], budget: Fp18, max_price: Fp18) -> Result<Self> {
        let mut merged: BTreeMap<(Fp18, Fp18), BTreeMap<&str, u64>> = BTreeMap::new();
        let mut items: u64 = 0;
        for row in rows {
            if row.price > max_price || row.hashrate.is_zero() || row.count == 0 {
                continue;
            }
            if row.hashrate > MAX_ROW_HASHRATE {
                return Err(Error::invalid(
                    "bids",
                    format!(
                        "worker hashrate {} of {} exceeds {MAX_ROW_HASHRATE} PH",
                        row.hashrate, row.hotkey
                    ),
                ));
            }
            items = items.saturating_add(row.count);
            if items > MAX_ITEMS {
                return Err(Error::invalid(
                    "bids",
                    format!("more than {MAX_ITEMS} worker items within the price cap"),
                ));
            }
            let c = merged
                .entry((row.price, row.hashrate))
                .or_default()
                .entry(row.hotkey.as_str())
                .or_insert(0);
            *c += row.count;
        }
        let unit = merged
            .keys()
            .fold(0u128, |g, &(_, hashrate)| gcd(g, hashrate.raw()))
            .max(1);
        // Prices are factored by their gcd too, so that costs stay small for prices with few
        // decimals; zero when every price is zero.
        let price_unit = merged
            .keys()
            .fold(0u128, |g, &(price, _)| gcd(g, price.raw()))
            .max(1);
        let mut types = Vec::with_capacity(merged.len());
        let mut total_cost = U256::ZERO;
        for ((price, hashrate), offers) in merged {
            // value < 2^80 and price < 2^128 (module documentation): the product fits.
            let value = hashrate.raw() / unit;
            let cost = U256::from(value)
                .checked_mul(U256::from(price.raw() / price_unit))
                .ok_or_else(|| Error::overflow(format!("cost of {hashrate} PH at {price}")))?;
            let count: u64 = offers.values().sum();
            total_cost = cost
                .checked_mul(U256::from(count))
                .and_then(|c| c.checked_add(total_cost))
                .ok_or_else(|| Error::overflow("total cost of the bids"))?;
            types.push(ItemType {
                hashrate,
                price,
                count,
                value,
                cost,
                offers: offers.into_iter().map(|(h, c)| (h.to_owned(), c)).collect(),
            });
        }
        // capacity = floor(budget x 1e18 / (unit x price_unit)) (two floors in a row equal one),
        // clipped to the total cost. budget x 1e18 < 2^188.
        let capacity = (U256::from(budget.raw()) * U256::from(SCALE)
            / U256::from(unit)
            / U256::from(price_unit))
        .min(total_cost);
        let cost_unit = types.iter().fold(U256::ZERO, |g, t| gcd_wide(g, t.cost));
        let mut model = Self {
            types,
            capacity,
            budget,
            max_price,
        };
        if cost_unit > U256::from(1u8) {
            for t in &mut model.types {
                t.cost /= cost_unit;
            }
            model.capacity /= cost_unit;
        }
        Ok(model)
    }

    /// The total cost of every item offered, in model units (below 2^228, see the module
    /// documentation).
    pub fn total_cost(&self) -> U256 {
        self.types.iter().fold(U256::ZERO, |sum, t| {
            sum.saturating_add(t.cost.saturating_mul(U256::from(t.count)))
        })
    }
}

/// The cost integer of the exact engine: `u128` when the model's total cost fits it, `U256`
/// otherwise. The engine's code is the same for both, so both give the same answer; the narrow
/// one only runs faster. Every sum the engine forms is a sum of distinct chunks, at most the
/// total cost, so plain `+` and `-` never leave the range (`MAX` is only the "cannot" sentinel
/// of [`Chunks::cost_bound`], combined by `saturating_add`).
pub(crate) trait Cost:
    Copy + Ord + std::fmt::Debug + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self>
{
    const ZERO: Self;
    const MAX: Self;
    /// `x` in this type, if it fits.
    fn narrow(x: U256) -> Option<Self>;
    /// `self` as `U256`.
    fn widen(self) -> U256;
    fn checked_add(self, rhs: Self) -> Option<Self>;
    fn saturating_add(self, rhs: Self) -> Self;
    /// `self x n`, if it fits.
    fn times(self, n: u64) -> Option<Self>;
    /// `floor(room x value / cost)` for `room < cost`, so below `value`.
    fn value_share(room: Self, value: u128, cost: Self) -> u128;
    /// `ceil(dv x cost / value)` for `dv < value`, so at most `cost`.
    fn cost_share(dv: u128, cost: Self, value: u128) -> Self;
}

impl Cost for u128 {
    const ZERO: Self = 0;
    const MAX: Self = u128::MAX;

    fn narrow(x: U256) -> Option<Self> {
        u128::try_from(x).ok()
    }

    fn widen(self) -> U256 {
        U256::from(self)
    }

    fn checked_add(self, rhs: Self) -> Option<Self> {
        u128::checked_add(self, rhs)
    }

    fn saturating_add(self, rhs: Self) -> Self {
        u128::saturating_add(self, rhs)
    }

    fn times(self, n: u64) -> Option<Self> {
        self.checked_mul(u128::from(n))
    }

    fn value_share(room: Self, value: u128, cost: Self) -> u128 {
        // The product usually fits; the 512-bit division is only for the rest.
        match room.checked_mul(value) {
            Some(p) => p / cost,
            None => mul_div_u128(room, value, cost, Rounding::Floor).unwrap_or(u128::MAX),
        }
    }

    fn cost_share(dv: u128, cost: Self, value: u128) -> Self {
        match dv.checked_mul(cost) {
            Some(p) => p.div_ceil(value),
            None => mul_div_u128(dv, cost, value, Rounding::Ceil).unwrap_or(u128::MAX),
        }
    }
}

impl Cost for U256 {
    const ZERO: Self = U256::ZERO;
    const MAX: Self = U256::MAX;

    fn narrow(x: U256) -> Option<Self> {
        Some(x)
    }

    fn widen(self) -> U256 {
        self
    }

    fn checked_add(self, rhs: Self) -> Option<Self> {
        U256::checked_add(self, rhs)
    }

    fn saturating_add(self, rhs: Self) -> Self {
        U256::saturating_add(self, rhs)
    }

    fn times(self, n: u64) -> Option<Self> {
        self.checked_mul(U256::from(n))
    }

    fn value_share(room: Self, value: u128, cost: Self) -> u128 {
        let q = match room.checked_mul(U256::from(value)) {
            Some(p) => p / cost,
            None => {
                let (q, _) = (U512::from(room) * U512::from(value)).div_rem(U512::from(cost));
                crate::units::u512_to_u256(q, "value share").unwrap_or(U256::MAX)
            }
        };
        u128::try_from(q).unwrap_or(u128::MAX)
    }

    fn cost_share(dv: u128, cost: Self, value: u128) -> Self {
        let value = U256::from(value);
        match U256::from(dv).checked_mul(cost) {
            Some(p) => p.div_ceil(value),
            None => {
                let (q, r) = (U512::from(dv) * U512::from(cost)).div_rem(U512::from(value));
                let q = crate::units::u512_to_u256(q, "cost share").unwrap_or(U256::MAX);
                if r.is_zero() {
                    q
                } else {
                    q.saturating_add(U256::from(1u8))
                }
            }
        }
    }
}

/// A 0/1 chunk of `units` items of one type.
#[derive(Debug, Clone, Copy)]
struct Chunk<C> {
    ty: usize,
    units: u64,
    value: u128,
    cost: C,
}

/// Chunks in (price, hashrate) order with prefix sums for the LP bound.
struct Chunks<C> {
    list: Vec<Chunk<C>>,
    prefix_cost: Vec<C>,
    prefix_value: Vec<u128>,
}

impl<C: Cost> Chunks<C> {
    fn new(model: &Model) -> Result<Self> {
        let mut list = Vec::new();
        for (ty, t) in model.types.iter().enumerate() {
            let cost = C::narrow(t.cost).ok_or_else(|| Error::overflow("cost"))?;
            let mut left = t.count;
            let mut size = 1u64;
            while left > 0 {
                let units = size.min(left);
                list.push(Chunk {
                    ty,
                    units,
                    value: t
                        .value
                        .checked_mul(u128::from(units))
                        .ok_or_else(|| Error::overflow("chunk value"))?,
                    cost: cost
                        .times(units)
                        .ok_or_else(|| Error::overflow("chunk cost"))?,
                });
                left -= units;
                size = size.saturating_mul(2);
            }
        }
        let mut prefix_cost = Vec::with_capacity(list.len() + 1);
        let mut prefix_value = Vec::with_capacity(list.len() + 1);
        let (mut c, mut v) = (C::ZERO, 0u128);
        prefix_cost.push(C::ZERO);
        prefix_value.push(0);
        for ch in &list {
            c = c
                .checked_add(ch.cost)
                .ok_or_else(|| Error::overflow("total cost"))?;
            v = v
                .checked_add(ch.value)
                .ok_or_else(|| Error::overflow("total value"))?;
            prefix_cost.push(c);
            prefix_value.push(v);
        }
        Ok(Self {
            list,
            prefix_cost,
            prefix_value,
        })
    }

    /// floor of the LP bound on the value the chunks `from..` can add within `room`.
    fn value_bound(&self, from: usize, room: C) -> u128 {
        let tail = self.prefix_cost.get(from..).unwrap_or(&[]);
        let base_cost = tail.first().copied().unwrap_or(C::ZERO);
        // Chunks from..j fit entirely.
        let fit = tail.partition_point(|&c| c - base_cost <= room);
        let j = from + fit.saturating_sub(1);
        let cost = self.prefix_cost.get(j).copied().unwrap_or(C::ZERO) - base_cost;
        let base_value = self.prefix_value.get(from).copied().unwrap_or(0);
        let value = self.prefix_value.get(j).copied().unwrap_or(0) - base_value;
        let fraction = match self.list.get(j) {
            Some(ch) if ch.cost > C::ZERO => C::value_share(room - cost, ch.value, ch.cost),
            _ => 0,
        };
        value.saturating_add(fraction)
    }

    /// The LP lower bound on the cost of adding `target` value with the chunks `from..`
    /// (cheapest first); `C::MAX` if they cannot add that much.
    fn cost_bound(&self, from: usize, target: u128) -> C {
        let tail = self.prefix_value.get(from..).unwrap_or(&[]);
        let base_value = tail.first().copied().unwrap_or(0);
        if tail.last().copied().unwrap_or(0) - base_value < target {
            return C::MAX;
        }
        let j = from
            + tail
                .partition_point(|&v| v - base_value <= target)
                .saturating_sub(1);
        let value = self.prefix_value.get(j).copied().unwrap_or(0) - base_value;
        let base_cost = self.prefix_cost.get(from).copied().unwrap_or(C::ZERO);
        let cost = self.prefix_cost.get(j).copied().unwrap_or(C::ZERO) - base_cost;
        let fraction = match self.list.get(j) {
            Some(ch) if value < target && ch.value > 0 => {
                C::cost_share(target - value, ch.cost, ch.value)
            }
            _ => C::ZERO,
        };
        cost.saturating_add(fraction)
    }

    /// The total (value, cost) of the chunks flagged in `taken`.
    fn totals(&self, taken: &[bool]) -> (u128, C) {
        self.list
            .iter()
            .zip(taken)
            .filter(|&(_, &t)| t)
            .fold((0, C::ZERO), |(v, c), (ch, _)| (v + ch.value, c + ch.cost))
    }

    /// The greedy selection: chunks in order, each taken if it fits. Returns (value, cost, taken).
    fn greedy(&self, capacity: C) -> (u128, C, Vec<bool>) {
        let (mut value, mut cost) = (0u128, C::ZERO);
        let taken = self
            .list
            .iter()
            .map(|ch| {
                let fits = cost + ch.cost <= capacity;
                if fits {
                    value += ch.value;
                    cost = cost + ch.cost;
                }
                fits
            })
            .collect();
        (value, cost, taken)
    }

    /// Improves a feasible selection by single swaps: drop one taken chunk and add the most
    /// valuable untaken chunk that then fits, the best swap first, at most `rounds` times. Only
    /// sharpens the incumbent the exact engine prunes against; returns the new (value, cost).
    fn improve(
        &self,
        capacity: C,
        taken: &mut [bool],
        start: (u128, C),
        rounds: usize,
    ) -> (u128, C) {
        let (mut value, mut cost) = start;
        let chunk = |k: usize| self.list.get(k).copied();
        let cost_of = |k: usize| chunk(k).map_or(C::ZERO, |c| c.cost);
        // Untaken chunks by (cost, index), and the position of the best value in each prefix.
        let mut free: Vec<usize> = (0..self.list.len())
            .filter(|&k| !taken.get(k).copied().unwrap_or(true))
            .collect();
        free.sort_by_key(|&k| (cost_of(k), k));
        let prefix_best = |free: &[usize]| {
            let mut out = Vec::with_capacity(free.len());
            let mut best: Option<(u128, usize)> = None;
            for (pos, &k) in free.iter().enumerate() {
                let v = chunk(k).map_or(0, |c| c.value);
                if best.is_none_or(|(bv, _)| v > bv) {
                    best = Some((v, pos));
                }
                out.push(best.map_or(pos, |(_, p)| p));
            }
            out
        };
        let mut best_at = prefix_best(&free);
        for _ in 0..rounds {
            let residual = capacity - cost;
            let mut best: Option<(u128, usize, usize)> = None;
            for (i, _) in taken.iter().enumerate().filter(|(_, &t)| t) {
                let Some(out) = chunk(i) else { continue };
                let room = residual + out.cost;
                let fit = free.partition_point(|&k| cost_of(k) <= room);
                let Some(&pos) = fit.checked_sub(1).and_then(|f| best_at.get(f)) else {
                    continue;
                };
                let Some(&k) = free.get(pos) else { continue };
                let gain = chunk(k).map_or(0, |c| c.value).saturating_sub(out.value);
                if gain > 0 && best.is_none_or(|(g, _, _)| gain > g) {
                    best = Some((gain, i, pos));
                }
            }
            let Some((_, i, pos)) = best else { break };
            let (Some(out), Some(&k)) = (chunk(i), free.get(pos)) else {
                break;
            };
            let Some(inn) = chunk(k) else { break };
            value = value - out.value + inn.value;
            cost = cost - out.cost + inn.cost;
            if let Some(t) = taken.get_mut(i) {
                *t = false;
            }
            if let Some(t) = taken.get_mut(k) {
                *t = true;
            }
            free.remove(pos);
            let at = free.partition_point(|&f| (cost_of(f), f) < (out.cost, i));
            free.insert(at, i);
            best_at = prefix_best(&free);
        }
        (value, cost)
    }
}

const ROOT: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct State<C> {
    value: u128,
    cost: C,
    node: u32,
}

/// What the exact engine found.
enum Search<C> {
    /// The proven optimum: value, cost, taken chunk flags and the states created.
    Proven(u128, C, Vec<bool>, usize),
    /// The state budget ran out: the selections of the last complete front's most valuable and
    /// most promising (largest LP reach) states, each completed greedily with the chunks the
    /// front had not reached yet. Feasible, unproven.
    Capped(Vec<Vec<bool>>),
}

/// The chunks taken on the path from `node` to the root of `arena`, as flags over `len` chunks.
fn path(arena: &[(u32, u32)], mut node: u32, len: usize) -> Vec<bool> {
    let mut taken = vec![false; len];
    while let Some(&(parent, chunk)) = arena.get(node as usize) {
        if let Some(t) = taken.get_mut(chunk as usize) {
            *t = true;
        }
        node = parent;
    }
    taken
}

/// The exact engine over `chunks`, pruning against `incumbent`, creating at most `max_states`
/// states.
fn pareto_dp<C: Cost>(
    chunks: &Chunks<C>,
    capacity: C,
    incumbent: (u128, C),
    max_states: usize,
) -> Search<C> {
    // Arena of (parent node, chunk index) for the states that took a chunk.
    let mut arena: Vec<(u32, u32)> = Vec::new();
    let mut front = vec![State {
        value: 0,
        cost: C::ZERO,
        node: ROOT,
    }];
    let mut next: Vec<State<C>> = Vec::new();
    // The lexicographically best (value, cost) reached so far: every state is a feasible
    // selection, and so is the greedy one the incumbent starts from.
    let (mut best, mut best_cost) = incumbent;
    let mut created = 1usize;
    for (j, ch) in chunks.list.iter().enumerate() {
        next.clear();
        let (mut a, mut b) = (0usize, 0usize);
        // Merge `front` (without the chunk) and `front + chunk` by (cost asc, value desc), then
        // keep a state only if its value beats every cheaper one.
        loop {
            let without = front.get(a).copied();
            let with = front.get(b).and_then(|s| {
                let cost = s.cost + ch.cost;
                (cost <= capacity).then_some(State {
                    value: s.value + ch.value,
                    cost,
                    node: s.node,
                })
            });
            let (pick, took) = match (without, with) {
                (None, None) => break,
                (Some(x), None) => (x, false),
                (None, Some(y)) => (y, true),
                (Some(x), Some(y)) => {
                    if (y.cost, std::cmp::Reverse(y.value)) < (x.cost, std::cmp::Reverse(x.value)) {
                        (y, true)
                    } else {
                        (x, false)
                    }
                }
            };
            if took {
                b += 1;
            } else {
                a += 1;
            }
            if next.last().is_some_and(|l| l.value >= pick.value) {
                continue;
            }
            let reach = pick
                .value
                .saturating_add(chunks.value_bound(j + 1, capacity - pick.cost));
            if reach < best {
                continue;
            }
            // It can at best tie the incumbent's value: then it must be able to do so at no
            // more than the incumbent's cost.
            if reach == best
                && pick
                    .cost
                    .saturating_add(chunks.cost_bound(j + 1, best - pick.value))
                    > best_cost
            {
                continue;
            }
            let node = if took {
                match (u32::try_from(arena.len()), u32::try_from(j)) {
                    (Ok(idx), Ok(chunk)) if idx != ROOT => {
                        arena.push((pick.node, chunk));
                        idx
                    }
                    // Past u32 arena entries: treated as the state budget.
                    _ => return capped(chunks, capacity, &arena, &front, j),
                }
            } else {
                pick.node
            };
            created += 1;
            if created > max_states {
                return capped(chunks, capacity, &arena, &front, j);
            }
            next.push(State { node, ..pick });
        }
        if let Some(top) = next.last() {
            if top.value > best || (top.value == best && top.cost < best_cost) {
                (best, best_cost) = (top.value, top.cost);
            }
        }
        std::mem::swap(&mut front, &mut next);
    }
    match front.last() {
        Some(top) => Search::Proven(
            top.value,
            top.cost,
            path(&arena, top.node, chunks.list.len()),
            created,
        ),
        // Never expected: the empty selection always survives until the incumbent is reached.
        None => Search::Capped(Vec::new()),
    }
}

/// The candidates of [`Search::Capped`] from `front`, the complete front before chunk `layer`:
/// [`CAPPED_SAMPLE`] states evenly spread over it and its [`CAPPED_SAMPLE`] most valuable ones,
/// each completed greedily with the chunks from `layer` on; the [`CAPPED_CANDIDATES`] best of
/// these completions, best first.
fn capped<C: Cost>(
    chunks: &Chunks<C>,
    capacity: C,
    arena: &[(u32, u32)],
    front: &[State<C>],
    layer: usize,
) -> Search<C> {
    let rest = chunks.list.get(layer..).unwrap_or(&[]);
    let n = front.len();
    let picks: std::collections::BTreeSet<usize> = (0..CAPPED_SAMPLE)
        .map(|i| i * n / CAPPED_SAMPLE)
        .chain(n.saturating_sub(CAPPED_SAMPLE)..n)
        .collect();
    // (value, cost) of a state's greedy completion, without building its path.
    let completed = |s: &State<C>| {
        rest.iter().fold((s.value, s.cost), |(v, c), ch| {
            if c + ch.cost <= capacity {
                (v + ch.value, c + ch.cost)
            } else {
                (v, c)
            }
        })
    };
    let mut scored: Vec<(u128, std::cmp::Reverse<C>, usize)> = picks
        .into_iter()
        .filter_map(|i| front.get(i).map(|s| (completed(s), i)))
        .map(|((v, c), i)| (v, std::cmp::Reverse(c), i))
        .collect();
    // Best first: larger value, then lower cost, then the earlier state.
    scored.sort_by(|a, b| (b.0, b.1).cmp(&(a.0, a.1)).then(a.2.cmp(&b.2)));
    let candidates = scored
        .into_iter()
        .take(CAPPED_CANDIDATES)
        .filter_map(|(_, _, i)| front.get(i))
        .map(|s| {
            let mut taken = path(arena, s.node, chunks.list.len());
            let mut cost = s.cost;
            for (k, ch) in chunks.list.iter().enumerate().skip(layer) {
                if cost + ch.cost <= capacity {
                    cost = cost + ch.cost;
                    if let Some(t) = taken.get_mut(k) {
                        *t = true;
                    }
                }
            }
            taken
        })
        .collect();
    Search::Capped(candidates)
}

/// Shares `units` of a type among its offers by water-filling in hotkey byte order.
fn share(offers: &[(String, u64)], mut units: u64) -> Vec<u64> {
    let mut given = vec![0u64; offers.len()];
    loop {
        let active: Vec<usize> = (0..offers.len())
            .filter(|&i| given[i] < offers[i].1)
            .collect();
        if units == 0 || active.is_empty() {
            return given;
        }
        let each = units / active.len() as u64;
        if each == 0 {
            for &i in active
                .iter()
                .take(usize::try_from(units).unwrap_or(usize::MAX))
            {
                given[i] += 1;
            }
            return given;
        }
        for &i in &active {
            let add = each.min(offers[i].1 - given[i]);
            given[i] += add;
            units -= add;
        }
    }
}

impl Model {
    /// The units of each type chosen by the exact engine, with the certificate.
    pub fn solve_counts(&self) -> Result<(Vec<u64>, Certificate)> {
        self.solve_counts_within(MAX_STATES)
    }

    /// [`Self::solve_counts`] with the state budget `max_states` of the Pareto programme, which
    /// answers only when an item is worth more than [`crate::proximity::MAX_VALUE`] (rows
    /// beyond the bid rule); the bounded search needs no state. When the proof would need more
    /// states (hashrates with many decimals make values fine-grained), the answer is the best
    /// of the incumbent (the greedy selection sharpened by swaps) and the swap-sharpened greedy
    /// completions of the best sampled states of the last complete front: feasible, verified,
    /// flagged `optimal: false`, and the same on every validator, since the budget counts
    /// states, not time.
    ///
    /// The engine runs in `u128` when the total cost fits it and in `U256` otherwise (see the
    /// module documentation); the answer does not depend on which.
    pub fn solve_counts_within(&self, max_states: usize) -> Result<(Vec<u64>, Certificate)> {
        if u128::try_from(self.total_cost()).is_ok() {
            self.solve_in::<u128>(max_states, true)
        } else {
            self.solve_in::<U256>(max_states, true)
        }
    }

    /// [`Self::solve_counts_within`] by the Pareto programme alone, whatever the item values:
    /// the cross-check of the bounded search ([`crate::proximity`]) and the engine of bids
    /// beyond the protocol's hashrate rule.
    pub fn pareto_counts_within(&self, max_states: usize) -> Result<(Vec<u64>, Certificate)> {
        if u128::try_from(self.total_cost()).is_ok() {
            self.solve_in::<u128>(max_states, false)
        } else {
            self.solve_in::<U256>(max_states, false)
        }
    }

    fn solve_in<C: Cost>(
        &self,
        max_states: usize,
        bounded: bool,
    ) -> Result<(Vec<u64>, Certificate)> {
        let chunks = Chunks::<C>::new(self)?;
        // The capacity is at most the total cost, which fits C.
        let capacity = C::narrow(self.capacity).ok_or_else(|| Error::overflow("capacity"))?;
        let (greedy_value, greedy_cost, greedy_taken) = chunks.greedy(capacity);
        let value_bound = chunks.value_bound(0, capacity);
        let counts_of = |taken: &[bool]| {
            let mut counts = vec![0u64; self.types.len()];
            for (ch, &t) in chunks.list.iter().zip(taken) {
                if t {
                    counts[ch.ty] += ch.units;
                }
            }
            counts
        };
        let cost_bound = |value: u128| chunks.cost_bound(0, value).widen();
        let greedy = |cert: Certificate| {
            (
                counts_of(&greedy_taken),
                Certificate {
                    optimal: false,
                    value: greedy_value,
                    cost: greedy_cost.widen(),
                    cost_bound: cost_bound(greedy_value),
                    ..cert
                },
            )
        };
        if let Some(found) = bounded
            .then(|| crate::proximity::solve(self, capacity))
            .flatten()
        {
            let cert = Certificate {
                optimal: true,
                greedy_value,
                value_bound,
                value: found.value,
                cost_bound: cost_bound(found.value),
                cost: found.cost.widen(),
                states: 0,
            };
            if self.verify_counts(&found.counts, &cert) {
                return Ok((found.counts, cert));
            }
            // Never expected: the search only adds units after the prefix it drops from.
            return Ok(greedy(cert));
        }
        let mut improved = greedy_taken.clone();
        let incumbent = if greedy_value < value_bound {
            chunks.improve(
                capacity,
                &mut improved,
                (greedy_value, greedy_cost),
                IMPROVE_ROUNDS,
            )
        } else {
            (greedy_value, greedy_cost)
        };
        let (value, cost, taken, states) = match pareto_dp(&chunks, capacity, incumbent, max_states)
        {
            Search::Proven(value, cost, taken, states) => (value, cost, taken, states),
            Search::Capped(candidates) => {
                // The best of the incumbent and the engine's candidates, each sharpened by
                // swaps like the incumbent; on a tie the earlier one, so the incumbent.
                let (mut best, mut best_taken) = (incumbent, improved);
                for mut taken in candidates {
                    let start = chunks.totals(&taken);
                    let found = chunks.improve(capacity, &mut taken, start, IMPROVE_ROUNDS);
                    if (found.0, std::cmp::Reverse(found.1)) > (best.0, std::cmp::Reverse(best.1)) {
                        (best, best_taken) = (found, taken);
                    }
                }
                let cert = Certificate {
                    optimal: false,
                    greedy_value,
                    value_bound,
                    value: best.0,
                    cost_bound: cost_bound(best.0),
                    cost: best.1.widen(),
                    states: max_states,
                };
                let counts = counts_of(&best_taken);
                if self.verify_counts(&counts, &cert) {
                    return Ok((counts, cert));
                }
                // Never expected: every candidate is feasible and swaps keep it so.
                return Ok(greedy(cert));
            }
        };
        let counts = counts_of(&taken);
        let cert = Certificate {
            optimal: true,
            greedy_value,
            value_bound,
            value,
            cost_bound: cost_bound(value),
            cost: cost.widen(),
            states,
        };
        if self.verify_counts(&counts, &cert) {
            return Ok((counts, cert));
        }
        // Never expected: the greedy selection is feasible by construction.
        Ok(greedy(cert))
    }

    /// Re-checks counts in integers: offers, capacity, value and cost, and the phase bounds.
    pub fn verify_counts(&self, counts: &[u64], cert: &Certificate) -> bool {
        if counts.len() != self.types.len() {
            return false;
        }
        let (mut value, mut cost) = (0u128, U256::ZERO);
        for (t, &n) in self.types.iter().zip(counts) {
            if n > t.count || t.price > self.max_price {
                return false;
            }
            let (Some(v), Some(c)) = (
                t.value
                    .checked_mul(u128::from(n))
                    .and_then(|v| v.checked_add(value)),
                t.cost
                    .checked_mul(U256::from(n))
                    .and_then(|c| c.checked_add(cost)),
            ) else {
                return false;
            };
            (value, cost) = (v, c);
        }
        value == cert.value
            && cost == cert.cost
            && cost <= self.capacity
            && cert.greedy_value <= value
            && value <= cert.value_bound
            && cost >= cert.cost_bound
    }

    /// Turns counts per type into winner rows, sorted by (price, hashrate, hotkey), and checks
    /// the budget at 36 decimals.
    pub fn winners(&self, counts: &[u64]) -> Result<(Vec<Winner>, Fp18, U256)> {
        let mut winners = Vec::new();
        let mut total_hashrate = Fp18::ZERO;
        let mut total_cost = U256::ZERO;
        for (t, &n) in self.types.iter().zip(counts) {
            if n == 0 {
                continue;
            }
            for ((hotkey, _), given) in t.offers.iter().zip(share(&t.offers, n)) {
                if given == 0 {
                    continue;
                }
                winners.push(BidRow {
                    hotkey: hotkey.clone(),
                    hashrate: t.hashrate,
                    price: t.price,
                    count: given,
                });
            }
            total_hashrate = total_hashrate.checked_add(t.hashrate.mul_int(u128::from(n))?)?;
            // hashrate x price x n < 2^80 x 2^128 x 2^20 (module documentation).
            total_cost = (U256::from(t.hashrate.raw()) * U256::from(t.price.raw()))
                .checked_mul(U256::from(n))
                .and_then(|c| c.checked_add(total_cost))
                .ok_or_else(|| Error::overflow("total cost of the selection"))?;
        }
        if total_cost > U256::from(self.budget.raw()) * U256::from(SCALE) {
            return Err(Error::invalid("selection", "exceeds the budget"));
        }
        winners.sort_by(|a, b| {
            (a.price, a.hashrate, &a.hotkey).cmp(&(b.price, b.hashrate, &b.hotkey))
        });
        Ok((winners, total_hashrate, total_cost))
    }
}

/// Selects the winners of an auction: the lexicographic optimum (maximum hashrate, then minimum
/// cost) within `budget` PH, over the bids priced at most `max_price`.
///
/// Never fails on rows within the input limits ([`Model::new`]). Rows within the bid rule are
/// always proven; past the Pareto programme's state budget (rows beyond the rule) the answer is
/// the verified incumbent, flagged `optimal: false`.
pub fn select_winners(rows: &[BidRow], budget: Fp18, max_price: Fp18) -> Result<Selection> {
    let model = Model::new(rows, budget, max_price)?;
    let (counts, certificate) = model.solve_counts()?;
    let (winners, total_hashrate, total_cost_e36) = model.winners(&counts)?;
    Ok(Selection {
        winners,
        total_hashrate,
        total_cost_e36,
        certificate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fp(s: &str) -> Fp18 {
        Fp18::parse(s).unwrap()
    }

    fn row(hotkey: &str, hashrate: &str, price: &str, count: u64) -> BidRow {
        BidRow {
            hotkey: hotkey.to_owned(),
            hashrate: fp(hashrate),
            price: fp(price),
            count,
        }
    }

    #[test]
    fn maximises_hashrate_then_minimises_cost() {
        // Budget 1: {0.5@1, 0.5@1} = 1.0 PH at cost 1; {1@0.9} = 1 PH at cost 0.9 wins the tie.
        let rows = [
            row("a", "0.5", "1", 2),
            row("b", "1", "0.9", 1),
            row("c", "0.3", "0.5", 1),
        ];
        let s = select_winners(&rows, fp("1.2"), DEFAULT_MAX_PRICE).unwrap();
        // 1@0.9 + 0.3@0.5 = 1.3 PH for 1.05; 0.5+0.5+0.3 = 1.3 PH for 1.15; both fit 1.2.
        assert_eq!(s.total_hashrate, fp("1.3"));
        assert_eq!(
            s.winners,
            vec![row("c", "0.3", "0.5", 1), row("b", "1", "0.9", 1)]
        );
        assert_eq!(
            s.total_cost_e36,
            U256::from(105u8) * U256::from(10u128.pow(34))
        );
        assert!(s.certificate.optimal);
    }

    #[test]
    fn beats_greedy_when_greedy_is_not_optimal() {
        // Cheapest first takes 0.2@0.5 (cost 0.1), then 1@0.9 (cost 0.9) no longer fits 0.9.
        let rows = [row("a", "0.2", "0.5", 1), row("b", "1", "0.9", 1)];
        let s = select_winners(&rows, fp("0.9"), DEFAULT_MAX_PRICE).unwrap();
        assert_eq!(s.total_hashrate, fp("1"));
        assert_eq!(s.winners, vec![row("b", "1", "0.9", 1)]);
        assert_eq!(s.certificate.greedy_value * 5, s.certificate.value);
    }

    #[test]
    fn a_state_limit_yields_the_unproven_incumbent_not_an_error() {
        let rows = [row("a", "0.2", "0.5", 1), row("b", "1", "0.9", 1)];
        let model = Model::new(&rows, fp("0.9"), DEFAULT_MAX_PRICE).unwrap();
        let (counts, cert) = model.pareto_counts_within(1).unwrap();
        assert!(!cert.optimal);
        assert!(model.verify_counts(&counts, &cert));
        // The swap step finds the optimum here even without the proof.
        assert_eq!(cert.value, model.solve_counts().unwrap().1.value);
        // Values of at most 5 units: the bounded search answers, needing no state.
        let (_, bounded) = model.solve_counts_within(1).unwrap();
        assert!(bounded.optimal);
        assert_eq!(bounded.states, 0);
    }

    #[test]
    fn drops_items_above_the_cap_and_keeps_the_cap() {
        let rows = [
            row("a", "1", "1.05", 1),
            row("b", "1", "1.050000000000000001", 1),
        ];
        let s = select_winners(&rows, fp("10"), DEFAULT_MAX_PRICE).unwrap();
        assert_eq!(s.winners, vec![row("a", "1", "1.05", 1)]);
    }

    #[test]
    fn merges_rows_and_shares_identical_items_canonically() {
        let rows = [
            row("z", "0.1", "1", 2),
            row("y", "0.1", "1", 1),
            row("z", "0.1", "1", 1),
            row("x", "0.1", "1", 3),
        ];
        // Budget for 5 of the 7 identical items: water-filling x:2, y:1, z:2 (3 each is too many).
        let s = select_winners(&rows, fp("0.5"), DEFAULT_MAX_PRICE).unwrap();
        assert_eq!(
            s.winners,
            vec![
                row("x", "0.1", "1", 2),
                row("y", "0.1", "1", 1),
                row("z", "0.1", "1", 2)
            ]
        );
        assert_eq!(
            share(&[("a".into(), 5), ("b".into(), 5), ("c".into(), 5)], 4),
            vec![2, 1, 1]
        );
    }

    #[test]
    fn budget_edge_cases() {
        let rows = [row("a", "0.25", "1.02", 4)];
        // Exactly affordable: 4 x 0.25 x 1.02 = 1.02.
        let s = select_winners(&rows, fp("1.02"), DEFAULT_MAX_PRICE).unwrap();
        assert_eq!(s.total_hashrate, fp("1"));
        let s = select_winners(&rows, fp("1.019999999999999999"), DEFAULT_MAX_PRICE).unwrap();
        assert_eq!(s.total_hashrate, fp("0.75"));
        let s = select_winners(&rows, Fp18::ZERO, DEFAULT_MAX_PRICE).unwrap();
        assert!(s.winners.is_empty());
        let s = select_winners(&[], fp("5"), DEFAULT_MAX_PRICE).unwrap();
        assert!(s.winners.is_empty());
        // Zero-priced items cost nothing and are always taken.
        let s = select_winners(&[row("f", "0.1", "0", 3)], Fp18::ZERO, DEFAULT_MAX_PRICE).unwrap();
        assert_eq!(s.total_hashrate, fp("0.3"));
    }

    #[test]
    fn fine_grained_hashrates_stay_exact() {
        let rows = [
            row("a", "0.050000000000000001", "1", 3),
            row("b", "0.05", "0.999999999999999999", 3),
        ];
        let s = select_winners(&rows, fp("0.2"), DEFAULT_MAX_PRICE).unwrap();
        // No 4 items fit (3 b + 1 a costs 0.2 + 8.5e-19); of the 3-item sets, 3 a is largest.
        let cost = s.total_cost_e36;
        assert!(cost <= U256::from(fp("0.2").raw()) * U256::from(SCALE));
        assert_eq!(s.total_hashrate, fp("0.150000000000000003"));
        assert_eq!(s.winners, vec![row("a", "0.050000000000000001", "1", 3)]);
    }

    #[test]
    fn rejects_too_many_items() {
        let rows = [row("a", "0.1", "1", MAX_ITEMS), row("b", "0.1", "1", 1)];
        assert!(matches!(
            select_winners(&rows, fp("1"), DEFAULT_MAX_PRICE),
            Err(Error::Invalid { .. })
        ));
    }

    /// Budget for `percent`% of the hashrate offered within the cap.
    fn budget_for(rows: &[BidRow], percent: u128) -> Fp18 {
        let offered: u128 = rows
            .iter()
            .filter(|r| r.price <= DEFAULT_MAX_PRICE)
            .map(|r| r.hashrate.raw() * u128::from(r.count))
            .sum();
        Fp18::from_raw(offered * percent / 100)
    }

    /// Rotates and reverses `rows`, for order-independence checks.
    fn scrambled(rows: &[BidRow]) -> Vec<BidRow> {
        let mut out = rows.to_vec();
        out.rotate_left(rows.len() / 3);
        out.reverse();
        out
    }

    /// One adversarial miner among honest ones: 1000 workers written to the last of 18 decimals
    /// in both hashrate and price. Before the bid rule this was a legal v2 commitment, and before
    /// costs were widened to 256 bits it failed the whole window with "total cost of the bids
    /// exceeds the exact integer range". The codec now refuses it; as rows (`tao20 auction
    /// solve`) it still solves, by the Pareto programme.
    #[test]
    fn one_full_precision_bid_among_honest_ones_solves() {
        let honest = crate::instance::generate(16, 20, 7);
        let payload = b"2;b;BTC,1.049999999999999999=0.449999999999999999:1000";
        assert!(matches!(
            crate::commitment::Commitment::decode(payload),
            Err(Error::BidRule { .. })
        ));
        let mut rows = honest.rows.clone();
        rows.push(row(
            "5adversary",
            "0.449999999999999999",
            "1.049999999999999999",
            1000,
        ));
        let model = Model::new(&rows, honest.budget, DEFAULT_MAX_PRICE).unwrap();
        // Hashrates and prices share no factor any more: the model needs more than 128 bits.
        assert!(model.total_cost() > U256::from(u128::MAX));
        let s = select_winners(&rows, honest.budget, DEFAULT_MAX_PRICE).unwrap();
        assert!(s.certificate.optimal);
        assert!(s.certificate.states > 0, "values beyond the bounded search");
        assert!(s.total_cost_e36 <= U256::from(honest.budget.raw()) * U256::from(SCALE));
        // More offers can only raise the optimum, and the honest miners keep winning.
        let alone = select_winners(&honest.rows, honest.budget, DEFAULT_MAX_PRICE).unwrap();
        assert!(s.total_hashrate >= alone.total_hashrate);
        assert!(
            s.winners
                .iter()
                .filter(|w| w.hotkey != "5adversary")
                .count()
                > 10
        );
        let again = select_winners(&scrambled(&rows), honest.budget, DEFAULT_MAX_PRICE).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn several_adversaries_among_honest_miners_stay_proven_and_canonical() {
        let honest = crate::instance::generate(64, 100, 20);
        let mut rows = honest.rows.clone();
        for a in 0..2u64 {
            rows.extend(crate::instance::full_precision_adversary(
                &format!("5adv{a}"),
                1000,
                a,
            ));
        }
        let budget = budget_for(&rows, 40);
        let model = Model::new(&rows, budget, DEFAULT_MAX_PRICE).unwrap();
        assert!(model.total_cost() > U256::from(u128::MAX));
        let (counts, cert) = model.solve_counts().unwrap();
        assert!(cert.optimal);
        assert!(model.verify_counts(&counts, &cert));
        let s = select_winners(&rows, budget, DEFAULT_MAX_PRICE).unwrap();
        assert_eq!(s.certificate, cert);
        assert!(s.winners.iter().any(|w| !w.hotkey.starts_with("5adv")));
        assert!(s.winners.iter().any(|w| w.hotkey.starts_with("5adv")));
        let alone = select_winners(&honest.rows, budget, DEFAULT_MAX_PRICE).unwrap();
        assert!(s.total_hashrate >= alone.total_hashrate);
        assert_eq!(
            select_winners(&scrambled(&rows), budget, DEFAULT_MAX_PRICE).unwrap(),
            s
        );
    }

    /// The legal worst case: every one of 256 uids an adversary with 1000 full-precision
    /// workers. Past the state budget (kept small here so that the test stays fast) the answer is
    /// the verified incumbent, the same for every input order.
    #[test]
    fn worst_case_counts_fall_back_to_the_same_verified_incumbent() {
        let rows: Vec<BidRow> = (0..256u64)
            .flat_map(|a| {
                crate::instance::full_precision_adversary(&format!("5adv{a:03}"), 1000, a)
            })
            .collect();
        assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 256_000);
        let budget = budget_for(&rows, 40);
        let model = Model::new(&rows, budget, DEFAULT_MAX_PRICE).unwrap();
        let (counts, cert) = model.solve_counts_within(100_000).unwrap();
        assert!(!cert.optimal);
        assert!(model.verify_counts(&counts, &cert));
        assert!(cert.value >= cert.greedy_value && cert.value <= cert.value_bound);
        let (winners, total, cost) = model.winners(&counts).unwrap();
        assert!(cost <= U256::from(budget.raw()) * U256::from(SCALE));
        assert!(total > Fp18::ZERO);
        let other = Model::new(&scrambled(&rows), budget, DEFAULT_MAX_PRICE).unwrap();
        assert_eq!(other, model);
        let (counts2, cert2) = other.solve_counts_within(100_000).unwrap();
        assert_eq!((&counts2, cert2), (&counts, cert));
        assert_eq!(other.winners(&counts2).unwrap().0, winners);
    }

    /// The worst input the bid rule allows: all 256 uids adversarial (every size a different
    /// multiple of 0.01 PH, small v1 sizes among them, prices to the last of 18 decimals), and a
    /// few dozen honest miners among adversaries, at budgets from scarce to ample. Every one is
    /// proven by the bounded search, with no state of the Pareto programme; the release timing
    /// is the benchmark's (`benches/winners.rs`, `examples/worst_bids.rs`).
    #[test]
    fn the_worst_legal_inputs_are_proven_by_the_bounded_search() {
        let all = crate::instance::with_adversaries(crate::instance::generate(0, 0, 20), 256, 20);
        let mixed =
            crate::instance::with_adversaries(crate::instance::generate(32, 1000, 20), 224, 20);
        for inst in [&all, &mixed] {
            assert!(inst.rows.iter().any(|r| r.hashrate == fp("0.01")));
            for percent in [3, 40, 97] {
                let budget = budget_for(&inst.rows, percent);
                let s = select_winners(&inst.rows, budget, DEFAULT_MAX_PRICE).unwrap();
                assert!(s.certificate.optimal, "{percent}%");
                assert_eq!(s.certificate.states, 0, "{percent}%");
                assert!(s.total_cost_e36 <= U256::from(budget.raw()) * U256::from(SCALE));
            }
        }
        let budget = budget_for(&all.rows, 40);
        assert_eq!(
            select_winners(&scrambled(&all.rows), budget, DEFAULT_MAX_PRICE).unwrap(),
            select_winners(&all.rows, budget, DEFAULT_MAX_PRICE).unwrap()
        );
    }

    /// Thirty such adversaries among honest miners: small enough for the Pareto programme to
    /// prove too, and both engines agree.
    #[test]
    fn the_bounded_search_agrees_with_the_pareto_programme_on_adversaries() {
        let inst = crate::instance::with_adversaries(crate::instance::generate(16, 100, 3), 30, 3);
        for percent in [5, 40, 90] {
            let model = Model::new(
                &inst.rows,
                budget_for(&inst.rows, percent),
                DEFAULT_MAX_PRICE,
            )
            .unwrap();
            let (counts, bounded) = model.solve_counts().unwrap();
            let (_, pareto) = model.pareto_counts_within(MAX_STATES).unwrap();
            assert!(bounded.optimal && pareto.optimal, "{percent}%");
            assert_eq!((bounded.value, bounded.cost), (pareto.value, pareto.cost));
            assert!(model.verify_counts(&counts, &bounded));
        }
    }

    /// Every total stays in range at the limits: [`MAX_ITEMS`] items of [`MAX_ROW_HASHRATE`]
    /// at prices near [`Fp18::MAX`] under an unbounded cap and budget.
    #[test]
    fn extreme_rows_stay_in_range() {
        let rows: Vec<BidRow> = (0..1000u128)
            .map(|i| BidRow {
                hotkey: format!("hk{i}"),
                hashrate: Fp18::from_raw(MAX_ROW_HASHRATE.raw() - i),
                // Multipliers near 10^12: a few hundred items fit the largest budget.
                price: Fp18::from_raw(10u128.pow(30) - 7 * i),
                count: 1000,
            })
            .collect();
        for budget in [Fp18::MAX, Fp18::from_raw(u128::MAX / 3), Fp18::ONE] {
            let model = Model::new(&rows, budget, Fp18::MAX).unwrap();
            let (counts, cert) = model.solve_counts_within(10_000).unwrap();
            assert!(model.verify_counts(&counts, &cert));
            let (_, total, cost) = model.winners(&counts).unwrap();
            assert!(cost <= U256::from(budget.raw()) * U256::from(SCALE));
            assert_eq!(total.is_zero(), budget == Fp18::ONE);
        }
        // Everything affordable: the whole offer, proven at once.
        let cheap: Vec<BidRow> = rows
            .iter()
            .map(|r| BidRow {
                price: Fp18::from_raw(1),
                ..r.clone()
            })
            .collect();
        let s = select_winners(&cheap, Fp18::MAX, Fp18::MAX).unwrap();
        assert!(s.certificate.optimal);
        let offered: u128 = cheap.iter().map(|r| r.hashrate.raw() * 1000).sum();
        assert_eq!(s.total_hashrate, Fp18::from_raw(offered));
    }

    #[test]
    fn rejects_rows_beyond_the_hashrate_limit_within_the_cap_only() {
        let big = |price: &str| BidRow {
            hotkey: "v1".into(),
            hashrate: Fp18::from_raw(MAX_ROW_HASHRATE.raw() + 1),
            price: fp(price),
            count: 1,
        };
        assert!(matches!(
            select_winners(&[big("1")], fp("1"), DEFAULT_MAX_PRICE),
            Err(Error::Invalid { .. })
        ));
        let s = select_winners(
            &[big("2"), row("a", "0.1", "1", 1)],
            fp("1"),
            DEFAULT_MAX_PRICE,
        )
        .unwrap();
        assert_eq!(s.winners, vec![row("a", "0.1", "1", 1)]);
    }

    /// Brute force over every count vector of the model: the lexicographic optimum. The type
    /// with the largest count is not enumerated: for fixed other counts the value grows with
    /// its count, so the best choice is the most units that still fit.
    fn brute(model: &Model) -> (u128, U256) {
        let last =
            (0..model.types.len()).max_by_key(|&i| (model.types[i].count, std::cmp::Reverse(i)));
        let mut best = (0u128, U256::ZERO);
        let mut counts = vec![0u64; model.types.len()];
        loop {
            let v: u128 = model
                .types
                .iter()
                .zip(&counts)
                .map(|(t, &n)| t.value * u128::from(n))
                .sum();
            let c: U256 = model
                .types
                .iter()
                .zip(&counts)
                .fold(U256::ZERO, |c, (t, &n)| c + t.cost * U256::from(n));
            if c <= model.capacity {
                let (mut v, mut c) = (v, c);
                if let Some(l) = last {
                    let t = &model.types[l];
                    let room = model.capacity - c;
                    let k = if t.cost.is_zero() {
                        t.count
                    } else {
                        u64::try_from((room / t.cost).min(U256::from(t.count))).unwrap()
                    };
                    v += t.value * u128::from(k);
                    c += t.cost * U256::from(k);
                }
                if v > best.0 || (v == best.0 && c < best.1) {
                    best = (v, c);
                }
            }
            let mut i = 0;
            loop {
                if Some(i) == last {
                    i += 1;
                }
                if i >= counts.len() {
                    return best;
                }
                if counts[i] < model.types[i].count {
                    counts[i] += 1;
                    break;
                }
                counts[i] = 0;
                i += 1;
            }
        }
    }

    fn rows_strategy(max_rows: usize) -> impl Strategy<Value = Vec<BidRow>> {
        prop::collection::vec(
            (0u8..4, 1u64..=12, 90u64..=110, 1u64..=3).prop_map(|(h, hr, p, c)| BidRow {
                hotkey: format!("hk{h}"),
                hashrate: Fp18::from_raw(u128::from(hr) * 25_000_000_000_000_000),
                price: Fp18::from_raw(u128::from(p) * 10_000_000_000_000_000),
                count: c,
            }),
            0..max_rows,
        )
    }

    proptest! {
        #[test]
        fn optimal_against_brute_force(rows in rows_strategy(6), budget in 0u128..2_000) {
            let budget = Fp18::from_raw(budget * 1_000_000_000_000_000);
            let model = Model::new(&rows, budget, DEFAULT_MAX_PRICE).unwrap();
            let (_, cert) = model.solve_counts().unwrap();
            prop_assert!(cert.optimal);
            prop_assert_eq!((cert.value, cert.cost), brute(&model));
        }

        #[test]
        fn optimal_against_brute_force_with_18_decimal_values(
            rows in prop::collection::vec((0u8..3, 50_000_000_000_000_000u128..450_000_000_000_000_000,
                900_000_000_000_000_000u128..1_050_000_000_000_000_000, 1u64..=3), 0..6),
            budget in 0u128..2_000_000_000_000_000_000,
        ) {
            let rows: Vec<BidRow> = rows.into_iter().map(|(h, hr, p, c)| BidRow {
                hotkey: format!("hk{h}"), hashrate: Fp18::from_raw(hr), price: Fp18::from_raw(p), count: c,
            }).collect();
            let model = Model::new(&rows, Fp18::from_raw(budget), DEFAULT_MAX_PRICE).unwrap();
            let (counts, cert) = model.solve_counts().unwrap();
            prop_assert!(cert.optimal);
            prop_assert_eq!((cert.value, cert.cost), brute(&model));
            prop_assert!(model.verify_counts(&counts, &cert));
        }

        /// With a state budget too small for the proof, the answer is still feasible, verified,
        /// at least the greedy value, and flagged as unproven; with enough states it is proven.
        #[test]
        fn state_limit_falls_back_to_the_verified_incumbent(
            rows in prop::collection::vec((0u8..3, 50_000_000_000_000_000u128..450_000_000_000_000_000,
                900_000_000_000_000_000u128..1_050_000_000_000_000_000, 1u64..=3), 4..10),
            budget in 500_000_000_000_000_000u128..2_000_000_000_000_000_000,
        ) {
            let rows: Vec<BidRow> = rows.into_iter().map(|(h, hr, p, c)| BidRow {
                hotkey: format!("hk{h}"), hashrate: Fp18::from_raw(hr), price: Fp18::from_raw(p), count: c,
            }).collect();
            let model = Model::new(&rows, Fp18::from_raw(budget), DEFAULT_MAX_PRICE).unwrap();
            let (full_counts, full) = model.solve_counts().unwrap();
            prop_assert!(full.optimal);
            prop_assert!(model.verify_counts(&full_counts, &full));
            let (counts, cert) = model.solve_counts_within(1).unwrap();
            prop_assert!(model.verify_counts(&counts, &cert));
            prop_assert!(cert.value >= cert.greedy_value && cert.value <= full.value);
            if cert.optimal {
                prop_assert_eq!((cert.value, cert.cost), (full.value, full.cost));
            }
        }

        #[test]
        fn winners_are_permutation_invariant_and_within_budget(
            rows in rows_strategy(24), budget in 0u128..6_000, seed in any::<u64>()) {
            let budget = Fp18::from_raw(budget * 1_000_000_000_000_000);
            let s = select_winners(&rows, budget, DEFAULT_MAX_PRICE).unwrap();
            prop_assert!(s.total_cost_e36 <= U256::from(budget.raw()) * U256::from(SCALE));
            let mut shuffled = rows.clone();
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                shuffled.swap(i, usize::try_from(state % (i as u64 + 1)).unwrap());
            }
            let t = select_winners(&shuffled, budget, DEFAULT_MAX_PRICE).unwrap();
            prop_assert_eq!(&s.winners, &t.winners);
            prop_assert_eq!(s.total_cost_e36, t.total_cost_e36);
            // Nothing beyond what was offered per (hotkey, hashrate, price).
            for w in &s.winners {
                let offered: u64 = rows.iter()
                    .filter(|r| (&r.hotkey, r.hashrate, r.price) == (&w.hotkey, w.hashrate, w.price))
                    .map(|r| r.count).sum();
                prop_assert!(w.count <= offered);
                prop_assert!(w.price <= DEFAULT_MAX_PRICE);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Two full-precision adversaries (up to 1000 workers each) among a few honest types,
        /// beyond 128 bits: the wide engine finds the brute-force optimum.
        #[test]
        fn full_precision_adversaries_against_brute_force(
            honest in prop::collection::vec((0u8..3, 2u64..=18, 90u64..=105, 1u64..=3), 0..3),
            adversaries in prop::collection::vec((300_000_000_000_000_000u128..450_000_000_000_000_000,
                900_000_000_000_000_000u128..1_050_000_000_000_000_000, 700u64..=1000), 2),
            percent in 1u128..100,
        ) {
            let mut rows: Vec<BidRow> = honest.into_iter().map(|(h, hr, p, c)| BidRow {
                hotkey: format!("hk{h}"),
                hashrate: Fp18::from_raw(u128::from(hr) * 25_000_000_000_000_000),
                price: Fp18::from_raw(u128::from(p) * 10_000_000_000_000_000),
                count: c,
            }).collect();
            for (i, (hashrate, price, count)) in adversaries.into_iter().enumerate() {
                rows.push(BidRow { hotkey: format!("adv{i}"), hashrate: Fp18::from_raw(hashrate | 1),
                    price: Fp18::from_raw(price | 1), count });
            }
            let model = Model::new(&rows, budget_for(&rows, percent), DEFAULT_MAX_PRICE).unwrap();
            prop_assume!(model.total_cost() > U256::from(u128::MAX));
            let (counts, cert) = model.solve_counts().unwrap();
            prop_assert!(cert.optimal);
            prop_assert_eq!((cert.value, cert.cost), brute(&model));
            prop_assert!(model.verify_counts(&counts, &cert));
        }

        /// The u128 and U256 engines are the same code: on models that fit 128 bits they give
        /// the same counts and certificate, with and without a binding state budget.
        #[test]
        fn wide_and_narrow_engines_agree(
            rows in prop::collection::vec((0u8..3, 50_000_000_000_000_000u128..450_000_000_000_000_000,
                900_000_000_000_000_000u128..1_050_000_000_000_000_000, 1u64..=40), 1..10),
            percent in 1u128..100,
            max_states in prop::sample::select(vec![2usize, 50, 500, MAX_STATES]),
        ) {
            let rows: Vec<BidRow> = rows.into_iter().map(|(h, hr, p, c)| BidRow {
                hotkey: format!("hk{h}"), hashrate: Fp18::from_raw(hr), price: Fp18::from_raw(p), count: c,
            }).collect();
            let model = Model::new(&rows, budget_for(&rows, percent), DEFAULT_MAX_PRICE).unwrap();
            prop_assert!(model.total_cost() <= U256::from(u128::MAX));
            let narrow = model.solve_in::<u128>(max_states, true).unwrap();
            let wide = model.solve_in::<U256>(max_states, true).unwrap();
            prop_assert_eq!(&narrow, &wide);
            prop_assert!(model.verify_counts(&wide.0, &wide.1));
        }

        /// Any rows within the bid rule (sizes on the 0.01 PH grain up to 0.45 PH, prices of
        /// any precision): the bounded search finds the optimum the Pareto programme proves.
        #[test]
        fn bounded_search_matches_the_pareto_programme(
            rows in prop::collection::vec((0u8..4, 1u128..=45, 0u128..150_000_000_000_000_001,
                prop::bool::ANY, 1u64..=80), 1..14),
            percent in 1u128..100,
        ) {
            let rows: Vec<BidRow> = rows.into_iter().map(|(h, size, price, coarse, count)| BidRow {
                hotkey: format!("hk{h}"),
                hashrate: Fp18::from_raw(size * 10_000_000_000_000_000),
                price: Fp18::from_raw(900_000_000_000_000_000
                    + if coarse { price / 10_000_000_000_000_000 * 10_000_000_000_000_000 } else { price }),
                count,
            }).collect();
            let model = Model::new(&rows, budget_for(&rows, percent), DEFAULT_MAX_PRICE).unwrap();
            let (counts, bounded) = model.solve_counts().unwrap();
            prop_assert!(bounded.optimal);
            prop_assert_eq!(bounded.states, 0);
            prop_assert!(model.verify_counts(&counts, &bounded));
            let (_, pareto) = model.pareto_counts_within(MAX_STATES).unwrap();
            prop_assert!(pareto.optimal);
            prop_assert_eq!((bounded.value, bounded.cost), (pareto.value, pareto.cost));
        }

        /// Honest bids plus one to four adversaries with up to 1000 full-precision workers each:
        /// never an error, within the budget, verified and independent of the input order.
        #[test]
        fn adversarial_bids_never_fail_and_are_order_independent(
            honest in rows_strategy(16),
            adversaries in prop::collection::vec((1u32..=1000, any::<u64>()), 1..5),
            percent in 1u128..100,
        ) {
            let mut rows = honest;
            for (i, (workers, seed)) in adversaries.into_iter().enumerate() {
                rows.extend(crate::instance::full_precision_adversary(&format!("adv{i}"), workers, seed));
            }
            let budget = budget_for(&rows, percent);
            let model = Model::new(&rows, budget, DEFAULT_MAX_PRICE).unwrap();
            let (counts, cert) = model.solve_counts_within(50_000).unwrap();
            prop_assert!(model.verify_counts(&counts, &cert));
            let (winners, _, cost) = model.winners(&counts).unwrap();
            prop_assert!(cost <= U256::from(budget.raw()) * U256::from(SCALE));
            let other = Model::new(&scrambled(&rows), budget, DEFAULT_MAX_PRICE).unwrap();
            let (counts2, cert2) = other.solve_counts_within(50_000).unwrap();
            prop_assert_eq!((&counts2, cert2), (&counts, cert));
            prop_assert_eq!(other.winners(&counts2).unwrap().0, winners);
        }
    }
}
