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
//! the capacity are then divided by the gcd of the costs. Everything is a `u128`; an instance
//! whose total cost does not fit is rejected ([`Error::Overflow`]), never approximated. With
//! hashrates and prices of up to 9 decimals each that takes more than 10^13 items; only bids
//! written to the last of 18 decimals in both can reach it (about 700 such items).
//!
//! # Exact engine
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
//! tiny hashrate units cost nothing in themselves; its size is capped at [`MAX_STATES`] arena
//! entries; beyond it the answer is the verified incumbent flagged `optimal: false` (see
//! [`Model::solve_counts_within`]), never an error, so adversarially fine-grained bids cannot
//! leave a window without winners.
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
//! Types are processed in (price, hashrate) order and exact ties keep the state without the new
//! chunk, so the chosen count per type depends only on the multiset of offers. Inside a type the
//! units are shared by water-filling over the offering hotkeys in byte order: every hotkey gets
//! the same number of units (or all it offered), and the remainder goes one unit each to the
//! first hotkeys in byte order. Winners are listed by (price, hashrate, hotkey).

use std::collections::BTreeMap;

use alloy_primitives::U256;
use serde::Serialize;
use tao20_core::fixed::SCALE;
use tao20_core::math::mul_div_u128;
use tao20_core::{Fp18, Rounding};

use crate::{Error, Result};

/// The default price cap, 1.05.
pub const DEFAULT_MAX_PRICE: Fp18 = Fp18::from_raw(1_050_000_000_000_000_000);
/// The largest number of worker items (sum of counts after filtering) an auction takes.
pub const MAX_ITEMS: u64 = 1_000_000;
/// Swap rounds that sharpen the greedy incumbent before the exact engine runs.
const IMPROVE_ROUNDS: usize = 256;
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
    pub cost: u128,
    /// (hotkey, count) offering this type, hotkeys in byte order.
    pub offers: Vec<(String, u64)>,
}

/// The integer model of an auction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// Types in (price, hashrate) order.
    pub types: Vec<ItemType>,
    /// Capacity in cost units.
    pub capacity: u128,
    /// The budget in PH.
    pub budget: Fp18,
    /// The price cap.
    pub max_price: Fp18,
}

/// The proof data of a selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Certificate {
    /// Whether the selection is the proven lexicographic optimum (false only after a fallback).
    pub optimal: bool,
    /// The greedy value (phase-1 lower bound), in model units.
    pub greedy_value: u128,
    /// floor of the LP bound (phase-1 upper bound), in model units.
    pub value_bound: u128,
    /// The chosen value, in model units.
    pub value: u128,
    /// LP lower bound on the cost of that value (phase-2 bound), in model units.
    pub cost_bound: u128,
    /// The chosen cost, in model units.
    pub cost: u128,
    /// States the exact engine created.
    pub states: usize,
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

impl Model {
    /// Builds the model: merges, filters and groups `rows` (see the module documentation).
    pub fn new(rows: &[BidRow], budget: Fp18, max_price: Fp18) -> Result<Self> {
        let mut merged: BTreeMap<(Fp18, Fp18), BTreeMap<&str, u64>> = BTreeMap::new();
        let mut items: u64 = 0;
        for row in rows {
            if row.price > max_price || row.hashrate.is_zero() || row.count == 0 {
                continue;
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
            .fold(0u128, |g, &(_, hashrate)| gcd(g, hashrate.raw()));
        // Prices are factored by their gcd too, so that costs stay small for prices with few
        // decimals; zero when every price is zero.
        let price_unit = merged
            .keys()
            .fold(0u128, |g, &(price, _)| gcd(g, price.raw()))
            .max(1);
        let mut types = Vec::with_capacity(merged.len());
        let mut total_cost: u128 = 0;
        for ((price, hashrate), offers) in merged {
            let value = hashrate.raw() / unit.max(1);
            let cost = value
                .checked_mul(price.raw() / price_unit)
                .ok_or_else(|| Error::overflow(format!("cost of {hashrate} PH at {price}")))?;
            let count: u64 = offers.values().sum();
            total_cost = cost
                .checked_mul(u128::from(count))
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
        // clipped to the total cost (which fits u128).
        let capacity = if unit == 0 {
            0
        } else {
            let wide = U256::from(budget.raw()) * U256::from(SCALE)
                / U256::from(unit)
                / U256::from(price_unit);
            u128::try_from(wide.min(U256::from(total_cost))).unwrap_or(total_cost)
        };
        let cost_unit = types.iter().fold(0u128, |g, t| gcd(g, t.cost));
        let mut model = Self {
            types,
            capacity,
            budget,
            max_price,
        };
        if cost_unit > 1 {
            for t in &mut model.types {
                t.cost /= cost_unit;
            }
            model.capacity /= cost_unit;
        }
        Ok(model)
    }
}

/// A 0/1 chunk of `units` items of one type.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    ty: usize,
    units: u64,
    value: u128,
    cost: u128,
}

/// Chunks in (price, hashrate) order with prefix sums for the LP bound.
struct Chunks {
    list: Vec<Chunk>,
    prefix_cost: Vec<u128>,
    prefix_value: Vec<u128>,
}

impl Chunks {
    fn new(model: &Model) -> Result<Self> {
        let mut list = Vec::new();
        for (ty, t) in model.types.iter().enumerate() {
            let mut left = t.count;
            let mut size = 1u64;
            while left > 0 {
                let units = size.min(left);
                list.push(Chunk {
                    ty,
                    units,
                    value: t.value * u128::from(units),
                    cost: t.cost * u128::from(units),
                });
                left -= units;
                size = size.saturating_mul(2);
            }
        }
        let mut prefix_cost = Vec::with_capacity(list.len() + 1);
        let mut prefix_value = Vec::with_capacity(list.len() + 1);
        let (mut c, mut v) = (0u128, 0u128);
        prefix_cost.push(0);
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
    fn value_bound(&self, from: usize, room: u128) -> u128 {
        let tail = self.prefix_cost.get(from..).unwrap_or(&[]);
        let base_cost = tail.first().copied().unwrap_or(0);
        // Chunks from..j fit entirely.
        let fit = tail.partition_point(|&c| c - base_cost <= room);
        let j = from + fit.saturating_sub(1);
        let cost = self.prefix_cost.get(j).copied().unwrap_or(0) - base_cost;
        let base_value = self.prefix_value.get(from).copied().unwrap_or(0);
        let value = self.prefix_value.get(j).copied().unwrap_or(0) - base_value;
        let fraction = match self.list.get(j) {
            Some(ch) if ch.cost > 0 => {
                mul_div_u128(room - cost, ch.value, ch.cost, Rounding::Floor).unwrap_or(u128::MAX)
            }
            _ => 0,
        };
        value.saturating_add(fraction)
    }

    /// The LP lower bound on the cost of adding `target` value with the chunks `from..`
    /// (cheapest first); `u128::MAX` if they cannot add that much.
    fn cost_bound(&self, from: usize, target: u128) -> u128 {
        let tail = self.prefix_value.get(from..).unwrap_or(&[]);
        let base_value = tail.first().copied().unwrap_or(0);
        if tail.last().copied().unwrap_or(0) - base_value < target {
            return u128::MAX;
        }
        let j = from
            + tail
                .partition_point(|&v| v - base_value <= target)
                .saturating_sub(1);
        let value = self.prefix_value.get(j).copied().unwrap_or(0) - base_value;
        let base_cost = self.prefix_cost.get(from).copied().unwrap_or(0);
        let cost = self.prefix_cost.get(j).copied().unwrap_or(0) - base_cost;
        let fraction = match self.list.get(j) {
            Some(ch) if value < target && ch.value > 0 => {
                mul_div_u128(target - value, ch.cost, ch.value, Rounding::Ceil).unwrap_or(u128::MAX)
            }
            _ => 0,
        };
        cost.saturating_add(fraction)
    }

    /// The greedy selection: chunks in order, each taken if it fits. Returns (value, cost, taken).
    fn greedy(&self, capacity: u128) -> (u128, u128, Vec<bool>) {
        let (mut value, mut cost) = (0u128, 0u128);
        let taken = self
            .list
            .iter()
            .map(|ch| {
                let fits = cost + ch.cost <= capacity;
                if fits {
                    value += ch.value;
                    cost += ch.cost;
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
        capacity: u128,
        taken: &mut [bool],
        start: (u128, u128),
        rounds: usize,
    ) -> (u128, u128) {
        let (mut value, mut cost) = start;
        let chunk = |k: usize| self.list.get(k).copied();
        // Untaken chunks by (cost, index), and the position of the best value in each prefix.
        let mut free: Vec<usize> = (0..self.list.len())
            .filter(|&k| !taken.get(k).copied().unwrap_or(true))
            .collect();
        free.sort_by_key(|&k| (chunk(k).map_or(0, |c| c.cost), k));
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
                let fit = free.partition_point(|&k| chunk(k).map_or(0, |c| c.cost) <= room);
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
            let at = free.partition_point(|&f| (chunk(f).map_or(0, |c| c.cost), f) < (out.cost, i));
            free.insert(at, i);
            best_at = prefix_best(&free);
        }
        (value, cost)
    }
}

const ROOT: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct State {
    value: u128,
    cost: u128,
    node: u32,
}

/// The exact engine: returns (value, cost, taken chunk flags, states created).
fn pareto_dp(
    chunks: &Chunks,
    capacity: u128,
    incumbent: (u128, u128),
    max_states: usize,
) -> Result<(u128, u128, Vec<bool>, usize)> {
    // Arena of (parent node, chunk index) for the states that took a chunk.
    let mut arena: Vec<(u32, u32)> = Vec::new();
    let mut front = vec![State {
        value: 0,
        cost: 0,
        node: ROOT,
    }];
    let mut next: Vec<State> = Vec::new();
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
                let idx = u32::try_from(arena.len()).map_err(|_| limit())?;
                arena.push((pick.node, u32::try_from(j).map_err(|_| limit())?));
                idx
            } else {
                pick.node
            };
            created += 1;
            if created > max_states {
                return Err(limit());
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
    let Some(top) = front.last().copied() else {
        return Err(Error::SolverLimit("the state front emptied".to_owned()));
    };
    let mut taken = vec![false; chunks.list.len()];
    let mut node = top.node;
    while node != ROOT {
        let (parent, chunk) = arena
            .get(node as usize)
            .copied()
            .ok_or_else(|| Error::SolverLimit("broken state arena".to_owned()))?;
        if let Some(t) = taken.get_mut(chunk as usize) {
            *t = true;
        }
        node = parent;
    }
    Ok((top.value, top.cost, taken, created))
}

fn limit() -> Error {
    Error::SolverLimit(format!("more than {MAX_STATES} states"))
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

    /// [`Self::solve_counts`] with the state budget `max_states`. When the proof would need more
    /// states (bids posted with many decimals make every item its own type), the answer is the
    /// incumbent, the greedy selection sharpened by swaps: feasible, verified, flagged
    /// `optimal: false`, and the same on every validator, since the budget counts states, not time.
    pub fn solve_counts_within(&self, max_states: usize) -> Result<(Vec<u64>, Certificate)> {
        let chunks = Chunks::new(self)?;
        let (greedy_value, greedy_cost, greedy_taken) = chunks.greedy(self.capacity);
        let value_bound = chunks.value_bound(0, self.capacity);
        let counts_of = |taken: &[bool]| {
            let mut counts = vec![0u64; self.types.len()];
            for (ch, &t) in chunks.list.iter().zip(taken) {
                if t {
                    counts[ch.ty] += ch.units;
                }
            }
            counts
        };
        let mut improved = greedy_taken.clone();
        let incumbent = if greedy_value < value_bound {
            chunks.improve(
                self.capacity,
                &mut improved,
                (greedy_value, greedy_cost),
                IMPROVE_ROUNDS,
            )
        } else {
            (greedy_value, greedy_cost)
        };
        let (value, cost, taken, states) =
            match pareto_dp(&chunks, self.capacity, incumbent, max_states) {
                Ok(found) => found,
                Err(Error::SolverLimit(_)) => {
                    let cert = Certificate {
                        optimal: false,
                        greedy_value,
                        value_bound,
                        value: incumbent.0,
                        cost_bound: chunks.cost_bound(0, incumbent.0),
                        cost: incumbent.1,
                        states: max_states,
                    };
                    let counts = counts_of(&improved);
                    if self.verify_counts(&counts, &cert) {
                        return Ok((counts, cert));
                    }
                    // Never expected: the swaps keep the selection feasible.
                    let greedy = Certificate {
                        value: greedy_value,
                        cost: greedy_cost,
                        cost_bound: chunks.cost_bound(0, greedy_value),
                        ..cert
                    };
                    return Ok((counts_of(&greedy_taken), greedy));
                }
                Err(e) => return Err(e),
            };
        let counts = counts_of(&taken);
        let cert = Certificate {
            optimal: true,
            greedy_value,
            value_bound,
            value,
            cost_bound: chunks.cost_bound(0, value),
            cost,
            states,
        };
        if self.verify_counts(&counts, &cert) {
            return Ok((counts, cert));
        }
        // Never expected: the greedy selection is feasible by construction.
        let counts = counts_of(&greedy_taken);
        Ok((
            counts,
            Certificate {
                optimal: false,
                value: greedy_value,
                cost: greedy_cost,
                cost_bound: chunks.cost_bound(0, greedy_value),
                ..cert
            },
        ))
    }

    /// Re-checks counts in integers: offers, capacity, value and cost, and the phase bounds.
    pub fn verify_counts(&self, counts: &[u64], cert: &Certificate) -> bool {
        if counts.len() != self.types.len() {
            return false;
        }
        let (mut value, mut cost) = (0u128, 0u128);
        for (t, &n) in self.types.iter().zip(counts) {
            if n > t.count || t.price > self.max_price {
                return false;
            }
            let (Some(v), Some(c)) = (
                t.value.checked_mul(u128::from(n)),
                t.cost.checked_mul(u128::from(n)),
            ) else {
                return false;
            };
            value += v;
            cost += c;
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
            total_cost += U256::from(t.hashrate.raw()) * U256::from(t.price.raw()) * U256::from(n);
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
        let (counts, cert) = model.solve_counts_within(1).unwrap();
        assert!(!cert.optimal);
        assert!(model.verify_counts(&counts, &cert));
        // The swap step finds the optimum here even without the proof.
        assert_eq!(cert.value, model.solve_counts().unwrap().1.value);
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

    /// Brute force over every count vector of the model: the lexicographic optimum.
    fn brute(model: &Model) -> (u128, u128) {
        let mut best = (0u128, 0u128);
        let mut counts = vec![0u64; model.types.len()];
        loop {
            let v: u128 = model
                .types
                .iter()
                .zip(&counts)
                .map(|(t, &n)| t.value * u128::from(n))
                .sum();
            let c: u128 = model
                .types
                .iter()
                .zip(&counts)
                .map(|(t, &n)| t.cost * u128::from(n))
                .sum();
            if c <= model.capacity && (v > best.0 || (v == best.0 && c < best.1)) {
                best = (v, c);
            }
            let mut i = 0;
            loop {
                if i == counts.len() {
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
}
